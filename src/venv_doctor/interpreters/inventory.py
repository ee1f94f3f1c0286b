"""The inventory of every CPython on the machine, and choosing one for a venv.

Built on the layouts (where interpreters live, which path is most stable) and
the probe (what version a binary is, cached); repair and ``interpreters`` use it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.config import Config
from venv_doctor.errors import UsageError
from venv_doctor.interpreters.layouts import (
    CANDIDATE_NAME,
    InstallKind,
    candidates,
    inside_venv,
    installation_of,
    stability,
    stable_path_for,
)
from venv_doctor.interpreters.probe import (
    ProbeCache,
    cpython_version,
    looks_like_binary,
)
from venv_doctor.model.venv import Venv
from venv_doctor.paths import app_dirs, expand_user, home
from venv_doctor.render.words import listed

SOURCES = ("homebrew", "pyenv", "uv", "framework", "system", "extra", "path")
_SPEC = re.compile(r"^(?:c?python-?|py)?(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class Interpreter:
    """A CPython on this machine and the most stable path that reaches it."""

    path: Path  # what a venv should link to
    real: Path  # os.path.realpath of path
    version: str  # "3.12.1"
    source: str  # one of SOURCES

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(x) for x in self.version.split("."))


def describe(
    path: Path,
    source: str = "path",
    *,
    env: Mapping[str, str],
    cache: ProbeCache | None = None,
) -> Interpreter | None:
    """The Interpreter at ``path``, or None when it is not a working CPython."""
    if not os.path.isfile(path) or inside_venv(path):
        return None
    real = Path(os.path.realpath(path))
    if not CANDIDATE_NAME.match(real.name) or not looks_like_binary(real):
        return None
    cache = cache or ProbeCache(app_dirs(env).interpreters_cache)
    version = cpython_version(Path(path), real, cache, env)
    if version is None:
        return None
    stable = stable_path_for(Path(path), env)
    if os.path.realpath(stable) != str(real):
        stable = Path(os.path.abspath(path))  # e.g. an old keg kept beside a newer one
    return Interpreter(path=stable, real=real, version=version, source=source)


# --- the inventory ---------------------------------------------------------------------


def inventory(
    config: Config, env: Mapping[str, str], probe_cache: Path | None = None
) -> list[Interpreter]:
    """Every CPython on the machine, once each (by file identity), by version."""
    cache = ProbeCache(probe_cache or app_dirs(env).interpreters_cache)
    best: dict[tuple[int, int], Interpreter] = {}
    seen: set[str] = set()
    for path, source in candidates(config, env):
        if str(path) in seen:
            continue
        seen.add(str(path))
        found = describe(path, source, env=env, cache=cache)
        identity = _identity(found.real) if found else None
        if found is None or identity is None:
            continue
        kept = best.get(identity)
        if kept is None or stability(found.path) > stability(kept.path):
            best[identity] = found
    cache.save()
    return sorted(best.values(), key=lambda i: (i.version_tuple, str(i.path)))


def fingerprint(interpreters: Sequence[Interpreter]) -> str:
    """A short digest of which interpreters there are (version, real file): it differs
    once one was installed, upgraded or removed, so a failure recorded against it may
    have another outcome now."""
    text = "\n".join(sorted(f"{i.version} {i.real}" for i in interpreters))
    return hashlib.sha256(os.fsencode(text)).hexdigest()[:16]


def _identity(real: Path) -> tuple[int, int] | None:
    """Device and inode: hard links (python3.7 / python3.7m) are one interpreter."""
    try:
        st = os.stat(real)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


# --- choosing one ---------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """The interpreter a repair uses, and why it rather than the others of its minor."""

    interpreter: Interpreter
    why: str  # empty when there was only one


def choose(
    interpreters: Sequence[Interpreter], minor: str, previous: str | Path | None = None
) -> Choice | None:
    """The one rule for which interpreter of ``minor`` a repair uses (the planner calls
    it, and shows its ``why``): a path that survives the next upgrade (never a Homebrew
    keg or uv patch directory when anything else exists), then the same kind of
    installation as ``previous`` (the venv's old interpreter: a pyenv venv stays on
    pyenv, a Homebrew one on Homebrew), then the newest patch, then the most stable path."""
    same = [i for i in interpreters if i.minor == minor]
    if not same:
        return None
    kind = installation_of(previous).kind if previous else None
    kind = None if kind is InstallKind.OTHER else kind

    def key(i: Interpreter) -> _Rank:
        lasting = stability(i.path)
        same_kind = installation_of(i.path).kind == kind
        return ((int(lasting[0] > 0),), (int(same_kind),), i.version_tuple, lasting)

    best = max(same, key=key)
    others = {str(i.real): i for i in same if i.real != best.real}.values()
    return Choice(best, _why(best, list(others), kind, key))


_Rank = tuple[tuple[int, ...], ...]  # lasting path, same kind, version, stability


def _why(
    best: Interpreter,
    others: list[Interpreter],
    kind: InstallKind | None,
    key: Callable[[Interpreter], _Rank],
) -> str:
    """Why ``best`` and not the others: each part of the rank on which it beat one of
    them (the first is what told them apart), in the rank's order."""
    if not others:
        return ""
    said = (
        "a path the next upgrade keeps",
        f"a {kind.value if kind else ''} Python, as the venv had",
        f"the newest {best.minor}",
        "the path that lasts longest",
    )
    won = key(best)
    told: set[int] = set()
    for other in others:
        rank = key(other)
        told.update(n for n in range(len(won)) if won[n] > rank[n])
    reasons = [said[n] for n in sorted(told)] or [said[-1]]  # equal ranks: the first found
    shown = listed([f"{o.path} ({o.version})" for o in others], 3)
    return f"{' and '.join(reasons)}; also found: {shown}"


