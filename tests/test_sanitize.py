"""The one redaction function and the control-character escaping every boundary uses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from venv_doctor.render.sanitize import (
    json_encodable,
    printable,
    printable_lines,
    redact,
    redact_data,
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "`uv pip install --index-url https://u:pw@pypi.example.com/simple -r r.txt` failed",
            "`uv pip install --index-url https://u:****@pypi.example.com/**** -r r.txt` failed",
        ),
        ("-i https://pypi.fury.io/TOKEN123/me/", "-i https://pypi.fury.io/****"),
        ("--extra-index-url=https://h/s/", "--extra-index-url=https://h/****"),
        (
            "PIP_INDEX_URL=https://__token__:glpat@gitlab.com/x",
            "PIP_INDEX_URL=https://__token__:****@gitlab.com/****",
        ),
        (
            "index-url = https://h/simple (pip.conf [global])",
            "index-url = https://h/**** (pip.conf [global])",
        ),
        ("fetch https://h/x?access_token=abc&page=2", "fetch https://h/x?access_token=****&page=2"),
        ("https://h/x?sig=1;key=2", "https://h/x?sig=****;key=****"),
        ("git+https://ghp_abc@github.com/o/r", "git+https://****@github.com/o/r"),
        ("git+ssh://git@github.com/o/r", "git+ssh://git@github.com/o/r"),
        ("--find-links /opt/wheels", "--find-links /opt/wheels"),
        ("file:///home/me/pkg.whl", "file:///home/me/pkg.whl"),
        ("no URL here: a = b", "no URL here: a = b"),
        ("rel-f https://h/path", "rel-f https://h/path"),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown
    assert redact(shown) == shown  # idempotent: redacting twice changes nothing more


def test_redact_data_reaches_every_string_and_keeps_json_valid() -> None:
    data = {"a": ["https://u:s3cret@h/x", {"b": "?token=s3cret"}], "n": 1, "none": None}
    out = redact_data(data)
    assert "s3cret" not in json.dumps(out)
    assert out["n"] == 1 and out["none"] is None


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable("a\nb") == "a\\nb"
    assert printable("x\r\x1b[32mhealthy\x1b[0m") == "x\\r\\x1b[32mhealthy\\x1b[0m"
    assert printable("bad\udcffname") == "bad\\xffname"  # an undecodable byte of a file name
    assert printable("abc\u202edef") == "abc\\u202edef"
    assert printable("naïve ✓") == "naïve ✓"
    # one rule for every unprintable character: a C1 control or a no-break space is not
    # stripped nor shown as-is (it would look like its neighbour), and reads as in bash's $'...'
    assert printable("a\x85b\u00a0c\u200bd") == "a\\u0085b\\u00a0c\\u200bd"
    assert printable_lines("one\ntwo\x1b") == "one\ntwo\\x1b"


def test_json_encodable_round_trips_an_undecodable_name() -> None:
    text = json.dumps({"name": "bad\udcffname"}, ensure_ascii=False)
    safe = json_encodable(text)
    safe.encode("utf-8")  # would raise on a lone surrogate
    assert json.loads(safe) == {"name": "bad\udcffname"}


def test_cli_warnings_are_escaped_and_redacted() -> None:
    """A warning logged with no handler set (logging's last resort, which is where the
    CLI's warnings go) is made safe too: a venv named with a newline cannot forge a line,
    nor a URL leak its password."""
    program = (
        "import logging\n"
        "from venv_doctor.cli import run\n"
        "run(['--version'])\n"
        "logging.getLogger('venv_doctor.x').warning('no requirements for %s: %s',"
        " '/v/new\\nline', 'https://me:s3cret@index.example/simple')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.count("\n") == 1, done.stderr
    assert "new\\nline" in done.stderr
    assert "s3cret" not in done.stderr
