"""Finding codes and the one table of what cures each (diagnose/findings.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from venv_doctor.diagnose.findings import (
    CURES,
    Code,
    Cure,
    Finding,
    Severity,
    Status,
    cured_by,
    status_counts,
)
from venv_doctor.repair.plan import REBUILD_ONLY, RELINKABLE

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_code_says_what_cures_it() -> None:
    assert set(CURES) == set(Code)


def test_the_readme_documents_every_venv_finding_code() -> None:
    section = README.read_text(encoding="utf-8").split("## How venvs break", 1)[1]
    section = section.split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE))
    venv_codes = {c.value for c in Code if not c.value.startswith("service-")}
    assert documented == venv_codes


def test_the_plan_reads_the_cure_table() -> None:
    assert {c for c, cure in CURES.items() if cure is Cure.RELINK} == RELINKABLE
    assert {c for c, cure in CURES.items() if cure is Cure.REBUILD} == REBUILD_ONLY
    assert Code.INTERPRETER_DANGLING in RELINKABLE
    assert Code.VERSION_MISMATCH in REBUILD_ONLY
    assert cured_by(Cure.RECREATE) == {Code.VENV_MISSING}
    assert Code.CFG_GARBAGE not in cured_by(Cure.RELINK, Cure.REBUILD, Cure.RECREATE)


def test_a_finding_serialises_its_code_as_plain_text() -> None:
    finding = Finding(Code.DEAD_SHEBANG, Severity.ERROR, "bin/tool starts /gone/python")
    data = json.loads(json.dumps(finding.as_dict()))
    assert data["code"] == "dead-shebang"
    assert type(finding.as_dict()["code"]) is str


def test_status_counts_name_every_status_and_skip_unknown_text() -> None:
    counts = status_counts([Status.BROKEN, "broken", "healthy", "gone", None])
    assert counts == {"healthy": 1, "degraded": 0, "broken": 2, "unknown": 0}
    assert list(counts) == [s.value for s in Status]