def best_for(
    interpreters: Sequence[Interpreter], minor: str, previous: str | Path | None = None
) -> Interpreter | None:
    """The interpreter of ``minor`` a repair uses (see ``choose``)."""
    choice = choose(interpreters, minor, previous)
    return choice.interpreter if choice else None


def resolve_spec(
    spec: str, interpreters: Sequence[Interpreter], env: Mapping[str, str]
) -> Interpreter:
    """``--python``: "3.13", "3.13.0", "python3.13" or a path to an interpreter
    (``env`` for a path none of ``interpreters`` is: it is probed)."""
    text = spec.strip()
    if os.sep in text or text.startswith(("~", ".")):
        return _resolve_path(expand_user(text, home(env)), interpreters, env)
    match = _SPEC.match(text)
    if not match:
        raise UsageError(
            f"--python {spec}: expected a version such as 3.12 or 3.12.1, or a path",
            hint=_what_exists(interpreters),
        )
    major, minor, patch = match.groups()
    wanted = f"{major}.{minor}"
    if patch is None:
        found = best_for(interpreters, wanted)
    else:
        wanted = f"{wanted}.{patch}"
        exact = [i for i in interpreters if i.version == wanted]
        found = max(exact, key=lambda i: stability(i.path)) if exact else None
    if found is None:
        raise UsageError(
            f"no CPython {wanted} found on this machine", hint=_what_exists(interpreters)
        )
    return found


def _resolve_path(
    path: Path, interpreters: Sequence[Interpreter], env: Mapping[str, str]
) -> Interpreter:
    real = os.path.realpath(path)
    for interpreter in interpreters:
        if str(interpreter.real) == real:
            return interpreter  # reached by its most stable path
    if inside_venv(Path(os.path.abspath(path))):
        raise UsageError(
            f"{path} is the interpreter of a virtual environment",
            hint="give the base interpreter it was made from (`venv-doctor interpreters` lists them)",
        )
    found = describe(path, "path", env=env)
    if found is None:
        raise UsageError(
            f"{path}: not a working CPython interpreter", hint=_what_exists(interpreters)
        )
    return found


def _what_exists(interpreters: Sequence[Interpreter]) -> str:
    if not interpreters:
        return "no CPython interpreter was found; add one to [interpreters] extra in config.toml"
    listed = ", ".join(f"{i.version} ({i.path})" for i in interpreters)
    return f"found: {listed}"


Neighbourhood = dict[Path, Interpreter | None]


def neighbours(
    venv: Venv, env: Mapping[str, str], memo: Neighbourhood | None = None
) -> list[Interpreter]:
    """Interpreters found from where a venv's links lead, even dangling ones.

    A keg removed by ``brew upgrade`` still names its prefix, and
    ``$PREFIX/opt/python@X.Y`` reaches the upgraded keg, whether or not
    HOMEBREW_PREFIX is set (a Homebrew in a custom prefix, the daemon under
    systemd); the same goes for uv's minor-version directories.

    ``memo`` (hop -> what it leads to) is shared by the venvs of one command or
    one batch: a hundred venvs broken by one upgrade share their dangling link.
    """
    memo = {} if memo is None else memo
    found: dict[Path, Interpreter] = {}
    for py in venv.pythons:
        for hop in py.chain.hops:
            if hop.parent == venv.path / "bin":
                continue
            if hop not in memo:
                memo[hop] = _neighbour(hop, env)
            described = memo[hop]
            if described is not None and described.path not in found:
                found[described.path] = described
    return list(found.values())


def _neighbour(hop: Path, env: Mapping[str, str]) -> Interpreter | None:
    stable = stable_path_for(hop, env)
    if stable == hop or not stable.exists():
        return None
    return describe(stable, "stable", env=env)
