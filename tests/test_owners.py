"""Venvs made by the real owning tools (pipx, uv tool, virtualenvwrapper), broken,
repaired or removed, then asked about with the owners' own commands. Offline: every
tool installs from a local wheelhouse."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.owners import (
    OFFLINE,
    Pipx,
    owner_wheels,
    tool,
    uv_tool,
    uv_tool_install,
    virtualenvwrapper,
)
from tests.support import (
    IN_CI,
    REAL_PYENV_ROOT,
    FakeHomebrew,
    make_venv,
    make_wheel,
    pip_install,
    run,
)
from tests.test_repair import fake_pyenv_version
from venv_doctor.cli import run as cli
from venv_doctor.model import pyvenv_cfg


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """The shared wheelhouse plus the owner scenarios' wheels."""
    copy = tmp_path_factory.mktemp("owners") / "house"
    shutil.copytree(wheelhouse, copy)
    return owner_wheels(copy)


@pytest.fixture
def offline_house(house: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """venv-doctor's installers see only the local wheelhouse, as the tools do."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    return house


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = cli(["check", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)["venvs"]


def repair_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = cli(["repair", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)["results"]


def test_pipx_app_whose_main_package_is_wheel_keeps_wheel_through_a_rebuild(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pipx install wheel`, then its Python goes: the rebuild onto another minor
    must bring `wheel` back (it was installed seconds after the venv was made)."""
    old = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.12", "3.12.1")
    new = fake_pyenv_version("3.12", "3.12.1")
    pipx = Pipx(isolated_home, offline_house)
    venv = pipx.install(old, "wheel")
    pipx.inject("wheel", "tinyleaf==1.0.0")
    code, venvs = check_json(capsys)  # recorded while healthy
    assert code == 0
    owner = venvs[0]["owner"]
    assert (owner["kind"], owner["package"], owner["injected"]) == (
        "pipx-app",
        "wheel",
        ["tinyleaf"],
    )
    assert owner["python"] == str(old)
    # pipx 1.18 starts its apps with `python -E` (PYTHON* variables ignored)
    first_line = (venv / "bin" / "wheel").read_bytes().split(b"\n", 1)[0]
    assert first_line == b"#!" + bytes(venv / "bin" / "python") + b" -E"
    shutil.rmtree(old.parent.parent)  # pyenv uninstall 3.11.7

    code, results = repair_json(capsys, "wheel", "--python", "3.12", "--yes")

    assert code == 0, results
    assert (results[0]["action"], results[0]["outcome"]) == ("rebuild", "repaired")
    assert "(2 packages)" in str(results[0]["message"])  # wheel and the injected tinyleaf
    assert run([venv / "bin" / "wheel"]).stdout.strip() == "wheel"
    assert (venv / "bin" / "wheel").read_bytes().split(b"\n", 1)[0] == first_line
    assert (venv / "lib" / "python3.12" / "site-packages" / "wheel.py").is_file()
    # pipx's own view: the new interpreter, the injected package, the app still exposed
    metadata = pipx.list_json()["venvs"]["wheel"]["metadata"]
    assert metadata["python_version"] == "Python 3.12.1"
    assert metadata["source_interpreter"]["__Path__"] == str(new)
    assert list(metadata["injected_packages"]) == ["tinyleaf"]
    assert run([pipx.bin / "wheel"]).stdout.strip() == "wheel"
    assert "installed using Python 3.12.1" in pipx("list")
    # the exported spec installs elsewhere on the repaired minor (3.11 is gone: a stale
    # record would make install-all fail); its pip args carry the wheelhouse
    spec = isolated_home / "spec.json"
    spec.write_text(pipx("list", "--json"), encoding="utf-8")
    fresh = {"PIPX_HOME": str(isolated_home / "fresh"), "PIPX_BIN_DIR": str(isolated_home / "b")}
    pipx("install-all", spec, env=fresh)
    again = json.loads(pipx("list", "--json", env=fresh))["venvs"]["wheel"]["metadata"]
    assert again["python_version"] == "Python 3.12.1"
    assert list(again["injected_packages"]) == ["tinyleaf"]
    assert (isolated_home / "fresh" / "venvs" / "wheel" / "lib" / "python3.12").is_dir()
    assert run([isolated_home / "b" / "wheel"]).stdout.strip() == "wheel"


def test_pipx_uninstall_is_a_removal_not_breakage(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = fake_pyenv_version("3.12", "3.12.1")
    pipx = Pipx(isolated_home, offline_house)
    venv = pipx.install(python, "tinytop")
    assert check_json(capsys)[0] == 0
    pipx("uninstall", "tinytop")
    assert not venv.exists()

    code, venvs = check_json(capsys)

    assert code == 0
    (entry,) = venvs
    assert (entry["path"], entry["status"]) == (str(venv), "removed")
    assert [f["code"] for f in entry["findings"]] == ["venv-removed"]
    assert cli(["history", "tinytop"]) == 0  # its history is kept
    assert "tinytop" in capsys.readouterr().out


def test_rmvirtualenv_is_removed_and_repair_by_name_recreates_it(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = fake_pyenv_version("3.12", "3.12.1")
    workon = isolated_home / ".virtualenvs"
    virtualenvwrapper(workon, python, "mkvirtualenv -q proj >/dev/null")
    venv = workon / "proj"
    run(
        [
            venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "-q",
            "--find-links",
            offline_house,
            "tinytop",
        ],
        env=OFFLINE,
    )
    assert check_json(capsys)[0] == 0
    virtualenvwrapper(workon, python, "rmvirtualenv proj >/dev/null")
    assert not venv.exists()

    code, venvs = check_json(capsys)
    assert (code, venvs[0]["status"]) == (0, "removed")

    code, results = repair_json(capsys, "proj", "--yes")

    assert code == 0, results
    assert (results[0]["action"], results[0]["outcome"]) == ("recreate", "repaired")
    assert run([venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"
    listed = virtualenvwrapper(workon, python, "lsvirtualenv -b")
    assert listed.split() == ["proj"]
    # mkvirtualenv's per-env hooks (bin/postactivate...) went with rmvirtualenv; workon,
    # deactivate and the long listing run without them, as virtualenvwrapper checks for them
    used = virtualenvwrapper(
        workon,
        python,
        "workon proj && python -c 'import sys; print(sys.prefix)' && deactivate"
        " && lsvirtualenv -l >/dev/null && echo done",
    )
    assert used.split() == [str(venv), "done"]


def test_a_venv_that_vanished_with_its_interpreter_stays_broken(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = fake_pyenv_version("3.11", "3.11.7")
    workon = isolated_home / ".virtualenvs"
    # the stdlib venv keeps the pyenv path (virtualenv would record the real binary
    # the fake pyenv version links to, which stays)
    make_venv(python, workon / "gone")
    assert check_json(capsys)[0] == 0
    shutil.rmtree(workon / "gone")
    shutil.rmtree(python.parent.parent)

    code, venvs = check_json(capsys)

    assert (code, venvs[0]["status"]) == (1, "broken")
    assert [f["code"] for f in venvs[0]["findings"]] == ["venv-missing"]


def test_a_module_that_needs_an_absent_extra_is_a_note_not_a_failed_rebuild(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """black's blackd without black[d]: the old venv could not import it either."""
    old = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(old, isolated_home / ".virtualenvs" / "fmt")
    pip_install(venv, offline_house, "tinyblack")
    assert check_json(capsys)[0] == 0
    shutil.rmtree(old.parent.parent)

    code, results = repair_json(capsys, "fmt", "--python", "3.12", "--yes")

    assert code == 0, results
    assert results[0]["outcome"] == "repaired"
    (note,) = results[0]["notes"]
    assert note.startswith("tinyblackd does not import without tinyextra")
    assert run([venv / "bin" / "tinyblack"]).stdout.strip() == "tinyblack"


def test_a_uv_tool_rebuilt_onto_another_minor_keeps_its_receipt_true(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = fake_pyenv_version("3.11", "3.11.7")
    new = fake_pyenv_version("3.12", "3.12.1")
    uv_tool_install(offline_house, old, "tinytop")
    tools = isolated_home / ".local" / "share" / "uv" / "tools"
    code, venvs = check_json(capsys)
    assert code == 0
    assert venvs[0]["owner"] == {
        "kind": "uv-tool",
        "requirements": ["tinytop"],
        "python": str(old),
        "entrypoints": ["tinytop"],
    }
    shutil.rmtree(old.parent.parent)

    code, results = repair_json(capsys, "tinytop", "--python", "3.12", "--yes")

    assert code == 0, results
    receipt = tomllib.loads((tools / "tinytop" / "uv-receipt.toml").read_text(encoding="utf-8"))
    assert receipt["tool"]["python"] == str(new)
    assert receipt["tool"]["options"]["no-index"] is True  # every other field kept
    assert "tinytop v3.0.0" in uv_tool(offline_house, "list")
    assert run([isolated_home / ".local" / "bin" / "tinytop"]).stdout.strip() == "tinytop"


def real_pyenv(root: Path) -> Path:
    """The real pyenv (and its pyenv-virtualenv plugin) driving a pyenv root under tmp."""
    exe = REAL_PYENV_ROOT / "bin" / "pyenv"
    plugin = REAL_PYENV_ROOT / "plugins" / "pyenv-virtualenv"
    if not exe.exists() or not plugin.is_dir():
        message = f"pyenv with pyenv-virtualenv is not installed under {REAL_PYENV_ROOT}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    (root / "plugins").symlink_to(REAL_PYENV_ROOT / "plugins")
    return exe


def test_a_real_pyenv_virtualenv_env_comes_back_without_a_phantom_version(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pyenv virtualenv 3.11.7 tool`, then `pyenv uninstall 3.11.7` takes the env along:
    it is recreated under 3.12.1 and `pyenv versions` lists no 3.11.7 husk."""
    root = Path(os.environ["PYENV_ROOT"])
    old = fake_pyenv_version("3.11", "3.11.7")
    (old.parent / "python").symlink_to(old.name)
    new = fake_pyenv_version("3.12", "3.12.1")
    pyenv = real_pyenv(root)
    run([pyenv, "virtualenv", "--without-pip", "3.11.7", "tool"], env=OFFLINE)
    env = root / "versions" / "3.11.7" / "envs" / "tool"
    pip_install(env, offline_house, "tinytop")
    code, venvs = check_json(capsys)
    assert code == 0
    assert venvs[0]["owner"] == {"kind": "pyenv-virtualenv", "version": "3.11.7", "env": "tool"}
    run([pyenv, "uninstall", "-f", "3.11.7"], env=OFFLINE)
    assert not env.exists()
    code, venvs = check_json(capsys)
    assert (code, [f["code"] for f in venvs[0]["findings"]]) == (1, ["venv-missing"])

    code, results = repair_json(capsys, "tool", "--python", str(new), "--yes")

    assert code == 0, results
    assert (results[0]["action"], results[0]["outcome"]) == ("recreate", "repaired")
    versions = run([pyenv, "versions", "--bare"], env=OFFLINE).stdout.split()
    assert "3.11.7" not in versions
    assert "tool" in versions and "3.12.1/envs/tool" in versions
    recreated = root / "versions" / "3.12.1" / "envs" / "tool"
    assert run([recreated / "bin" / "tinytop"]).stdout.strip() == "tinytop"
    prefix = run([pyenv, "virtualenv-prefix", "tool"], env=OFFLINE).stdout.strip()
    assert Path(prefix).resolve() == (root / "versions" / "3.12.1").resolve()
    code, venvs = check_json(capsys)  # the registry followed it: the old place is not missing
    assert code == 0, venvs
    assert str(env) not in [v["path"] for v in venvs]


def pin_to_keg(env: Path, keg_python: Path) -> None:
    """virtualenv records the real binary; point the env at the keg instead, as a
    Cellar-pinned creator leaves it, so that `brew upgrade` breaks it."""
    for link in (env / "bin").glob("python*"):
        if link.is_symlink() and not os.readlink(link).startswith("python"):
            link.unlink()
            link.symlink_to(keg_python)
    cfg = env / "pyvenv.cfg"
    lines = cfg.read_text(encoding="utf-8").splitlines()
    home = f"home = {keg_python.parent}"
    cfg.write_text("\n".join(home if ln.startswith("home") else ln for ln in lines) + "\n")


def project_dir(home: Path) -> Path:
    """A project with no distribution of its own: poetry, pdm and hatch make its envs
    without building anything (offline)."""
    project = home / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        "dependencies = []\n\n[tool.poetry]\npackage-mode = false\n\n"
        "[tool.pdm]\ndistribution = false\n\n"
        "[tool.hatch.envs.default]\nskip-install = true\n",
        encoding="utf-8",
    )
    return project


def test_a_relinked_poetry_env_is_the_one_poetry_keeps_using(
    isolated_home: Path,
    offline_house: Path,
    homebrew: FakeHomebrew,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A poetry env pinned to a Homebrew keg (as Cellar-recording creators leave it) is
    relinked after `brew upgrade`; poetry finds it and makes no second env."""
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    keg_python = homebrew.install("3.12", "3.12.1")
    project = project_dir(isolated_home)
    poetry: list[str | Path] = [tool("poetry"), "--directory", project, "--no-interaction"]
    run([*poetry, "env", "use", keg_python], env=OFFLINE)
    env = Path(run([*poetry, "env", "info", "-p"], env=OFFLINE).stdout.strip())
    pin_to_keg(env, keg_python)
    code, venvs = check_json(capsys)
    assert venvs[0]["owner"] == {"kind": "poetry-env", "project": "proj", "minor": "3.12"}
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    assert check_json(capsys)[0] == 1

    code, results = repair_json(capsys, "--all")

    assert code == 0, results
    assert (results[0]["action"], results[0]["outcome"]) == ("relink", "repaired")
    assert Path(run([*poetry, "env", "info", "-p"], env=OFFLINE).stdout.strip()) == env
    ran = run([*poetry, "run", "python", "-c", "import sys; print(sys.prefix)"], env=OFFLINE)
    assert Path(ran.stdout.strip()) == env
    assert [p.name for p in env.parent.iterdir() if p.is_dir()] == [env.name]  # no second env


def test_the_pipx_shared_venv_is_rebuilt_as_pipx_makes_it(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pipx makes `shared` with ensurepip's pip and then removes setuptools; a rebuild
    keeps it so (the new creator's setuptools is not left behind)."""
    python = fake_pyenv_version("3.11", "3.11.7")
    pipx = Pipx(isolated_home, offline_house)
    pipx.install(python, "tinytop", backend="pip")
    shared = pipx.home / "shared"
    site = shared / "lib" / "python3.11" / "site-packages"
    assert not list(site.glob("setuptools-*.dist-info"))
    code, venvs = check_json(capsys)
    assert code == 0
    assert {v["owner"]["kind"] for v in venvs} == {"pipx-app", "pipx-shared"}

    code, results = repair_json(capsys, str(shared), "--strategy", "rebuild", "--yes")

    assert code == 0, results
    assert results[0]["outcome"] == "repaired"
    assert list(site.glob("pip-*.dist-info"))
    assert not list(site.glob("setuptools-*.dist-info"))
    assert run([pipx.bin / "tinytop"]).stdout.strip() == "tinytop"
    # an app of pipx's pip backend gets its pip from `shared` (pipx_shared.pth): uninstalled
    # and recreated, it has it again, so `pipx inject` (pip run in the app's venv) works
    app = pipx.home / "venvs" / "tinytop"
    pipx("uninstall", "tinytop")
    code, results = repair_json(capsys, "tinytop", "--yes")
    assert (code, results[0]["outcome"]) == (0, "repaired"), results
    pth = app / "lib" / "python3.11" / "site-packages" / "pipx_shared.pth"
    assert pth.read_text(encoding="utf-8").strip() == str(site)
    pipx.inject("tinytop", "tinyextra")
    assert list(pipx.list_json()["venvs"]["tinytop"]["metadata"]["injected_packages"]) == [
        "tinyextra"
    ]


def test_relinked_pdm_and_hatch_envs_are_the_ones_pdm_and_hatch_use(
    isolated_home: Path,
    offline_house: Path,
    homebrew: FakeHomebrew,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    monkeypatch.setenv("PDM_CHECK_UPDATE", "false")
    keg_python = homebrew.install("3.12", "3.12.1")
    project = project_dir(isolated_home)
    pdm: list[str | Path] = ["env", "-C", project, tool("pdm"), "--no-cache"]  # in the project
    run([*pdm, "config", "venv.in_project", "false"], env=OFFLINE)
    run([*pdm, "venv", "create", keg_python], env=OFFLINE)
    hatch: list[str | Path] = ["env", "-C", project, tool("hatch"), "--no-color"]
    run([*hatch, "env", "create"], env={**OFFLINE, "HATCH_PYTHON": str(keg_python)})
    code, venvs = check_json(capsys)
    owners = {v["owner"]["kind"]: Path(v["path"]) for v in venvs}
    assert sorted(owners) == ["hatch-env", "pdm-venv"]
    for env in owners.values():
        pin_to_keg(env, keg_python)
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    assert check_json(capsys)[0] == 1

    code, results = repair_json(capsys, "--all")

    assert code == 0, [r["message"] for r in results]
    assert [(r["action"], r["outcome"]) for r in results] == [("relink", "repaired")] * 2
    listed = run([*pdm, "venv", "list"], env=OFFLINE).stdout
    assert str(owners["pdm-venv"]) in listed
    ran = run([*hatch, "run", "python", "-c", "import sys; print(sys.prefix)"], env=OFFLINE)
    assert Path(ran.stdout.strip().splitlines()[-1]) == owners["hatch-env"]


def test_poetry_and_pdm_envs_rebuilt_onto_another_minor_take_the_names_their_owners_use(
    isolated_home: Path,
    offline_house: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """poetry's `<name>-<hash>-py3.11` and pdm's `<dir>-<hash>-3.11` rebuilt onto 3.12 are
    made as `...-py3.12` and `...-3.12`: poetry's envs.toml names the new minor, and neither
    tool makes another env; venv-doctor's history follows them. A hatch env (its name has
    no minor) is rebuilt in place, and `hatch run` uses it."""
    monkeypatch.setenv("PDM_CHECK_UPDATE", "false")
    old = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.12", "3.12.1")
    project = project_dir(isolated_home)
    poetry: list[str | Path] = [tool("poetry"), "--directory", project, "--no-interaction"]
    run([*poetry, "env", "use", old], env=OFFLINE)
    poetry_env = Path(run([*poetry, "env", "info", "-p"], env=OFFLINE).stdout.strip())
    pdm: list[str | Path] = ["env", "-C", project, tool("pdm"), "--no-cache"]
    run([*pdm, "config", "venv.in_project", "false"], env=OFFLINE)
    run([*pdm, "venv", "create", old], env=OFFLINE)
    (pdm_env,) = (isolated_home / ".local" / "share" / "pdm" / "venvs").iterdir()
    run([*pdm, "use", "-f", pdm_env / "bin" / "python"], env=OFFLINE)
    hatch: list[str | Path] = ["env", "-C", project, tool("hatch"), "--no-color"]
    run([*hatch, "env", "create"], env={**OFFLINE, "HATCH_PYTHON": str(old)})
    hatch_env = Path(run([*hatch, "env", "find"], env=OFFLINE).stdout.strip())
    for env in (poetry_env, pdm_env, hatch_env):
        pin_to_keg(env, old)  # virtualenv linked the real binary: link the pyenv path
        pip_install(env, offline_house, "tinytop")
    assert poetry_env.name.endswith("-py3.11") and pdm_env.name.endswith("-3.11")
    code, venvs = check_json(capsys)
    assert code == 0
    shutil.rmtree(old.parent.parent)  # pyenv uninstall 3.11.7

    code, results = repair_json(capsys, "--all", "--python", "3.12", "--yes")

    assert code == 0, [r["message"] for r in results]
    assert [(r["action"], r["outcome"]) for r in results] == [("rebuild", "repaired")] * 3
    poetry_new = poetry_env.with_name(poetry_env.name.replace("-py3.11", "-py3.12"))
    pdm_new = pdm_env.with_name(pdm_env.name.removesuffix("3.11") + "3.12")
    assert sorted(r["path"] for r in results) == sorted(
        [str(poetry_new), str(pdm_new), str(hatch_env)]
    )
    assert not poetry_env.exists() and not pdm_env.exists()
    envs = tomllib.loads((poetry_env.parent / "envs.toml").read_text(encoding="utf-8"))
    assert envs == {poetry_env.name.removesuffix("-py3.11"): {"minor": "3.12", "patch": "3.12.1"}}
    assert Path(run([*poetry, "env", "info", "-p"], env=OFFLINE).stdout.strip()) == poetry_new
    ran = run([*poetry, "run", "python", "-c", "import sys; print(sys.prefix)"], env=OFFLINE)
    assert Path(ran.stdout.strip()) == poetry_new
    assert [p.name for p in poetry_env.parent.iterdir() if p.is_dir()] == [poetry_new.name]
    assert run([poetry_new / "bin" / "tinytop"]).stdout.strip() == "tinytop"
    # poetry's default prompt names the minor too
    assert pyvenv_cfg.read(poetry_new / "pyvenv.cfg").prompt == "proj-py3.12"
    listed = run([*pdm, "venv", "list"], env=OFFLINE).stdout
    assert "3.12: " + str(pdm_new) in listed and "3.11" not in listed
    ran = run([*pdm, "run", "python", "-c", "import sys; print(sys.prefix)"], env=OFFLINE)
    assert Path(ran.stdout.strip().splitlines()[-1]) == pdm_new
    assert (project / ".pdm-python").read_text(encoding="utf-8").strip() == str(
        pdm_new / "bin" / "python"
    )
    assert [p.name for p in pdm_new.parent.iterdir()] == [pdm_new.name]
    where = "import sys; print(sys.prefix, sys.version_info[:2])"
    ran = run([*hatch, "run", "python", "-c", where], env=OFFLINE)
    assert ran.stdout.strip().splitlines()[-1] == f"{hatch_env} (3, 12)"
    assert run([*hatch, "env", "find"], env=OFFLINE).stdout.strip() == str(hatch_env)
    assert [p.name for p in hatch_env.parent.iterdir()] == [hatch_env.name]  # no second env
    # the registry followed them: nothing reported missing, and their history goes on
    code, venvs = check_json(capsys)
    assert code == 0
    assert sorted((v["path"], v["status"]) for v in venvs) == sorted(
        [(str(poetry_new), "healthy"), (str(pdm_new), "healthy"), (str(hatch_env), "healthy")]
    )
    assert cli(["history", str(pdm_new)]) == 0
    assert "moved" in capsys.readouterr().out


def test_pip_setuptools_and_wheel_a_uv_venv_got_by_hand_come_back_after_a_rebuild(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`uv venv && uv pip install setuptools wheel pip six`, seconds apart: all four are the
    user's, and a rebuild onto another minor installs all four at the same versions."""
    old = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.12", "3.12.1")
    bundled = old.resolve().parent.parent / "lib" / "python3.11" / "ensurepip" / "_bundled"
    for bundled_wheel in bundled.glob("*.whl"):
        shutil.copy(bundled_wheel, offline_house)
    make_wheel(offline_house, "six", "1.17.0")
    venv = make_venv(old, isolated_home / ".virtualenvs" / "seeds", creator="uv")
    pip_install(venv, offline_house, "setuptools", "wheel", "pip", "six")
    held = installed(venv / "lib" / "python3.11" / "site-packages")
    assert sorted(held) == ["pip", "setuptools", "six", "wheel"]
    assert check_json(capsys)[0] == 0
    shutil.rmtree(old.parent.parent)

    code, results = repair_json(capsys, "seeds", "--python", "3.12", "--yes")

    assert code == 0, results[0]["message"]
    assert "(4 packages)" in str(results[0]["message"])
    assert installed(venv / "lib" / "python3.12" / "site-packages") == held


def installed(site: Path) -> dict[str, str]:
    """name -> version of every distribution in ``site``."""
    out = {}
    for info in site.glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        out[name] = version
    return out


def test_pipx_uninstall_after_the_python_went_is_a_removal_but_rm_rf_is_not(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Python went first (the apps broke), then `pipx uninstall tinytop`: pipx took the
    app's link with it, so it is `removed`. `rm -rf` of the other app's venv leaves its link
    dangling: that one vanished with its interpreter (`venv-missing`)."""
    python = fake_pyenv_version("3.11", "3.11.7")
    pipx = Pipx(isolated_home, offline_house)
    uninstalled = pipx.install(python, "tinytop")
    deleted = pipx.install(python, "wheel")
    assert check_json(capsys)[0] == 0
    shutil.rmtree(python.parent.parent)
    pipx("uninstall", "tinytop")
    shutil.rmtree(deleted)
    assert not uninstalled.exists()

    code, venvs = check_json(capsys)

    by_path = {v["path"]: v for v in venvs}
    assert by_path[str(uninstalled)]["status"] == "removed"
    assert "its owner (pipx) removed it" in by_path[str(uninstalled)]["findings"][0]["message"]
    assert [f["code"] for f in by_path[str(deleted)]["findings"]] == ["venv-missing"]
    assert sorted(by_path) == sorted([str(uninstalled), str(deleted)])  # uv backend: no shared
    assert code == 1  # for the deleted one alone


def test_apps_their_owners_uninstalled_come_back_with_the_owners_records_and_links(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pipx uninstall` and `uv tool uninstall`, then `repair NAME --python 3.13`: the venvs
    come back with pipx_metadata.json and uv-receipt.toml as their owners wrote them (the
    python rewritten) and their apps' links where the owners put them, so that pipx and uv
    list them, the apps run, and the owners' uninstall works again. A file the user put
    where a link was is left alone."""
    old = fake_pyenv_version("3.12", "3.12.1")
    new = fake_pyenv_version("3.13", "3.13.1")
    pipx = Pipx(isolated_home, offline_house)
    app = pipx.install(old, "tinytop")
    pip_args = f"--pip-args=--no-index --find-links {offline_house}"
    pipx("inject", pip_args, "--include-apps", "tinytop", "wheel")
    uv_tool_install(offline_house, old, "tinyblack")
    tool_dir = isolated_home / ".local" / "share" / "uv" / "tools" / "tinyblack"
    assert check_json(capsys)[0] == 0  # recorded while there, with the owners' records
    pipx("uninstall", "tinytop")
    uv_tool(offline_house, "uninstall", "tinyblack")
    mine = pipx.bin / "wheel"
    mine.write_text("#!/bin/sh\necho mine\n", encoding="utf-8")
    mine.chmod(0o755)
    code, venvs = check_json(capsys)
    assert (code, sorted(v["status"] for v in venvs)) == (0, ["removed", "removed"])

    code, results = repair_json(capsys, "tinytop", "tinyblack", "--python", "3.13", "--yes")

    assert code == 0, results
    assert [(r["action"], r["outcome"]) for r in results] == [("recreate", "repaired")] * 2
    assert any(f"{mine} was left alone" in n for n in results[0]["notes"])
    assert run([mine]).stdout.strip() == "mine"
    listed = run([pipx.exe, "list"], env=OFFLINE)
    assert "corrupt" not in listed.stderr and "missing internal" not in listed.stderr
    metadata = pipx.list_json()["venvs"]["tinytop"]["metadata"]
    assert metadata["python_version"].startswith("Python 3.13.")
    assert metadata["source_interpreter"]["__Path__"] == str(new)
    assert list(metadata["injected_packages"]) == ["wheel"]
    assert (app / "lib" / "python3.13").is_dir()
    assert run([pipx.bin / "tinytop"]).stdout.strip() == "tinytop"
    receipt = tomllib.loads((tool_dir / "uv-receipt.toml").read_text(encoding="utf-8"))
    assert receipt["tool"]["python"] == str(new)
    uv_listed = run([tool("uv"), "tool", "list"], env=OFFLINE)
    assert "tinyblack v24.1.0" in uv_listed.stdout and "malformed" not in uv_listed.stderr
    assert run([pipx.bin / "tinyblack"]).stdout.strip() == "tinyblack"
    code, venvs = check_json(capsys)
    assert (code, sorted(v["status"] for v in venvs)) == (0, ["healthy", "healthy"])
    # the owners' own uninstall works on them again, and takes their links
    pipx("uninstall", "tinytop")
    uv_tool(offline_house, "uninstall", "tinyblack")
    assert not app.exists() and not tool_dir.exists()
    assert sorted(p.name for p in pipx.bin.iterdir()) == ["wheel"]  # the user's file stays
    assert run([mine]).stdout.strip() == "mine"


def test_a_pipx_app_whose_records_were_not_kept_is_not_recreated(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Recorded before venv-doctor kept owners' records: recreating it would make a venv
    pipx calls corrupt, so the repair says which pipx command makes it, and writes nothing."""
    python = fake_pyenv_version("3.12", "3.12.1")
    pipx = Pipx(isolated_home, offline_house)
    app = pipx.install(python, "tinytop")
    assert check_json(capsys)[0] == 0
    database = Path(os.environ["VENV_DOCTOR_STATE_DIR"]) / "state.db"
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM owner_records")
    pipx("uninstall", "tinytop")

    code, results = repair_json(capsys, "tinytop", "--yes")

    assert code == 1
    assert results[0]["outcome"] == "skipped"
    assert "run `pipx install tinytop`" in results[0]["message"]
    assert not app.exists() and not list(pipx.bin.iterdir())


def test_a_suffixed_pipx_app_without_kept_records_is_named_with_its_suffix(
    isolated_home: Path, offline_house: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pipx install --suffix=@2 tinytop` makes venv tinytop@2: the command the refusal
    names installs tinytop with that suffix (`pipx install tinytop@2` asks pip for a URL)."""
    python = fake_pyenv_version("3.12", "3.12.1")
    pipx = Pipx(isolated_home, offline_house)
    pip_args = f"--pip-args=--no-index --find-links {offline_house}"
    pipx("install", "--python", python, pip_args, "--suffix=@2", "tinytop")
    assert check_json(capsys)[0] == 0
    database = Path(os.environ["VENV_DOCTOR_STATE_DIR"]) / "state.db"
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM owner_records")
    pipx("uninstall", "tinytop@2")

    code, results = repair_json(capsys, "tinytop@2", "--yes")

    assert (code, results[0]["outcome"]) == (1, "skipped")
    said = results[0]["message"]
    assert "run `pipx install tinytop --suffix=@2`" in said
    pasted = said.split("`")[1]
    path = f"{tool('pipx').parent}:{os.environ['PATH']}"
    run(["bash", "-c", f"{pasted} --python {python} '{pip_args}'"], env={**OFFLINE, "PATH": path})
    assert "tinytop@2" in pipx.list_json()["venvs"]
