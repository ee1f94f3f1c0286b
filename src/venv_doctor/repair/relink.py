"""Relink: point a venv at another build of the same minor version, in place.

Milliseconds, no network, no reinstall: the dangling ``bin/python*`` links (or
the copied binary of a ``--copies`` venv) are replaced so they reach the chosen
interpreter by its stable path, ``pyvenv.cfg`` gets the new ``home``/version
keys with every other line kept, and console scripts that start a dead
interpreter outside the venv are pointed at the venv's own ``bin/python``.
Everything changed is saved first and put back if the venv does not verify.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from venv_doctor import runner
from venv_doctor.fsutil import atomic_write
from venv_doctor.model import pyvenv_cfg
from venv_doctor.model.venv import BinPython, Venv
from venv_doctor.runner import CommandError, Runner

VERIFY_TIMEOUT = 30.0


@dataclass(frozen=True)
class Target:
    """The interpreter to link to: ``path`` as a venv should record it (stable)."""

    path: Path
    version: str  # X.Y.Z

    @property
    def real(self) -> Path:
        return Path(os.path.realpath(self.path))

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass
class Undo:
    """What a relink changed, so a failed verification can put it all back."""

    links: dict[Path, str | None] = field(default_factory=dict)  # path -> old link text
    files: dict[Path, bytes] = field(default_factory=dict)  # path -> old content

    def restore(self) -> None:
        for path, old in self.files.items():
            mode = path.stat().st_mode & 0o7777 if path.exists() else 0o755
            atomic_write(path, old, mode=mode)
        for path, link in self.links.items():
            if link is not None:
                _replace_link(path, link)
            elif os.path.lexists(path):
                path.unlink()


@dataclass(frozen=True)
class RelinkResult:
    ok: bool
    links: tuple[str, ...]  # bin/ names relinked or re-copied
    cfg_keys: tuple[str, ...]  # pyvenv.cfg keys rewritten
    scripts: tuple[str, ...]  # console scripts whose shebang was fixed
    error: str | None = None


def _replace_link(path: Path, target: str) -> None:
    tmp = path.with_name(f".{path.name}.venv-doctor-tmp")
    if os.path.lexists(tmp):
        tmp.unlink()
    tmp.symlink_to(target)
    tmp.replace(path)


def _replace_copy(path: Path, source: Path, undo: Undo) -> None:
    undo.files[path] = path.read_bytes()
    tmp = path.with_name(f".{path.name}.venv-doctor-tmp")
    shutil.copy2(source, tmp)
    tmp.replace(path)


def _needs_link(venv: Venv, py: BinPython) -> bool:
    """Root links (leaving bin/) and aliases whose target name is gone get relinked."""
    first = py.chain.first_target
    if first is None:
        return False
    if first.parent != venv.path / "bin":
        return True
    return not os.path.lexists(first)


def _relink_bin(venv: Venv, target: Target, undo: Undo) -> list[str]:
    changed = []
    for py in venv.pythons:
        path = venv.path / "bin" / py.name
        if py.is_copy:
            _replace_copy(path, target.real, undo)
        elif _needs_link(venv, py):
            undo.links[path] = os.readlink(path)
            _replace_link(path, str(target.path))
        else:
            continue
        changed.append(py.name)
    return changed


def cfg_updates(cfg: pyvenv_cfg.PyvenvCfg, target: Target) -> dict[str, str]:
    """The pyvenv.cfg keys that name the base interpreter, as the creator wrote them."""
    updates = {"home": str(target.path.parent)}
    if "version" in cfg.values:
        updates["version"] = target.version
    if "version_info" in cfg.values:
        old = cfg.values["version_info"]
        updates["version_info"] = (
            f"{target.version}.final.0" if old.count(".") >= 3 else target.version
        )
    if "executable" in cfg.values:
        updates["executable"] = str(target.real)
    if "base-executable" in cfg.values:
        updates["base-executable"] = str(target.path)
    prefix = str(target.real.parent.parent)
    for key in ("base-prefix", "base-exec-prefix"):
        if key in cfg.values:
            updates[key] = prefix
    return updates


def _rewrite_cfg(venv: Venv, target: Target, undo: Undo) -> list[str]:
    if venv.cfg is None:
        return []
    path = venv.path / "pyvenv.cfg"
    updates = cfg_updates(venv.cfg, target)
    undo.files[path] = path.read_bytes()
    atomic_write(path, venv.cfg.with_values(updates), mode=path.stat().st_mode & 0o7777)
    return sorted(updates)


def _fix_scripts(venv: Venv, undo: Undo) -> list[str]:
    """Point scripts that start a dead interpreter outside the venv at bin/python."""
    own_bin = str(venv.path / "bin")
    python = venv.path / "bin" / "python"
    fixed = []
    for script in venv.scripts:
        interp = script.interpreter
        if os.path.dirname(interp) == own_bin or os.path.exists(interp):
            continue
        data = script.script.read_bytes()
        undo.files[script.script] = data
        new = data.replace(os.fsencode(interp), os.fsencode(python), 1)
        atomic_write(script.script, new, mode=script.script.stat().st_mode & 0o7777)
        fixed.append(script.script.name)
    return fixed


def compiled_module(site_packages: tuple[Path, ...]) -> str | None:
    """A dotted module name backed by a compiled extension, to prove the ABI still fits."""
    for site in site_packages:
        for root, dirs, files in os.walk(site):
            dirs[:] = [
                d
                for d in dirs
                if d.isidentifier() and d not in ("pip", "setuptools", "_distutils_hack")
            ]
            for name in sorted(files):
                if name.endswith(".so") and not root.endswith("tests"):
                    rel = Path(root).relative_to(site) / name.split(".")[0]
                    dotted = ".".join(rel.parts)
                    if all(p.isidentifier() for p in rel.parts):
                        return dotted
    return None


def verify(
    venv_path: Path,
    minor: str,
    module: str | None,
    run: Runner = runner.run,
    site_packages: tuple[Path, ...] = (),
) -> str | None:
    """None when the venv's interpreter starts as ``minor``, inside the venv, sees
    its ``site_packages`` and imports ``module``; otherwise why not.

    One start of the interpreter checks all that the deep probe would, so a
    verified relink needs no second start to be called healthy.
    """
    code = (
        "import sys, os; v = sys.version_info; "
        "print('%d.%d' % (v[0], v[1])); print(os.path.realpath(sys.prefix)); "
        "print(os.pathsep.join(os.path.realpath(p) for p in sys.path if p.endswith('site-packages')))"
        + (f"; import {module}" if module else "")
    )
    try:
        done = run([venv_path / "bin" / "python", "-c", code], timeout=VERIFY_TIMEOUT)
    except CommandError as exc:
        return exc.message
    if not done.ok:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"bin/python exits with code {done.returncode}: {lines[-1] if lines else ''}"
    out = done.stdout.splitlines()
    if not out or out[0].strip() != minor:
        return f"bin/python runs Python {out[0] if out else '?'}, expected {minor}"
    if len(out) > 1 and out[1] != os.path.realpath(venv_path):
        return f"bin/python does not run inside the venv (sys.prefix = {out[1]})"
    seen = set(out[2].split(os.pathsep)) if len(out) > 2 else set()
    if site_packages and not any(os.path.realpath(p) in seen for p in site_packages):
        return f"bin/python does not see {venv_path}'s site-packages"
    return None


def relink(venv: Venv, target: Target, run: Runner = runner.run) -> RelinkResult:
    """Relink ``venv`` to ``target``; on a failed check, restore what was there."""
    undo = Undo()
    try:
        links = _relink_bin(venv, target, undo)
        keys = _rewrite_cfg(venv, target, undo)
        scripts = _fix_scripts(venv, undo)
    except OSError as exc:
        undo.restore()
        return RelinkResult(False, (), (), (), f"relink failed: {exc}")
    module = compiled_module(venv.site_packages)
    problem = verify(venv.path, target.minor, module, run, venv.site_packages)
    if problem:
        undo.restore()
        return RelinkResult(False, tuple(links), tuple(keys), tuple(scripts), problem)
    return RelinkResult(True, tuple(links), tuple(keys), tuple(scripts))
