"""Recording stand-ins for systemctl, journalctl and launchctl, put first on PATH.

Each stub appends its argv as one JSON line to ``$STUB_LOG`` and behaves like
the real tool as far as venv-doctor can see: ``systemctl --user enable`` links
the unit into its ``<target>.wants`` directory and ``disable`` removes the
link (leaving the directory, as systemctl does); ``launchctl bootstrap`` and
``bootout`` load and unload the agent. ``STUB_MODE=container`` makes
``systemctl --user`` fail the way it does without a user instance;
``STUB_FAIL=<verb>`` makes that verb fail.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.support import IN_CI

_COMMON = r"""
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a", encoding="utf-8") as fh:
    fh.write(json.dumps([Path(sys.argv[0]).name, *args]) + "\n")
if os.environ.get("STUB_FAIL") in args:
    print(f"stub: {os.environ['STUB_FAIL']} failed (as asked)", file=sys.stderr)
    sys.exit(1)
"""

_SYSTEMCTL = r"""
def unit_dir():
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.environ["HOME"], ".config")
    return Path(base) / "systemd" / "user"

if os.environ.get("STUB_MODE") == "container":
    if "is-system-running" in args:
        print("offline")
    else:
        print("Failed to connect to bus: No medium found", file=sys.stderr)
    sys.exit(1)
verb = [a for a in args if not a.startswith("-")][0]
units = [a for a in args if not a.startswith("-")][1:]
if verb == "is-system-running":
    print("running")
elif verb == "enable":
    for unit in units:
        path = unit_dir() / unit
        if not path.exists():
            print(f"Failed to enable unit: Unit file {unit} does not exist.", file=sys.stderr)
            sys.exit(1)
        wanted = [l.split("=", 1)[1].strip() for l in path.read_text().splitlines() if l.startswith("WantedBy=")]
        for target in wanted:
            wants = unit_dir() / f"{target}.wants"
            wants.mkdir(parents=True, exist_ok=True)
            if not (wants / unit).is_symlink():
                (wants / unit).symlink_to(path)
elif verb == "disable":
    for unit in units:
        for link in unit_dir().glob(f"*.wants/{unit}"):
            link.unlink()
elif verb == "show":
    unit = units[0]
    enabled = any(unit_dir().glob(f"*.wants/{unit}"))
    if (unit_dir() / unit).exists():
        print("LoadState=loaded")
        print(f"UnitFileState={'enabled' if enabled else 'disabled'}")
        print("ActiveState=active" if enabled else "ActiveState=inactive")
        print("SubState=running" if enabled else "SubState=dead")
        print("MainPID=4242" if enabled else "MainPID=0")
    else:
        print("LoadState=not-found\nUnitFileState=\nActiveState=inactive\nSubState=dead\nMainPID=0")
"""

_JOURNALCTL = r"""
print("Nov 25 10:00:01 host venv-doctor[4242]: watching 12 directories (native)")
print("Nov 25 10:00:02 host venv-doctor[4242]: full scan: 3 venvs, 3 healthy")
"""

_LAUNCHCTL = r"""
loaded = Path(os.environ["STUB_LOG"]).with_name("launchd-loaded")
verb = args[0]
if verb == "bootstrap":
    if not Path(args[2]).is_file():
        print(f"Bootstrap failed: 5: Input/output error", file=sys.stderr)
        sys.exit(5)
    loaded.write_text(args[2])
elif verb == "bootout":
    if not loaded.exists():
        print("Boot-out failed: 3: No such process", file=sys.stderr)
        sys.exit(3)
    loaded.unlink()
elif verb == "print":
    if not loaded.exists():
        print(f"Could not find service in domain", file=sys.stderr)
        sys.exit(113)
    print(f"{args[1]} = {{\n\tactive count = 1\n\tstate = running\n\tpid = 777\n}}")
"""


class Stubs:
    """The stub directory and what the stubs were asked to do."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.log = directory / "calls.jsonl"

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def commands(self) -> list[str]:
        return [" ".join(call) for call in self.calls()]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)


def _write(directory: Path, name: str, body: str) -> None:
    script = directory / name
    script.write_text(f"#!{sys.executable}\n{_COMMON}\n{body}", encoding="utf-8")
    script.chmod(0o755)


def install_stubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stubs:
    directory = tmp_path / "stub-bin"
    directory.mkdir()
    _write(directory, "systemctl", _SYSTEMCTL)
    _write(directory, "journalctl", _JOURNALCTL)
    _write(directory, "launchctl", _LAUNCHCTL)
    stubs = Stubs(directory)
    monkeypatch.setenv("STUB_LOG", str(stubs.log))
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("STUB_MODE", raising=False)
    monkeypatch.delenv("STUB_FAIL", raising=False)
    return stubs


def systemd_analyze() -> str:
    """systemd-analyze: CI must have it (fail there), elsewhere skip without it."""
    found = shutil.which("systemd-analyze")
    if found is None:
        if IN_CI:
            pytest.fail("systemd-analyze is missing: CI must verify the units")
        pytest.skip("systemd-analyze is not installed")
    return found
