"""`venv-doctor repair` end to end: real venvs, real interpreters, local wheels only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import FakeHomebrew, make_venv, pip_install, real_python, run, tree_digest
from venv_doctor.cli import run as cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, wheelhouse: Path) -> Path:
    """pip-style index settings the installers must honour: only the local wheelhouse."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    return wheelhouse


def fake_pyenv_version(minor: str, version: str) -> Path:
    """$PYENV_ROOT/versions/<version>/bin/python<minor> -> the real interpreter."""
    bin_dir = Path(os.environ["PYENV_ROOT"]) / "versions" / version / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / f"python{minor}"
    if not link.exists():
        link.symlink_to(real_python(minor))
    return link


def repair_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = cli(["repair", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)["results"]


def status_of(capsys: pytest.CaptureFixture[str], target: Path) -> str:
    cli(["check", str(target), "--json"])
    return str(json.loads(capsys.readouterr().out)["venvs"][0]["status"])


def test_homebrew_patch_upgrade_is_relinked_through_opt(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    offline: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    venv = make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "api")
    pip_install(venv, offline, "tinytop")
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    assert status_of(capsys, venv) == "broken"

    code, results = repair_json(capsys, "--all")

    assert code == 0
    assert [(r["action"], r["outcome"]) for r in results] == [("relink", "repaired")]
    assert os.readlink(venv / "bin" / "python3.12") == str(homebrew.opt_python("3.12"))
    assert status_of(capsys, venv) == "healthy"
    assert run([venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"


def test_cellar_pinned_venv_is_hardened_by_relinking(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    venv = make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "pinned")
    assert status_of(capsys, venv) == "degraded"
    code, results = repair_json(capsys, str(venv))
    assert code == 0 and results[0]["action"] == "relink"
    assert status_of(capsys, venv) == "healthy"
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")  # the next upgrade no longer breaks it
    assert status_of(capsys, venv) == "healthy"


def test_minor_upgrade_rebuilds_with_packages_and_user_files(
    isolated_home: Path, offline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(old, isolated_home / ".virtualenvs" / "proj", prompt="my proj")
    pip_install(venv, offline, "tinytop")
    (venv / "bin" / "postactivate").write_text("export PROJ=1\n")
    (venv / ".project").write_text("/src/proj\n")
    assert cli(["check"]) == 0  # records the snapshot while healthy
    capsys.readouterr()
    shutil.rmtree(old.parent.parent)  # pyenv uninstall 3.11.7; 3.11 nowhere else in PYENV_ROOT

    code, results = repair_json(capsys, "proj", "--python", "3.12", "--yes")

    assert code == 0, results
    (result,) = results
    assert (result["action"], result["outcome"]) == ("rebuild", "repaired")
    assert result["python"] == {"before": "3.11.7", "after": "3.12.1"}
    assert sorted(Path(p).name for p in result["carried_over"]) == [".project", "postactivate"]
    assert Path(str(result["backup"])).joinpath("lib", "python3.11").is_dir()
    assert (venv / "lib" / "python3.12" / "site-packages").is_dir()
    assert "prompt = 'my proj'" in (venv / "pyvenv.cfg").read_text()
    assert run([venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"
    assert status_of(capsys, venv) == "healthy"


def test_rebuild_needs_yes_without_a_terminal(
    isolated_home: Path, offline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(real_python("3.11"), isolated_home / ".virtualenvs" / "p")
    before = tree_digest(venv)
    code, results = repair_json(capsys, "p", "--python", "3.12")
    assert code == 1
    assert results[0]["outcome"] == "skipped" and "--yes" in str(results[0]["message"])
    assert tree_digest(venv) == before


def test_cold_cache_rebuild_fails_cleanly_and_names_the_package(
    isolated_home: Path,
    offline: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(real_python("3.11"), isolated_home / ".virtualenvs" / "p")
    pip_install(venv, offline, "tinytop")
    before = tree_digest(venv)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    code, results = repair_json(capsys, "p", "--python", "3.12", "--yes")
    assert code == 1
    assert results[0]["outcome"] == "failed"
    assert "tiny" in str(results[0]["message"]) and "rolled back" in str(results[0]["message"])
    assert tree_digest(venv) == before


def test_vanished_pyenv_env_is_recreated_from_its_snapshot(
    isolated_home: Path, offline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = fake_pyenv_version("3.11", "3.11.7")
    new = fake_pyenv_version("3.12", "3.12.1")
    versions = Path(os.environ["PYENV_ROOT"]) / "versions"
    env = make_venv(base, versions / "3.11.7" / "envs" / "tool")
    (versions / "tool").symlink_to(env)  # what pyenv-virtualenv makes beside it
    pip_install(env, offline, "tinytop")
    assert cli(["check"]) == 0  # venv-doctor sees it (and records what it holds)
    capsys.readouterr()
    shutil.rmtree(versions / "3.11.7")  # `pyenv uninstall 3.11.7` takes the env with it

    code, results = repair_json(capsys, "tool", "--python", str(new), "--yes")

    assert code == 0, results
    assert (results[0]["action"], results[0]["outcome"]) == ("recreate", "repaired")
    recreated = versions / "3.12.1" / "envs" / "tool"
    assert run([recreated / "bin" / "tinytop"]).stdout.strip() == "tinytop"
    assert not (versions / "3.11.7").exists()  # no husk for pyenv to list
    assert (versions / "tool").resolve() == recreated


def test_dry_run_changes_nothing(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    venv = make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "x")
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    before = tree_digest(venv)
    code, results = repair_json(capsys, "--all", "--dry-run")
    assert code == 0 and results[0]["outcome"] == "planned"
    assert tree_digest(venv) == before


def test_second_repair_with_no_wait_names_the_holder(
    isolated_home: Path, offline: Path, tmp_path: Path
) -> None:
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(real_python("3.11"), isolated_home / ".virtualenvs" / "p")
    pip_install(venv, offline, "tinytop")
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "VENV_DOCTOR_TEST_PAUSE_AT": "installing",
        "VENV_DOCTOR_TEST_PAUSE_AT_FILE": str(marker),
    }
    first = subprocess.Popen(
        [sys.executable, "-m", "venv_doctor", "repair", "p", "--python", "3.12", "--yes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        import time

        deadline = time.monotonic() + 60
        while not marker.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = subprocess.run(
            check=False,
            args=[
                sys.executable,
                "-m",
                "venv_doctor",
                "repair",
                "p",
                "--python",
                "3.12",
                "--yes",
                "--no-wait",
                "--json",
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        result = json.loads(second.stdout)["results"][0]
        assert result["outcome"] == "failed" and f"pid {first.pid}" in result["message"]
    finally:
        first.kill()
        first.communicate()
    # the killed rebuild is rolled back by the next command
    assert subprocess.run(
        check=False,
        args=[sys.executable, "-m", "venv_doctor", "check", "p"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    ).returncode in (0, 1)
    assert (venv / "lib" / "python3.11" / "site-packages").is_dir()
    assert run([venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"


def test_minor_upgrade_picks_the_wheel_built_for_the_new_python(
    isolated_home: Path, offline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support import make_wheel

    for tag in ("cp311", "cp312"):
        make_wheel(
            offline, "tinyabi", "1.0.0", tag=f"{tag}-none-any", module_source=f"TAG = {tag!r}\n"
        )
    old = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(old, isolated_home / ".virtualenvs" / "abi")
    pip_install(venv, offline, "tinyabi")
    assert (
        run([venv / "bin" / "python", "-c", "import tinyabi; print(tinyabi.TAG)"]).stdout.strip()
        == "cp311"
    )
    shutil.rmtree(old.parent.parent)

    code, results = repair_json(capsys, "abi", "--python", "3.12", "--yes")

    assert code == 0, results
    assert (
        run([venv / "bin" / "python", "-c", "import tinyabi; print(tinyabi.TAG)"]).stdout.strip()
        == "cp312"
    )


@pytest.mark.parametrize("creator", ["virtualenv", "uv"])
def test_other_creators_are_rebuilt_by_the_same_creator(
    creator: str, isolated_home: Path, offline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.13", "3.13.0")
    venv = make_venv(old, isolated_home / ".virtualenvs" / creator, creator=creator)
    pip_install(venv, offline, "tinytop")
    shutil.rmtree(old.parent.parent)
    code, results = repair_json(capsys, creator, "--python", "3.13", "--yes")
    assert code == 0, results
    cfg = (venv / "pyvenv.cfg").read_text()
    assert f"{creator} = " in cfg  # made again by the same creator
    assert run([venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"


def test_copies_venv_with_its_home_gone_is_relinked_by_copying(
    isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = tmp_path / "base" / "bin"
    prefix.mkdir(parents=True)
    (prefix / "python3.12").symlink_to(real_python("3.12"))
    venv = make_venv(prefix / "python3.12", isolated_home / ".virtualenvs" / "copied", copies=True)
    shutil.rmtree(tmp_path / "base")
    fake_pyenv_version("3.12", "3.12.1")
    assert status_of(capsys, venv) == "broken"
    code, results = repair_json(capsys, "copied")
    assert code == 0, results
    assert results[0]["action"] == "relink"
    assert not (venv / "bin" / "python3.12").is_symlink()  # still a copy
    assert status_of(capsys, venv) == "healthy"


def test_two_concurrent_repairs_rebuild_exactly_once(isolated_home: Path, offline: Path) -> None:
    old = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(old, isolated_home / ".virtualenvs" / "p")
    pip_install(venv, offline, "tinytop")
    shutil.rmtree(old.parent.parent)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "venv_doctor",
        "repair",
        "p",
        "--python",
        "3.12",
        "--yes",
        "--json",
    ]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes, codes = [], []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        outcomes.append(json.loads(out)["results"][0])
        codes.append(proc.returncode)
    found = sorted((r["action"], r["outcome"]) for r in outcomes)
    # the second finds it repaired under the lock ("already_repaired"), or, had it
    # planned after the first finished, healthy ("skipped"): both say so and exit 0
    assert found[1] == ("rebuild", "repaired")
    assert found[0] in {("none", "already_repaired"), ("none", "skipped")}, found
    assert codes == [0, 0]
    assert sum(1 for r in outcomes if r["backup"]) == 1
    assert run([venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"


def test_many_relinks_run_side_by_side_with_results_in_order_and_every_event_recorded(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from venv_doctor import config, paths
    from venv_doctor.context import Context
    from venv_doctor.record import registry

    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    first = make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "a0")
    venvs = [first]
    for i in range(1, 6):
        venvs.append(isolated_home / ".virtualenvs" / f"a{i}")
        shutil.copytree(first, venvs[-1], symlinks=True)
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")

    code, results = repair_json(capsys, "--all")

    assert code == 0, results
    assert [r["name"] for r in results] == [f"a{i}" for i in range(6)]
    assert {(r["action"], r["outcome"]) for r in results} == {("relink", "repaired")}
    for venv in venvs:
        assert status_of(capsys, venv) == "healthy"
    ctx = Context(
        config.load(paths.app_dirs(os.environ), os.environ), paths.app_dirs(os.environ), os.environ
    )
    logged = [e for e in registry.recent(ctx, limit=100) if e["kind"] == "repair"]
    assert sorted(e["venv"] for e in logged) == sorted(str(v) for v in venvs)
    assert all(e["message"].startswith("repaired: relinked") for e in logged)


def test_a_venv_repaired_while_waiting_for_its_lock_is_already_repaired(
    homebrew: FakeHomebrew, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planned while broken, repaired by another process before the lock was ours."""
    from venv_doctor import config, paths
    from venv_doctor.context import Context
    from venv_doctor.diagnose.diagnosis import diagnose
    from venv_doctor.model.venv import Location, load
    from venv_doctor.record import registry
    from venv_doctor.repair import relink
    from venv_doctor.repair.execute import execute
    from venv_doctor.repair.plan import Action, plan_for
    from venv_doctor.repair.result import Outcome

    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    venv = make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "w")
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    dirs = paths.app_dirs(os.environ)
    ctx = Context(config.load(dirs, os.environ), dirs, os.environ)
    location = Location("w", venv, "virtualenvwrapper")
    opt = homebrew.opt_python("3.12")

    def planner(d: Any) -> Any:
        from venv_doctor.interpreters import inventory

        return plan_for(d, inventory.inventory(ctx.config, ctx.env), False, env=ctx.env)

    plan = planner(diagnose(load(location), env=ctx.env))
    assert plan.action is Action.RELINK
    assert relink.relink(
        load(location), relink.RelinkTarget(opt, "3.12.2"), env=os.environ
    ).ok  # the other process

    result = execute(ctx, plan, registry.requirements_for, replan=planner)

    assert (result.outcome, result.ok, result.problem) == (Outcome.ALREADY_REPAIRED, True, False)
    assert "already repaired" in result.message


def _vanished_pyenv_env(offline: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    base = fake_pyenv_version("3.11", "3.11.7")
    fake_pyenv_version("3.12", "3.12.1")
    env = make_venv(base, base.parent.parent / "envs" / "gone")
    pip_install(env, offline, "tinytop")
    assert cli(["check"]) == 0
    capsys.readouterr()
    shutil.rmtree(base.parent.parent)
    return env


def test_check_reports_a_recorded_venv_that_vanished_until_forgotten(
    isolated_home: Path, offline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _vanished_pyenv_env(offline, capsys)
    assert cli(["check", "--json"]) == 1
    (venv,) = json.loads(capsys.readouterr().out)["venvs"]
    assert (venv["path"], venv["status"]) == (str(env), "broken")
    assert [f["code"] for f in venv["findings"]] == ["venv-missing"]
    assert cli(["check", "gone", "--json"]) == 1  # by name too
    assert json.loads(capsys.readouterr().out)["venvs"][0]["findings"][0]["code"] == "venv-missing"
    assert cli(["forget", "gone"]) == 0
    assert "forgot gone" in capsys.readouterr().out
    assert cli(["check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["venvs"] == []


def test_all_never_recreates_what_vanished_and_relink_never_rebuilds(
    isolated_home: Path, offline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _vanished_pyenv_env(offline, capsys)
    code, results = repair_json(capsys, "--all", "--yes")
    assert (code, results) == (0, [])  # deleted venvs come back only when named
    code, results = repair_json(capsys, "gone", "--strategy", "relink", "--yes")
    assert code == 1 and results[0]["outcome"] == "skipped"
    assert not env.exists()


def test_relink_strategy_leaves_a_garbage_cfg_venv_alone_and_exits_0(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "g")
    with (venv / "pyvenv.cfg").open("a") as fh:
        fh.write("junk line\n")
    before = tree_digest(venv)
    for args in (["g", "--strategy", "relink"], ["--all"], ["--all", "--dry-run"]):
        code, results = repair_json(capsys, *args)
        assert code == 0, (args, results)
        assert results[0]["outcome"] == "skipped"
    assert tree_digest(venv) == before


def test_ambiguous_name_and_all_with_targets_are_usage_errors(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = real_python("3.12")
    make_venv(python, isolated_home / ".virtualenvs" / "tool")
    make_venv(python, isolated_home / ".multivenv" / "tool")
    assert cli(["repair", "tool", "--dry-run"]) == 2
    assert "names 2 venvs" in capsys.readouterr().err
    assert cli(["repair", "--all", "tool"]) == 2


def test_restore_without_backups_and_gc_with_negative_days(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "web")
    assert cli(["restore", "web", "--list"]) == 0
    assert "no kept backup" in capsys.readouterr().out
    assert cli(["restore", "web"]) == 1
    assert cli(["gc", "--days", "-1"]) == 2


def test_a_venv_made_again_after_a_killed_recreate_stays_where_it_was_made(
    isolated_home: Path, offline: Path, tmp_path: Path
) -> None:
    """A recreate killed mid-way, then the user makes the venv again themselves (as after
    `pipx uninstall X; pipx install X`): the next command's recovery leaves theirs in
    place (it moved it into a .venv-doctor-backups area beside it, in the owner's store,
    where `pipx list` then failed on it)."""
    python = real_python("3.12")
    venv = make_venv(python, isolated_home / ".virtualenvs" / "p")
    pip_install(venv, offline, "tinytop")
    cmd = [sys.executable, "-m", "venv_doctor"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert run([*cmd, "check"], env=env).returncode == 0  # recorded, with its snapshot
    shutil.rmtree(venv)
    marker = tmp_path / "paused"
    paused = {
        **env,
        "VENV_DOCTOR_TEST_PAUSE_AT": "installing",
        "VENV_DOCTOR_TEST_PAUSE_AT_FILE": str(marker),
    }
    first = subprocess.Popen([*cmd, "repair", "p", "--yes"], env=paused, text=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        first.kill()
        first.wait()
    shutil.rmtree(venv)  # the half-made one, cleared by the user's tool...
    make_venv(python, venv)  # ... which made the venv again
    (venv / "mine.txt").write_text("keep me\n")

    done = run([*cmd, "check", "p"], env=env, check=False)

    assert "recovered an interrupted repair" in done.stderr and "moved" not in done.stderr
    assert (venv / "mine.txt").read_text() == "keep me\n"
    assert not (venv.parent / ".venv-doctor-backups").exists()
