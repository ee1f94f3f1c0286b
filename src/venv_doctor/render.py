"""Turning core results into output: JSON envelopes for scripts, aligned text for people.

Machine output is plain ``json.dumps`` of a versioned envelope. Human output is
designed for 80 columns: one line per venv, what is wrong indented under it and
wrapped at spaces (never inside a word, never cut), paths under the home
directory shortened to ``~``. Colour is a few ANSI codes, added only when the
caller says so (``cli.base.wants_color``); nothing here parses markup, so user
data prints as it is.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from venv_doctor.diagnose.findings import Diagnosis, Severity, Status, status_counts
from venv_doctor.model.venv import Location
from venv_doctor.sanitize import json_encodable, redact

SCHEMA_VERSION = 1
STATUS_STYLE = {
    Status.HEALTHY: "green",
    Status.DEGRADED: "yellow",
    Status.BROKEN: "bold red",
    Status.UNKNOWN: "magenta",
}
_SGR = {"green": "32", "yellow": "33", "bold red": "1;31", "red": "31", "magenta": "35"}
_SGR |= {"bold": "1", "dim": "2", "cyan": "36"}
INDENT = "    "
GAP = "  "  # between columns


# --- JSON ------------------------------------------------------------------------------------


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


def iso_utc(when: datetime) -> str:
    """Times in JSON: ISO 8601 in UTC (a naive time is taken as UTC)."""
    aware = when.replace(tzinfo=UTC) if when.tzinfo is None else when
    return aware.astimezone(UTC).isoformat(timespec="seconds")


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


# --- words -----------------------------------------------------------------------------------


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 venv``, ``2 venvs``, ``0 packages``."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def tilde(path: Path | str, home: str | None = None) -> str:
    """``~/...`` for a path under the home directory (display only; JSON keeps it whole)."""
    text = str(path)
    home = os.environ.get("HOME", "") if home is None else home
    home = home.rstrip("/")
    if home and (text == home or text.startswith(home + "/")):
        return "~" + text[len(home) :]
    return text


def tilde_in(text: str, home: str | None = None) -> str:
    """Every absolute path under the home directory inside a message, shortened to ``~``."""
    home = (os.environ.get("HOME", "") if home is None else home).rstrip("/")
    if not home or home + "/" not in text:
        return text
    # not inside shell quotes, where ~ would not expand: `repair '/home/me/a b'`
    return re.sub(r"(?<!['\"])" + re.escape(home + "/"), "~/", text)


def relative_time(when: datetime, now: datetime | None = None) -> str:
    """``3 hours ago``, for times within a week; older ones as a local date."""
    now = now or datetime.now(UTC)
    seconds = (now - _aware(when)).total_seconds()
    if seconds < 0:
        return local_time(when)
    for limit, unit, size in (
        (60, "second", 1),
        (3600, "minute", 60),
        (86400, "hour", 3600),
        (7 * 86400, "day", 86400),
    ):
        if seconds < limit:
            n = int(seconds // size)
            return "just now" if unit == "second" and n < 10 else f"{plural(n, unit)} ago"
    return local_time(when)


def local_time(when: datetime) -> str:
    """``2026-12-01 16:20 +0100``: the local time, with its offset."""
    return _aware(when).astimezone().strftime("%Y-%m-%d %H:%M %z")


def human_time(when: datetime, relative: bool, now: datetime | None = None) -> str:
    return relative_time(when, now) if relative else local_time(when)


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


# --- layout ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Out:
    """Where human text goes: its width (None: a pipe, no wrapping) and colour."""

    width: int | None = None
    color: bool = False

    def paint(self, text: str, style: str | None) -> str:
        if not self.color or not style or not text:
            return text
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m"

    def wrap(
        self, text: str, indent: str = INDENT, first: str | None = None, style: str | None = None
    ) -> list[str]:
        """Wrapped at spaces only: a word (a path) longer than the line stays whole.
        Control characters in ``text`` are shown escaped (``display``)."""
        first = indent if first is None else first
        text = display(text)
        if self.width is None:
            lines = [first + text]
        else:
            lines = textwrap.wrap(
                text,
                width=max(self.width, len(indent) + 20),
                initial_indent=first,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            ) or [first]
        if style and self.color:
            lines = [
                line[: len(lead)] + self.paint(line[len(lead) :], style)
                for line, lead in zip(lines, [first] + [indent] * len(lines), strict=False)
            ]
        return lines


def aligned(
    rows: Sequence[Sequence[str]],
    out: Out,
    styles: Sequence[str | None] | None = None,
    wrap_last: bool = True,
) -> list[str]:
    return [line for lines in aligned_rows(rows, out, styles, wrap_last) for line in lines]


def aligned_rows(
    rows: Sequence[Sequence[str]],
    out: Out,
    styles: Sequence[str | None] | None = None,
    wrap_last: bool = True,
) -> list[list[str]]:
    """Columns padded to their widest cell; on a terminal the last one wraps under
    itself (or, when the columns before it take half the line, under an indent).

    A cell too wide for any column (a very long name) is not cut: its row goes on
    over an indented second line. ``styles`` colours each row's first cell.
    """
    if not rows:
        return []
    rows = [[display(cell) for cell in row] for row in rows]  # a name cannot forge a line
    widths = _column_widths(rows, out.width)
    grouped = []
    for n, row in enumerate(rows):
        lines: list[str] = []
        grouped.append(lines)
        cells = list(row)
        over = next((i for i in range(len(cells) - 1) if len(cells[i]) > widths[i]), None)
        if over is not None:  # this row's columns cannot line up: two lines
            first = cells[: over + 1]
            if styles and styles[n]:
                first[0] = out.paint(first[0].ljust(widths[0]), styles[n])
            lines.append(GAP.join(first).rstrip())
            lines.extend(out.wrap(GAP.join(cells[over + 1 :])))
            continue
        padded = [c.ljust(widths[i]) for i, c in enumerate(cells[:-1])]
        if styles and styles[n] and padded:
            padded[0] = out.paint(padded[0], styles[n])
        lead = "".join(c + GAP for c in padded)
        lead_width = sum(widths[: len(cells) - 1]) + len(GAP) * (len(cells) - 1)
        lines.extend(_last_cell(lead, lead_width, cells[-1], out, wrap_last))
    return grouped


def _column_widths(rows: Sequence[Sequence[str]], width: int | None) -> list[int]:
    """The widest cell of each column but the last; on a terminal, a column whose
    widest cells would push the row past the edge is narrowed to the cells that fit."""
    count = max(len(r) for r in rows)
    cols = [[len(r[i]) for r in rows if len(r) > i + 1] for i in range(count - 1)]
    widths = [max(c, default=0) for c in cols]
    if width is None:
        return widths
    for _ in range(len(widths)):
        excess = sum(widths) + len(GAP) * len(widths) + 8 - width  # leave room for a value
        if excess <= 0:
            break
        widest = max(range(len(widths)), key=lambda i: widths[i])
        fitting = [n for n in cols[widest] if n <= widths[widest] - excess]
        widths[widest] = max(fitting, default=0)
    return widths


def _last_cell(lead: str, lead_width: int, last: str, out: Out, wrap_last: bool) -> list[str]:
    if not (wrap_last and out.width) or lead_width + len(last) <= out.width:
        return [(lead + last).rstrip()]
    if " " not in last and len(last) > out.width - len(INDENT):
        return [lead + last]  # too long for any line: no wrap can help
    if lead_width <= out.width // 2 and " " in last:
        wrapped = out.wrap(last, indent=" " * lead_width)
        return [lead + wrapped[0][lead_width:], *wrapped[1:]]
    return [lead.rstrip(), *out.wrap(last)]


# --- check -----------------------------------------------------------------------------------


def summary_line(diagnoses: Sequence[Diagnosis]) -> str:
    counts = summary(diagnoses)
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    return f"{plural(len(diagnoses), 'venv')}: " + (", ".join(parts) if parts else "none found")


def _repair_hint(location: Location) -> str:
    from venv_doctor.diagnose.findings import repair_hint

    return repair_hint(location)


def _repair_command(d: Diagnosis, names: Counter[str]) -> str:
    """``venv-doctor repair NAME`` when the name is unique, else the (quoted) path."""
    target = d.name if names[d.name] == 1 else tilde(d.path)
    if target.startswith("~/") and shlex.quote(target[2:]) == target[2:]:
        return f"venv-doctor repair {target}"
    return f"venv-doctor repair {shlex.quote(target if target == d.name else str(d.path))}"


def check_lines(
    diagnoses: Sequence[Diagnosis], out: Out, verbose: int = 0, quiet: bool = False
) -> list[str]:
    """One line per venv; under a venv that is not healthy, what is wrong and one hint.

    When several venvs want a repair, their hints become one: ``venv-doctor repair --all``.
    """
    shown = [d for d in diagnoses if not quiet or d.status is not Status.HEALTHY]
    names = Counter(d.name for d in diagnoses)
    wanting = [d for d in shown if _wants_repair(d)]
    rows = [_check_row(d) for d in shown]
    with_path = [[*r, tilde(d.path)] for r, d in zip(rows, shown, strict=True)]
    if not out.width or all(len(line) <= out.width for line in aligned(with_path, Out())):
        rows = with_path  # a pipe, or a terminal wide enough: the path too
    styles = [STATUS_STYLE.get(d.status) for d in shown]  # a status without a colour: plain
    heads = aligned_rows(rows, out, styles, wrap_last=False)
    lines: list[str] = []
    told: dict[tuple[str, str], str] = {}
    for d, head in zip(shown, heads, strict=True):
        lines.extend(head)
        lines.extend(_finding_lines(d, out, verbose, told))
        for hint in _hints(d, names, several=len(wanting) > 1):
            lines.extend(out.wrap(hint, style="dim"))
    if quiet and not shown:
        return []
    if len(wanting) > 1:
        lines.extend(
            out.wrap(
                f"hint: `venv-doctor repair --all` repairs these {plural(len(wanting), 'venv')}",
                indent="",
                style="dim",
            )
        )
    lines.append(summary_line(diagnoses))
    return lines


def _check_row(d: Diagnosis) -> list[str]:
    return [d.status.value, d.name, d.location.store, _python_cell(d)]


def _python_cell(d: Diagnosis) -> str:
    return d.python.version or "?"


def _wants_repair(d: Diagnosis) -> bool:
    hint = _repair_hint(d.location)
    return d.status is not Status.HEALTHY and any(f.hint == hint for f in d.findings)


def _finding_lines(
    d: Diagnosis, out: Out, verbose: int, told: dict[tuple[str, str], str]
) -> list[str]:
    """What is wrong, the venv's own path left out (the lines sit under the venv). A
    finding told for an earlier venv in the same words (one uninstalled interpreter
    breaks many venvs) is told again by reference; -v tells everything, with codes."""
    lines = []
    own = str(d.path) + "/"
    for f in d.findings:
        if f.severity is Severity.INFO and not verbose:
            continue
        text = tilde_in(f.message.replace(own, ""))
        if verbose:
            text = f"{f.severity.value}: {f.code}: {text}"
        elif (f.code, text) in told:
            text = f"the same as {told[f.code, text]} above ({f.code})"
        else:
            told[f.code, text] = d.name
        lines.extend(out.wrap(text))
    return lines


def _hints(d: Diagnosis, names: Counter[str], several: bool) -> list[str]:
    """The venv's distinct hints; its repair hint only when it is the one venv wanting one."""
    repair = _repair_hint(d.location)
    hints: list[str] = []
    for f in d.findings:
        if not f.hint or (f.severity is Severity.INFO and d.status is not Status.HEALTHY):
            continue
        text = f.hint
        if text == repair:
            if several:
                continue
            text = f"run `{_repair_command(d, names)}`"
        text = "hint: " + tilde_in(text)
        if text not in hints:
            hints.append(text)
    return hints if d.status is not Status.HEALTHY else []


