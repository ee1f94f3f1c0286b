"""`requirements` and `history` end to end: real venvs, real installers, no network."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.local_projects import (
    break_interpreter,
    clone_venv,
    make_git_project,
    make_project,
    real_pip_install,
    site_packages,
    uv_install,
)
from tests.support import make_venv, make_wheel, pip_install, real_python
from venv_doctor.cli import run
from venv_doctor.model import distributions
from venv_doctor.paths import app_dirs
from venv_doctor.record import snapshots, state


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Things installed from outside the wheelhouse: a project, a git repo, an archive."""
    root = tmp_path_factory.mktemp("sources")
    repo, commit = make_git_project(root / "tinyvcs", "tinyvcs", "0.9.0")
    return {
        "project": make_project(root / "Tiny_Proj", "Tiny_Proj", "0.5.0"),
        "repo": repo,
        "commit": commit,
        "archive": make_wheel(root / "archives", "tinyarchive", "0.1.0"),
    }


@pytest.fixture(scope="module")
def full_template(
    tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, sources: dict[str, Any]
) -> Path:
    """A venv holding every kind: a pip-installed chain (only tinytop requested), an
    editable project, a VCS install and a local archive (those three by uv)."""
    venv = make_venv(real_python("3.12"), tmp_path_factory.mktemp("template") / "full")
    real_pip_install(venv, wheelhouse, "tinytop")
    uv_install(venv, "-e", sources["project"])
    uv_install(venv, f"tinyvcs @ git+{sources['repo'].as_uri()}@{sources['commit']}")
    uv_install(venv, sources["archive"])
    return venv


def expected_exact(sources: dict[str, Any]) -> list[str]:
    return [
        f"-e {sources['project']}",
        f"tinyarchive @ {sources['archive'].as_uri()}",
        "tinyleaf==1.1.0",
        "tinymid==2.0.0",
        "tinytop==3.0.0",
        f"tinyvcs @ git+file://localhost{sources['repo']}@{sources['commit']}",
    ]


