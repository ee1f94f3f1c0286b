"""Running venv-doctor as a user service: the front ``cli/background/service.py`` uses.

``plan_install`` renders the unit files and lists the commands without touching
anything (``service install --print`` shows the plan). ``install`` checks that
the service manager answers, writes the files atomically, records what it
wrote in a manifest in the state directory, then runs the commands.
``uninstall`` stops the service and removes exactly what the manifest lists,
including the directories install created. ``status`` asks the manager. What
differs between systemd and launchd is behind ``service.base.Backend``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from venv_doctor import paths
from venv_doctor.context import Context
from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import atomic_write
from venv_doctor.model.venv import is_venv_dir
from venv_doctor.notify.bus import session_bus
from venv_doctor.paths import AppDirs
from venv_doctor.runner import CommandError, Runner, run
from venv_doctor.service import units as unit_files
from venv_doctor.service.base import (
    Announce,
    Availability,
    Backend,
    Command,
    InstallAction,
    InstallPlan,
    InstallResult,
    InstallStep,
    Manager,
    Manifest,
    ServiceFile,
    ServiceMode,
    ServiceStatus,
    UninstallResult,
    UnitState,
)
from venv_doctor.service.interpreter import (
    ServicePython,
    check_service_python,
    explicit_python,
    running_python,
)
from venv_doctor.service.launchd import Launchd
from venv_doctor.service.manifest import (
    file_sha256,
    manifest_path,
    modified_files,
    read_manifest,
    write_manifest,
)
from venv_doctor.service.systemd import Systemd
from venv_doctor.service.units import UnitValues

LOG_LINES = 20
# Store locations the daemon must see as the CLI does (see stores.py, paths.py);
# passed through when set. Index URLs are not: they may carry credentials.
PASSED_ENVIRONMENT = (
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "WORKON_HOME",
    "PIPX_HOME",
    # where pipx and uv link a tool's apps: a venv their uninstall took is `removed`, and
    # the links kept of it are the ones a recreate makes again
    "PIPX_BIN_DIR",
    "PIPX_MAN_DIR",
    "PIPX_COMPLETION_DIR",
    "UV_TOOL_BIN_DIR",
    "XDG_BIN_HOME",
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
UNAVAILABLE_HINT = (
    "run `venv-doctor daemon` under a supervisor you already use (a terminal multiplexer, "
    "supervisord, runit, or a `@reboot` crontab line), or schedule `venv-doctor check` and "
    "`venv-doctor repair --all` with cron"
)
START_FAILED_HINT = (
    "the files are in place: `venv-doctor service status` shows the service's log; fix the "
    "cause and run `venv-doctor service install` again, or `venv-doctor service uninstall`"
)


def backend(manager: Manager | None = None) -> Backend:
    """The service manager ``manager``, by default this platform's."""
    if manager is None:
        manager = Manager.LAUNCHD if paths.is_macos() else Manager.SYSTEMD
    return Launchd() if manager is Manager.LAUNCHD else Systemd()


def detect(env: Mapping[str, str], runner: Runner = run) -> Availability:
    """Is there a service manager for this user that answers?"""
    return backend().detect(runner, env)


def _quiet(step: InstallStep) -> None:
    del step


# --- what goes into the files ----------------------------------------------------------


def _in_venv(entry: str) -> bool:
    return is_venv_dir(Path(entry).parent)


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
        dbus=session_bus(ctx.env).lasting,
        agent_log_dir=paths.mac_logs_dir(ctx.env).absolute(),
        repair_args=REPAIR_ARGS[ctx.config.repair_auto],
        environment=passed_environment(ctx.env),
    )


# --- install ---------------------------------------------------------------------------


def _service_python(python: Path | None, env: Mapping[str, str], runner: Runner) -> ServicePython:
    return explicit_python(python, env, runner) if python is not None else running_python()


