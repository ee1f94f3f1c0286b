"""Shell completion of venv names and store names (bash, zsh, fish through click).

A completion runs on every Tab, so it reads what is already written down (the
state database's registry of venvs and the tracked-venvs file) rather than
scanning the stores, and never fails: a problem means no suggestions.
"""

from __future__ import annotations

import os

import click
from click.shell_completion import CompletionItem


def venv_names() -> list[tuple[str, str]]:
    """(name, path) of every venv venv-doctor has recorded or tracks."""
    from venv_doctor.discover import tracking
    from venv_doctor.paths import app_dirs
    from venv_doctor.record import state

    dirs = app_dirs(os.environ)
    found: dict[str, str] = {}
    if dirs.database.exists():
        records, _ = state.using(dirs, state.venv_records)
        found |= {str(path): r.name for path, r in records.items()}
    found |= {str(x.path): x.name for x in tracking.load(dirs.tracked_file)}
    return sorted((name, path) for path, name in found.items())


def store_names() -> list[str]:
    from venv_doctor import config
    from venv_doctor.discover import stores, tracking
    from venv_doctor.paths import app_dirs

    known = stores.known_stores(config.load(app_dirs(os.environ), os.environ), os.environ)
    return sorted({s.name for s in known} | {tracking.STORE})


def complete_venv(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Venv names; a word that looks like a path completes as a path."""
    if incomplete.startswith(("/", ".", "~")) or os.sep in incomplete:
        return [CompletionItem(incomplete, type="file")]
    try:
        names = venv_names()
    except Exception:  # completion must never print a traceback into the shell
        return []
    seen: set[str] = set()
    items = []
    for name, path in names:
        if name.startswith(incomplete) and name not in seen:
            seen.add(name)
            items.append(CompletionItem(name, help=path))
    return items


def complete_store(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    try:
        names = store_names()
    except Exception:  # completion must never print a traceback into the shell
        return []
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]
