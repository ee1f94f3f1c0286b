"""Finding codes and the one table of what cures each (diagnose/findings.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from venv_doctor.diagnose.findings import (
    CURES,
    Code,
    Cure,
    Diagnosis,
    Finding,
    PythonInfo,
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
    assert cured_by(Cure.RECREATE) == {Code.VENV_MISSING, Code.VENV_REMOVED}
    assert Code.CFG_GARBAGE not in cured_by(Cure.RELINK, Cure.REBUILD, Cure.RECREATE)


def test_a_finding_serialises_its_code_as_plain_text() -> None:
    finding = Finding(Code.DEAD_SHEBANG, Severity.ERROR, "bin/tool starts /gone/python")
    data = json.loads(json.dumps(finding.as_dict()))
    assert data["code"] == "dead-shebang"
    assert type(finding.as_dict()["code"]) is str


def test_status_counts_name_every_status_and_skip_unknown_text() -> None:
    counts = status_counts([Status.BROKEN, "broken", "healthy", "gone", None])
    assert counts == {"healthy": 1, "degraded": 0, "broken": 2, "unknown": 0, "removed": 0}
    assert list(counts) == [s.value for s in Status]


def test_the_check_document_in_pieces_is_the_whole_document(tmp_path: Path) -> None:
    """`check --json` writes its document in pieces of CHUNK_VENVS venvs (memory stays
    flat at 20,000 venvs): joined, they are check_json's text to the byte, credentials
    redacted and undecodable names escaped in every piece."""
    from venv_doctor.model.venv import Location
    from venv_doctor.render import documents

    url = "https://user:hunter2@index.example/simple/?private_token=abc"
    diagnoses = [
        Diagnosis(
            Location(f"v{i}\udcff", tmp_path / f"v{i}", "multivenv"),
            Status.BROKEN if i % 3 else Status.HEALTHY,
            "venv",
            PythonInfo("3.12.1", "3.12", "/usr/bin", None),
            (Finding(Code.DEAD_SHEBANG, Severity.ERROR, f"bin/tool starts {url}", None),),
        )
        for i in range(documents.CHUNK_VENVS * 2 + 3)
    ]
    pieces = list(documents.check_json_chunks(diagnoses))
    assert len(pieces) == 5  # the opening, three pieces of venvs, the summary
    whole = "".join(pieces)
    assert whole == documents.check_json(diagnoses)
    assert "hunter2" not in whole and "abc" not in whole
    data = json.loads(whole)
    assert len(data["venvs"]) == len(diagnoses)
    assert data["venvs"][0]["name"] == "v0\udcff"
    assert data["summary"]["broken"] == sum(1 for d in diagnoses if d.status is Status.BROKEN)
