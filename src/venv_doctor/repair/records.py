"""Keeping the owning tool's records true after a relink or rebuild.

pipx and uv record the interpreter a tool venv was made with. After venv-doctor
moves the venv onto another interpreter, ``pipx list`` would still say
"installed using Python 3.12.1", ``pipx list --json`` would export a spec
``pipx install-all`` cannot honour, and ``uv tool upgrade`` would ask for a
Python that is gone. Only the python is rewritten; every other field is kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

from venv_doctor.discover.owners import PIPX_METADATA, UV_RECEIPT, read_pipx_metadata
from venv_doctor.fsutil import SMALL_FILE, atomic_write, read_json, read_text_bounded
from venv_doctor.record.state import OwnerRecord

_TOOL_TABLE = re.compile(r"^\[tool\]\s*$")
_TABLE = re.compile(r"^\[")
_PYTHON_KEY = re.compile(r"^python\s*=")


def update(venv: Path, interpreter: Path, version: str) -> tuple[str, ...]:
    """Point the owner's records at ``interpreter`` (Python ``version``); what changed."""
    notes = []
    if (venv / PIPX_METADATA).is_file() and _pipx(venv, interpreter, version):
        notes.append(f"{venv / PIPX_METADATA} now names Python {version} at {interpreter}")
    if (venv / UV_RECEIPT).is_file() and _uv(venv, interpreter):
        notes.append(f"{venv / UV_RECEIPT} now names {interpreter}")
    if _POETRY_SUFFIX.search(venv.name) and (venv.parent / POETRY_ENVS).is_file():
        # a stale patch there makes `poetry env use` delete and recreate the env
        notes.extend(_poetry_envs(venv, version, only_if_listed=True))
    return tuple(notes)


def _pipx(venv: Path, interpreter: Path, version: str) -> bool:
    data = read_pipx_metadata(venv)
    if data is None:
        return False
    was = dict(data)
    data["python_version"] = f"Python {version}"
    if isinstance(data.get("source_interpreter"), dict) or "source_interpreter" in data:
        data["source_interpreter"] = {"__Path__": str(interpreter), "__type__": "Path"}
    if data == was:
        return False  # it names this interpreter already
    # pipx writes its metadata sorted, indented by four
    atomic_write(venv / PIPX_METADATA, json.dumps(data, indent=4, sort_keys=True))
    return True


def _uv(venv: Path, interpreter: Path) -> bool:
    """Rewrite ``python = ...`` in the receipt's ``[tool]`` table, line by line, so every
    other line (and uv's own formatting) stays; a receipt without one is left alone."""
    path = venv / UV_RECEIPT
    lines = read_text_bounded(path, SMALL_FILE).splitlines(keepends=True)
    in_tool = False
    for number, line in enumerate(lines):
        if _TABLE.match(line):
            in_tool = bool(_TOOL_TABLE.match(line))
        elif in_tool and _PYTHON_KEY.match(line):
            wanted = f"python = {json.dumps(str(interpreter))}\n"
            if line == wanted:
                return False  # it names this interpreter already
            lines[number] = wanted
            atomic_write(path, "".join(lines))
            return True
    return False


# --- a tool venv its owner uninstalled, recreated ---------------------------------------
def restore_files(
    venv: Path, kept: OwnerRecord, interpreter: Path, version: str
) -> tuple[str, ...]:
    """Put the owner's records kept of ``venv`` (``record.owner_records``) back into the
    recreated venv, naming ``interpreter``; what was done."""
    from venv_doctor.record.owner_records import PIPX_SHARED_PTH

    for name, text in kept.files.items():
        if name in (PIPX_METADATA, UV_RECEIPT):
            atomic_write(venv / name, text)
        elif name == PIPX_SHARED_PTH:  # pipx's pip backend: the app's pip is the shared one
            for site in venv.glob("lib/python*/site-packages"):
                atomic_write(site / name, text)
    names = ", ".join(sorted(kept.files))
    return (f"{names} put back as the owner had it", *update(venv, interpreter, version))