def empty_lines(searched: Sequence[tuple[str, str, bool]], config_file: str, out: Out) -> list[str]:
    """What `check` and `list` say when they find no venv: where they looked, how to add one.

    ``searched`` holds (store, path, exists) for every store.
    """
    there = [f"{name} ({tilde(path)})" for name, path, exists in searched if exists]
    absent = sum(1 for _, _, exists in searched if not exists)
    paragraphs = ["no venvs found."]
    if there:
        paragraphs.append("searched: " + ", ".join(there) + ".")
    if absent:
        paragraphs.append(
            f"{plural(absent, 'other store')} not on this machine "
            "(`venv-doctor paths` lists every store and where it would be)."
        )
    paragraphs.append(
        "to add one: `venv-doctor track PATH` (a project's .venv), or name a directory "
        f"of venvs under [stores] extra in {tilde(config_file)}."
    )
    return [line for p in paragraphs for line in out.wrap(p, indent=INDENT, first="")]


def mapping_lines(pairs: Mapping[str, str], out: Out) -> list[str]:
    """``key:  value`` lines, values aligned."""
    return aligned([[k + ":", v] for k, v in pairs.items()], out)


def display(text: str) -> str:
    """``text`` for a terminal: control characters (newline, ``\\r``, escape sequences)
    shown escaped, so a name or path can never forge or hide a line."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
