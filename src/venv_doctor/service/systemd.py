"""systemd's user instance: units in ``~/.config/systemd/user``, ``systemctl --user``,
the journal."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path

from venv_doctor import paths
from venv_doctor.runner import CommandError, Runner
from venv_doctor.service import units as unit_files
from venv_doctor.service.base import (
    Availability,
    Command,
    Commands,
    Layout,
    Manager,
    Manifest,
    ServiceMode,
    UnitState,
)

_UP = {"running", "degraded", "starting", "initializing", "maintenance"}
_STATE_PROPERTIES = "LoadState,UnitFileState,ActiveState,SubState,MainPID"


def systemctl(*args: str, may_fail: bool = False, timeout: float = 120.0) -> Command:
    return Command(("systemctl", "--user", *args), may_fail, timeout)


def _wsl_note() -> str:
    if "microsoft" not in platform.release().lower():
        return ""
    return "; on WSL, enable systemd with `[boot] systemd=true` in /etc/wsl.conf, then `wsl --shutdown`"


def _service_unit(mode: ServiceMode | None) -> str:
    """The unit whose process runs venv-doctor (the timer only starts it)."""
    return unit_files.SCAN_UNIT if mode is ServiceMode.TIMER else unit_files.DAEMON_UNIT


class Systemd:
    manager = Manager.SYSTEMD

    def detect(self, runner: Runner, env: Mapping[str, str]) -> Availability:
        if shutil.which("systemctl", path=env.get("PATH", os.defpath)) is None:
            return Availability(
                self.manager, False, "systemctl is not on PATH: this system has no systemd"
            )
        try:
            done = runner(systemctl("is-system-running").args, env=env, timeout=15)
        except CommandError as exc:
            return Availability(self.manager, False, exc.message + _wsl_note())
        state = done.stdout.strip()
        if state in _UP:
            return Availability(self.manager, True, f"systemd user instance {state}")
        said = (done.stderr.strip() or state or f"exit code {done.returncode}").splitlines()[-1]
        return Availability(
            self.manager,
            False,
            f"no systemd user instance answers (`systemctl --user is-system-running`: {said})"
            + _wsl_note(),
        )

    def layout(self, mode: ServiceMode, env: Mapping[str, str]) -> Layout:
        target = paths.systemd_user_dir(env)
        if mode is ServiceMode.TIMER:
            templates: tuple[str, ...] = (unit_files.SCAN_UNIT, unit_files.SCAN_TIMER)
            unit, wanted_by = unit_files.SCAN_TIMER, "timers.target"
        else:
            templates = (unit_files.DAEMON_UNIT,)
            unit, wanted_by = unit_files.DAEMON_UNIT, "default.target"
        # `systemctl enable` puts its link in the .wants directory
        return Layout(target, templates, unit, (target / f"{wanted_by}.wants",))

    def install_steps(self, layout: Layout, previous: Manifest | None) -> tuple[Commands, Commands]:
        unit = layout.unit
        reload = systemctl("daemon-reload")
        if previous is not None and previous.unit == unit:  # already enabled: pick up the file
            return (), (reload, systemctl("enable", unit), systemctl("restart", unit, timeout=330))
        start = (reload, systemctl("enable", "--now", unit, timeout=330))
        if previous is None:
            return (), start
        return (systemctl("disable", "--now", previous.unit, may_fail=True),), start

    def stop_steps(self, manifest: Manifest) -> tuple[Commands, Commands]:
        # reset-failed: a unit that failed (on a broken config.toml) stays listed as
        # failed after its file is gone unless its state is cleared
        units = (
            (manifest.unit, unit_files.SCAN_UNIT)
            if manifest.unit == unit_files.SCAN_TIMER
            else (manifest.unit,)
        )
        return (
            systemctl("disable", "--now", manifest.unit, may_fail=True),
            systemctl("reset-failed", *units, may_fail=True),
        ), (systemctl("daemon-reload", may_fail=True),)

    def standard_files(self, env: Mapping[str, str]) -> list[Path]:
        target = paths.systemd_user_dir(env)
        names = (unit_files.DAEMON_UNIT, unit_files.SCAN_UNIT, unit_files.SCAN_TIMER)
        return [target / n for n in names]

    def unit_state(self, path: Path, runner: Runner, env: Mapping[str, str]) -> UnitState:
        name = path.name
        show = systemctl("show", name, f"--property={_STATE_PROPERTIES}")
        try:
            done = runner(show.args, env=env, timeout=15)
        except CommandError:
            return UnitState(name, path, os.path.lexists(path), None, None, None)
        values = dict(line.partition("=")[::2] for line in done.stdout.splitlines() if "=" in line)
        active = values.get("ActiveState") or None
        if active and values.get("SubState"):
            active = f"{active} ({values['SubState']})"
        pid = int(values.get("MainPID", "0") or 0)
        return UnitState(
            name,
            path,
            os.path.lexists(path),
            values.get("UnitFileState") or None,
            active if done.ok else None,
            pid or None,
        )

    def log(
        self,
        mode: ServiceMode | None,
        env: Mapping[str, str],
        runner: Runner,
        lines: int,
        available: bool,
    ) -> tuple[str, tuple[str, ...]]:
        if not available:
            return "", ()
        args = ("journalctl", "--user", "-u", _service_unit(mode), "-n", str(lines), "--no-pager")
        source = shlex.join(args)
        if shutil.which("journalctl", path=env.get("PATH", os.defpath)) is None:
            return source, ()
        try:
            done = runner(args, env=env, timeout=30)
        except CommandError:
            return source, ()
        return source, tuple(done.stdout.splitlines()[-lines:]) if done.ok else ()

    def log_hint(self, mode: ServiceMode, env: Mapping[str, str]) -> str:
        return f"journalctl --user -u {_service_unit(mode).removesuffix('.service')}"
