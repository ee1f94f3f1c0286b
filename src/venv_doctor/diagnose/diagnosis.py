"""Diagnosis: from a Venv read off disk (and optionally a probe run) to findings.

The static diagnosis spawns nothing; it resolves links and reads files, so it
stays fast over hundreds of venvs. ``probe`` results, when given, add what only
running the interpreter shows. Here: putting the findings together, what the probe
adds, and venvs that are gone or unreadable; what the interpreter's files say is
``diagnose.interpreter_findings``, what the venv's own files say (pyvenv.cfg,
site-packages, console scripts) ``diagnose.file_findings``.
"""

from __future__ import annotations

import os
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
from venv_doctor.diagnose.interpreter_findings import Memo, interpreter_findings
from venv_doctor.diagnose.probe_result import ProbeResult
from venv_doctor.model.venv import Venv
from venv_doctor.render.sanitize import command

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


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
        _recreate_hint(venv.path, "if it was deleted on purpose"),
    )


def _recreate_hint(path: Path, forget: str) -> str:
    return (
        f"`{command('venv-doctor', 'repair', str(path))}` recreates it from its recorded "
        "snapshot, if one was taken (`venv-doctor history` says); "
        f"`{command('venv-doctor', 'forget', str(path))}` {forget}"
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
        _recreate_hint(venv.path, "drops its history"),
    )
    d = _result(venv, [removed], None)
    return Diagnosis(d.location, Status.REMOVED, d.creator, d.python, d.findings)


def diagnose(
    venv: Venv,
    probe: ProbeResult | None = None,
    *,
    env: Mapping[str, str],
    memo: Memo | None = None,
) -> Diagnosis:
    """The findings about ``venv`` (``env`` names where pyenv and Homebrew live, to say
    what removed a missing interpreter). ``memo``: shared by the venvs of one pass."""
    if venv.denied:  # what cannot be read is unknown, never missing
        return _result(venv, [_denied_finding(venv, path) for path in venv.denied], None)
    if venv.error and not os.path.exists(venv.path):  # read, it was there
        return _result(venv, [_missing_finding(venv)], None)
    if venv.error:
        finding = Finding(Code.VENV_UNREADABLE, E, venv.error, "check the directory's permissions")
        return _result(venv, [finding], None)
    findings = cfg_findings(venv) + interpreter_findings(venv, env, memo)
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
    return Finding(
        Code.PERMISSION_DENIED,
        E,
        f"permission denied: {user} cannot read the {what} {path} (owner {owner}, {mode}); "
        "what is in it is unknown, not missing",
        f"check it as its owner (`{command('sudo', '-u', owner, 'venv-doctor', 'check', str(venv.path))}`), "
        f"or let {user} read it (`{command('chmod', '-R', 'a+rX', str(path))}`, as {owner} or root)",
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


__all__ = ["Memo", "diagnose", "diagnose_gone"]