def body(text: str) -> list[str]:
    return [x for x in text.splitlines() if x and not x.startswith("#")]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = cli(capsys, *args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def snapshot_rows() -> int:
    with state.open_db(app_dirs(os.environ)) as db:
        return int(db.conn.execute("SELECT count(*) FROM snapshots").fetchone()[0])


def test_broken_then_deleted_venv_still_gives_its_requirements(
    isolated_home: Path,
    tmp_path: Path,
    full_template: Path,
    sources: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    venv = clone_venv(full_template, isolated_home / ".virtualenvs" / "proj")
    assert cli(capsys, "check", "proj")[0] == 0
    code, out, err = cli(capsys, "requirements", "proj")
    assert (code, err) == (0, "")
    assert body(out) == expected_exact(sources)
    assert f"# requirements of {venv}" in out

    break_interpreter(venv, tmp_path / "uninstalled-python")
    code, out, _ = cli(capsys, "check", "proj", "--json")
    assert code == 1
    assert json.loads(out)["venvs"][0]["status"] == "broken"
    broken = cli_json(capsys, "requirements", "proj")
    assert broken["source"] == "disk"
    assert body(cli(capsys, "requirements", "proj")[1]) == expected_exact(sources)

    shutil.rmtree(venv)
    for target in ("proj", str(venv)):
        code, out, err = cli(capsys, "requirements", target)
        assert code == 0, err
        assert body(out) == expected_exact(sources)
        assert f"{venv} is gone; showing the snapshot recorded at" in err
    recorded = cli_json(capsys, "requirements", str(venv))
    assert recorded["source"] == "recorded"
    assert recorded["packages"] == broken["packages"]

    history = cli_json(capsys, "history", "proj")["venvs"][0]
    assert [e["kind"] for e in history["events"]] == ["discovered", "status"]
    assert history["events"][1]["data"]["to"] == "broken"
    assert len(history["snapshots"]) == 1


def test_json_contract(
    isolated_home: Path,
    full_template: Path,
    sources: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    venv = clone_venv(full_template, isolated_home / ".virtualenvs" / "proj")
    data = cli_json(capsys, "requirements", str(venv))
    assert set(data) == {
        "schema_version",
        "venv",
        "source",
        "taken_at",
        "python_version",
        "packages",
        "warnings",
    }
    assert (data["schema_version"], data["venv"], data["source"]) == (1, str(venv), "disk")
    assert data["python_version"] == "3.12.1" or data["python_version"].startswith("3.12.")
    assert datetime.fromisoformat(data["taken_at"]).tzinfo is not None
    by_name = {p["name"]: p for p in data["packages"]}
    assert by_name["tinytop"] == {
        "name": "tinytop",
        "version": "3.0.0",
        "requested": True,
        "kind": "index",
        "url": None,
    }
    assert not by_name["tinyleaf"]["requested"]
    assert by_name["tiny-proj"]["kind"] == "editable"
    assert by_name["tinyvcs"]["url"].endswith("@" + sources["commit"])
    assert by_name["tinyarchive"]["kind"] == "archive"
    top = cli_json(capsys, "requirements", str(venv), "--mode", "top-level")
    assert [p["name"] for p in top["packages"]] == [
        "tiny-proj",
        "tinyarchive",
        "tinytop",
        "tinyvcs",
    ]


def test_round_trip_reproduces_every_name_and_version(
    isolated_home: Path,
    tmp_path: Path,
    full_template: Path,
    wheelhouse: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    venv = clone_venv(full_template, isolated_home / ".virtualenvs" / "proj")
    code, out, _ = cli(capsys, "requirements", "proj")
    assert code == 0
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(out, encoding="utf-8")
    fresh = make_venv(real_python("3.12"), tmp_path / "fresh")
    real_pip_install(fresh, wheelhouse, "-r", requirements)
    before = {(p.name, p.version) for p in distributions.read(venv_site(venv)).packages}
    after = {(p.name, p.version) for p in distributions.read(venv_site(fresh)).packages}
    assert len(before) == 6
    assert after == before
    kinds = {p.name: p.kind for p in distributions.read(venv_site(fresh)).packages}
    assert kinds["tiny-proj"] == "editable"
    assert kinds["tinyvcs"] == "vcs"


def venv_site(venv: Path) -> list[Path]:
    return [site_packages(venv)]


def test_never_seen_and_gone_is_exit_1(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "requirements", str(isolated_home / "nowhere"))
    assert (code, out) == (1, "")
    assert "has never seen a venv of that path or name, and there is none now" in err
    assert cli(capsys, "requirements", "no-such-name")[0] == 1
    assert cli(capsys, "history", "no-such-name")[0] == 1


def test_sources_and_at(
    isolated_home: Path, wheelhouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "small")
    pip_install(venv, wheelhouse, "tinyleaf==1.0.0")
    code, _, err = cli(capsys, "requirements", "small", "--source", "recorded")
    assert code == 1
    assert f"no snapshot of {venv} was recorded" in err
    assert cli(capsys, "check")[0] == 0
    between = datetime.now(UTC).isoformat()
    pip_install(venv, wheelhouse, "tinymid", "tinyleaf==1.1.0")
    assert cli(capsys, "check")[0] == 0
    assert body(cli(capsys, "requirements", "small", "--at", between)[1]) == ["tinyleaf==1.0.0"]
    now = body(cli(capsys, "requirements", "small", "--source", "recorded")[1])
    assert now == ["tinyleaf==1.1.0", "tinymid==2.0.0"]
    assert cli(capsys, "requirements", "small", "--at", between, "--source", "disk")[0] == 2
    assert cli(capsys, "requirements", "small", "--at", "yesterday")[0] == 2

    steps = cli_json(capsys, "history", "small")["venvs"][0]["snapshots"]
    assert [s["packages"] for s in steps] == [1, 2]
    assert steps[1]["added"] == [
        {"name": "tinymid", "before": None, "after": {"version": "2.0.0", "kind": "index"}}
    ]
    assert steps[1]["changed"] == [
        {
            "name": "tinyleaf",
            "before": {"version": "1.0.0", "kind": "index"},
            "after": {"version": "1.1.0", "kind": "index"},
        }
    ]
    code, out, _ = cli(capsys, "history")
    assert code == 0
    assert re.search(r"  snapshot +\+tinymid 2\.0\.0, ~tinyleaf 1\.0\.0 -> 1\.1\.0$", out, re.M)
    assert re.search(r"  snapshot +first snapshot: 1 package$", out, re.M)  # not "1 packages"
    assert re.search(r"^    \d{4}-\d\d-\d\d \d\d:\d\d [+-]\d{4}  ", out, re.M)  # local, offset

    shutil.rmtree(venv)
    code, _, err = cli(capsys, "requirements", "small", "--source", "disk")
    assert code == 1
    assert "has no site-packages directory to read" in err


def test_unchanged_venv_is_not_read_again(
    isolated_home: Path,
    wheelhouse: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "small")
    pip_install(venv, wheelhouse, "tinyleaf==1.0.0")
    assert cli(capsys, "check")[0] == 0
    assert snapshot_rows() == 1

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged venv was read again")

    with monkeypatch.context() as patch:
        patch.setattr(snapshots, "take", refuse)
        assert cli(capsys, "check")[0] == 0
    assert snapshot_rows() == 1
    pip_install(venv, wheelhouse, "tinyleaf==1.1.0")
    assert cli(capsys, "check")[0] == 0
    assert snapshot_rows() == 2


def test_check_survives_a_garbage_state_database(
    isolated_home: Path,
    wheelhouse: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "small")
    dirs = app_dirs(os.environ)
    dirs.state.mkdir(parents=True)
    dirs.database.write_bytes(b"\x00garbage" * 1000)
    with caplog.at_level(logging.WARNING, logger="venv_doctor"):
        code, out, _ = cli(capsys, "check")
    assert code == 0
    assert "1 healthy" in out
    assert f"{dirs.database} could not be read" in caplog.text
    assert list(dirs.state.glob("state.db.corrupt-*"))
    assert snapshot_rows() == 1


def test_a_venv_whose_path_is_not_utf8_is_checked_but_not_recorded(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    store = isolated_home / ".virtualenvs"
    good = make_venv(real_python("3.12"), store / "small")
    bad = Path(os.fsdecode(os.fsencode(store) + b"/caf\xe9"))
    shutil.copytree(good, bad, symlinks=True)
    with caplog.at_level(logging.WARNING, logger="venv_doctor"):
        code, out, _ = cli(capsys, "check")
    assert code == 0
    assert "2 healthy" in out  # checked, both
    assert caplog.text.count("not recorded (its name or path is not UTF-8 text)") == 1
    with state.open_db(app_dirs(os.environ)) as db:
        assert list(state.venv_records(db)) == [good]


def test_check_survives_a_database_from_a_newer_venv_doctor(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "small")
    with state.open_db(app_dirs(os.environ)) as db:
        db.conn.execute("PRAGMA user_version = 99")
    with caplog.at_level(logging.WARNING, logger="venv_doctor"):
        code, out, _ = cli(capsys, "check")
    assert code == 0
    assert "1 healthy" in out
    assert "snapshots were not recorded" in caplog.text
    assert "schema version 99" in caplog.text


def test_credentials_kept_only_when_configured(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "private")
    info = site_packages(venv) / "private_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: private-pkg\nVersion: 1.0\n")
    (info / "RECORD").write_text("")
    (info / "INSTALLER").write_text("pip\n")
    (info / "REQUESTED").write_text("")
    url = "https://deploy:s3cret@git.example.com/o/private.git"
    (info / "direct_url.json").write_text(
        json.dumps({"url": url, "vcs_info": {"vcs": "git", "commit_id": "abc123"}})
    )

    def stored() -> str:
        with state.open_db(app_dirs(os.environ)) as db:
            rows = db.conn.execute(
                "SELECT p.record FROM snapshot_packages sp JOIN packages p ON p.id = sp.package_id"
                " WHERE sp.snapshot_id = (SELECT id FROM snapshots ORDER BY taken_at DESC LIMIT 1)"
            ).fetchall()
        return "\n".join(r[0] for r in rows)

    assert cli(capsys, "check")[0] == 0
    assert "s3cret" not in stored()
    assert "deploy:****@" in stored()
    config = app_dirs(os.environ).config_file
    config.parent.mkdir(parents=True)
    config.write_text("[snapshot]\nkeep_credentials = true\n")
    assert cli(capsys, "check")[0] == 0
    assert "s3cret" in stored()
    for source in ("disk", "recorded"):
        code, out, _ = cli(capsys, "requirements", "private", "--source", source)
        assert code == 0
        assert "s3cret" not in out
        assert "private-pkg @ git+https://git.example.com/o/private.git@abc123" in out
        data = cli_json(capsys, "requirements", "private", "--source", source)
        assert (
            data["packages"][0]["url"]
            == "git+https://deploy:****@git.example.com/o/private.git@abc123"
        )
    history = cli(capsys, "history", "private")[1]
    assert "s3cret" not in history


def test_requirements_read_from_disk_when_the_database_is_unusable(
    isolated_home: Path, wheelhouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "small")
    pip_install(venv, wheelhouse, "tinyleaf==1.0.0")
    with state.open_db(app_dirs(os.environ)) as db:
        db.conn.execute("PRAGMA user_version = 99")
    code, out, err = cli(capsys, "requirements", "small")
    assert code == 0
    assert body(out) == ["tinyleaf==1.0.0"]
    assert "the state database cannot be used" in err
    assert cli(capsys, "requirements", "small", "--source", "recorded")[0] == 1
    code, _, err = cli(capsys, "requirements", str(isolated_home / "gone"))
    assert code == 1
    assert "schema version 99" in err


def test_history_of_a_venv_not_checked_yet(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "small")
    assert cli(capsys, "history", "small")[:2] == (0, "no history recorded for small yet\n")
    assert cli(capsys, "history")[:2] == (
        0,
        "no venvs recorded yet: `venv-doctor check` records every venv it finds\n",
    )
    assert cli_json(capsys, "history")["venvs"] == []
