"""JSON documents for scripts: one versioned envelope, plain ``json.dumps``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from venv_doctor.diagnose.findings import Diagnosis, status_counts
from venv_doctor.discover.owners import owner_of
from venv_doctor.model.venv import Location
from venv_doctor.render.sanitize import json_encodable, redact

SCHEMA_VERSION = 1


def envelope(**body: Any) -> str:
    """The versioned document: indented for a person at a terminal, otherwise one compact
    line (``indent`` would force the pure-Python encoder: a tenth of a large check).
    Credentials are redacted (one pass over the text), and a file name that is not UTF-8
    (a lone surrogate) is written as its ``\\udcXX`` escape rather than failing."""
    doc = {"schema_version": SCHEMA_VERSION, **body}
    if _on_terminal(sys.stdout):
        text = json.dumps(doc, indent=2, ensure_ascii=False)
    else:
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return json_encodable(redact(text))


def _on_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


def error_json(message: str, hint: str | None, exit_code: int) -> str:
    """The one document a failing ``--json`` command still writes to stdout."""
    return envelope(error={"message": message, "hint": hint, "exit_code": exit_code})


def summary(diagnoses: Iterable[Diagnosis]) -> dict[str, int]:
    return status_counts(d.status for d in diagnoses)


def diagnosis_dict(d: Diagnosis) -> dict[str, Any]:
    return {
        "name": d.name,
        "path": str(d.path),
        "store": d.location.store,
        "status": d.status.value,
        "creator": d.creator,
        "python": {
            "version": d.python.version,
            "home": d.python.home,
            "resolved": str(d.python.resolved) if d.python.resolved else None,
        },
        "findings": [f.as_dict() for f in d.findings],
        "owner": owner_of(d.location).as_dict(),
    }


def check_json(diagnoses: Sequence[Diagnosis]) -> str:
    return envelope(venvs=[diagnosis_dict(d) for d in diagnoses], summary=summary(diagnoses))


CHUNK_VENVS = 256


def check_json_chunks(diagnoses: Sequence[Diagnosis]) -> Iterator[str]:
    """``check_json``'s text in pieces, so that thousands of venvs are never one string
    (nor one list of dicts) in memory. The compact document is the pieces joined, to
    the byte: each piece holds whole venv objects, which is all ``redact`` looks into
    (a credential never spans two JSON strings). On a terminal: ``check_json`` whole."""
    if _on_terminal(sys.stdout):
        yield check_json(diagnoses)
        return
    empty = envelope(venvs=[], summary=summary(diagnoses))
    split = empty.index('"venvs":[]') + len('"venvs":[')
    yield empty[:split]
    for start in range(0, len(diagnoses), CHUNK_VENVS):
        batch = [diagnosis_dict(d) for d in diagnoses[start : start + CHUNK_VENVS]]
        text = json.dumps(batch, ensure_ascii=False, separators=(",", ":"))[1:-1]
        yield ("," if start else "") + json_encodable(redact(text))
    yield empty[split:]


def list_json(locations: Sequence[Location]) -> str:
    venvs = [{"name": x.name, "path": str(x.path), "store": x.store} for x in locations]
    return envelope(venvs=venvs)
