"""Console-script shebangs and the long-path ``'''exec'`` trampoline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import make_venv, pip_install, real_python
from venv_doctor.model import shebangs
from venv_doctor.model.shebangs import parse

SCRIPT = Path("/v/bin/tool")


def test_plain_shebang() -> None:
    found = parse(SCRIPT, b"#!/home/a/.venvs/x/bin/python\nimport sys\n")
    assert found == shebangs.Shebang(SCRIPT, "/home/a/.venvs/x/bin/python", "shebang")


def test_shebang_with_arguments_and_crlf() -> None:
    found = parse(SCRIPT, b"#!/v/bin/python3.12 -E\r\nimport sys\r\n")
    assert found is not None
    assert found.interpreter == "/v/bin/python3.12"


def test_pip_trampoline_with_double_quotes() -> None:
    head = (
        b"#!/bin/sh\n"
        b'\'\'\'exec\' "/very/long/path with space/bin/python" "$0" "$@"\n'
        b"' '''\n# -*- coding: utf-8 -*-\n"
    )
    found = parse(SCRIPT, head)
    assert found == shebangs.Shebang(SCRIPT, "/very/long/path with space/bin/python", "trampoline")


def test_uv_trampoline_with_single_quotes_and_non_ascii() -> None:
    head = b"#!/bin/sh\n'''exec' '/tmp/my venvs/caf\xc3\xa9 env/bin/python' \"$0\" \"$@\"\n' '''\n"
    found = parse(SCRIPT, head)
    assert found is not None
    assert found.form == "trampoline"
    assert found.interpreter == "/tmp/my venvs/café env/bin/python"


@pytest.mark.parametrize(
    "head",
    [
        b"#!/usr/bin/env python3\nimport sys\n",  # resolved through PATH: not tied to a venv
        b"#!/bin/sh\necho hello\n",  # a shell script
        b'#!/bin/bash\nexec foo "$@"\n',
        b"#!/usr/bin/perl\n",
        b"#!python\n",  # relative: not something we can judge
        b"\x7fELF\x02\x01\x01\x00",  # a binary
        b"",
        b"import sys\n",
    ],
)
def test_not_a_python_shebang(head: bytes) -> None:
    assert parse(SCRIPT, head) is None


def test_read_a_missing_file_is_none(tmp_path: Path) -> None:
    assert shebangs.read(tmp_path / "gone") is None


def test_read_a_trampoline_longer_than_512_bytes(tmp_path: Path) -> None:
    python = "/" + "/".join(["d" * 60] * 12) + "/bin/python"  # ~740 bytes
    script = tmp_path / "tool"
    script.write_text(f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\nimport sys\n")
    found = shebangs.read(script)
    assert found is not None
    assert found.interpreter == python


@pytest.mark.parametrize(
    ("where", "form"),
    [
        ("short", "shebang"),
        ("my venvs/café env", "trampoline"),
        ("x" * 130 + "/v", "trampoline"),
    ],
)
def test_scripts_written_by_a_real_installer(
    tmp_path: Path, wheelhouse: Path, where: str, form: str
) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / where)
    pip_install(venv, wheelhouse, "tinytop")
    found = shebangs.read(venv / "bin" / "tinytop")
    assert found is not None
    assert found.form == form
    assert found.interpreter == str(venv / "bin" / "python")
