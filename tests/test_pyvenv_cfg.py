"""pyvenv.cfg as CPython venv, virtualenv 20+ and uv write it, and as it gets damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import make_venv, real_python
from venv_doctor.model import pyvenv_cfg
from venv_doctor.model.pyvenv_cfg import minor_of, parse

CPYTHON_312 = """\
home = /opt/homebrew/opt/python@3.12/bin
include-system-site-packages = false
version = 3.12.1
prompt = 'my project'
executable = /opt/homebrew/Cellar/python@3.12/3.12.1/Frameworks/Python.framework/Versions/3.12/bin/python3.12
command = /opt/homebrew/opt/python@3.12/bin/python3.12 -m venv --prompt "my project" /Users/a/.venvs/p
"""

VIRTUALENV = """\
home = /usr/bin
implementation = CPython
version_info = 3.11.4.final.0
virtualenv = 20.26.3
include-system-site-packages = true
base-prefix = /usr
base-exec-prefix = /usr
base-executable = /usr/bin/python3.11
prompt = proj
"""

UV = """\
home = /home/a/.local/share/uv/python/cpython-3.12.4-linux-x86_64-gnu/bin
implementation = CPython
uv = 0.4.18
version_info = 3.12.4
include-system-site-packages = false
prompt = my-tool
relocatable = false
seed = false
"""


def test_cpython_cfg_keys_and_quoted_prompt() -> None:
    cfg = parse(CPYTHON_312)
    assert cfg.creator == "venv"
    assert cfg.home == "/opt/homebrew/opt/python@3.12/bin"
    assert cfg.version == "3.12.1"
    assert cfg.minor == "3.12"
    assert cfg.prompt == "my project"
    assert cfg.include_system_site_packages is False
    assert (cfg.get("executable") or "").endswith("/bin/python3.12")
    assert cfg.garbage == ()


def test_virtualenv_cfg_version_info_and_system_site() -> None:
    cfg = parse(VIRTUALENV)
    assert cfg.creator == "virtualenv"
    assert cfg.version == "3.11.4"  # from version_info, without ".final.0"
    assert cfg.include_system_site_packages is True
    assert cfg.get("base-executable") == "/usr/bin/python3.11"
    assert cfg.prompt == "proj"


def test_uv_cfg_has_no_version_key_and_a_bare_prompt() -> None:
    cfg = parse(UV)
    assert cfg.creator == "uv"
    assert "version" not in cfg.values
    assert cfg.version == "3.12.4"
    assert cfg.prompt == "my-tool"
    assert cfg.get("seed") == "false"  # unknown keys are kept


def test_version_key_wins_over_version_info() -> None:
    cfg = parse("home = /x\nversion = 3.10.2\nversion_info = 3.10.2.final.0\n")
    assert cfg.version == "3.10.2"


def test_two_part_version_is_kept_as_recorded() -> None:
    assert parse("version = 3.8\n").version == "3.8"


def test_keys_are_case_insensitive_and_the_first_one_counts() -> None:
    cfg = parse("Home = /first\nhome = /second\n")
    assert cfg.home == "/first"


def test_values_may_contain_equals_signs_and_spaces() -> None:
    cfg = parse("command = /usr/bin/python3 -m venv --prompt=a b /x\n")
    assert cfg.get("command") == "/usr/bin/python3 -m venv --prompt=a b /x"


def test_blank_and_comment_lines_are_not_garbage() -> None:
    cfg = parse("\n# made by hand\nhome = /usr/bin\n   \n")
    assert cfg.garbage == ()
    assert cfg.home == "/usr/bin"


def test_garbage_lines_are_numbered() -> None:
    cfg = parse("home = /usr/bin\nthis is not a key\n= no key\nversion = 3.12.1\n[section]\n")
    assert cfg.garbage == (2, 3, 5)
    assert cfg.version == "3.12.1"


def test_no_version_at_all() -> None:
    cfg = parse("home = /usr/bin\nversion = unknown\n")
    assert cfg.version is None
    assert cfg.minor is None


def test_with_values_changes_only_the_keys_asked_and_appends_new_ones() -> None:
    cfg = parse(UV)
    text = cfg.with_values({"home": "/new/bin", "version_info": "3.12.5", "extra": "1"})
    lines = text.splitlines()
    assert lines[0] == "home = /new/bin"
    assert lines[3] == "version_info = 3.12.5"
    assert lines[-1] == "extra = 1"
    assert [ln for ln in lines if ln.startswith(("relocatable", "seed", "prompt"))] == [
        "prompt = my-tool",
        "relocatable = false",
        "seed = false",
    ]
    assert parse(text).home == "/new/bin"


@pytest.mark.parametrize(
    ("version", "minor"),
    [("3.12.1", "3.12"), ("3.8", "3.8"), ("2.7.18", "2.7"), ("3.13.0rc1", "3.13"), (None, None)],
)
def test_minor_of(version: str | None, minor: str | None) -> None:
    assert minor_of(version) == minor


def test_read_rejects_non_utf8(tmp_path: Path) -> None:
    cfg = tmp_path / "pyvenv.cfg"
    cfg.write_bytes(b"home = /usr/bin\nprompt = caf\xe9\n")
    with pytest.raises(UnicodeDecodeError):
        pyvenv_cfg.read(cfg)


def test_read_rejects_binary_data(tmp_path: Path) -> None:
    cfg = tmp_path / "pyvenv.cfg"
    cfg.write_bytes(b"\x00" * 64 + b"home = /usr/bin\n")
    with pytest.raises(ValueError, match="binary"):
        pyvenv_cfg.read(cfg)


@pytest.mark.parametrize(
    ("minor", "creator", "expected"),
    [
        ("3.8", "venv", "venv"),
        ("3.12", "venv", "venv"),
        ("3.12", "virtualenv", "virtualenv"),
        ("3.12", "uv", "uv"),
    ],
)
def test_real_cfgs(tmp_path: Path, minor: str, creator: str, expected: str) -> None:
    python = real_python(minor)
    venv = make_venv(python, tmp_path / "v", creator=creator, prompt="p q")
    cfg = pyvenv_cfg.read(venv / "pyvenv.cfg")
    assert cfg.creator == expected
    assert cfg.minor == minor
    assert cfg.version is not None and cfg.version.count(".") == 2
    assert cfg.home == str(python.parent)
    assert cfg.prompt == "p q"
    assert cfg.garbage == ()
