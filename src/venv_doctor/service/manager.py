"""Running venv-doctor as a user service: systemd on Linux, launchd on macOS.

``plan_install`` renders the unit files and lists the commands without touching
anything (``service install --print`` shows the plan). ``install`` checks that
the service manager answers, writes the files atomically, records what it
wrote in a manifest in the state directory, then runs the commands.
``uninstall`` stops the service and removes exactly what the manifest lists,
including the directories install created. ``status`` asks the manager.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import os
import platform
import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from venv_doctor import paths
from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Finding
from venv_doctor.errors import UsageError, VenvDoctorError
from venv_doctor.fsutil import SMALL_FILE, atomic_write, open_regular, read_bounded, read_json
from venv_doctor.paths import AppDirs
from venv_doctor.runner import CommandError, Runner, run
from venv_doctor.service import units as unit_files
from venv_doctor.service.interpreter import (
    ServicePython,
    check_service_python,
    explicit_python,
    running_python,
)
from venv_doctor.service.units import UnitValues

MANIFEST_NAME = "service.json"
MANIFEST_VERSION = 1
LOG_LINES = 20
# Store locations the daemon must see as the CLI does (see stores.py, paths.py);
# passed through when set. Index URLs are not: they may carry credentials.
PASSED_ENVIRONMENT = (
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "WORKON_HOME",
    "PIPX_HOME",
    "PYENV_ROOT",
    "POETRY_VIRTUALENVS_PATH",
    "POETRY_CACHE_DIR",
    "HATCH_DATA_DIR",
    "UV_TOOL_DIR",
    "UV_PYTHON_INSTALL_DIR",
    "HOMEBREW_PREFIX",
)
LINUX_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
MACOS_PATH = ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")
REPAIR_ARGS = {
    "off": ("--dry-run",),
    "relink": ("--yes", "--strategy", "relink"),
    "rebuild": ("--yes", "--strategy", "auto"),
}
_SYSTEMD_UP = {"running", "degraded", "starting", "initializing", "maintenance"}
UNAVAILABLE_HINT = (
    "run `venv-doctor daemon` under a supervisor you already use (a terminal multiplexer, "
    "supervisord, runit, or a `@reboot` crontab line), or schedule `venv-doctor check` and "
    "`venv-doctor repair --all` with cron"
)

START_FAILED_HINT = (
    "the files are in place: `venv-doctor service status` shows the service's log; fix the "
    "cause and run `venv-doctor service install` again, or `venv-doctor service uninstall`"
)


class Manager(enum.StrEnum):
    SYSTEMD = "systemd"
    LAUNCHD = "launchd"


class Mode(enum.StrEnum):
    DAEMON = "daemon"  # the resident daemon
    TIMER = "timer"  # systemd timer: check and repair every few hours


class Action(enum.StrEnum):
    RUN = "run"
    WROTE = "wrote"
    REMOVED = "removed"
    IGNORED = "ignored"  # a stop command that failed (the service was not running)


@dataclass(frozen=True)
class Step:
    action: Action
    target: str  # a command line or a path
    detail: str = ""


@dataclass(frozen=True)
class Command:
    args: tuple[str, ...]
    may_fail: bool = False  # stopping something that may already be stopped
    timeout: float = 120.0

    def __str__(self) -> str:
        return shlex.join(self.args)


@dataclass(frozen=True)
class ServiceFile:
    path: Path
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Availability:
    manager: Manager
    available: bool
    reason: str


@dataclass(frozen=True)
class Manifest:
    """What ``install`` wrote and created, so ``uninstall`` removes exactly that."""

    manager: Manager
    mode: Mode
    unit: str  # the systemd unit enabled, or the launchd label
    files: tuple[tuple[Path, str], ...]  # path and the sha256 written
    created_dirs: tuple[Path, ...]  # directories that did not exist before
    command: tuple[str, ...]
    installed_at: str


@dataclass(frozen=True)
class InstallPlan:
    manager: Manager
    mode: Mode
    unit: str
    files: tuple[ServiceFile, ...]
    dirs: tuple[Path, ...]  # made besides the files' own (a .wants dir, the macOS log dir)
    stop: tuple[Command, ...]  # before writing: what a previous install started
    remove: tuple[Path, ...]  # files of a previous install not written again
    start: tuple[Command, ...]  # after writing
    command: tuple[str, ...]
    warnings: tuple[Finding, ...]
    conflicts: tuple[Path, ...]  # files in the way that venv-doctor did not write

    @property
    def commands(self) -> tuple[Command, ...]:
        return self.stop + self.start


@dataclass(frozen=True)
class InstallResult:
    plan: InstallPlan
    manifest: Path
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class UninstallResult:
    recorded: bool  # a manifest was found
    steps: tuple[Step, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class UnitState:
    name: str
    path: Path
    installed: bool
    enabled: str | None  # systemd's UnitFileState; launchd: "loaded" / "not loaded"
    active: str | None  # "active (running)", "inactive (dead)", "running", ...
    pid: int | None


@dataclass(frozen=True)
class ServiceStatus:
    availability: Availability
    recorded: bool
    mode: Mode | None
    units: tuple[UnitState, ...]
    modified: tuple[Path, ...]  # files changed since install wrote them
    command: tuple[str, ...]
    command_missing: bool  # the program the service starts is gone
    log_source: str
    log: tuple[str, ...]

    @property
    def installed(self) -> bool:
        return any(u.installed for u in self.units)


Announce = Callable[[Step], None]


def _quiet(step: Step) -> None:
    del step


# --- the service manager ---------------------------------------------------------------


def platform_manager() -> Manager:
    return Manager.LAUNCHD if paths.is_macos() else Manager.SYSTEMD


def systemctl(*args: str, may_fail: bool = False, timeout: float = 120.0) -> Command:
    return Command(("systemctl", "--user", *args), may_fail, timeout)


def launchctl(*args: str, may_fail: bool = False) -> Command:
    return Command(("launchctl", *args), may_fail)


def gui_domain() -> str:
    return f"gui/{os.getuid()}"


def _wsl_note() -> str:
    if "microsoft" not in platform.release().lower():
        return ""
    return "; on WSL, enable systemd with `[boot] systemd=true` in /etc/wsl.conf, then `wsl --shutdown`"


def detect(runner: Runner = run) -> Availability:
    """Is there a service manager for this user that answers?"""
    manager = platform_manager()
    if manager is Manager.LAUNCHD:
        found = shutil.which("launchctl") is not None
        return Availability(manager, found, "launchd" if found else "launchctl is not on PATH")
    if shutil.which("systemctl") is None:
        return Availability(manager, False, "systemctl is not on PATH: this system has no systemd")
    try:
        done = runner(systemctl("is-system-running").args, timeout=15)
    except CommandError as exc:
        return Availability(manager, False, exc.message + _wsl_note())
    state = done.stdout.strip()
    if state in _SYSTEMD_UP:
        return Availability(manager, True, f"systemd user instance {state}")
    said = (done.stderr.strip() or state or f"exit code {done.returncode}").splitlines()[-1]
    return Availability(
        manager,
        False,
        f"no systemd user instance answers (`systemctl --user is-system-running`: {said})"
        + _wsl_note(),
    )


# --- what goes into the files ----------------------------------------------------------


def session_bus_address(env: Mapping[str, str]) -> str:
    """The user's D-Bus session bus: a ``unix:path=`` address, which outlives a login.

    An abstract or per-login address (dbus-launch) would be stale after the next
    login, so the systemd user bus in the runtime directory is used instead.
    """
    current = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if current.startswith("unix:path=") and ";" not in current:
        return current
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if not runtime.startswith("/"):
        runtime = f"/run/user/{os.getuid()}"
    return f"unix:path={runtime}/bus"


def _in_venv(entry: str) -> bool:
    return os.path.lexists(os.path.join(os.path.dirname(entry), "pyvenv.cfg"))


def service_path(env: Mapping[str, str], macos: bool) -> str:
    """The user's PATH without relative entries and venv bin dirs, plus the standard dirs."""
    entries = [e for e in env.get("PATH", "").split(os.pathsep) if e.startswith("/")]
    entries = [e.rstrip("/") or "/" for e in entries if not _in_venv(e)]
    brew = env.get("HOMEBREW_PREFIX", "")
    extra = [f"{brew.rstrip('/')}/bin"] if brew.startswith("/") else []
    standard = MACOS_PATH if macos else LINUX_PATH
    return os.pathsep.join(dict.fromkeys([*entries, *extra, *standard]))


