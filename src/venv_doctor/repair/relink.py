"""Relink: point a venv at another build of the same minor version, in place.

Milliseconds, no network, no reinstall: the dangling ``bin/python*`` links (or
the copied binary of a ``--copies`` venv) are replaced so they reach the chosen
interpreter by its stable path, ``pyvenv.cfg`` gets the new ``home``/version
keys with every other line kept, and console scripts that start a dead
interpreter outside the venv are pointed at the venv's own ``bin/python``.
A transaction like a rebuild: every new link and file is first written beside
the one it replaces (``.NAME.venv-doctor-tmp-new-ID``), then swapped in by
rename, the old one kept beside it (same inode, or the same link) until the
venv verifies. Journaled, so a kill at any instant is undone (or, once
verified, finished) by the next command. A ``pyvenv.cfg`` or console script that
is a link inside the venv stays a link (its target is changed); one that leads
outside the venv is never written through.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from venv_doctor import runner
from venv_doctor.errors import VenvDoctorError
from venv_doctor.interpreters import program
from venv_doctor.model import pyvenv_cfg
from venv_doctor.model.venv import BinPython, Venv
from venv_doctor.repair.transaction.journal import (
    STEPS,
    Entry,
    Journal,
    JournalAction,
    JournalOutcome,
    JournalStep,
)
from venv_doctor.runner import CommandError, Runner, end_group

VERIFY_TIMEOUT = 30.0
SIDE_MARK = ".venv-doctor-tmp-"  # ".python3.venv-doctor-tmp-new-12": carryover never carries it


@dataclass(frozen=True)
class RelinkTarget:
    """The interpreter to link to: ``path`` as a venv should record it (stable)."""

    path: Path
    version: str  # X.Y.Z

    @property
    def real(self) -> Path:
        return Path(os.path.realpath(self.path))

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class FileChange:
    """One file a relink replaces: ``path`` gets a link to ``link``, the bytes
    ``data`` (with the old file's mode) or a copy of ``copy_from``."""

    path: Path
    link: str | None = None
    data: bytes | None = None
    copy_from: Path | None = None


class RelinkError(VenvDoctorError):
    """The relink cannot be done safely (a file it would change is outside the venv)."""


@dataclass(frozen=True)
class RelinkResult:
    ok: bool
    links: tuple[str, ...]  # bin/ names relinked or re-copied
    cfg_keys: tuple[str, ...]  # pyvenv.cfg keys rewritten
    scripts: tuple[str, ...]  # console scripts whose shebang was fixed
    error: str | None = None


def _needs_link(venv: Venv, py: BinPython) -> bool:
    """Root links (leaving bin/) and aliases whose target name is gone get relinked."""
    first = py.chain.first_target
    if first is None:
        return False
    if first.parent != venv.path / "bin":
        return True
    return not os.path.lexists(first)


def _bin_changes(venv: Venv, target: RelinkTarget) -> list[FileChange]:
    changes = []
    for py in venv.pythons:
        path = venv.path / "bin" / py.name
        if py.is_copy:
            changes.append(FileChange(path, copy_from=target.real))
        elif _needs_link(venv, py):
            changes.append(FileChange(path, link=str(target.path)))
    return changes


def _in_place(venv: Path, path: Path, what: str) -> Path:
    """The regular file to change for ``path``: itself, or the file inside the venv its
    link leads to (so a linked pyvenv.cfg or script stays a link). Never outside."""
    if not path.is_symlink():
        return path
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(venv)) or not real.is_file():
        raise RelinkError(
            f"{path} is a link to {real}, outside the venv: venv-doctor does not write"
            f" through it ({what})",
            hint="make it a regular file, or rebuild the venv",
        )
    return real


def cfg_updates(cfg: pyvenv_cfg.PyvenvCfg, target: RelinkTarget) -> dict[str, str]:
    """The pyvenv.cfg keys that name the base interpreter, as the creator wrote them."""
    updates = {"home": str(target.path.parent)}
    if "version" in cfg.values:
        updates["version"] = target.version
    if "version_info" in cfg.values:
        old = cfg.values["version_info"]
        updates["version_info"] = (
            f"{target.version}.final.0" if old.count(".") >= 3 else target.version
        )
    if "executable" in cfg.values:
        updates["executable"] = str(target.real)
    if "base-executable" in cfg.values:
        updates["base-executable"] = str(target.path)
    prefix = str(target.real.parent.parent)
    for key in ("base-prefix", "base-exec-prefix"):
        if key in cfg.values:
            updates[key] = prefix
    return updates


