"""Preflight: what happens to a venv's recorded requirements on another Python, asked of
uv's resolver (with the pip index settings a rebuild uses) without touching the venv.

Per venv: the exact pins resolve for the target (ready); or they do once some packages
move, preferring the current pins for every other one (needs upgrades); or nothing
resolves (blocked). A package the resolution can only get as an sdist needs a build.
When uv cannot answer (offline, an index error) the venv is ``unresolved`` with uv's
own words.
"""

from __future__ import annotations

import enum
import re
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from venv_doctor.install.pip_config import UvOptions
from venv_doctor.runner import Completed, Runner

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


class Verdict(enum.StrEnum):
    READY = "ready"
    NEEDS_UPGRADES = "needs-upgrades"
    BLOCKED = "blocked"
    UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class Change:
    name: str
    old: str
    new: str | None  # None: no longer needed


@dataclass(frozen=True)
class Preflight:
    verdict: Verdict
    python: str
    changes: tuple[Change, ...] = ()
    builds: tuple[str, ...] = ()  # packages that only come as an sdist: a build is needed
    message: str | None = None  # uv's reason when blocked or unresolved
    pins: tuple[str, ...] = field(default=(), repr=False)  # the resolution, name==version

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "python": self.python,
            "changes": [{"name": c.name, "from": c.old, "to": c.new} for c in self.changes],
            "builds": list(self.builds),
            "message": self.message,
        }


def pins(lines: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        match = _PIN.match(line.strip())
        if match:
            out[canonicalize_name(match.group(1))] = match.group(2)
    return out


@dataclass(frozen=True)
class Resolver:
    """``uv pip compile`` for one target Python, with the rebuild's index options."""

    uv: Path
    python: str
    options: UvOptions
    runner: Runner
    workdir: Path
    env: Mapping[str, str] = field(repr=False)  # uv runs in it (the Context's)

    def compile(
        self, lines: Sequence[str], prefer: Sequence[str] = (), lock: bool = False
    ) -> Completed:
        source = self.workdir / "requirements.in"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        args: list[str | Path] = [self.uv, "pip", "compile", "--quiet", "--no-header"]
        args += ["--python-version", self.python, *self.options.args]
        if lock:
            args += ["--format", "pylock.toml"]
        if prefer:  # uv prefers the versions already in the output file
            output = self.workdir / "preferred.txt"
            output.write_text("\n".join(prefer) + "\n", encoding="utf-8")
            args += ["--output-file", output]
        extra = dict(self.options.env)
        return self.runner([*args, source], env=self.env, extra=extra, timeout=300)


def _why(done: Completed) -> str:
    text = (done.stderr or done.stdout).strip()
    causes = [
        ln.strip()
        for ln in text.splitlines()
        if ln.strip().startswith(("cause:", "╰─▶", "Because"))
    ]
    return (
        (causes[0].removeprefix("cause:").strip() if causes else text.splitlines()[0])
        if text
        else (f"uv exited with status {done.returncode}")
    )


def _unsolvable(done: Completed) -> bool:
    return "No solution found" in done.stderr or "unsatisfiable" in done.stderr


def _builds(lock_text: str) -> tuple[str, ...]:
    try:
        data = tomllib.loads(lock_text)
    except tomllib.TOMLDecodeError:
        return ()
    packages = data.get("packages", [])
    return tuple(
        sorted(
            str(p.get("name"))
            for p in packages
            if isinstance(p, dict) and p.get("sdist") and not p.get("wheels")
        )
    )


def _changes(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[Change, ...]:
    return tuple(
        Change(name, old[name], new.get(name)) for name in sorted(old) if new.get(name) != old[name]
    )


def preflight(resolver: Resolver, lines: Sequence[str]) -> Preflight:
    """The verdict for one venv's requirement ``lines`` (as ``requirements`` renders them)."""
    exact = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    done = resolver.compile(exact, lock=True)
    if done.ok:
        return Preflight(
            Verdict.READY, resolver.python, builds=_builds(done.stdout), pins=tuple(exact)
        )
    if not _unsolvable(done):
        return Preflight(Verdict.UNRESOLVED, resolver.python, message=_why(done))
    names = [_unpinned(ln) for ln in exact]
    moved = resolver.compile(names, prefer=exact)
    if not moved.ok:
        verdict = Verdict.BLOCKED if _unsolvable(moved) else Verdict.UNRESOLVED
        return Preflight(
            verdict, resolver.python, message=_why(done if _unsolvable(moved) else moved)
        )
    resolved = (resolver.workdir / "preferred.txt").read_text(encoding="utf-8")
    new_pins = [m.group(0) for ln in resolved.splitlines() if (m := _PIN.match(ln))]
    locked = resolver.compile(new_pins, lock=True)
    builds = _builds(locked.stdout) if locked.ok else ()
    changes = _changes(pins(exact), pins(new_pins))
    return Preflight(Verdict.NEEDS_UPGRADES, resolver.python, changes, builds, pins=tuple(new_pins))


def _unpinned(line: str) -> str:
    match = _PIN.match(line.strip())
    return match.group(1) if match else line


def scratch(cache: Path) -> tempfile.TemporaryDirectory[str]:
    """A scratch directory under venv-doctor's cache (never a stray one in /tmp)."""
    cache.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix="preflight-", dir=cache)
