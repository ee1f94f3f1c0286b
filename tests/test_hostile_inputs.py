"""Property-based: generated and mutated pyvenv.cfg, METADATA, RECORD, direct_url.json,
config.toml and state-DB rows through the real CLI (in process: a hang would be a
deadline failure, and the FIFO/device cases live in test_safe_reads with a timeout).

Every run: no exit 70, no traceback, no run longer than a few seconds, and every error
or warning names its file. Example counts are small (the "hostile" profile) so the
module stays fast; CI can raise them with HYPOTHESIS_PROFILE=hostile-long.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import make_venv, real_python
from venv_doctor.cli import run
from venv_doctor.paths import app_dirs

settings.register_profile(
    "hostile",
    max_examples=12,
    deadline=5000,  # ms: "no run longer than a few seconds"
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI failures reproduce
)
settings.register_profile("hostile-long", settings.get_profile("hostile"), max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "hostile"))

# --- strategies ------------------------------------------------------------------------------

CFG_KEYS = (
    *("home", "version", "version_info", "include-system-site-packages", "prompt"),
    *("executable", "command", "uv", "virtualenv", "implementation", "base-prefix"),
)
text_value = st.text(max_size=40)
cfg_line = st.one_of(
    st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(CFG_KEYS), text_value),
    st.builds(lambda k, v: f"{k}={v}", text_value, text_value),
    text_value,
)
cfg_text = st.lists(cfg_line, max_size=12).map("\n".join)


def encoded(texts: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """Text as UTF-8, or as bytes that may not be UTF-8 at all."""
    return st.one_of(
        texts.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=300)
    )


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """A real file with a few bytes flipped, cut or inserted."""

    def apply(edits: list[tuple[int, int, int]]) -> bytes:
        data = bytearray(seed)
        for kind, where, byte in edits:
            at = where % (len(data) + 1)
            if kind == 0 and at < len(data):
                data[at] = byte
            elif kind == 1:
                data.insert(at, byte)
            else:
                del data[at : at + byte % 8]
        return bytes(data)

    edit = st.tuples(st.integers(0, 2), st.integers(0, 1 << 16), st.integers(0, 255))
    return st.lists(edit, min_size=1, max_size=6).map(apply)


HEADERS = ("Metadata-Version", "Name", "Version", "Requires-Dist", "Summary")
metadata_text = st.lists(
    st.one_of(
        st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(HEADERS), text_value), text_value
    ),
    max_size=10,
).map(lambda lines: "\n".join(lines) + "\n\n")
record_text = st.lists(st.lists(text_value, max_size=4).map(",".join), max_size=10).map("\n".join)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text_value)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(text_value, inner, max_size=4)
    ),
    max_leaves=12,
)
direct_url = st.one_of(
    st.fixed_dictionaries(
        {"url": st.one_of(text_value, st.just("https://u:p@h/x?token=t"), json_value)},
        optional={
            "vcs_info": json_value,
            "dir_info": json_value,
            "archive_info": json_value,
            "subdirectory": json_value,
        },
    ).map(json.dumps),
    json_value.map(json.dumps),
    st.integers(1, 20_000).map(lambda depth: '{"url": ' + "[" * depth + "]" * depth + "}"),
)

SECTIONS = ("stores", "interpreters", "snapshot", "repair", "watch", "scan", "notify", "nope")
KEYS = (
    *("extra", "keep_credentials", "auto", "installer", "keep_backups_days"),
    *("debounce_seconds", "max_wait_seconds", "interval_hours", "backends", "command"),
)
toml_value = st.one_of(
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    text_value.map(json.dumps),  # a JSON string is (mostly) a TOML basic string
    st.lists(text_value.map(json.dumps), max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.sampled_from(['["~nosuchuser/x"]', '["a\\u0000b"]', '"\\udc80"', "[[[[[1]]]]]"]),
)
config_text = st.lists(
    st.one_of(
        st.sampled_from(SECTIONS).map(lambda s: f"[{s}]"),
        st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(KEYS), toml_value),
        text_value,
    ),
    max_size=10,
).map("\n".join)

# --- the venv under test ---------------------------------------------------------------------


@pytest.fixture
def venv(isolated_home: Path) -> Path:
    path = make_venv(real_python("3.12"), isolated_home / ".multivenv" / "target")
    info = next(path.glob("lib/python*/site-packages")) / "victim-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: victim\nVersion: 1.0\n\n")
    (info / "RECORD").write_text("victim/__init__.py,,\nvictim-1.0.dist-info/METADATA,,\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "direct_url.json").write_text('{"url": "file:///src/victim", "dir_info": {}}')
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    assert code != 70, (args, out, err)
    assert "Traceback" not in out + err, (args, err)
    return code, out, err


# --- properties ------------------------------------------------------------------------------


@given(data=st.one_of(encoded(cfg_text), st.data()))
def test_any_pyvenv_cfg(venv: Path, capsys: pytest.CaptureFixture[str], data: object) -> None:
    cfg = venv / "pyvenv.cfg"
    if isinstance(data, bytes):
        raw = data
    else:
        seed = (venv.parent / ".seed").read_bytes() if (venv.parent / ".seed").exists() else None
        if seed is None:
            seed = cfg.read_bytes()
            (venv.parent / ".seed").write_bytes(seed)
        raw = data.draw(mutated(seed))  # type: ignore[attr-defined]
    cfg.write_bytes(raw)
    _, out, _ = cli(capsys, "check", "--json")
    (found,) = json.loads(out)["venvs"]
    for finding in found["findings"]:
        if finding["code"].startswith("cfg-"):
            assert str(cfg) in finding["message"] or "pyvenv.cfg" in finding["message"]
    cli(capsys, "check")


def _dist_file(venv: Path, name: str) -> Path:
    return next(venv.glob("lib/python*/site-packages")) / "victim-1.0.dist-info" / name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("METADATA", encoded(metadata_text)),
        ("RECORD", encoded(record_text)),
        ("direct_url.json", encoded(direct_url)),
        ("INSTALLER", st.binary(max_size=600)),
    ],
)
def test_any_dist_info_file(
    venv: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: st.SearchStrategy[bytes],
) -> None:
    path = _dist_file(venv, name)

    @given(raw=content)
    def check(raw: bytes) -> None:
        path.write_bytes(raw)
        cli(capsys, "check")
        code, out, err = cli(capsys, "requirements", "target", "--source", "disk", "--json")
        assert code == 0, err
        for warning in json.loads(out)["warnings"]:
            assert str(venv) in warning, warning
        code, out, err = cli(capsys, "requirements", "target", "--source", "disk")
        assert all(line.startswith("#") or "\n" not in line for line in out.split("\n"))

    check()


@given(text=encoded(config_text))
def test_any_config_toml(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], text: bytes
) -> None:
    config = app_dirs(os.environ).config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_bytes(text)
    code, _, err = cli(capsys, "paths")
    assert code in (0, 2), err
    if code == 2:
        assert str(config) in err, err


VALUES = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    text_value,
    st.binary(max_size=20),
    st.sampled_from(["", "/", "/gone/x", "2024-01-01T00:00:00+00:00", "[" * 3000, "{}", "[]"]),
    st.sampled_from(["committed", "rolled_back", "begin", "moving", "rebuild", "restore"]),
)
TABLES = {
    "venvs": 9,
    "snapshots": 7,
    "packages": 2,
    "snapshot_packages": 4,
    "events": 6,
}


@given(table=st.sampled_from(sorted(TABLES)), data=st.data())
def test_any_state_db_row(
    venv: Path, capsys: pytest.CaptureFixture[str], table: str, data: st.DataObject
) -> None:
    cli(capsys, "check")  # a real database with real rows first
    row = data.draw(st.lists(VALUES, min_size=TABLES[table], max_size=TABLES[table]))
    conn = sqlite3.connect(app_dirs(os.environ).database)
    try:
        with conn:
            marks = ", ".join("?" * len(row))
            conn.execute(f"INSERT INTO {table} VALUES ({marks})", row)  # noqa: S608
    except sqlite3.Error:
        return  # a constraint refused it: nothing to read back
    finally:
        conn.close()
    for args in (["check"], ["history"], ["history", "--json"], ["requirements", "target"]):
        cli(capsys, *args)


@given(
    step=st.one_of(text_value, st.sampled_from(["begin", "moving", "moved", "creating"])),
    action=st.one_of(text_value, st.sampled_from(["rebuild", "restore", "recreate", "relink"])),
    venv_path=st.sampled_from(["", "relative", "/gone/venv", 7]),
    backup=st.sampled_from(["", "relative", "/gone/backup", None]),
    pgid=st.sampled_from([None, 0, 1, -5, "x"]),  # never a real group: recovery kills it
)
def test_any_journal_row(
    venv: Path,
    capsys: pytest.CaptureFixture[str],
    step: str,
    action: str,
    venv_path: object,
    backup: object,
    pgid: object,
) -> None:
    cli(capsys, "check")
    conn = sqlite3.connect(app_dirs(os.environ).database)
    try:
        with conn:
            conn.execute(
                "INSERT INTO journal (venv, backup, action, step, started_at, updated_at, pgid)"
                " VALUES (?, ?, ?, ?, 0, 0, ?)",
                (venv_path, backup, action, step, pgid),
            )
    except sqlite3.Error:
        return
    finally:
        conn.close()
    for args in (["check"], ["restore", "target", "--list"], ["gc", "--dry-run"]):
        cli(capsys, *args)