def plan_install(
    ctx: Context, *, timer: bool = False, python: Path | None = None, runner: Runner = run
) -> InstallPlan:
    """Render the files and list the commands; nothing is written or started."""
    manager = backend()
    mode = ServiceMode.TIMER if timer else ServiceMode.DAEMON
    layout = manager.layout(mode, ctx.env)
    service_python = _service_python(python, ctx.env, runner)
    values = unit_values(ctx, service_python.command)
    files = tuple(
        ServiceFile(layout.target / n, unit_files.render(n, values)) for n in layout.templates
    )
    previous = read_manifest(ctx.dirs)
    recorded = {p for p, _ in previous.files} if previous else set()
    stop, start = manager.install_steps(layout, previous)
    return InstallPlan(
        manager=manager.manager,
        mode=mode,
        unit=layout.unit,
        files=files,
        dirs=layout.dirs,
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


def _run(
    command: Command,
    runner: Runner,
    env: Mapping[str, str],
    announce: Announce,
    steps: list[InstallStep],
) -> None:
    announce(InstallStep(InstallAction.RUN, str(command)))
    steps.append(InstallStep(InstallAction.RUN, str(command)))
    done = runner(command.args, env=env, timeout=command.timeout)
    if done.ok:
        return
    output = (done.stderr.strip() or done.stdout.strip()).splitlines()
    if command.may_fail:
        step = InstallStep(InstallAction.IGNORED, str(command), output[-1] if output else "")
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
    plan: InstallPlan,
    dirs: AppDirs,
    env: Mapping[str, str],
    runner: Runner = run,
    announce: Announce = _quiet,
) -> InstallResult:
    """Write the plan's files, record them, and start the service."""
    if plan.conflicts:
        raise VenvDoctorError(
            f"{plan.conflicts[0]} already exists and was not written by venv-doctor",
            hint="move it away (or remove it) and run `venv-doctor service install` again",
        )
    availability = detect(env, runner)
    if not availability.available:
        raise _unavailable(availability)
    previous = read_manifest(dirs)
    wanted = [f.path.parent for f in plan.files] + list(plan.dirs) + [dirs.state]
    created = list(previous.created_dirs) if previous else []
    created += [d for d in _missing_dirs(wanted) if d not in created]
    steps: list[InstallStep] = []
    for command in plan.stop:
        _run(command, runner, env, announce, steps)
    for path in plan.remove:
        _remove(path, announce, steps)
    for d in plan.dirs:
        d.mkdir(parents=True, exist_ok=True)
    for f in plan.files:
        atomic_write(f.path, f.content, mode=0o644)
        steps.append(InstallStep(InstallAction.WROTE, str(f.path)))
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
            _run(command, runner, env, announce, steps)
    except CommandError as exc:
        raise VenvDoctorError(exc.message, hint=START_FAILED_HINT) from exc
    return InstallResult(plan, written, tuple(steps))


# --- uninstall -------------------------------------------------------------------------


def _remove(path: Path, announce: Announce, steps: list[InstallStep]) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    steps.append(InstallStep(InstallAction.REMOVED, str(path)))
    announce(steps[-1])


def _remove_dangling_wants(unit_file: Path, announce: Announce, steps: list[InstallStep]) -> None:
    """The `enable` link to a removed unit, left when systemctl could not disable it."""
    for wants in unit_file.parent.glob("*.wants"):
        link = wants / unit_file.name
        if link.is_symlink() and os.path.normpath(wants / os.readlink(link)) == str(unit_file):
            _remove(link, announce, steps)


def _remove_empty_dirs(created: Sequence[Path]) -> None:
    for d in sorted(created, key=lambda p: len(p.parts), reverse=True):
        # not empty (the user or the daemon put something there) or already gone
        with contextlib.suppress(OSError):
            d.rmdir()


def uninstall(
    dirs: AppDirs, env: Mapping[str, str], runner: Runner = run, announce: Announce = _quiet
) -> UninstallResult:
    """Stop the service and remove what the manifest lists, then the manifest."""
    manager = backend()
    manifest = read_manifest(dirs)
    if manifest is None:
        present = [p for p in manager.standard_files(env) if os.path.lexists(p)]
        return UninstallResult(
            False,
            (),
            tuple(
                f"{p} exists but was not written by `venv-doctor service install`" for p in present
            ),
        )
    steps: list[InstallStep] = []
    notes: list[str] = []
    availability = manager.detect(runner, env)
    before, after = backend(manifest.manager).stop_steps(manifest)  # whoever started it
    if availability.available:
        for command in before:
            _run(command, runner, env, announce, steps)
    else:
        notes.append(f"the service was not stopped: {availability.reason}")
    for path, sha in manifest.files:
        if file_sha256(path) not in (sha, None):
            notes.append(f"{path} had been edited since install; removed anyway")
        _remove(path, announce, steps)
        _remove_dangling_wants(path, announce, steps)
    if availability.available:
        for command in after:
            _run(command, runner, env, announce, steps)
    manifest_path(dirs).unlink()
    _remove_empty_dirs(manifest.created_dirs)
    return UninstallResult(True, tuple(steps), tuple(notes))


# --- status ----------------------------------------------------------------------------


def _installed_units(
    manifest: Manifest | None, standard: list[Path]
) -> tuple[ServiceMode | None, list[Path]]:
    if manifest is not None:
        return manifest.mode, [p for p, _ in manifest.files]
    present = [p for p in standard if os.path.lexists(p)]
    names = {p.name for p in present}
    if unit_files.SCAN_TIMER in names and unit_files.DAEMON_UNIT not in names:
        return ServiceMode.TIMER, present
    return (ServiceMode.DAEMON if present else None), present or standard[:1]


def inspect(ctx: Context, runner: Runner = run, lines: int = LOG_LINES) -> ServiceStatus:
    """Installed, enabled, running, and the last log lines."""
    manager = backend()
    availability = manager.detect(runner, ctx.env)
    manifest = read_manifest(ctx.dirs)
    mode, files = _installed_units(manifest, manager.standard_files(ctx.env))
    units = [
        manager.unit_state(path, runner, ctx.env)
        if availability.available
        else UnitState(path.name, path, os.path.lexists(path), None, None, None)
        for path in files
    ]
    source, log = manager.log(mode, ctx.env, runner, lines, availability.available)
    command = manifest.command if manifest else ()
    return ServiceStatus(
        availability=availability,
        recorded=manifest is not None,
        mode=mode,
        units=tuple(units),
        modified=modified_files(manifest),
        command=command,
        command_missing=bool(command) and not os.path.exists(command[0]),
        log_source=source,
        log=log,
    )
