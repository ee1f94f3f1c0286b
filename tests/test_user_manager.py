"""The harness itself: a real systemd user manager runs units, and leaves nothing behind."""

from __future__ import annotations

from tests.user_manager import UserManager


def test_the_user_manager_is_real_and_runs_a_unit(user_manager: UserManager) -> None:
    state = user_manager.systemctl("is-system-running", check=False).stdout.strip()
    assert state in ("running", "degraded")
    proc = user_manager.run(
        ["systemd-run", "--user", "--wait", "--quiet", "--unit=vd-harness-probe", "true"]
    )
    assert proc.returncode == 0
    shown = user_manager.show("vd-harness-probe.service", "Result", "LoadState")
    assert shown.get("LoadState") in ("not-found", "loaded")  # a finished transient unit is gone
    assert user_manager.pid in user_manager.pids()
