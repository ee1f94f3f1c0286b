"""Turning core results into output: JSON envelopes for scripts, tables for people.

Machine output is plain ``json.dumps`` of a versioned envelope. Human output
uses rich only on a terminal; user data is never parsed as markup.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from venv_doctor.diagnose.findings import Diagnosis, Status, status_counts
from venv_doctor.model.venv import Location

SCHEMA_VERSION = 1
STATUS_STYLE = {
    Status.HEALTHY: "green",
    Status.DEGRADED: "yellow",
    Status.BROKEN: "bold red",
    Status.UNKNOWN: "magenta",
}


def envelope(**body: Any) -> str:
    return json.dumps({"schema_version": SCHEMA_VERSION, **body}, indent=2, ensure_ascii=False)


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
    }


def check_json(diagnoses: Sequence[Diagnosis]) -> str:
    return envelope(venvs=[diagnosis_dict(d) for d in diagnoses], summary=summary(diagnoses))


def list_json(locations: Sequence[Location]) -> str:
    venvs = [{"name": x.name, "path": str(x.path), "store": x.store} for x in locations]
    return envelope(venvs=venvs)


def use_rich(stream: IO[str], env: Mapping[str, str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in env and env.get("TERM") != "dumb"


def summary_line(diagnoses: Sequence[Diagnosis]) -> str:
    counts = summary(diagnoses)
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    total = len(diagnoses)
    noun = "venv" if total == 1 else "venvs"
    return f"{total} {noun}: " + (", ".join(parts) if parts else "none found")


def check_text(diagnoses: Sequence[Diagnosis], verbose: bool = False) -> str:
    """Plain text for pipes and NO_COLOR: one line per venv, findings indented."""
    lines = []
    for d in diagnoses:
        lines.append(f"{d.status.value:<9} {d.name}  [{d.location.store}]  {d.path}")
        for f in d.findings:
            if verbose or f.severity.value != "info":
                lines.append(f"          {f.severity.value}: {f.code}: {f.message}")
                if f.hint:
                    lines.append(f"          hint: {f.hint}")
    lines.append(summary_line(diagnoses))
    return "\n".join(lines)


def check_table(
    diagnoses: Sequence[Diagnosis], verbose: bool = False, stream: IO[str] | None = None
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=stream or sys.stdout, highlight=False)
    table = Table(show_lines=False, expand=False)
    table.add_column("status", no_wrap=True)
    table.add_column("venv", overflow="fold")
    table.add_column("store", no_wrap=True)
    table.add_column("python", no_wrap=True)
    table.add_column("findings", overflow="fold")
    for d in diagnoses:
        shown = [f for f in d.findings if verbose or f.severity.value != "info"]
        text = Text()
        for i, f in enumerate(shown):
            if i:
                text.append("\n")
            text.append(f"{f.code}: ", style="bold")
            text.append(f.message)
            if f.hint:
                text.append(f"\n  → {f.hint}", style="dim")
        table.add_row(
            Text(d.status.value, style=STATUS_STYLE[d.status]),
            Text(f"{d.name}\n{d.path}"),
            Text(d.location.store),
            Text(d.python.version or "?"),
            text,
        )
    console.print(table)
    console.print(Text(summary_line(diagnoses)))


def display(text: str) -> str:
    """``text`` for a terminal: control characters (newline, ``\\r``, escape sequences)
    shown escaped, so a name or path can never forge or hide a line."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
