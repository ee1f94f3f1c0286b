"""Text for people, laid out for the terminal it goes to.

Designed for 80 columns: columns padded to their widest cell, the last one wrapped
at spaces (never inside a word, never cut). Colour is a few ANSI codes, added only
when the caller says so (``cli.base.wants_color``); nothing here parses markup, so
user data prints as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.render.sanitize import printable
from venv_doctor.render.words import tilde, tilde_in

_SGR = {"green": "32", "yellow": "33", "bold red": "1;31", "red": "31", "magenta": "35"}
_SGR |= {"bold": "1", "dim": "2", "cyan": "36"}
INDENT = "    "
GAP = "  "  # between columns


@dataclass(frozen=True)
class Out:
    """Where human text goes: its width (None: no wrapping), colour, whether it is a
    terminal (times read "3 hours ago" there), and the home directory its paths are
    shown under as ``~`` (the caller's, from its Context)."""

    width: int | None = None
    color: bool = False
    home: str = ""
    terminal: bool = False

    def paint(self, text: str, style: str | None) -> str:
        if not self.color or not style or not text:
            return text
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m"

    def tilde(self, path: Path | str) -> str:
        return tilde(path, self.home)

    def tilde_in(self, text: str) -> str:
        return tilde_in(text, self.home)

    def inner(self, indent: str = INDENT) -> Out:
        """The same place, narrower by ``indent`` (for lines printed under another)."""
        width = self.width - len(indent) if self.width else None
        return Out(width, self.color, self.home, self.terminal)

    def wrap(
        self, text: str, indent: str = INDENT, first: str | None = None, style: str | None = None
    ) -> list[str]:
        """Wrapped at spaces only: a word (a path) longer than the line stays whole, and
        so does a command in backticks (one too long for the line goes on a line of its
        own). Control characters in ``text`` are shown escaped (``printable``)."""
        first = indent if first is None else first
        text = printable(text)
        if self.width is None:
            lines = [first + text]
        else:
            import textwrap  # on a pipe without COLUMNS nothing is wrapped

            lines = textwrap.wrap(
                _glued(text),
                width=max(self.width, len(indent) + 20),
                initial_indent=first,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            ) or [first]
            lines = [line.replace(_GLUE, " ") for line in lines]
        if style and self.color:
            lines = [
                line[: len(lead)] + self.paint(line[len(lead) :], style)
                for line, lead in zip(lines, [first] + [indent] * len(lines), strict=False)
            ]
        return lines


_GLUE = "\x00"  # a space inside a command while wrapping: text made printable holds none
_COMMAND = re.compile(r"`[^`]*`")


def _glued(text: str) -> str:
    """``text`` with the spaces of each `command` glued, so no wrap splits a command."""
    if "`" not in text:
        return text
    return _COMMAND.sub(lambda m: m.group(0).replace(" ", _GLUE), text)


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
    rows = [[printable(cell) for cell in row] for row in rows]  # a name cannot forge a line
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