def _cfg_change(venv: Venv, target: RelinkTarget) -> tuple[list[FileChange], list[str]]:
    if venv.cfg is None:
        return [], []
    path = _in_place(venv.path, venv.path / "pyvenv.cfg", "pyvenv.cfg")
    updates = cfg_updates(venv.cfg, target)
    return [FileChange(path, data=venv.cfg.with_values(updates).encode("utf-8"))], sorted(updates)


def _script_changes(venv: Venv) -> list[FileChange]:
    """Point scripts that start a dead interpreter outside the venv at bin/python."""
    own_bin = str(venv.path / "bin")
    python = venv.path / "bin" / "python"
    changes = []
    for script in venv.scripts:
        interp = script.interpreter
        if os.path.dirname(interp) == own_bin or os.path.exists(interp):
            continue
        path = _in_place(venv.path, script.script, "a console script")
        data = path.read_bytes()
        changes.append(
            FileChange(path, data=data.replace(os.fsencode(interp), os.fsencode(python), 1))
        )
    return changes


def compiled_module(site_packages: tuple[Path, ...]) -> str | None:
    """A dotted module name backed by a compiled extension, to prove the ABI still fits."""
    for site in site_packages:
        for root, dirs, files in os.walk(site):
            dirs[:] = [
                d
                for d in dirs
                if d.isidentifier() and d not in ("pip", "setuptools", "_distutils_hack")
            ]
            for name in sorted(files):
                if name.endswith(".so") and not root.endswith("tests"):
                    rel = Path(root).relative_to(site) / name.split(".")[0]
                    dotted = ".".join(rel.parts)
                    if all(p.isidentifier() for p in rel.parts):
                        return dotted
    return None


def verify(
    venv_path: Path,
    minor: str,
    module: str | None,
    run: Runner = runner.run,
    site_packages: tuple[Path, ...] = (),
    *,
    env: Mapping[str, str],
) -> str | None:
    """None when the venv's interpreter starts as ``minor``, inside the venv, sees
    its ``site_packages`` and imports ``module``; otherwise why not.

    One start of the interpreter checks all that the deep probe would, so a
    verified relink needs no second start to be called healthy.
    """
    modules = (module,) if module else ()
    cmd = program.command(venv_path / "bin" / "python", *modules, isolated=False)
    try:
        done = run(cmd, env=env, timeout=VERIFY_TIMEOUT)
    except CommandError as exc:
        return exc.message
    report = program.parse(done.stdout) if done.ok else None
    if report is None:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"bin/python exits with code {done.returncode}: {lines[-1] if lines else ''}"
    return _judge(report, venv_path, minor, site_packages)


def _judge(
    report: program.Report, venv_path: Path, minor: str, site_packages: tuple[Path, ...]
) -> str | None:
    if report.minor != minor:
        return f"bin/python runs Python {report.minor}, expected {minor}"
    if report.real_prefix != os.path.realpath(venv_path):
        return f"bin/python does not run inside the venv (sys.prefix = {report.real_prefix})"
    if report.import_failures:
        return f"bin/python cannot import {report.import_failures[0]}"
    seen = set(report.real_site_paths)
    if site_packages and not any(os.path.realpath(p) in seen for p in site_packages):
        return f"bin/python does not see {venv_path}'s site-packages"
    return None


def side(path: Path, kind: str, entry_id: int) -> Path:
    """Where a relink keeps the ``new`` or ``old`` version of ``path`` beside it."""
    return path.with_name(f".{path.name}{SIDE_MARK}{kind}-{entry_id}")


def _prepare(change: FileChange, entry_id: int) -> None:
    """Write the new version beside the file, never touching the file itself."""
    new = side(change.path, "new", entry_id)
    if os.path.lexists(new):
        new.unlink()
    if change.link is not None:
        new.symlink_to(change.link)
    elif change.copy_from is not None:
        shutil.copy2(change.copy_from, new)
    else:
        mode = os.lstat(change.path).st_mode & 0o7777
        fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(change.data or b"")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(new, mode)


def _swap(change: FileChange, entry_id: int) -> None:
    """Keep the old version (the same inode, or the same link) beside it, then rename
    the new one over it: at every instant the name holds a complete file."""
    old = side(change.path, "old", entry_id)
    if not os.path.lexists(old):
        if change.path.is_symlink():
            old.symlink_to(os.readlink(change.path))
        else:
            os.link(change.path, old)
    os.replace(side(change.path, "new", entry_id), change.path)


