"""What every service manager offers venv-doctor, and the values passed between the steps.

systemd (``service.systemd``) and launchd (``service.launchd``) each implement
:class:`Backend`: where the files go, the commands that start and stop the
service, how to ask for a unit's state and where its log is. ``service.manage``
holds what they share: planning, writing, the manifest and status.
"""

from __future__ import annotations

import enum
import hashlib
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from venv_doctor.diagnose.findings import Finding
from venv_doctor.runner import Runner


class Manager(enum.StrEnum):
    SYSTEMD = "systemd"
    LAUNCHD = "launchd"


class ServiceMode(enum.StrEnum):
    DAEMON = "daemon"  # the resident daemon
    TIMER = "timer"  # systemd timer: check and repair every few hours


class InstallAction(enum.StrEnum):
    RUN = "run"
    WROTE = "wrote"
    REMOVED = "removed"
    IGNORED = "ignored"  # a stop command that failed (the service was not running)


@dataclass(frozen=True)
class InstallStep:
    """One thing ``install`` or ``uninstall`` did, as it is announced."""

    action: InstallAction
    target: str  # a command line or a path
    detail: str = ""


Announce = Callable[[InstallStep], None]


@dataclass(frozen=True)
class Command:
    args: tuple[str, ...]
    may_fail: bool = False  # stopping something that may already be stopped
    timeout: float = 120.0

    def __str__(self) -> str:
        return shlex.join(self.args)


Commands = tuple[Command, ...]


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
class Layout:
    """Where a mode's files go, which templates they come from, and what is enabled."""

    target: Path  # the directory of the unit files
    templates: tuple[str, ...]  # template names, one file each
    unit: str  # the systemd unit enabled, or the launchd label
    dirs: tuple[Path, ...]  # made besides the files' own (a .wants dir, the macOS log dir)


@dataclass(frozen=True)
class Manifest:
    """What ``install`` wrote and created, so ``uninstall`` removes exactly that."""

    manager: Manager
    mode: ServiceMode
    unit: str  # the systemd unit enabled, or the launchd label
    files: tuple[tuple[Path, str], ...]  # path and the sha256 written
    created_dirs: tuple[Path, ...]  # directories that did not exist before
    command: tuple[str, ...]
    installed_at: str


@dataclass(frozen=True)
class InstallPlan:
    manager: Manager
    mode: ServiceMode
    unit: str
    files: tuple[ServiceFile, ...]
    dirs: tuple[Path, ...]  # made besides the files' own (a .wants dir, the macOS log dir)
    stop: Commands  # before writing: what a previous install started
    remove: tuple[Path, ...]  # files of a previous install not written again
    start: Commands  # after writing
    command: tuple[str, ...]
    warnings: tuple[Finding, ...]
    conflicts: tuple[Path, ...]  # files in the way that venv-doctor did not write

    @property
    def commands(self) -> Commands:
        return self.stop + self.start


@dataclass(frozen=True)
class InstallResult:
    plan: InstallPlan
    manifest: Path
    steps: tuple[InstallStep, ...]


@dataclass(frozen=True)
class UninstallResult:
    recorded: bool  # a manifest was found
    steps: tuple[InstallStep, ...]
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
    mode: ServiceMode | None
    units: tuple[UnitState, ...]
    modified: tuple[Path, ...]  # files changed since install wrote them
    command: tuple[str, ...]
    command_missing: bool  # the program the service starts is gone
    log_source: str
    log: tuple[str, ...]

    @property
    def installed(self) -> bool:
        return any(u.installed for u in self.units)


class Backend(Protocol):
    """A service manager: systemd's user instance or launchd's GUI domain."""

    @property
    def manager(self) -> Manager: ...

    def detect(self, runner: Runner, env: Mapping[str, str]) -> Availability:
        """Is there a service manager for this user that answers?"""
        ...

    def layout(self, mode: ServiceMode, env: Mapping[str, str]) -> Layout:
        """Where ``mode``'s files go; raises UsageError for a mode it cannot run."""
        ...

    def install_steps(self, layout: Layout, previous: Manifest | None) -> tuple[Commands, Commands]:
        """The commands before writing (stop what ``previous`` started) and after (start)."""
        ...

    def stop_steps(self, manifest: Manifest) -> tuple[Commands, Commands]:
        """Uninstall: the commands before removing the files, and after."""
        ...

    def standard_files(self, env: Mapping[str, str]) -> list[Path]:
        """Where install would put each file of every mode, whether or not it is there."""
        ...

    def unit_state(self, path: Path, runner: Runner, env: Mapping[str, str]) -> UnitState:
        """What the manager says about the unit in ``path``."""
        ...

    def log(
        self,
        mode: ServiceMode | None,
        env: Mapping[str, str],
        runner: Runner,
        lines: int,
        available: bool,
    ) -> tuple[str, tuple[str, ...]]:
        """Where the service's log is and its last ``lines`` lines (``available``: the
        manager answered ``detect``)."""
        ...

    def log_hint(self, mode: ServiceMode, env: Mapping[str, str]) -> str:
        """How the user reads the log (a command or a file)."""
        ...
