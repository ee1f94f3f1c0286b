"""The rebuild journal: one row per transaction, its last step written before
each action, so an interrupted rebuild can be rolled back (or forward) later.

The table belongs to the state database (``record.state`` owns its schema and
its SQL); this module gives its rows their meaning: actions, steps and outcomes
as enums. A row with a value this venv-doctor does not know (written by a newer
one) is skipped with a warning, never acted on.
"""

from __future__ import annotations

import enum
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.context import Context
from venv_doctor.record import state
from venv_doctor.runner import Group

log = logging.getLogger(__name__)


class JournalAction(enum.StrEnum):
    REBUILD = "rebuild"
    RECREATE = "recreate"
    RESTORE = "restore"
    RELINK = "relink"


class JournalStep(enum.StrEnum):
    """A rebuild's steps in order. Recovery rolls back anything before VERIFIED."""

    BEGIN = "begin"
    PREPARING = "preparing"  # a relink writes its new files beside the old ones
    SWAPPING = "swapping"  # ... then renames them into place
    MOVING = "moving"
    MOVED = "moved"
    CREATING = "creating"
    INSTALLING = "installing"
    CARRYING = "carrying"
    VERIFYING = "verifying"
    VERIFIED = "verified"
    COMMITTED = "committed"


class JournalOutcome(enum.StrEnum):
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"


STEPS = tuple(JournalStep)


class UnknownJournalValueError(ValueError):
    """A journal row holds an action or step this venv-doctor does not know."""


@dataclass(frozen=True)
class Entry:
    id: int
    venv: Path
    backup: Path
    action: JournalAction
    step: JournalStep
    started_at: float
    group: Group | None = None  # the repair's child process group
    made: tuple[int, int] | None = None  # (st_dev, st_ino) of the directory it made
    dest: Path | None = None  # where the new venv is made, when not at ``venv``

    @property
    def at(self) -> Path:
        """Where the new venv is made: the old venv's path, or the owner's new name for it."""
        return self.dest if self.dest is not None else self.venv


def entry(row: state.JournalRow) -> Entry:
    """A stored row as an Entry; raises UnknownJournalValueError for unknown values."""
    try:
        action, step = JournalAction(row.action), JournalStep(row.step)
    except ValueError as exc:
        raise UnknownJournalValueError(
            f"journal entry {row.id} for {row.venv} is left alone: {exc} "
            "(written by a newer venv-doctor?)"
        ) from None
    group = Group(row.pgid, row.run_token) if row.pgid and row.run_token else None
    return Entry(
        row.id, row.venv, row.backup, action, step, row.started_at, group, row.made, row.dest
    )


def _entries(rows: list[state.JournalRow]) -> list[Entry]:
    out = []
    for row in rows:
        try:
            out.append(entry(row))
        except UnknownJournalValueError as exc:
            log.warning("%s", exc)
    return out


class Journal:
    """The journal of one open state database; closing it closes the database."""

    def __init__(self, db: state.Database) -> None:
        self.db = db

    def begin(
        self,
        venv: Path,
        backup: Path,
        action: JournalAction,
        group: Group | None = None,
        dest: Path | None = None,
    ) -> int:
        """A new entry, with the process group its children will run in (if any) and,
        for a venv its owner names for its minor, where the new one is made (``dest``)."""
        where = (group.pgid, group.token) if group else None
        return state.journal_begin(
            self.db, venv, backup, action.value, JournalStep.BEGIN.value, where, dest
        )

    def moved(self, old: Path, new: Path, why: str) -> bool:
        """The registry follows a venv its rebuild renamed (history, snapshots)."""
        return state.move_venv(self.db, old, new, new.name, why)

    def owner_links(self, venv: Path) -> tuple[tuple[str, str], ...]:
        """The links to ``venv``'s apps its owner had made (kept by ``check``)."""
        kept = state.owner_record(self.db, venv)
        return kept.links if kept is not None else ()

    def made(self, entry_id: int, path: Path) -> tuple[int, int]:
        """Record that the repair made the directory ``path`` (its device and inode)."""
        st = os.lstat(path)
        state.journal_made(self.db, entry_id, st.st_dev, st.st_ino)
        return st.st_dev, st.st_ino

    def step(self, entry_id: int, step: JournalStep) -> None:
        state.journal_step(self.db, entry_id, JournalStep(step).value)

    def finish(self, entry_id: int, outcome: JournalOutcome, message: str = "") -> None:
        state.journal_finish(self.db, entry_id, outcome.value, message)

    def get(self, entry_id: int) -> Entry | None:
        """The entry as it stands now (its last step, what it made)."""
        row = state.journal_get(self.db, entry_id)
        return entry(row) if row is not None else None

    def open_entries(self) -> list[Entry]:
        return _entries(state.journal_open(self.db))

    def kept_backups(self) -> list[Entry]:
        return _entries(state.journal_with_outcome(self.db, JournalOutcome.COMMITTED.value))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_journal(ctx: Context) -> Journal:
    """The rebuild journal, in the state DB (a damaged DB is moved aside by ``state``).
    Use it as a context manager: the database is closed on the way out."""
    db = state.open_db(ctx.dirs)
    for warning in db.warnings:
        log.warning("%s", warning)
    return Journal(db)
