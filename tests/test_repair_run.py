"""The one repair core (repair.run.repair) both front doors call: typed outcomes
and reasons, the confirmation answer asked once, and what it records."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.support import make_venv, real_python, tree_digest
from tests.test_repair import fake_pyenv_version
from venv_doctor import config, paths
from venv_doctor.check import check
from venv_doctor.context import Context
from venv_doctor.record import registry
from venv_doctor.repair.plan import Action, Plan, Reason
from venv_doctor.repair.result import Outcome
from venv_doctor.repair.run import Policy, repair


def context() -> Context:
    return Context(
        config.load(paths.app_dirs(os.environ), os.environ), paths.app_dirs(os.environ), os.environ
    )


def test_a_rebuild_refused_at_the_prompt_is_skipped_with_its_reason(isolated_home: Path) -> None:
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(real_python("3.11"), isolated_home / ".virtualenvs" / "p")
    before = tree_digest(venv)
    asked: list[Sequence[Plan]] = []

    def no(plans: Sequence[Plan]) -> bool:
        asked.append(plans)
        return False

    ctx = context()
    results = repair(ctx, check(ctx, ["p"]), Policy(python="3.12", confirm=no))

    assert [[p.action for p in plans] for plans in asked] == [[Action.REBUILD]]
    (result,) = results
    assert (result.outcome, result.reason) == (Outcome.SKIPPED, Reason.NEEDS_CONFIRMATION)
    assert result.problem and not result.attempted
    assert tree_digest(venv) == before
    assert not [e for e in registry.recent(ctx) if e["kind"] == "repair"]


def test_a_healthy_venv_is_skipped_as_healthy_and_nobody_is_asked(isolated_home: Path) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "fine")
    ctx = context()
    started: list[int] = []

    def never(plans: Sequence[Plan]) -> bool:
        raise AssertionError("nothing needs a yes")

    (result,) = repair(ctx, check(ctx, ["fine"]), Policy(confirm=never, on_start=started.append))

    assert (result.outcome, result.reason, result.action) == (
        Outcome.SKIPPED,
        Reason.HEALTHY,
        Action.NONE,
    )
    assert not result.problem and not result.attempted
    assert started == [0]


def test_a_dry_run_plans_and_changes_nothing(isolated_home: Path) -> None:
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(real_python("3.11"), isolated_home / ".virtualenvs" / "p")
    before = tree_digest(venv)
    ctx = context()

    (result,) = repair(ctx, check(ctx, ["p"]), Policy(python="3.12", dry_run=True))

    assert (result.outcome, result.action, result.after) == (
        Outcome.PLANNED,
        Action.REBUILD,
        "3.12.1",
    )
    assert not result.problem and not result.attempted
    assert tree_digest(venv) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="the owner check applies to root only")
def test_root_does_not_repair_another_users_venv(isolated_home: Path) -> None:
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(real_python("3.11"), isolated_home / ".virtualenvs" / "p")
    os.chown(venv, 12345, 12345)
    ctx = context()

    (result,) = repair(ctx, check(ctx, ["p"]), Policy(python="3.12", yes=True))

    assert (result.outcome, result.reason) == (Outcome.SKIPPED, Reason.OTHER_OWNER)
    assert not result.attempted


def test_the_pins_a_rebuild_reads_skip_the_record_checks_only(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A rebuild reads the pins without checking every RECORD (a warning it never shows);
    the package list is the same as the checking read's."""
    from tests.support import make_wheel, pip_install
    from venv_doctor.record import history

    house = tmp_path / "house"
    make_wheel(house, "leaf", "1.0")
    make_wheel(house, "top", "2.0", requires=["leaf"])
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "p", creator="uv")
    pip_install(venv, house, "top")
    (record,) = venv.glob("lib/python*/site-packages/leaf-1.0.dist-info/RECORD")
    record.write_text("not,csv,of,three\n", encoding="utf-8")
    ctx = context()

    checked = history.snapshot_for(ctx, str(venv))
    pins = history.snapshot_for(ctx, str(venv), verify=False)
    reqs = registry.requirements_for(ctx, venv)

    assert any("RECORD is malformed" in w for w in checked.warnings)
    assert not any("RECORD" in w for w in pins.warnings)
    assert pins.snapshot.packages == checked.snapshot.packages
    assert reqs is not None
    assert reqs.expected == {("leaf", "1.0"), ("top", "2.0")}
    assert reqs.requested == {"top"}
