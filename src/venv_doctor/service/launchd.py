"""launchd: a LaunchAgent in ``~/Library/LaunchAgents``, ``launchctl`` in the user's GUI
domain, the daemon's output in ``~/Library/Logs/venv-doctor``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from venv_doctor import paths
from venv_doctor.errors import UsageError
from venv_doctor.fsutil import open_regular
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


def launchctl(*args: str, may_fail: bool = False) -> Command:
    return Command(("launchctl", *args), may_fail)


def gui_domain() -> str:
    return f"gui/{os.getuid()}"


def _service_target(label: str) -> str:
    return f"{gui_domain()}/{label}"


def tail(path: Path, lines: int) -> tuple[str, ...]:
    """The last ``lines`` lines of a log file that may be large."""
    try:
        with open_regular(path) as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            data = fh.read()
    except OSError:
        return ()
    return tuple(data.decode("utf-8", errors="replace").splitlines()[-lines:])


class Launchd:
    manager = Manager.LAUNCHD

    def detect(self, runner: Runner, env: Mapping[str, str]) -> Availability:
        del runner  # launchd always answers where launchctl exists
        found = shutil.which("launchctl", path=env.get("PATH", os.defpath)) is not None
        return Availability(self.manager, found, "launchd" if found else "launchctl is not on PATH")

    def layout(self, mode: ServiceMode, env: Mapping[str, str]) -> Layout:
        if mode is ServiceMode.TIMER:
            raise UsageError("--timer is for systemd; on macOS the LaunchAgent runs the daemon")
        return Layout(
            paths.launch_agents_dir(env),
            (unit_files.AGENT_PLIST,),
            unit_files.AGENT_LABEL,
            (paths.mac_logs_dir(env),),  # launchd does not create the log file's directory
        )

    def install_steps(self, layout: Layout, previous: Manifest | None) -> tuple[Commands, Commands]:
        plist = layout.target / unit_files.AGENT_PLIST
        label = _service_target(unit_files.AGENT_LABEL)
        stop = () if previous is None else (launchctl("bootout", label, may_fail=True),)
        return stop, (launchctl("bootstrap", gui_domain(), str(plist)),)

    def stop_steps(self, manifest: Manifest) -> tuple[Commands, Commands]:
        return (launchctl("bootout", _service_target(manifest.unit), may_fail=True),), ()

    def standard_files(self, env: Mapping[str, str]) -> list[Path]:
        return [paths.launch_agents_dir(env) / unit_files.AGENT_PLIST]

    def unit_state(self, path: Path, runner: Runner, env: Mapping[str, str]) -> UnitState:
        label = unit_files.AGENT_LABEL
        try:
            done = runner(launchctl("print", _service_target(label)).args, env=env, timeout=15)
        except CommandError:
            return UnitState(label, path, os.path.lexists(path), None, None, None)
        if not done.ok:
            return UnitState(label, path, os.path.lexists(path), "not loaded", None, None)
        fields: dict[str, str] = {}
        for line in done.stdout.splitlines():
            key, sep, value = line.strip().partition(" = ")
            if sep and key in ("state", "pid"):
                fields.setdefault(key, value.strip())
        pid = fields.get("pid", "")
        return UnitState(
            label,
            path,
            os.path.lexists(path),
            "loaded",
            fields.get("state"),
            int(pid) if pid.isdigit() else None,
        )

    def log(
        self,
        mode: ServiceMode | None,
        env: Mapping[str, str],
        runner: Runner,
        lines: int,
        available: bool,
    ) -> tuple[str, tuple[str, ...]]:
        log_file = self._log_file(env)
        return str(log_file), tail(log_file, lines)

    def log_hint(self, mode: ServiceMode, env: Mapping[str, str]) -> str:
        return str(self._log_file(env))

    @staticmethod
    def _log_file(env: Mapping[str, str]) -> Path:
        return paths.mac_logs_dir(env) / unit_files.AGENT_STDERR
