"""Diagnosis: from a Venv read off disk (and optionally a probe run) to findings.

The static diagnosis spawns nothing; it resolves links and reads files, so it
stays fast over hundreds of venvs. ``probe`` results, when given, add what only
running the interpreter shows. Here: the interpreter (links, home, versions, the
probe); the venv's files (pyvenv.cfg, site-packages, console scripts) are
``diagnose.file_findings``.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Mapping
from pathlib import Path

from venv_doctor.diagnose.file_findings import cfg_findings, script_findings, site_findings
from venv_doctor.diagnose.findings import (
    Code,
    Diagnosis,
    Finding,
    PythonInfo,
    Severity,
    Status,
    repair_hint,
    status_of,
)
from venv_doctor.diagnose.probe_result import ProbeResult
from venv_doctor.interpreters.layouts import InstallKind, installation_of
from venv_doctor.interpreters.versions import version_from_path
from venv_doctor.model.pyvenv_cfg import minor_of
from venv_doctor.model.venv import BinPython, Venv

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
# what removed a missing interpreter path, in the words of the tool that did it
_REMOVED_BY = {
    InstallKind.HOMEBREW: "Homebrew's {0} is gone: `brew uninstall {0}`?",
    InstallKind.UV: "the uv-managed Python {0} was upgraded or uninstalled?",
    InstallKind.PYENV: "`pyenv uninstall {0}`?",
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
    return _REMOVED_BY[owner.kind].format(owner.name)


def _rel(venv: Venv, path: Path) -> str:
    try:
        return str(path.relative_to(venv.path))
    except ValueError:
        return str(path)


def _root_links(venv: Venv) -> list[BinPython]:
    """The bin/python* entries that matter: copies and links that leave bin/, plus
    links whose chain breaks inside bin/ (a deleted sibling, a loop)."""
    bin_dir = os.path.join(venv.path, "bin")
    roots = []
    for py in venv.pythons:
        targets = py.chain.targets
        first = targets[0] if targets else None
        if (
            first is None
            or os.path.dirname(first) != bin_dir
            or py.chain.loop
            or not os.path.lexists(first)
        ):
            roots.append(py)
    return roots


def _link_findings(venv: Venv, roots: list[BinPython], env: Mapping[str, str]) -> list[Finding]:
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
    in_loops: set[Path] = set()
    dangling: dict[Path, list[BinPython]] = {}
    for py in roots:
        chain = py.chain
        if chain.loop:
            members = {chain.start, *chain.hops}
            if not members & in_loops:  # one finding per loop, not one per link into it
                out.append(_loop_finding(venv, py))
            in_loops |= members
        elif chain.dangling:
            dangling.setdefault(_first_missing(chain.hops) or chain.end, []).append(py)
    out.extend(_dangling_finding(venv, missing, pys, env) for missing, pys in dangling.items())
    return out


def _loop_finding(venv: Venv, py: BinPython) -> Finding:
    steps = [f"bin/{py.name}", *(_rel(venv, hop) for hop in py.chain.hops[:4])]
    return Finding(
        Code.INTERPRETER_LOOP,
        E,
        f"bin/{py.name} is a symlink loop ({' -> '.join(steps)} ...)",
        repair_hint(venv.location),
    )


def _dangling_finding(
    venv: Venv, missing: Path, pys: list[BinPython], env: Mapping[str, str]
) -> Finding:
    names = " and ".join(f"bin/{py.name}" for py in pys)
    first = pys[0].chain.first_target
    via = f" (via {first})" if first != missing else ""
    verb = "points" if len(pys) == 1 else "point"
    return Finding(
        Code.INTERPRETER_DANGLING,
        E,
        f"{names} {verb} to {missing}{via}, which no longer exists ({guess_cause(missing, env)})",
        repair_hint(venv.location),
    )


def _first_missing(hops: tuple[Path, ...]) -> Path | None:
    for hop in hops:
        if not os.path.lexists(hop):
            return hop
    return None


def _version_findings(venv: Venv, roots: list[BinPython]) -> list[Finding]:
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
        found = version_from_path(real)
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


def _home_findings(venv: Venv, roots: list[BinPython], env: Mapping[str, str]) -> list[Finding]:
    home = venv.cfg.home if venv.cfg else venv.orig_prefix
    if not home:
        return []
    out = []
    copies = venv.layout == "legacy" or any(p.is_copy for p in roots)
    if not os.path.isdir(home):
        key = "pyvenv.cfg home" if venv.cfg else "orig-prefix.txt"
        dangling = any(p.chain.dangling for p in roots)
        if not dangling:
            out.append(
                Finding(
                    Code.HOME_MISSING,
                    E if copies else W,
                    f"{key} = {home} no longer exists ({guess_cause(home + '/', env)})",
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


def _library_findings(venv: Venv, roots: list[BinPython], env: Mapping[str, str]) -> list[Finding]:
    """A copied binary whose libpython / Python framework is gone (it exits 127)."""
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
                    f"exists where it looks ({guess_cause(venv.cfg.home + '/' if venv.cfg and venv.cfg.home else binary, env)})",
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
        f"run `venv-doctor repair {shlex.quote(str(venv.path))}` to relink it through opt/",
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[str] = set()
    return [f for f in findings if not (f.code in seen or seen.add(f.code))]  # type: ignore[func-returns-value]


# static findings that already say why the interpreter cannot start
_CANNOT_START = frozenset(
    {Code.INTERPRETER_DANGLING, Code.INTERPRETER_LOOP, Code.INTERPRETER_LIBRARY_MISSING}
)


def _probe_findings(venv: Venv, probe: ProbeResult, static: list[Finding]) -> list[Finding]:
    out = []
    if not probe.started:
        if not any(f.code in _CANNOT_START for f in static):
            out.append(
                Finding(
                    Code.INTERPRETER_FAILS,
                    E,
                    f"{_main_name(venv)} {_how_it_failed(probe)}: {probe.error_line}",
                    repair_hint(venv.location),
                )
            )
        return out
    venv_minor = venv.minor
    if probe.minor and venv_minor and probe.minor != venv_minor:
        if not any(f.code == Code.MINOR_MISMATCH for f in static):
            out.append(
                Finding(
                    Code.MINOR_MISMATCH,
                    E,
                    f"{_main_name(venv)} runs Python {probe.version}, but the venv's packages are in "
                    f"lib/python{venv_minor}: they are invisible to it",
                    repair_hint(venv.location),
                )
            )
    elif probe.site_packages_missing:
        out.append(
            Finding(
                Code.SITE_PACKAGES_INVISIBLE,
                E,
                f"{_main_name(venv)} runs but does not see {venv.path}'s site-packages "
                f"(sys.prefix = {probe.prefix})",
                repair_hint(venv.location),
            )
        )
    return out


def _main_name(venv: Venv) -> str:
    return f"bin/{venv.main_python.name}" if venv.main_python else "bin/python"


def _how_it_failed(probe: ProbeResult) -> str:
    if probe.returncode is None:
        return "could not be started"
    return f"exits with {probe.describe_exit()}"


def _adjust_for_probe(static: list[Finding], probe: ProbeResult | None) -> list[Finding]:
    """A copied binary whose home is gone but which still starts is degraded, not broken."""
    if probe is None or not probe.started:
        return static
    return [
        Finding(f.code, W, f.message + "; the interpreter still starts today", f.hint)
        if f.code == Code.HOME_MISSING and f.severity is E
        else f
        for f in static
    ]


def _missing_finding(venv: Venv) -> Finding:
    return Finding(
        Code.VENV_MISSING,
        E,
        f"{venv.path} no longer exists",
        f"`venv-doctor repair {shlex.quote(str(venv.path))}` recreates it from its recorded "
        f"snapshot, if one was taken (`venv-doctor history` says); `venv-doctor forget {shlex.quote(str(venv.path))}` if it was deleted on purpose",
    )


def diagnose_gone(venv: Venv, base: str | None, by_owner: bool = False) -> Diagnosis:
    """A recorded venv whose directory is gone.

    When the interpreter it ran on (``base``, as last seen) is still there, or its
    owner's own uninstall removed it (``by_owner``: pipx and uv took its apps' links
    along), the venv was removed on purpose (``pipx uninstall``, ``rmvirtualenv``,
    ``rm -rf``): status ``removed``, not a fault. When the interpreter went too
    (``pyenv uninstall`` takes pyenv-virtualenv envs along), it is ``venv-missing``.
    """
    there = base is not None and os.path.exists(base)
    if not there and not by_owner:
        return _result(venv, [_missing_finding(venv)], None)
    why = (
        f"the Python it ran on ({base}) is still installed"
        if there
        else f"its owner ({venv.location.store}) removed it with its apps' links"
    )
    removed = Finding(
        Code.VENV_REMOVED,
        INFO,
        f"{venv.path} was removed; {why}",
        f"`venv-doctor repair {shlex.quote(str(venv.path))}` recreates it from its recorded "
        f"snapshot, if one was taken (`venv-doctor history` says); `venv-doctor forget {shlex.quote(str(venv.path))}` drops its history",
    )
    d = _result(venv, [removed], None)
    return Diagnosis(d.location, Status.REMOVED, d.creator, d.python, d.findings)


def diagnose(venv: Venv, probe: ProbeResult | None = None, *, env: Mapping[str, str]) -> Diagnosis:
    """The findings about ``venv`` (``env`` names where pyenv and Homebrew live, to say
    what removed a missing interpreter)."""
    if venv.denied:  # what cannot be read is unknown, never missing
        return _result(venv, [_denied_finding(venv, path) for path in venv.denied], None)
    if not os.path.exists(venv.path):
        return _result(venv, [_missing_finding(venv)], None)
    if venv.error:
        finding = Finding(Code.VENV_UNREADABLE, E, venv.error, "check the directory's permissions")
        return _result(venv, [finding], None)
    roots = _root_links(venv)
    findings = cfg_findings(venv) + _link_findings(venv, roots, env)
    findings += _home_findings(venv, roots, env) + _library_findings(venv, roots, env)
    findings += _version_findings(venv, roots)
    findings += site_findings(venv) + script_findings(venv)
    if probe is not None:
        findings = _adjust_for_probe(findings, probe) + _probe_findings(venv, probe, findings)
    main = venv.main_python
    return _result(venv, findings, main.chain.resolved if main else None)


def _denied_finding(venv: Venv, path: Path) -> Finding:
    """Permission denied on ``path``: who owns it, its mode, and what to do."""
    user = _user_name(os.geteuid())
    try:
        st = os.stat(path)
    except OSError:
        return Finding(
            Code.PERMISSION_DENIED,
            E,
            f"permission denied: {user} cannot read {path}",
            "run venv-doctor as a user who can read it, or ask its owner to let you",
        )
    owner = _user_name(st.st_uid)
    what = "directory" if stat.S_ISDIR(st.st_mode) else "file"
    mode = stat.filemode(st.st_mode)
    target = shlex.quote(str(venv.path))
    return Finding(
        Code.PERMISSION_DENIED,
        E,
        f"permission denied: {user} cannot read the {what} {path} (owner {owner}, {mode}); "
        "what is in it is unknown, not missing",
        f"check it as its owner (`sudo -u {owner} venv-doctor check {target}`), or let "
        f"{user} read it (`chmod -R a+rX {shlex.quote(str(path))}`, as {owner} or root)",
    )


def _user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _result(venv: Venv, findings: list[Finding], resolved: Path | None) -> Diagnosis:
    home = venv.cfg.home if venv.cfg else venv.orig_prefix
    info = PythonInfo(version=venv.version, minor=venv.minor, home=home, resolved=resolved)
    found = tuple(findings)
    return Diagnosis(venv.location, status_of(found), venv.creator, info, found)


__all__ = ["diagnose", "diagnose_gone", "guess_cause", "minor_of"]
