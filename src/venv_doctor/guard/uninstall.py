"""What removing an interpreter installation would do to the venvs, said before it happens."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.context import Context
from venv_doctor.diagnose.scan import diagnose_all, read_venvs
from venv_doctor.interpreters.inventory import inventory
from venv_doctor.interpreters.usage import usage
from venv_doctor.model.venv import Venv
from venv_doctor.paths import home
from venv_doctor.render.sanitize import command
from venv_doctor.targets import all_locations


@dataclass(frozen=True)
class Impact:
    """The venvs a removal takes away (inside the prefix) and those it breaks."""

    prefix: Path
    vanish: tuple[Venv, ...]
    broken: tuple[Venv, ...]
    recorded: int  # venvs whose contents were snapshotted just now
    warnings: tuple[str, ...] = ()

    @property
    def venvs(self) -> tuple[Venv, ...]:
        return self.vanish + self.broken


def _inside(path: Path, prefix: Path) -> bool:
    real = os.path.realpath(prefix)
    return any(
        str(p) == str(root) or str(p).startswith(str(root).rstrip(os.sep) + os.sep)
        for p in (path, Path(os.path.realpath(path)))
        for root in (prefix, Path(real))
    )


def impact(ctx: Context, prefix: Path) -> Impact:
    """Which venvs need ``prefix``; snapshots each of them first (they may vanish)."""
    venvs = read_venvs(all_locations(ctx))
    found = inventory(ctx.config, ctx.env, ctx.dirs.interpreters_cache)
    use = usage(str(prefix), found, venvs, home_dir=home(ctx.env))
    needing = {d.venv.path: d.venv for d in use.venvs} if use else {}
    needing.update({v.path: v for v in venvs if _inside(v.path, prefix)})
    chosen = sorted(needing.values(), key=lambda v: (v.location.store, v.name, str(v.path)))
    recorded, warnings = _record(ctx, chosen)
    return Impact(
        prefix=prefix,
        vanish=tuple(v for v in chosen if _inside(v.path, prefix)),
        broken=tuple(v for v in chosen if not _inside(v.path, prefix)),
        recorded=recorded,
        warnings=warnings,
    )


def _record(ctx: Context, venvs: Sequence[Venv]) -> tuple[int, tuple[str, ...]]:
    if not venvs:
        return 0, ()
    from venv_doctor.record import snapshots

    result = snapshots.record(
        ctx.dirs, ctx.config, venvs, diagnose_all(venvs, ctx.env), env=ctx.env
    )
    return len(venvs), tuple(result.warnings)


def restore_command(impact: Impact) -> str:
    """The command that brings the venvs back once the version is gone."""
    names = [v.name for v in impact.venvs]
    unique = len(set(names)) == len(names) and all(n and not n.startswith("-") for n in names)
    targets = names if unique else [str(v.path) for v in impact.venvs]
    return command("venv-doctor", "repair", *targets)
