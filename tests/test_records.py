"""The owner's records after a repair: the names poetry and pdm give an env for a minor,
poetry's envs.toml and pdm's .pdm-python pointed at a renamed env."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from tests.owners import tool
from tests.support import TOOLS_BIN, run
from venv_doctor.repair.records import owner_name, renamed, restore_links


@pytest.mark.parametrize(
    ("store", "name", "minor", "expected"),
    [
        ("poetry", "my-proj-Ab_-1234-py3.11", "3.12", "my-proj-Ab_-1234-py3.12"),
        ("poetry", "proj-AbCd1234-py3.12", "3.12", None),  # the same minor keeps its name
        ("pdm", "proj-Ab-d1234-3.11", "3.13", "proj-Ab-d1234-3.13"),
        ("pdm", "proj-AbCd1234-tests", "3.13", None),  # `pdm venv create --name tests`
        ("virtualenvwrapper", "proj-3.11", "3.12", None),  # no owner names it for its minor
    ],
)
def test_the_name_the_owner_gives_an_env_for_a_minor(
    store: str, name: str, minor: str, expected: str | None
) -> None:
    found = owner_name(Path("/envs") / name, store, minor)
    assert found == (Path("/envs") / expected if expected else None)


def pdm_hash(project: Path) -> str:
    """pdm's own hash of a project directory, from the installed pdm."""
    tool("pdm")
    code = (
        "import sys; from pdm.cli.commands.venv.utils import hash_path as h; print(h(sys.argv[1]))"
    )
    return run(
        [TOOLS_BIN / "python", "-W", "ignore", "-c", code, project.as_posix()]
    ).stdout.strip()


def _venv(path: Path, version: str) -> Path:
    path.mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion_info = {version}\n")
    return path


def test_poetrys_envs_toml_names_the_new_minor_and_keeps_other_projects(tmp_path: Path) -> None:
    envs = tmp_path / "envs.toml"
    envs.write_text(
        '[other-Zz9_Zz9_]\nminor = "3.10"\npatch = "3.10.2"\n\n'
        '[proj-AbCd1234]\nminor = "3.11"\npatch = "3.11.7"\n',
        encoding="utf-8",
    )
    new = _venv(tmp_path / "proj-AbCd1234-py3.12", "3.12.1.final.0")

    (note,) = renamed(tmp_path / "proj-AbCd1234-py3.11", new)

    assert tomllib.loads(envs.read_text(encoding="utf-8")) == {
        "other-Zz9_Zz9_": {"minor": "3.10", "patch": "3.10.2"},
        "proj-AbCd1234": {"minor": "3.12", "patch": "3.12.1"},
    }
    assert "poetry use proj-AbCd1234-py3.12" in note


def test_pdm_python_is_rewritten_when_an_editable_install_names_the_project(
    tmp_path: Path,
) -> None:
    """pdm installs a project editable into its venv; pdm's own hash of that directory
    (asked of the installed pdm) is in the env's name, so the project is known."""
    project = tmp_path / "src" / "proj"
    project.mkdir(parents=True)
    venvs = tmp_path / "venvs"
    old = venvs / f"proj-{pdm_hash(project)}-3.11"
    (project / ".pdm-python").write_text(str(old / "bin" / "python"), encoding="utf-8")
    new = _venv(old.with_name(old.name.replace("-3.11", "-3.12")), "3.12.1")
    info = new / "lib" / "python3.12" / "site-packages" / "proj-0.1.0.dist-info"
    info.mkdir(parents=True)
    url = {"url": project.as_uri(), "dir_info": {"editable": True}}
    (info / "direct_url.json").write_text(json.dumps(url), encoding="utf-8")

    assert renamed(old, new) == (f"{project / '.pdm-python'} now names {new / 'bin' / 'python'}",)
    assert (project / ".pdm-python").read_text(encoding="utf-8") == str(new / "bin" / "python")

    (project / ".pdm-python").write_text("/usr/bin/python3.13", encoding="utf-8")
    assert renamed(old, new) == ()  # the project chose another interpreter since: left alone
    assert (project / ".pdm-python").read_text(encoding="utf-8") == "/usr/bin/python3.13"


def test_a_relinked_poetry_env_has_its_patch_updated_and_no_table_added(tmp_path: Path) -> None:
    """poetry recreates an env (dropping its packages) at `poetry env use` when envs.toml's
    patch is not the env's: a relink onto 3.12.2 writes 3.12.2 there."""
    from venv_doctor.repair.records import update

    envs = tmp_path / "envs.toml"
    envs.write_text('[proj-AbCd1234]\nminor = "3.12"\npatch = "3.12.1"\n', encoding="utf-8")
    venv = _venv(tmp_path / "proj-AbCd1234-py3.12", "3.12.2")
    python = Path("/opt/homebrew/opt/python@3.12/bin/python3.12")

    assert update(venv, python, "3.12.2") == (
        f"{envs} now makes poetry use {venv.name} (Python 3.12.2)",
    )
    assert tomllib.loads(envs.read_text(encoding="utf-8")) == {
        "proj-AbCd1234": {"minor": "3.12", "patch": "3.12.2"}
    }
    other = _venv(tmp_path / "other-Zz9_Zz9_-py3.12", "3.12.2")
    assert update(other, python, "3.12.2") == ()  # not listed: poetry picks it by minor
    assert "other" not in envs.read_text(encoding="utf-8")


def test_an_owners_links_are_made_again_but_nothing_else_is_replaced(tmp_path: Path) -> None:
    venv, bin_dir = tmp_path / "venvs" / "app", tmp_path / "bin"
    (venv / "bin").mkdir(parents=True)
    for name in ("app", "dangling", "elsewhere", "mine", "gone"):
        (venv / "bin" / name).touch()
    (venv / "bin" / "gone").unlink()  # the recreated venv no longer has this app
    bin_dir.mkdir()
    (bin_dir / "dangling").symlink_to(venv / "bin" / "old-name")  # into the venv: replaced
    (bin_dir / "elsewhere").symlink_to(tmp_path / "other")  # another venv's: kept
    (bin_dir / "mine").write_text("mine", encoding="utf-8")  # the user's file: kept
    links = [(str(bin_dir / n), str(venv / "bin" / n)) for n in ("app", "dangling", "gone")]
    links += [(str(bin_dir / n), str(venv / "bin" / n)) for n in ("elsewhere", "mine")]
    links.append((str(bin_dir / "outside"), "../../somewhere"))  # not into the venv: ignored

    notes = restore_links(venv, links)

    assert os.readlink(bin_dir / "app") == str(venv / "bin" / "app")
    assert os.readlink(bin_dir / "dangling") == str(venv / "bin" / "dangling")
    assert os.readlink(bin_dir / "elsewhere") == str(tmp_path / "other")
    assert (bin_dir / "mine").read_text(encoding="utf-8") == "mine"
    assert not os.path.lexists(bin_dir / "gone") and not os.path.lexists(bin_dir / "outside")
    assert len(notes) == 4  # made two; gone, elsewhere and mine each said
    assert restore_links(venv, links) == notes[1:]  # again: nothing more to make
