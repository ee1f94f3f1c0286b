"""Human output on a real pseudo-terminal of 80 and 200 columns (issue 14).

A store of 15 venvs, 5 of them broken by a `pyenv uninstall`, some with console
scripts, is checked on a pty whose size is set with TIOCSWINSZ: the line count,
that no word is split where a space exists, that paths are whole (as ``~/...``),
and colour per --color, NO_COLOR and FORCE_COLOR.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support import add_console_script, clone_venv, make_venv, real_python
from tests.terminal import cut_at_a_space, plain, run_in_terminal

HEALTHY = [
    "black",
    "httpie",
    "ruff",
    "data-science-notebook",
    "mkdocs",
    "poetry",
    "pre-commit",
    "tox",
    "twine",
    "yt-dlp",
]
BROKEN = ["ansible-core", "awscli", "jupyterlab-environment-for-teaching", "sphinx", "cookiecutter"]


@pytest.fixture
def fifteen(isolated_home: Path) -> Path:
    """15 venvs in ~/.virtualenvs: 10 healthy, 5 whose pyenv 3.12.1 was uninstalled."""
    store = isolated_home / ".virtualenvs"
    first = make_venv(real_python("3.12"), store / HEALTHY[0])
    for name in HEALTHY[1:]:
        clone_venv(first, store / name)
    base = isolated_home / ".pyenv" / "versions" / "3.12.1" / "bin"
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    gone = make_venv(base / "python3.12", store / BROKEN[0])
    for name in BROKEN[1:]:
        clone_venv(gone, store / name)
    for name in BROKEN[:3]:
        add_console_script(store / name, name.split("-")[0])
    shutil.rmtree(base.parent)
    return store


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, **extra}


@pytest.mark.parametrize("columns", [80, 200])
def test_check_of_15_venvs_fits_and_never_splits_a_word(fifteen: Path, columns: int) -> None:
    out = plain(run_in_terminal(["check"], _env(), columns=columns))
    lines = out.rstrip("\n").splitlines()
    print(f"--- check at {columns} columns: {len(lines)} lines\n{out}")
    assert len(lines) < 30
    assert cut_at_a_space(lines, columns) == []
    assert "…" not in out
    for name in HEALTHY:  # healthy venvs: one line each
        assert sum(1 for line in lines if line.startswith("healthy") and f" {name} " in line) == 1
    for name in BROKEN:  # the path of each broken venv's missing interpreter, whole
        assert any(line.startswith("broken") and f" {name} " in line for line in lines)
    assert "~/.pyenv/versions/3.12.1/bin/python3.12" in out  # whole, home as ~
    assert out.count("venv-doctor repair --all") == 1  # one hint for the five, not one each
    assert lines[-1] == "15 venvs: 10 healthy, 5 broken"


@pytest.mark.parametrize("columns", [80, 200])
def test_list_is_aligned_with_home_as_tilde(fifteen: Path, columns: int) -> None:
    out = plain(run_in_terminal(["list"], _env(), columns=columns))
    lines = out.rstrip("\n").splitlines()
    assert cut_at_a_space(lines, columns) == []
    for name in HEALTHY + BROKEN:  # every path whole, on one line
        assert sum(1 for line in lines if line.endswith(f"~/.virtualenvs/{name}")) == 1
    if columns == 200:  # room for all: one aligned line each
        assert len(lines) == 15
        assert len({line.index("~/.virtualenvs/") for line in lines}) == 1
    else:  # a path that does not fit beside its name goes under it, whole
        assert len(lines) < 30


def test_quiet_shows_only_problems_and_nothing_when_healthy(isolated_home: Path) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "fine")
    assert plain(run_in_terminal(["-q", "check"], _env())) == ""
    assert plain(run_in_terminal(["check", "--quiet"], _env())) == ""
    assert "1 venv: 1 healthy" in plain(run_in_terminal(["check"], _env()))


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ([], {}, True),
        ([], {"NO_COLOR": "1"}, False),
        ([], {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (["--color", "always"], {"NO_COLOR": "1"}, True),  # the flag wins
        (["--color", "never"], {}, False),
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        ([], {"TERM": "dumb"}, False),
        ([], {"TERM": "dumb", "FORCE_COLOR": "1"}, True),
        ([], {"VENV_DOCTOR_COLOR": "never"}, False),
    ],
)
def test_colour_per_flag_and_variable(
    isolated_home: Path, args: list[str], env: dict[str, str], coloured: bool
) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "v")
    out = run_in_terminal([*args, "check"], _env(**env))
    assert ("\x1b[" in out) is coloured, out


@pytest.mark.parametrize(("args", "env"), [([], {"FORCE_COLOR": "1"}), (["--color=always"], {})])
def test_colour_forced_into_a_pipe(
    isolated_home: Path, args: list[str], env: dict[str, str]
) -> None:
    import subprocess
    import sys

    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "v")
    done = subprocess.run(
        [sys.executable, "-m", "venv_doctor", *args, "check"],
        capture_output=True,
        text=True,
        env=_env(**env),
        check=False,
    )
    assert "\x1b[32mhealthy" in done.stdout
    plain_run = subprocess.run(
        [sys.executable, "-m", "venv_doctor", "check"],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert "\x1b[" not in plain_run.stdout


def test_control_characters_in_a_name_are_shown_escaped(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from venv_doctor.cli import run

    name = "evil\x1b[2J\rname\nforged healthy"
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / name)
    assert run(["list"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    assert out.count("\n") == 1  # one venv, one line: a newline in the name forges none
    assert "evil\\x1b[2J\\rname\\nforged healthy" in out


def test_piped_check_wraps_at_columns_when_it_is_set(isolated_home: Path) -> None:
    """Off a terminal, COLUMNS (when set) is the width, as for most tools: a long
    finding and its hint wrap at spaces; without it a pipe gets whole lines."""
    import subprocess
    import sys

    name = "broken-when-pyenv-uninstalled-the-python-it-was-made-with"
    base = isolated_home / ".pyenv" / "versions" / "3.12.1" / "bin"
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    make_venv(base / "python3.12", isolated_home / ".virtualenvs" / name)
    shutil.rmtree(base.parent)

    def piped(**extra: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "venv_doctor", "check"],
            capture_output=True,
            text=True,
            env=_env(**extra),
            check=False,
        )
        assert done.returncode == 1, done.stderr
        return done.stdout.rstrip("\n").splitlines()

    whole = piped()
    hint = next(line for line in whole if line.startswith("    hint: "))
    assert len(hint) > 60 and hint.endswith(f"`venv-doctor repair {name}`")
    assert max(len(line) for line in whole) > 60

    wrapped = piped(COLUMNS="60")
    assert cut_at_a_space(wrapped, 60) == []
    start = next(i for i, line in enumerate(wrapped) if line.startswith("    hint: "))
    rest = wrapped[start : len(wrapped) - 1]  # the hint's lines, up to the summary
    assert len(rest) > 1  # wrapped, under the same indent
    assert " ".join(line.strip() for line in rest) == hint.strip()
    assert wrapped[-1] == whole[-1] == "1 venv: 1 broken"
    assert "\x1b[" not in "".join(wrapped)  # a width, not a terminal: no colour
