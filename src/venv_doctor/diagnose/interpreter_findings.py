"""What is wrong with a venv's interpreter, read from disk without running it.

The links in bin/ (dangling, a loop), pyvenv.cfg's ``home`` (gone, or inside a
Homebrew keg the next upgrade deletes), a copied binary whose libpython or
framework is gone, the minor version the binary now reaches against the one the
packages were installed for; and, for a missing path, what most likely removed it
(``guess_cause``, in the words of the tool that did it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from venv_doctor.diagnose.findings import Code, Finding, Severity, repair_hint
from venv_doctor.interpreters.layouts import InstallKind, installation_of
from venv_doctor.interpreters.versions import PathVersion, version_from_path
from venv_doctor.model.pyvenv_cfg import minor_of
from venv_doctor.model.venv import BinPython, Venv
from venv_doctor.render.sanitize import command, shell_word

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
# what removed a missing interpreter path, in the words of the tool that did it ({0}: the
# installation's name, {1}: the same quoted for a command)
_REMOVED_BY = {
    InstallKind.HOMEBREW: "Homebrew's {0} is gone: `brew uninstall {1}`?",
    InstallKind.UV: "the uv-managed Python {0} was upgraded or uninstalled?",
    InstallKind.PYENV: "`pyenv uninstall {1}`?",
    InstallKind.FRAMEWORK: "the python.org installation was removed or replaced?",
    InstallKind.SYSTEM: "the system Python package was removed or upgraded?",
    InstallKind.OTHER: "the interpreter was moved, upgraded or uninstalled?",
}
_KEG_REMOVED = "Homebrew removed the {0} {1} keg: `brew upgrade` or `brew cleanup`?"


def guess_cause(path: Path | str, env: Mapping[str, str]) -> str:
    """What most likely removed ``path``, in the words of the tool that did it."""
    owner = installation_of(path, env)
    if owner.keg:
        return _KEG_REMOVED.format(owner.name, owner.keg)
    return _REMOVED_BY[owner.kind].format(owner.name, shell_word(owner.name))


class Memo:
    """What one pass over many venvs learns about the interpreters they share.

    Thousands of venvs run on a handful of interpreters. What a diagnosis asks about
    an interpreter's path (is pyvenv.cfg's ``home`` a directory, which version the
    resolved binary is, what removed a missing path) has one answer per path in one
    pass, found once per path rather than once per venv. Only for one pass, as
    ``model.links.Walked``: interpreters come and go between checks.
    """

    __slots__ = ("_causes", "_dirs", "_versions", "env")

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env  # where pyenv and Homebrew live: one answer for the whole pass
        self._dirs: dict[str, bool] = {}
        self._versions: dict[Path, PathVersion] = {}
        self._causes: dict[str, str] = {}

    def is_dir(self, path: str) -> bool:
        if (found := self._dirs.get(path)) is None:
            found = self._dirs[path] = os.path.isdir(path)
        return found

    def version(self, real: Path) -> PathVersion:
        """``version_from_path(real)``."""
        if (found := self._versions.get(real)) is None:
            found = self._versions[real] = version_from_path(real)
        return found

    def cause(self, path: str) -> str:
        """``guess_cause(path, env)``."""
        if (found := self._causes.get(path)) is None:
            found = self._causes[path] = guess_cause(path, self.env)
        return found


def _rel(venv: Venv, path: Path) -> str:
    try:
        return str(path.relative_to(venv.path))
    except ValueError:
        return str(path)


def root_links(venv: Venv) -> list[BinPython]:
    """The bin/python* entries that matter: copies and links that leave bin/, plus
    links whose chain breaks inside bin/ (a deleted sibling, a loop)."""
    bin_dir = f"{venv.path}/bin"
    roots = []
    for py in venv.pythons:
        targets = py.chain.targets
        first = targets[0] if targets else None
        if (
            first is None
            or first.rpartition("/")[0] != bin_dir  # hops are normalised: no trailing /
            or py.chain.loop
            or (py.chain.dangling and not os.path.lexists(first))  # else every hop exists
        ):
            roots.append(py)
    return roots


def _link_findings(venv: Venv, roots: list[BinPython], memo: Memo) -> list[Finding]:
    if not venv.pythons:
        return [
            Finding(
                Code.NO_INTERPRETER,
                E,
                f"{venv.path / 'bin'} has no python executable",
                repair_hint(venv.location),
            )
        ]
    out = []
    in_loops: set[str] = set()
    dangling: dict[str, list[BinPython]] = {}
    for py in roots:
        chain = py.chain
        if chain.loop:
            members = {chain.origin, *chain.targets}
            if not members & in_loops:  # one finding per loop, not one per link into it
                out.append(_loop_finding(venv, py))
            in_loops |= members
        elif chain.dangling:
            dangling.setdefault(chain.first_missing() or chain.last, []).append(py)
    out.extend(_dangling_finding(venv, missing, pys, memo) for missing, pys in dangling.items())
    return out


def _loop_finding(venv: Venv, py: BinPython) -> Finding:
    steps = [f"bin/{py.name}", *(_rel(venv, hop) for hop in py.chain.hops[:4])]
    return Finding(
        Code.INTERPRETER_LOOP,
        E,
        f"bin/{py.name} is a symlink loop ({' -> '.join(steps)} ...)",
        repair_hint(venv.location),
    )


def _dangling_finding(venv: Venv, missing: str, pys: list[BinPython], memo: Memo) -> Finding:
    names = " and ".join(f"bin/{py.name}" for py in pys)
    targets = pys[0].chain.targets
    first = targets[0] if targets else None
    via = f" (via {first})" if first != missing else ""
    verb = "points" if len(pys) == 1 else "point"
    return Finding(
        Code.INTERPRETER_DANGLING,
        E,
        f"{names} {verb} to {missing}{via}, which no longer exists ({memo.cause(missing)})",
        repair_hint(venv.location),
    )


def _version_findings(venv: Venv, roots: list[BinPython], memo: Memo) -> list[Finding]:
    """Minor-version drift, read from the resolved binary, and recorded-version drift."""
    out = []
    venv_minor = venv.minor
    cfg_minor = venv.cfg.minor if venv.cfg else None
    if cfg_minor and venv.lib_minors and cfg_minor not in venv.lib_minors:
        out.append(
            Finding(
                Code.VERSION_MISMATCH,
                E,
                f"pyvenv.cfg records Python {venv.cfg.version if venv.cfg else ''} but the "
                f"packages are in lib/python{venv.lib_minors[-1]}",
                repair_hint(venv.location),
            )
        )
    reported: set[Path] = set()
    for py in roots:
        real = py.chain.resolved
        if real is None or real in reported or not venv_minor:
            continue
        reported.add(real)
        found = memo.version(real)
        if found.minor and found.minor != venv_minor:
            out.append(
                Finding(
                    Code.MINOR_MISMATCH,
                    E,
                    f"bin/{py.name} now reaches {real} (Python {found.minor}), but the venv's "
                    f"packages are in lib/python{venv_minor}: they are invisible to it",
                    repair_hint(venv.location),
                )
            )
        elif _patch_changed(venv.recorded_version, found.full):
            out.append(
                Finding(
                    Code.PATCH_CHANGED,
                    INFO,
                    f"made with Python {venv.recorded_version}, now runs {found.full} "
                    "(same minor version: fine)",
                )
            )
    return out


def _patch_changed(recorded: str | None, now: str | None) -> bool:
    if not recorded or not now or recorded.count(".") != 2:
        return False
    return recorded != now and minor_of(recorded) == minor_of(now)


def _home_findings(venv: Venv, roots: list[BinPython], memo: Memo) -> list[Finding]:
    home = venv.cfg.home if venv.cfg else venv.orig_prefix
    if not home:
        return []
    out = []
    copies = venv.layout == "legacy" or any(p.is_copy for p in roots)
    if not memo.is_dir(home):
        key = "pyvenv.cfg home" if venv.cfg else "orig-prefix.txt"
        dangling = any(p.chain.dangling for p in roots)
        if not dangling:
            out.append(
                Finding(
                    Code.HOME_MISSING,
                    E if copies else W,
                    f"{key} = {home} no longer exists ({memo.cause(home + '/')})",
                    repair_hint(venv.location),
                )
            )
    elif _in_keg(home):
        out.append(_cellar_finding(venv, f"pyvenv.cfg home = {home}"))
    for py in roots:
        first = py.chain.targets[0] if py.chain.targets else None
        if first and _in_keg(first) and not py.chain.dangling:
            out.append(_cellar_finding(venv, f"bin/{py.name} -> {first}"))
            break
    return _unique(out)


def _in_keg(path: Path | str) -> bool:
    text = str(path)  # only a path through Cellar/ is in a keg: skip the full lookup otherwise
    return "/Cellar/" in text and installation_of(text).keg is not None


def _library_findings(venv: Venv, roots: list[BinPython], memo: Memo) -> list[Finding]:
    """A copied binary whose libpython / Python framework is gone (it exits 127)."""
    if not any(py.is_copy for py in roots):
        return []  # links: no binary of the venv's own to read
    from venv_doctor.model import libraries

    out = []
    for py in roots:
        if not py.is_copy:
            continue
        binary = venv.path / "bin" / py.name
        try:
            missing = libraries.missing_python_libraries(binary, libraries.read_needs(binary))
        except (OSError, libraries.NotABinary):
            continue  # a script or a damaged file: the probe (--deep) tells
        if missing:
            out.append(
                Finding(
                    Code.INTERPRETER_LIBRARY_MISSING,
                    E,
                    f"bin/{py.name} is a copy that needs {', '.join(missing)}, which no longer "
                    f"exists where it looks ({memo.cause(venv.cfg.home + '/' if venv.cfg and venv.cfg.home else str(binary))})",
                    repair_hint(venv.location),
                )
            )
            break  # one copy tells for all: they are the same binary
    return out


def _cellar_finding(venv: Venv, what: str) -> Finding:
    return Finding(
        Code.CELLAR_PINNED,
        W,
        f"{what} goes straight into a Homebrew keg; the next patch upgrade deletes it",
        f"run `{command('venv-doctor', 'repair', str(venv.path))}` to relink it through opt/",
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[str] = set()
    return [f for f in findings if not (f.code in seen or seen.add(f.code))]  # type: ignore[func-returns-value]


def interpreter_findings(
    venv: Venv, env: Mapping[str, str], memo: Memo | None = None
) -> list[Finding]:
    """Everything the interpreter's files say: its links, home, libraries and versions.
    ``memo``: what this pass knows already about the interpreters (``env`` is its)."""
    memo = memo if memo is not None else Memo(env)
    roots = root_links(venv)
    findings = _link_findings(venv, roots, memo)
    findings += _home_findings(venv, roots, memo) + _library_findings(venv, roots, memo)
    return findings + _version_findings(venv, roots, memo)