def restore_links(venv: Path, links: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """Make again the links to the recreated venv's apps that its owner had made outside
    it, where it had them. Idempotent (a recovered commit runs it again); a file there
    that is not a link into ``venv`` is never replaced."""
    inside = str(venv) + os.sep
    made, notes = [], []
    for link, target in links:
        wanted = os.path.normpath(os.path.join(os.path.dirname(link), target))
        if not wanted.startswith(inside):
            continue  # not a link into this venv: not ours to make
        if not os.path.lexists(wanted):
            notes.append(f"{link} was not made: the recreated venv has no {wanted}")
            continue
        if os.path.islink(link):
            current = os.path.normpath(os.path.join(os.path.dirname(link), os.readlink(link)))
            if current == wanted:
                continue
            if not current.startswith(inside):
                notes.append(f"{link} was left alone: it points to {current} now")
                continue
        elif os.path.lexists(link):
            notes.append(f"{link} was left alone: it is not a link into {venv}")
            continue
        _symlink(target, Path(link))
        made.append(link)
    if made:
        notes.insert(0, "made again as the owner had them: " + ", ".join(made))
    return tuple(notes)


def _symlink(target: str, link: Path) -> None:
    """``link`` -> ``target``, replacing a link there in one rename."""
    link.parent.mkdir(parents=True, exist_ok=True)
    temp = link.with_name(f".{link.name}.venv-doctor-{os.getpid()}")
    if os.path.lexists(temp):
        temp.unlink()
    temp.symlink_to(target)
    os.replace(temp, link)


# --- poetry and pdm name an env for its minor -----------------------------------------
# poetry 2.x: ``<name>-<8 chars of the project dir's sha256>-py3.12`` under
# ``virtualenvs.path``, the project's current minor in ``envs.toml`` there (one table per
# ``<name>-<hash>``: minor, patch); pdm: ``<dir name>-<8 chars of its md5>-3.12`` under
# ``venv.location``, the interpreter in the project's ``.pdm-python``.
POETRY_ENVS = "envs.toml"
PDM_PYTHON = ".pdm-python"
_POETRY_SUFFIX = re.compile(r"-py(\d+\.\d+)$")
_PDM_SUFFIX = re.compile(r"-(\d+\.\d+)$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def owner_name(venv: Path, store: str, minor: str) -> Path | None:
    """Where poetry or pdm keeps this env once it runs Python ``minor``; None when the
    name stays (another owner, a pdm venv named by the user, the same minor)."""
    pattern = {"poetry": _POETRY_SUFFIX, "pdm": _PDM_SUFFIX}.get(store)
    match = pattern.search(venv.name) if pattern else None
    if match is None or match.group(1) == minor:
        return None
    name = venv.name[: match.start(1)] + minor
    return venv.with_name(name)


def renamed(old: Path, new: Path) -> tuple[str, ...]:
    """Point poetry or pdm at the env rebuilt as ``new`` (it was ``old``); what changed.
    Idempotent: a recovered commit runs it again."""
    version = _version(new)
    if _POETRY_SUFFIX.search(new.name):
        return _poetry_envs(new, version)
    if _PDM_SUFFIX.search(new.name):
        return _pdm_python(old, new)
    return ()


def _version(venv: Path) -> str | None:
    from venv_doctor.model.pyvenv_cfg import read

    try:
        return read(venv / "pyvenv.cfg").version
    except (OSError, ValueError):
        return None


def _poetry_envs(new: Path, version: str | None, only_if_listed: bool = False) -> tuple[str, ...]:
    """Make ``new`` the project's current env in ``envs.toml``, as `poetry env use` does:
    poetry reads the minor there to name the env it uses, and recreates the env when the
    patch there is not the env's. ``only_if_listed``: a relink, which changes the patch of
    a table that is there and adds none."""
    match = _POETRY_SUFFIX.search(new.name)
    if match is None or version is None or version.count(".") != 2:
        return ()
    base, minor = new.name[: match.start()], match.group(1)
    path = new.parent / POETRY_ENVS
    try:
        envs = tomllib.loads(read_text_bounded(path, SMALL_FILE)) if path.exists() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return (f"{path} was left alone: {exc}; run `poetry env use {minor}` in the project",)
    wanted = {"minor": minor, "patch": version}
    listed = envs.get(base)
    if listed == wanted or (only_if_listed and (not listed or listed.get("minor") != minor)):
        return ()
    envs[base] = wanted
    text = _toml_tables(envs)
    if text is None:
        return (f"{path} holds more than poetry writes there; run `poetry env use {minor}`",)
    atomic_write(path, text)
    return (f"{path} now makes poetry use {new.name} (Python {version})",)


def _toml_tables(data: dict[str, object]) -> str | None:
    """envs.toml as poetry writes it (tables of strings), or None for anything else."""
    out = []
    for key, table in data.items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            return None
        name = key if _BARE_KEY.match(key) else json.dumps(key)
        out.append(f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items()))
    return "\n".join(out)


def _pdm_python(old: Path, new: Path) -> tuple[str, ...]:
    """Rewrite the project's ``.pdm-python`` when the project is known (an editable
    install of it in the env names its directory, and pdm's hash of that directory is in
    the env's name). Otherwise pdm repoints it itself: a saved interpreter that is gone
    makes it reuse the project's venv of a fitting minor, and save that one."""
    for root in _editable_roots(new):
        prefix = f"{root.name}-{_pdm_hash(root)}-"
        saved = root / PDM_PYTHON
        if not new.name.startswith(prefix) or not saved.is_file():
            continue
        try:
            named = read_text_bounded(saved, SMALL_FILE).strip()
        except (OSError, UnicodeDecodeError):
            continue
        if Path(named).parent.parent != old:
            return ()  # the project uses another interpreter now: not ours to change
        atomic_write(saved, (new / "bin" / "python").as_posix())
        return (f"{saved} now names {new / 'bin' / 'python'}",)
    return (f"pdm uses {new.name} from the project's next pdm command (it reuses the venv)",)


def _pdm_hash(root: Path) -> str:
    digest = hashlib.md5(root.as_posix().encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode()[:8]


def _editable_roots(venv: Path) -> list[Path]:
    """The directories the env's editable installs come from (PEP 610 ``direct_url.json``)."""
    from urllib.parse import unquote, urlparse

    roots = []
    for direct in venv.glob("lib/python*/site-packages/*.dist-info/direct_url.json"):
        try:
            data = read_json(direct)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        url = data.get("url") if isinstance(data, dict) else None
        editable = isinstance(data, dict) and (data.get("dir_info") or {}).get("editable")
        if editable and isinstance(url, str) and url.startswith("file://"):
            roots.append(Path(unquote(urlparse(url).path)))
    return roots
