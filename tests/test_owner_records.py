"""Keeping a copy of what pipx and uv record about a tool venv (record.owner_records)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support import make_venv, real_python
from venv_doctor.cli import run as cli
from venv_doctor.model.venv import Location
from venv_doctor.paths import app_dirs
from venv_doctor.record import owner_records, state


def metadata(venv: Path, apps: list[str], man: list[str], completions: list[str]) -> str:
    def paths(names: list[str]) -> list[dict[str, str]]:
        return [{"__Path__": str(venv / n), "__type__": "Path"} for n in names]

    main = {"app_paths": paths(apps), "man_paths": paths(man), "completion_paths": []}
    injected = {"dep": {"completion_paths_of_dependencies": {"x": paths(completions)}}}
    return json.dumps({"main_package": main, "injected_packages": injected})


def test_pipx_links_are_found_where_pipx_puts_them_and_nowhere_else(tmp_path: Path) -> None:
    venv = tmp_path / "pipx" / "venvs" / "app"
    bin_dir, man_dir, share = tmp_path / "bin", tmp_path / "man", tmp_path / "share"
    apps, pages, scripts = ["bin/app"], ["share/man/man1/app.1"], ["share/zsh/site-functions/_app"]
    venv.mkdir(parents=True)
    (venv / "pipx_metadata.json").write_text(metadata(venv, apps, pages, scripts), "utf-8")
    links = {
        bin_dir / "app": venv / "bin" / "app",
        bin_dir / "app@2": venv / "bin" / "app",  # a suffixed name: still pipx's
        man_dir / "man1" / "app.1": venv / "share/man/man1/app.1",
        share / "zsh" / "site-functions" / "_app": venv / "share/zsh/site-functions/_app",
    }
    for link, target in links.items():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    (bin_dir / "other").symlink_to(tmp_path / "pipx" / "venvs" / "other" / "bin" / "other")
    (bin_dir / "plain").write_text("", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "app").symlink_to(venv / "bin" / "app")  # not a pipx place
    env = {
        "HOME": str(tmp_path / "home"),
        "PIPX_BIN_DIR": str(bin_dir),
        "PIPX_MAN_DIR": str(man_dir),
        "PIPX_COMPLETION_DIR": str(share),
    }

    kept = owner_records.take(Location("app", venv, "pipx"), [], env)

    assert kept is not None
    assert set(kept.files) == {"pipx_metadata.json"}
    assert dict(kept.links) == {str(k): str(v) for k, v in links.items()}


def test_a_changed_pipx_metadata_is_kept_again_though_no_package_changed(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".local/share/pipx/venvs/app")
    record = venv / "pipx_metadata.json"
    record.write_text('{"main_package": {}, "exposure_enabled": true}', encoding="utf-8")
    assert cli(["check", "-q"]) == 0
    record.write_text('{"main_package": {}, "exposure_enabled": false}', encoding="utf-8")
    os.utime(record, ns=(1, 1))  # even with an old mtime: its size and inode changed

    assert cli(["check", "-q"]) == 0

    capsys.readouterr()
    with state.open_db(app_dirs(os.environ)) as db:
        kept = state.owner_record(db, venv)
    assert kept is not None
    assert kept.files == {"pipx_metadata.json": record.read_text(encoding="utf-8")}
