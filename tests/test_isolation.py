"""The isolation guard itself: the real pyenv root may be read by tests, never written."""

from __future__ import annotations

import os
from pathlib import Path

from tests import conftest
from tests.support import REAL_HOME, REAL_PYENV_ROOT


def test_reading_the_real_pyenv_root_is_allowed_and_writing_it_is_not() -> None:
    python = REAL_PYENV_ROOT / "versions"
    assert conftest._outside_allowed(python, writes=False) is None
    assert conftest._outside_allowed(python / "x.log", writes=True) == str(python / "x.log")


def test_the_real_home_is_neither_read_nor_written() -> None:
    elsewhere = REAL_HOME / "not-pyenv"
    assert conftest._outside_allowed(elsewhere, writes=False) == str(elsewhere)


def test_an_open_writes_when_its_mode_or_flags_say_so() -> None:
    assert not conftest._writes("open", ("/p", "r", os.O_RDONLY))
    assert not conftest._writes("open", ("/p", "rb", os.O_RDONLY | os.O_CLOEXEC))
    assert conftest._writes("open", ("/p", "a", os.O_WRONLY | os.O_APPEND | os.O_CREAT))
    assert conftest._writes("open", ("/p", None, os.O_RDWR))
    assert conftest._writes("open", ("/p", "r+", os.O_RDWR))
    assert not conftest._writes("os.scandir", ("/p",))
    assert conftest._writes("os.mkdir", ("/p",))


def test_removing_a_link_that_points_into_the_pyenv_root_is_allowed(tmp_path: Path) -> None:
    link = tmp_path / "python3"
    link.symlink_to(REAL_PYENV_ROOT / "versions")
    assert conftest._outside_allowed(link, writes=True, follows=False) is None
    assert conftest._outside_allowed(link, writes=True) is not None
