"""What `check` and `list` tell a person: one line per venv, what is wrong indented
under it, one hint per problem (one for all when several venvs want a repair)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from venv_doctor.diagnose.findings import Diagnosis, Severity, Status, repair_hint
from venv_doctor.render.documents import summary
from venv_doctor.render.layout import INDENT, Out, aligned, aligned_rows
from venv_doctor.render.sanitize import shell_word
from venv_doctor.render.words import human_time, plural

if TYPE_CHECKING:
    from venv_doctor.repair.failures import LastFailure

STATUS_STYLE = {
    Status.HEALTHY: "green",
    Status.DEGRADED: "yellow",
    Status.BROKEN: "bold red",
    Status.UNKNOWN: "magenta",
    Status.REMOVED: "dim",
}


def summary_line(diagnoses: Sequence[Diagnosis]) -> str:
    counts = summary(diagnoses)
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    return f"{plural(len(diagnoses), 'venv')}: " + (", ".join(parts) if parts else "none found")


def _repair_command(d: Diagnosis, names: Counter[str], out: Out) -> str:
    return f"venv-doctor repair {_target(d, names, out)}"


def _target(d: Diagnosis, names: Counter[str], out: Out) -> str:
    """The venv as a command names it, quoted for pasting: its name when unique (and
    read as no option), else its path (``~/...`` when that needs no quotes)."""
    if names[d.name] == 1 and not d.name.startswith("-"):
        return shell_word(d.name)
    short = out.tilde(d.path)
    if short.startswith("~/") and shell_word(short[2:]) == short[2:]:
        return short
    return shell_word(str(d.path))


def check_lines(
    diagnoses: Sequence[Diagnosis],
    out: Out,
    verbose: int = 0,
    quiet: bool = False,
    failures: Mapping[Path, LastFailure] | None = None,
    known: Counter[str] | None = None,
    every: bool = True,
) -> list[str]:
    """One line per venv; under a venv that is not healthy, what is wrong and one hint.

    ``known``: how many venvs bear each name, when ``diagnoses`` are not all of them (a
    check of one path): a hint names a venv by a name that names it alone, else its path.

    When several venvs want a repair, their hints become one: ``venv-doctor repair --all``.
    A venv whose last repair failed (``failures``) is told that instead, and is not
    counted in the ``--all`` hint unless the interpreters changed since. When the venvs
    are not ``every`` venv (a check of some targets or of one store), or when --all would
    also repeat a failed repair, the hint names the venvs instead of --all.
    """
    failures = failures or {}
    shown = [d for d in diagnoses if not quiet or d.status is not Status.HEALTHY]
    names = Counter(d.name for d in diagnoses) | (known or Counter())
    stuck = {p for p, f in failures.items() if not f.interpreters_changed}
    wanting = [d for d in shown if _wants_repair(d) and d.path not in stuck]
    rows = [_check_row(d) for d in shown]
    with_path = [[*r, out.tilde(d.path)] for r, d in zip(rows, shown, strict=True)]
    if not out.width or all(len(line) <= out.width for line in aligned(with_path, Out())):
        rows = with_path  # a pipe, or a terminal wide enough: the path too
    styles = [STATUS_STYLE.get(d.status) for d in shown]  # a status without a colour: plain
    heads = aligned_rows(rows, out, styles, wrap_last=False)
    lines: list[str] = []
    told: dict[tuple[str, str], str] = {}
    for d, head in zip(shown, heads, strict=True):
        lines.extend(head)
        lines.extend(_finding_lines(d, out, verbose, told))
        failure = failures.get(d.path)
        for hint in _hints(d, names, out, several=len(wanting) > 1, failure=failure):
            lines.extend(out.wrap(hint, style="dim"))
    if quiet and not shown:
        return []
    if len(wanting) > 1:
        every = every and not stuck  # --all would also run the repairs that failed
        hint = _together(wanting, names, out, every)
        lines.extend(out.wrap(hint, indent="", style="dim"))
    lines.append(summary_line(diagnoses))
    return lines


def _together(wanting: Sequence[Diagnosis], names: Counter[str], out: Out, every: bool) -> str:
    these = f"these {plural(len(wanting), 'venv')}"
    if every:
        return f"hint: `venv-doctor repair --all` repairs {these}"
    targets = " ".join(_target(d, names, out) for d in wanting)
    return f"hint: `venv-doctor repair {targets}` repairs {these}"


def _check_row(d: Diagnosis) -> list[str]:
    return [d.status.value, d.name, d.location.store, _python_cell(d)]


def _python_cell(d: Diagnosis) -> str:
    return d.python.version or "?"


def _wants_repair(d: Diagnosis) -> bool:
    hint = repair_hint(d.location)
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
        text = out.tilde_in(f.message.replace(own, ""))
        if verbose:
            text = f"{f.severity.value}: {f.code}: {text}"
        elif (f.code, text) in told:
            text = f"the same as {told[f.code, text]} above ({f.code})"
        else:
            told[f.code, text] = d.name
        lines.extend(out.wrap(text))
    return lines


def _hints(
    d: Diagnosis, names: Counter[str], out: Out, several: bool, failure: LastFailure | None
) -> list[str]:
    """The venv's distinct hints; its repair hint only when it is the one venv wanting
    one, or what its last repair's failure says when it failed."""
    repair = repair_hint(d.location)
    hints: list[str] = []
    for f in d.findings:
        if not f.hint or (f.severity is Severity.INFO and d.status is not Status.HEALTHY):
            continue
        text = f.hint
        if text == repair and failure is not None:
            text = _failure_hint(d, names, out, failure)
        elif text == repair:
            if several:
                continue
            text = f"run `{_repair_command(d, names, out)}`"
        text = "hint: " + out.tilde_in(text)
        if text not in hints:
            hints.append(text)
    return hints if d.status is not Status.HEALTHY else []


def _failure_hint(d: Diagnosis, names: Counter[str], out: Out, failure: LastFailure) -> str:
    """What failed last time and what to do next: not the same repair again, unless the
    interpreters changed since (then it may work)."""
    when = human_time(failure.at, relative=out.terminal)
    said = f"the last repair ({failure.action}, {when}) failed"
    repair, target = _repair_command(d, names, out), _target(d, names, out)
    if failure.interpreters_changed:
        return f"{said}, but the interpreters changed since: `{repair}` may work now"
    attempts = f"`venv-doctor history {target}` lists every attempt"
    if failure.interpreters_changed is None:  # not known: recorded by an older version
        return f"{said}: {failure.message}. Once that is fixed, `{repair}`; {attempts}"
    return (
        f"{said}: {failure.message}. Running it again fails the same way until that is "
        f"fixed; {attempts}"
    )


def empty_lines(searched: Sequence[tuple[str, str, bool]], config_file: str, out: Out) -> list[str]:
    """What `check` and `list` say when they find no venv: where they looked, how to add one.

    ``searched`` holds (store, path, exists) for every store.
    """
    there = [f"{name} ({out.tilde(path)})" for name, path, exists in searched if exists]
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
        f"of venvs under [stores] extra in {out.tilde(config_file)}."
    )
    return [line for p in paragraphs for line in out.wrap(p, indent=INDENT, first="")]