def side_files(venv: Path, entry_id: int) -> list[tuple[Path, str, Path]]:
    """Every (side file, kind, the file it belongs to) a relink left in ``venv``."""
    pattern = re.compile(rf"^\.(?P<name>.+){re.escape(SIDE_MARK)}(?P<kind>old|new)-{entry_id}$")
    found = []
    for root, _dirs, files in os.walk(venv):
        for name in files:
            match = pattern.match(name)
            if match:
                found.append((Path(root, name), match["kind"], Path(root, match["name"])))
    return found


def _settle(paths: list[Path], entry_id: int, *, back: bool) -> None:
    """In-process end of a relink whose files are known: put the old versions back
    (``back``) or drop them; either way no side file stays."""
    for path in paths:
        old, new = side(path, "old", entry_id), side(path, "new", entry_id)
        if back and os.path.lexists(old):
            os.replace(old, path)
        for leftover in (old, new):
            if os.path.lexists(leftover):
                leftover.unlink()


def undo(venv: Path, entry_id: int) -> None:
    """Put every old version back and drop the new ones (recovery can repeat it)."""
    for path, kind, original in side_files(venv, entry_id):
        if kind == "old":
            os.replace(path, original)
        else:
            path.unlink(missing_ok=True)


def keep(venv: Path, entry_id: int) -> None:
    """The relink verified: drop the old versions (and any unused new one)."""
    for path, _kind, _original in side_files(venv, entry_id):
        path.unlink(missing_ok=True)


def recover(journal: Journal, entry: Entry) -> JournalOutcome:
    """Finish a relink a kill interrupted: forward once verified, else back."""
    if entry.group is not None:
        end_group(entry.group)
    if STEPS.index(entry.step) >= STEPS.index(JournalStep.VERIFIED):
        keep(entry.venv, entry.id)
        journal.finish(entry.id, JournalOutcome.COMMITTED, "recovered: it had been verified")
        return JournalOutcome.COMMITTED
    undo(entry.venv, entry.id)
    journal.finish(
        entry.id,
        JournalOutcome.ROLLED_BACK,
        f"recovered: interrupted at step {entry.step.value!r}",
    )
    return JournalOutcome.ROLLED_BACK


class _NoJournal:
    """For a relink run without a state DB (tests, dry tools): same steps, not recorded."""

    counter = 0

    def begin(self, *args: object) -> int:
        _NoJournal.counter += 1
        return -_NoJournal.counter

    def step(self, *args: object) -> None:
        return None

    def finish(self, *args: object) -> None:
        return None


def relink(
    venv: Venv,
    target: RelinkTarget,
    run: Runner = runner.run,
    journal: Journal | None = None,
    *,
    env: Mapping[str, str],
) -> RelinkResult:
    """Relink ``venv`` to ``target`` as a journaled transaction: the new links and
    files are prepared beside the old ones, swapped in by rename, verified, and
    either kept or swapped back."""
    try:
        cfg_changes, keys = _cfg_change(venv, target)
        script_changes = _script_changes(venv)
    except (RelinkError, OSError) as exc:
        return RelinkResult(False, (), (), (), f"relink failed: {getattr(exc, 'message', exc)}")
    bin_changes = _bin_changes(venv, target)
    changes = [*bin_changes, *cfg_changes, *script_changes]
    paths = [c.path for c in changes]
    links = tuple(c.path.name for c in bin_changes)
    scripts = tuple(c.path.name for c in script_changes)
    book: Journal | _NoJournal = journal if journal is not None else _NoJournal()
    entry_id = book.begin(venv.path, venv.path, JournalAction.RELINK, runner.group())
    try:
        book.step(entry_id, JournalStep.PREPARING)
        for change in changes:
            _prepare(change, entry_id)
        book.step(entry_id, JournalStep.SWAPPING)
        for change in changes:
            _swap(change, entry_id)
        book.step(entry_id, JournalStep.VERIFYING)
        module = compiled_module(venv.site_packages)
        problem = verify(venv.path, target.minor, module, run, venv.site_packages, env=env)
    except BaseException as exc:
        _settle(paths, entry_id, back=True)
        book.finish(entry_id, JournalOutcome.ROLLED_BACK, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, OSError):
            return RelinkResult(False, (), (), (), f"relink failed: {exc}")
        raise
    if problem:
        _settle(paths, entry_id, back=True)
        book.finish(entry_id, JournalOutcome.ROLLED_BACK, problem)
        return RelinkResult(False, links, tuple(keys), scripts, problem)
    book.step(entry_id, JournalStep.VERIFIED)
    _settle(paths, entry_id, back=False)
    book.finish(entry_id, JournalOutcome.COMMITTED)
    return RelinkResult(True, links, tuple(keys), scripts)