def passed_environment(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, env[name]) for name in PASSED_ENVIRONMENT if env.get(name))


def _absolute(dirs: AppDirs) -> AppDirs:
    return AppDirs(
        config=dirs.config.absolute(),
        state=dirs.state.absolute(),
        cache=dirs.cache.absolute(),
        log=dirs.log.absolute(),
    )


def unit_values(ctx: Context, command: tuple[str, ...]) -> UnitValues:
    return UnitValues(
        command=command,
        dirs=_absolute(ctx.dirs),
        path=service_path(ctx.env, paths.is_macos()),
        dbus=session_bus_address(ctx.env),
        agent_log_dir=paths.mac_logs_dir(ctx.env).absolute(),
        repair_args=REPAIR_ARGS[ctx.config.repair_auto],
        environment=passed_environment(ctx.env),
    )


# --- the manifest ----------------------------------------------------------------------


def manifest_path(dirs: AppDirs) -> Path:
    return dirs.state / MANIFEST_NAME


def read_manifest(dirs: AppDirs) -> Manifest | None:
    path = manifest_path(dirs)
    try:
        data = read_json(path, follow_symlinks=False)
        return Manifest(
            manager=Manager(data["manager"]),
            mode=Mode(data["mode"]),
            unit=data["unit"],
            files=tuple((Path(f["path"]), f["sha256"]) for f in data["files"]),
            created_dirs=tuple(Path(d) for d in data["created_dirs"]),
            command=tuple(data["command"]),
            installed_at=data["installed_at"],
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VenvDoctorError(
            f"{path}: the record of the installed service cannot be read ({exc})",
            hint="remove the unit files by hand (see `venv-doctor service status`), then that file",
        ) from exc


def write_manifest(dirs: AppDirs, manifest: Manifest) -> Path:
    body = {
        "schema_version": MANIFEST_VERSION,
        "manager": manifest.manager.value,
        "mode": manifest.mode.value,
        "unit": manifest.unit,
        "files": [{"path": str(p), "sha256": h} for p, h in manifest.files],
        "created_dirs": [str(d) for d in manifest.created_dirs],
        "command": list(manifest.command),
        "installed_at": manifest.installed_at,
    }
    path = manifest_path(dirs)
    atomic_write(path, json.dumps(body, indent=2) + "\n", mode=0o600)
    return path


# --- install ---------------------------------------------------------------------------


def _layout(manager: Manager, mode: Mode, env: Mapping[str, str]) -> tuple[Path, list[str], str]:
    """The target directory, the template names and the unit to enable."""
    if manager is Manager.LAUNCHD:
        return paths.launch_agents_dir(env), [unit_files.AGENT_PLIST], unit_files.AGENT_LABEL
    target = paths.systemd_user_dir(env)
    if mode is Mode.TIMER:
        return target, [unit_files.SCAN_UNIT, unit_files.SCAN_TIMER], unit_files.SCAN_TIMER
    return target, [unit_files.DAEMON_UNIT], unit_files.DAEMON_UNIT


def _extra_dirs(manager: Manager, mode: Mode, target: Path, env: Mapping[str, str]) -> list[Path]:
    if manager is Manager.LAUNCHD:
        return [paths.mac_logs_dir(env)]  # launchd does not create the log file's directory
    wanted_by = "timers.target" if mode is Mode.TIMER else "default.target"
    return [target / f"{wanted_by}.wants"]  # `systemctl enable` puts its link there


def _systemd_transition(
    unit: str, previous: Manifest | None
) -> tuple[tuple[Command, ...], tuple[Command, ...]]:
    reload = systemctl("daemon-reload")
    if previous is not None and previous.unit == unit:  # already enabled: pick up the new file
        return (), (reload, systemctl("enable", unit), systemctl("restart", unit, timeout=330))
    start = (reload, systemctl("enable", "--now", unit, timeout=330))
    if previous is None:
        return (), start
    return (systemctl("disable", "--now", previous.unit, may_fail=True),), start


def _launchd_transition(
    plist: Path, previous: Manifest | None
) -> tuple[tuple[Command, ...], tuple[Command, ...]]:
    label = f"{gui_domain()}/{unit_files.AGENT_LABEL}"
    stop = () if previous is None else (launchctl("bootout", label, may_fail=True),)
    return stop, (launchctl("bootstrap", gui_domain(), str(plist)),)


def _service_python(python: Path | None, runner: Runner) -> ServicePython:
    return explicit_python(python, runner) if python is not None else running_python()


def plan_install(
    ctx: Context, *, timer: bool = False, python: Path | None = None, runner: Runner = run
) -> InstallPlan:
    """Render the files and list the commands; nothing is written or started."""
    manager = platform_manager()
    if timer and manager is Manager.LAUNCHD:
        raise UsageError("--timer is for systemd; on macOS the LaunchAgent runs the daemon")
    mode = Mode.TIMER if timer else Mode.DAEMON
    service_python = _service_python(python, runner)
    values = unit_values(ctx, service_python.command)
    target, names, unit = _layout(manager, mode, ctx.env)
    files = tuple(ServiceFile(target / n, unit_files.render(n, values)) for n in names)
    previous = read_manifest(ctx.dirs)
    recorded = {p for p, _ in previous.files} if previous else set()
    if manager is Manager.LAUNCHD:
        stop, start = _launchd_transition(files[0].path, previous)
    else:
        stop, start = _systemd_transition(unit, previous)
    return InstallPlan(
        manager=manager,
        mode=mode,
        unit=unit,
        files=files,
        dirs=tuple(_extra_dirs(manager, mode, target, ctx.env)),
        stop=stop,
        remove=tuple(sorted(recorded - {f.path for f in files})),
        start=start,
        command=service_python.command,
        warnings=check_service_python(ctx, service_python),
        conflicts=tuple(
            f.path for f in files if os.path.lexists(f.path) and f.path not in recorded
        ),
    )


def _missing_dirs(wanted: Sequence[Path]) -> list[Path]:
    """Every directory in ``wanted`` and above it that does not exist yet."""
    missing: list[Path] = []
    for d in wanted:
        for p in [d, *d.parents]:
            if os.path.lexists(p):
                break
            missing.append(p)
    return list(dict.fromkeys(missing))


def _run(command: Command, runner: Runner, announce: Announce, steps: list[Step]) -> None:
    announce(Step(Action.RUN, str(command)))
    steps.append(Step(Action.RUN, str(command)))
    done = runner(command.args, timeout=command.timeout)
    if done.ok:
        return
    output = (done.stderr.strip() or done.stdout.strip()).splitlines()
    if command.may_fail:
        step = Step(Action.IGNORED, str(command), output[-1] if output else "")
        announce(step)
        steps.append(step)
        return
    raise CommandError(
        command.args, f"failed with exit code {done.returncode}", done.stdout + done.stderr
    )


def _unavailable(availability: Availability) -> VenvDoctorError:
    return VenvDoctorError(
        f"{availability.manager.value} cannot run a service for this user here: "
        f"{availability.reason}; nothing was written",
        hint=UNAVAILABLE_HINT,
    )


def install(
    plan: InstallPlan, dirs: AppDirs, runner: Runner = run, announce: Announce = _quiet
) -> InstallResult:
    """Write the plan's files, record them, and start the service."""
    if plan.conflicts:
        raise VenvDoctorError(
            f"{plan.conflicts[0]} already exists and was not written by venv-doctor",
            hint="move it away (or remove it) and run `venv-doctor service install` again",
        )
    availability = detect(runner)
    if not availability.available:
        raise _unavailable(availability)
    previous = read_manifest(dirs)
    wanted = [f.path.parent for f in plan.files] + list(plan.dirs) + [dirs.state]
    created = list(previous.created_dirs) if previous else []
    created += [d for d in _missing_dirs(wanted) if d not in created]
    steps: list[Step] = []
    for command in plan.stop:
        _run(command, runner, announce, steps)
    for path in plan.remove:
        _remove(path, announce, steps)
    for d in plan.dirs:
        d.mkdir(parents=True, exist_ok=True)
    for f in plan.files:
        atomic_write(f.path, f.content, mode=0o644)
        steps.append(Step(Action.WROTE, str(f.path)))
        announce(steps[-1])
    manifest = Manifest(
        manager=plan.manager,
        mode=plan.mode,
        unit=plan.unit,
        files=tuple((f.path, f.sha256) for f in plan.files),
        created_dirs=tuple(created),
        command=plan.command,
        installed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    written = write_manifest(dirs, manifest)  # before starting: a failed start stays removable
    try:
        for command in plan.start:
            _run(command, runner, announce, steps)
    except CommandError as exc:
        raise VenvDoctorError(exc.message, hint=START_FAILED_HINT) from exc
    return InstallResult(plan, written, tuple(steps))


# --- uninstall -------------------------------------------------------------------------


def _remove(path: Path, announce: Announce, steps: list[Step]) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    steps.append(Step(Action.REMOVED, str(path)))
    announce(steps[-1])


def _remove_dangling_wants(unit_file: Path, announce: Announce, steps: list[Step]) -> None:
    """The `enable` link to a removed unit, left when systemctl could not disable it."""
    for wants in unit_file.parent.glob("*.wants"):
        link = wants / unit_file.name
        if link.is_symlink() and os.path.normpath(wants / os.readlink(link)) == str(unit_file):
            _remove(link, announce, steps)


def _stop_commands(manifest: Manifest) -> tuple[tuple[Command, ...], tuple[Command, ...]]:
    if manifest.manager is Manager.LAUNCHD:
        label = f"{gui_domain()}/{manifest.unit}"
        return (launchctl("bootout", label, may_fail=True),), ()
    return (systemctl("disable", "--now", manifest.unit, may_fail=True),), (
        systemctl("daemon-reload", may_fail=True),
    )


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(read_bounded(path, SMALL_FILE)).hexdigest()
    except OSError:
        return None


def _remove_empty_dirs(created: Sequence[Path]) -> None:
    for d in sorted(created, key=lambda p: len(p.parts), reverse=True):
        # not empty (the user or the daemon put something there) or already gone
        with contextlib.suppress(OSError):
            d.rmdir()


def standard_files(env: Mapping[str, str]) -> list[Path]:
    """Where install would put each unit file, whether or not it is there."""
    if platform_manager() is Manager.LAUNCHD:
        return [paths.launch_agents_dir(env) / unit_files.AGENT_PLIST]
    target = paths.systemd_user_dir(env)
    return [
        target / n for n in (unit_files.DAEMON_UNIT, unit_files.SCAN_UNIT, unit_files.SCAN_TIMER)
    ]


def uninstall(
    dirs: AppDirs, env: Mapping[str, str], runner: Runner = run, announce: Announce = _quiet
) -> UninstallResult:
    """Stop the service and remove what the manifest lists, then the manifest."""
    manifest = read_manifest(dirs)
    if manifest is None:
        present = [p for p in standard_files(env) if os.path.lexists(p)]
        return UninstallResult(
            False,
            (),
            tuple(
                f"{p} exists but was not written by `venv-doctor service install`" for p in present
            ),
        )
    steps: list[Step] = []
    notes: list[str] = []
    availability = detect(runner)
    before, after = _stop_commands(manifest)
    if availability.available:
        for command in before:
            _run(command, runner, announce, steps)
    else:
        notes.append(f"the service was not stopped: {availability.reason}")
    for path, sha in manifest.files:
        if _sha256(path) not in (sha, None):
            notes.append(f"{path} had been edited since install; removed anyway")
        _remove(path, announce, steps)
        _remove_dangling_wants(path, announce, steps)
    if availability.available:
        for command in after:
            _run(command, runner, announce, steps)
    manifest_path(dirs).unlink()
    _remove_empty_dirs(manifest.created_dirs)
    return UninstallResult(True, tuple(steps), tuple(notes))


# --- status ----------------------------------------------------------------------------


def _systemd_state(name: str, path: Path, runner: Runner) -> UnitState:
    props = "LoadState,UnitFileState,ActiveState,SubState,MainPID"
    try:
        done = runner(systemctl("show", name, f"--property={props}").args, timeout=15)
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


def _launchd_state(path: Path, runner: Runner) -> UnitState:
    label = unit_files.AGENT_LABEL
    try:
        done = runner(launchctl("print", f"{gui_domain()}/{label}").args, timeout=15)
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


def _journal(unit: str, runner: Runner, lines: int) -> tuple[str, tuple[str, ...]]:
    args = ("journalctl", "--user", "-u", unit, "-n", str(lines), "--no-pager")
    source = shlex.join(args)
    if shutil.which("journalctl") is None:
        return source, ()
    try:
        done = runner(args, timeout=30)
    except CommandError:
        return source, ()
    return source, tuple(done.stdout.splitlines()[-lines:]) if done.ok else ()


def _installed_units(
    manifest: Manifest | None, env: Mapping[str, str]
) -> tuple[Mode | None, list[Path]]:
    if manifest is not None:
        return manifest.mode, [p for p, _ in manifest.files]
    present = [p for p in standard_files(env) if os.path.lexists(p)]
    names = {p.name for p in present}
    if unit_files.SCAN_TIMER in names and unit_files.DAEMON_UNIT not in names:
        return Mode.TIMER, present
    return (Mode.DAEMON if present else None), present or standard_files(env)[:1]


def status(ctx: Context, runner: Runner = run, lines: int = LOG_LINES) -> ServiceStatus:
    """Installed, enabled, running, and the last log lines."""
    availability = detect(runner)
    manifest = read_manifest(ctx.dirs)
    mode, files = _installed_units(manifest, ctx.env)
    launchd = availability.manager is Manager.LAUNCHD
    units: list[UnitState] = []
    for path in files:
        if not availability.available:
            units.append(UnitState(path.name, path, os.path.lexists(path), None, None, None))
        elif launchd:
            units.append(_launchd_state(path, runner))
        else:
            units.append(_systemd_state(path.name, path, runner))
    if launchd:
        log_file = paths.mac_logs_dir(ctx.env) / unit_files.AGENT_STDERR
        source, log = str(log_file), tail(log_file, lines)
    else:
        service = unit_files.SCAN_UNIT if mode is Mode.TIMER else unit_files.DAEMON_UNIT
        source, log = _journal(service, runner, lines) if availability.available else ("", ())
    modified = tuple(
        p for p, sha in (manifest.files if manifest else ()) if _sha256(p) not in (sha, None)
    )
    command = manifest.command if manifest else ()
    return ServiceStatus(
        availability=availability,
        recorded=manifest is not None,
        mode=mode,
        units=tuple(units),
        modified=modified,
        command=command,
        command_missing=bool(command) and not os.path.exists(command[0]),
        log_source=source,
        log=log,
    )


__all__ = [
    "Action",
    "Availability",
    "InstallPlan",
    "Manager",
    "Mode",
    "ServiceStatus",
    "detect",
    "install",
    "plan_install",
    "status",
    "uninstall",
]
