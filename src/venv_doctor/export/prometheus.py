"""The state of every venv as a Prometheus textfile, for node_exporter's textfile collector.

The exposition format: one ``# HELP`` and one ``# TYPE`` line per metric family,
then its samples; label values escape backslash, double quote and newline. The
file is written to a temporary name in the same directory and renamed into place,
so the collector never reads half a file (it reads only ``*.prom`` names).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.interpreters.inventory import Interpreter

PREFIX = "venv_doctor"


@dataclass(frozen=True)
class Report:
    """Everything one export says: the venvs, the interpreters, the last scan."""

    diagnoses: Sequence[Diagnosis]
    scanned_at: float  # seconds since the epoch
    scan_seconds: float
    interpreters: Sequence[tuple[Interpreter, int]] = ()  # with how many venvs need each
    repairs: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (action, outcome)
    snapshot_ages: Mapping[Path, float] = field(default_factory=dict)  # seconds, by venv


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Family:
    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.lines = [
            f"# HELP {PREFIX}_{name} {_escape_help(help_text)}",
            f"# TYPE {PREFIX}_{name} {kind}",
        ]
        self.name = f"{PREFIX}_{name}"

    def add(self, value: float, **labels: str) -> _Family:
        self.lines.append(f"{self.name}{_labels(labels)} {_number(value)}")
        return self


def _minor(d: Diagnosis) -> str:
    return d.python.minor or "unknown"


def _venv_families(diagnoses: Sequence[Diagnosis]) -> list[_Family]:
    by_status = Counter(d.status for d in diagnoses)
    by_store = Counter((d.location.store, d.status) for d in diagnoses)
    total = _Family("venvs", "gauge", "Venvs found, by status.")
    for status in Status:
        total.add(by_status[status], status=status.value)
    stores = _Family("store_venvs", "gauge", "Venvs found, by store and status.")
    for store in sorted({d.location.store for d in diagnoses}):
        for status in Status:
            stores.add(by_store[(store, status)], store=store, status=status.value)
    each = _Family("venv_status", "gauge", "1 for the status each venv has now, 0 for the others.")
    for d in sorted(diagnoses, key=lambda d: (d.location.store, d.name, str(d.path))):
        labels = {"name": d.name, "store": d.location.store, "python": _minor(d)}
        for status in Status:
            each.add(int(d.status is status), **labels, status=status.value)
    return [total, stores, each]


def _other_families(report: Report) -> list[_Family]:
    interpreters = _Family("interpreter_venvs", "gauge", "Venvs that depend on each interpreter.")
    for interpreter, count in report.interpreters:
        interpreters.add(count, path=str(interpreter.path), version=interpreter.version)
    repairs = _Family("repairs", "gauge", "Repairs in the event log, by action and outcome.")
    for (action, outcome), count in sorted(report.repairs.items()):
        repairs.add(count, action=action, outcome=outcome)
    ages = _Family("snapshot_age_seconds", "gauge", "Age of each venv's newest snapshot.")
    names = {d.path: d for d in report.diagnoses}
    for path, age in sorted(report.snapshot_ages.items()):
        d = names.get(path)
        if d is not None:
            ages.add(round(age, 3), name=d.name, store=d.location.store)
    scanned = _Family("last_scan_timestamp_seconds", "gauge", "When the last scan ended.")
    took = _Family("last_scan_duration_seconds", "gauge", "How long the last scan took.")
    return [
        interpreters,
        repairs,
        ages,
        scanned.add(round(report.scanned_at, 3)),
        took.add(round(report.scan_seconds, 6)),
    ]


def render(report: Report) -> str:
    families = _venv_families(report.diagnoses) + _other_families(report)
    return "\n".join(line for f in families for line in f.lines) + "\n"


def interpreter_counts(
    interpreters: Sequence[Interpreter], reached: Iterable[set[str]]
) -> list[tuple[Interpreter, int]]:
    """How many venvs reach each interpreter's real file."""
    counts: Counter[str] = Counter()
    for reals in reached:
        counts.update(reals)
    return [(i, counts[str(i.real)]) for i in interpreters]
