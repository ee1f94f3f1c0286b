"""Deciding how to repair a venv, and saying why: pure logic, no effects."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from venv_doctor.diagnose.findings import Code, Cure, Diagnosis, Status, cured_by
from venv_doctor.interpreters.inventory import Choice, Interpreter, choose, resolve_spec
from venv_doctor.interpreters.layouts import InstallKind, installation_of
from venv_doctor.model.pyvenv_cfg import minor_of


class Action(enum.StrEnum):
    RELINK = "relink"  # same minor exists: repoint links, milliseconds
    REBUILD = "rebuild"  # new venv, packages reinstalled, old one kept as backup
    RECREATE = "recreate"  # the venv is gone; build it again from its snapshot
    NONE = "none"


class Reason(enum.StrEnum):
    """Why a venv is not repaired (a plan with Action.NONE, or a skipped result):
    what decisions read, instead of the text of a message."""

    HEALTHY = "healthy"
    NOT_REPAIRABLE = "not_repairable"  # findings no repair cures
    UNREADABLE = "unreadable"
    GONE = "gone"  # a relink cannot bring a vanished venv back
    NO_SNAPSHOT = "no_snapshot"  # vanished, and what it held was never recorded
    NO_OWNER_RECORDS = "no_owner_records"  # a pipx app or uv tool whose records were not kept
    NO_INTERPRETER = "no_interpreter"
    NEEDS_CONFIRMATION = "needs_confirmation"
    OTHER_OWNER = "other_owner"
    CHANGED_SINCE_PLANNED = "changed_since_planned"


# Read from the one table of cures (diagnose.findings.CURES).
RELINKABLE = cured_by(Cure.RELINK)  # when an interpreter of the venv's minor exists
REBUILD_ONLY = cured_by(Cure.REBUILD)


@dataclass(frozen=True)
class Plan:
    diagnosis: Diagnosis
    action: Action
    reason: str
    target: Interpreter | None = None
    before: str | None = None  # the venv's Python version now
    after: str | None = None  # the version it will have
    why: Reason | None = None  # with Action.NONE: why nothing is done
    confirm: str | None = None  # why this relink needs a yes (another vendor, an older patch)

    @property
    def chosen(self) -> Interpreter:
        """The interpreter a relink, rebuild or recreate uses."""
        if self.target is None:
            raise ValueError(f"a {self.action.value} plan has no interpreter")
        return self.target

    @property
    def changes_minor(self) -> bool:
        return bool(self.before and self.after and minor_of(self.before) != minor_of(self.after))


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".") if x.isdigit())


def _fallback(
    interpreters: Sequence[Interpreter], minor: str | None, previous: str | None = None
) -> Choice | None:
    """No interpreter of the venv's minor: the closest newer minor, else the newest; among
    that minor's interpreters, ``choose``'s rule (the same kind as ``previous`` first)."""
    cpython3 = [i for i in interpreters if i.version.startswith("3.")]
    if not cpython3:
        return None

    def key(i: Interpreter) -> tuple[int, ...]:
        return _numbers(i.minor)

    if minor and minor.startswith("3."):
        newer = [i for i in cpython3 if key(i) >= _numbers(minor)]
        if newer:
            return choose(cpython3, min(newer, key=key).minor, previous)
    return choose(cpython3, max(cpython3, key=key).minor, previous)


GONE = cured_by(Cure.RECREATE)  # the directory is gone: only a recreate


def plan_for(  # noqa: PLR0911  (a decision table: one return per case)
    d: Diagnosis,
    interpreters: Sequence[Interpreter],
    has_snapshot: bool,
    python: str | None = None,
    strategy: str = "auto",
    recorded_version: str | None = None,
    allow_vendor_change: bool = False,
    *,
    env: Mapping[str, str],
    owner_command: str | None = None,
) -> Plan:
    """One venv's repair: the action, the interpreter and why.

    A relink prefers an interpreter of the installation kind the venv was made
    with (Homebrew to Homebrew, pyenv to pyenv, uv to uv); one onto another kind,
    or onto an older patch release, carries ``confirm`` unless
    ``allow_vendor_change`` (``[repair] allow_vendor_change``) or ``--python`` chose it.

    ``recorded_version`` is the Python version the state DB remembers, for a
    venv whose directory (and so its pyvenv.cfg) is gone. ``owner_command``: for a
    vanished venv whose owner's records were not kept (a pipx app, a uv tool), the
    owner's command that makes it again; it is not recreated without them.
    """
    before = d.python.version or recorded_version
    codes = d.codes()
    if codes & GONE:
        if strategy == "relink":
            return Plan(
                d,
                Action.NONE,
                "the venv is gone; a relink cannot bring it back",
                before=before,
                why=Reason.GONE,
            )
        if has_snapshot and owner_command:
            return Plan(
                d,
                Action.NONE,
                f"venv-doctor kept no copy of {d.location.store}'s records of it, so a "
                f"recreated venv would be one {d.location.store} calls corrupt: run "
                f"`{owner_command}`",
                before=before,
                why=Reason.NO_OWNER_RECORDS,
            )
        return _plan_recreate(d, interpreters, has_snapshot, python, before, env)
    if Code.PERMISSION_DENIED in codes:
        return Plan(
            d,
            Action.NONE,
            "permission denied: nothing is repaired until venv-doctor may read it",
            before=before,
        )
    if d.status is Status.UNKNOWN and Code.CFG_UNREADABLE not in codes:
        return Plan(
            d,
            Action.NONE,
            "cannot be read, so it cannot be repaired safely",
            before=before,
            why=Reason.UNREADABLE,
        )
    wanted = resolve_spec(python, interpreters, env) if python else None
    minor = d.python.minor  # the one rule: model.venv.Venv.minor
    if wanted and minor and wanted.minor != minor:
        return Plan(
            d,
            Action.REBUILD,
            f"Python {wanted.minor} was asked for",
            wanted,
            before,
            wanted.version,
        )
    repairable = codes & (RELINKABLE | REBUILD_ONLY)
    if not repairable and strategy != "rebuild":
        if d.status is Status.HEALTHY:
            return Plan(d, Action.NONE, "healthy", before=before, why=Reason.HEALTHY)
        text = "nothing venv-doctor repairs: " + ", ".join(sorted(codes))
        return Plan(d, Action.NONE, text, before=before, why=Reason.NOT_REPAIRABLE)
    # among several of the minor, ``choose`` is the one rule, and its why is the reason shown
    choice = None if wanted or not minor else choose(interpreters, minor, d.python.home)
    same = wanted or (choice.interpreter if choice else None)
    chosen_because = f"; {choice.why}" if choice and choice.why else ""
    if same and strategy != "rebuild" and not (codes & REBUILD_ONLY):
        if _already_linked(d, same) and not (codes - {Code.PATCH_CHANGED}):
            return Plan(d, Action.NONE, "healthy", before=before, why=Reason.HEALTHY)
        confirm = None if wanted or allow_vendor_change else _vendor_change(d, same, before)
        return Plan(
            d,
            Action.RELINK,
            f"Python {same.minor} is at {same.path}{chosen_because}",
            same,
            before,
            same.version,
            confirm=confirm,
        )
    if strategy == "relink":
        return Plan(
            d,
            Action.NONE,
            f"no Python {minor} to relink to (try --strategy rebuild)",
            before=before,
            why=Reason.NO_INTERPRETER,
        )
    return _plan_rebuild(d, interpreters, same, chosen_because, before)


def _plan_rebuild(
    d: Diagnosis,
    interpreters: Sequence[Interpreter],
    same: Interpreter | None,
    chosen_because: str,
    before: str | None,
) -> Plan:
    """A rebuild: on ``same`` (the venv's minor) when there is one, else on the closest."""
    minor, codes = d.python.minor, d.codes()
    if not same:
        choice = _fallback(interpreters, minor, d.python.home)
        chosen_because = f"; {choice.why}" if choice and choice.why else ""
    target = same or (choice.interpreter if choice else None)
    if target is None:
        return Plan(
            d,
            Action.NONE,
            "no Python interpreter found to rebuild with",
            before=before,
            why=Reason.NO_INTERPRETER,
        )
    why = (
        f"no Python {minor} left on this machine"
        if not same
        else "a rebuild was asked for or is needed"
    )
    if codes & REBUILD_ONLY and same:
        why = "its contents need reinstalling (" + ", ".join(sorted(codes & REBUILD_ONLY)) + ")"
    return Plan(d, Action.REBUILD, why + chosen_because, target, before, target.version)


def _old_kind(d: Diagnosis) -> InstallKind | None:
    """The kind of installation the venv was made with (pyvenv.cfg's ``home``)."""
    if not d.python.home:
        return None
    kind = installation_of(d.python.home).kind
    return None if kind is InstallKind.OTHER else kind


def _vendor_change(d: Diagnosis, target: Interpreter, before: str | None) -> str | None:
    """Why relinking onto ``target`` is a change the user should agree to, if it is."""
    kind, new = _old_kind(d), installation_of(target.path).kind
    if kind is not None and new is not kind:
        return f"moves the venv from a {kind.value} Python to a {new.value} one ({target.path})"
    if before and before.count(".") == 2 and _numbers(target.version) < _numbers(before):
        return f"goes back from Python {before} to the older {target.version}"
    return None


def _already_linked(d: Diagnosis, target: Interpreter) -> bool:
    return d.python.resolved is not None and d.python.resolved == target.real


def _plan_recreate(
    d: Diagnosis,
    interpreters: Sequence[Interpreter],
    has_snapshot: bool,
    python: str | None,
    before: str | None,
    env: Mapping[str, str],
) -> Plan:
    if not has_snapshot:
        return Plan(
            d,
            Action.NONE,
            "the venv is gone and venv-doctor never recorded what it held",
            why=Reason.NO_SNAPSHOT,
        )
    minor = minor_of(before)
    choice = (choose(interpreters, minor) if minor else None) or _fallback(interpreters, minor)
    target = resolve_spec(python, interpreters, env) if python else None
    target = target or (choice.interpreter if choice else None)
    if target is None:
        return Plan(
            d,
            Action.NONE,
            "no Python interpreter found to recreate it with",
            why=Reason.NO_INTERPRETER,
        )
    why = "the venv is gone; its recorded snapshot can rebuild it"
    return Plan(d, Action.RECREATE, why, target, before, target.version)
