"""The rebuild journal: its table in the state DB's migrations, its values as enums."""

from __future__ import annotations

from pathlib import Path

import pytest

from venv_doctor.record import state
from venv_doctor.repair.rebuild import recover
from venv_doctor.repair.transaction.journal import Journal, JournalAction, JournalStep


def test_an_entry_with_an_unknown_value_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    venv, backup = tmp_path / "v", tmp_path / "backup"
    with Journal(state.open_at(tmp_path / "state.db")) as journal:
        known = journal.begin(venv, backup, JournalAction.REBUILD)
        state.journal_begin(journal.db, venv, backup, "teleport", "begin")
        state.journal_begin(journal.db, venv, backup, "rebuild", "warping")

        entries = journal.open_entries()
        recovered = recover(journal)

    assert [(e.id, e.action, e.step) for e in entries] == [
        (known, JournalAction.REBUILD, JournalStep.BEGIN)
    ]
    assert [r.entry.id for r in recovered] == [known]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("'teleport' is not a valid JournalAction" in w for w in warnings)
    assert any("'warping' is not a valid JournalStep" in w for w in warnings)


def test_the_journal_table_comes_with_the_state_database(tmp_path: Path) -> None:
    with state.open_at(tmp_path / "state.db") as db:
        assert state.journal_open(db) == []
        tables = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master")}
    assert "journal" in tables
