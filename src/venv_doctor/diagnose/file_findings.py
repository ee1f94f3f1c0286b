"""Findings about a venv's files: pyvenv.cfg, site-packages and the console
scripts in bin/ (their shebangs). Static: files are read, nothing is started."""

from __future__ import annotations

import os
from collections import defaultdict

from venv_doctor.diagnose.findings import Code, Finding, Severity, repair_hint
from venv_doctor.model.venv import Venv
from venv_doctor.render.sanitize import command
from venv_doctor.render.words import listed

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


def cfg_findings(venv: Venv) -> list[Finding]:
    if venv.cfg_error:
        return [
            Finding(
                Code.CFG_UNREADABLE,
                E,
                venv.cfg_error,
                "recreate pyvenv.cfg or repair the venv from its recorded snapshot",
            )
        ]
    if venv.layout == "legacy":
        return [
            Finding(
                Code.LEGACY_VIRTUALENV,
                INFO,
                f"{venv.path} was made by virtualenv < 20 (no pyvenv.cfg)",
                "rebuilding it with a current venv keeps it maintainable",
            )
        ]
    cfg_file = f"{venv.path}/pyvenv.cfg"
    if venv.cfg is None:
        return [
            Finding(
                Code.CFG_MISSING,
                E,
                f"{cfg_file} is missing: Python will not treat {venv.path} as a venv",
                repair_hint(venv.location),
            )
        ]
    if not venv.cfg.garbage and venv.cfg.version and "home" in venv.cfg.values:
        return []  # most venvs
    out = []
    if venv.cfg.garbage:
        lines = ", ".join(str(n) for n in venv.cfg.garbage[:5])
        out.append(
            Finding(
                Code.CFG_GARBAGE,
                W,
                f"{cfg_file}: line {lines} is not `key = value`",
                "remove the stray lines; Python ignores them, tools may not",
            )
        )
    missing = [k for k in ("home",) if k not in venv.cfg.values]
    if not venv.cfg.version:
        missing.append("version")
    if missing:
        severity = W if "home" in missing else INFO
        out.append(
            Finding(
                Code.CFG_MISSING_KEY,
                severity,
                f"{cfg_file} has no {' or '.join(missing)} key",
                repair_hint(venv.location) if severity is W else None,
            )
        )
    return out


def site_findings(venv: Venv) -> list[Finding]:
    if venv.site_dirs or venv.layout != "venv":
        return []
    where = f"lib/python{venv.lib_minors[-1]}" if venv.lib_minors else "lib"
    return [
        Finding(
            Code.SITE_PACKAGES_MISSING,
            E,
            f"{venv.path / where} has no site-packages directory",
            repair_hint(venv.location),
        )
    ]


def _own_bin(venv: Venv, interpreter: str) -> bool:
    parent = os.path.dirname(interpreter)
    own = os.path.join(venv.path, "bin")
    return parent == own or os.path.realpath(parent) == own


def script_findings(venv: Venv) -> list[Finding]:
    by_interpreter: dict[str, list[str]] = defaultdict(list)
    for script in venv.scripts:
        by_interpreter[script.interpreter].append(script.name)
    dead: dict[str, list[str]] = {}
    foreign: dict[str, list[str]] = {}
    # the venv's own bin/python* whose chains were followed to an existing file: no stat
    working = {py.chain.origin for py in venv.pythons if not (py.chain.dangling or py.chain.loop)}
    for interpreter, names in by_interpreter.items():  # one stat per interpreter, not per script
        if interpreter in working:
            continue  # exists, and in this venv's bin/
        if not os.path.exists(interpreter):
            dead[interpreter] = names
        elif not _own_bin(venv, interpreter):
            foreign[interpreter] = names
    out = []
    for interpreter, names in sorted(dead.items()):
        out.append(
            Finding(
                Code.DEAD_SHEBANG,
                E,
                f"{_count(names)} in bin/ ({listed(sorted(names), 4)}) {_verb(names)} {interpreter}, which does not exist",
                repair_hint(venv.location),
            )
        )
    for interpreter, names in sorted(foreign.items()):
        out.append(
            Finding(
                Code.FOREIGN_SHEBANG,
                W,
                f"{_count(names)} in bin/ ({listed(sorted(names), 4)}) {_verb(names)} {interpreter}, outside this venv "
                "(was the venv moved or copied?)",
                f"reinstall them, or `{command('venv-doctor', 'repair', str(venv.path), '--strategy', 'rebuild')}`",
            )
        )
    return out


def _verb(names: list[str]) -> str:
    return "starts" if len(names) == 1 else "start"


def _count(names: list[str]) -> str:
    return "1 console script" if len(names) == 1 else f"{len(names)} console scripts"
