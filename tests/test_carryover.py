from __future__ import annotations

import os
from pathlib import Path

from tests.support import make_venv, pip_install, real_python
from venv_doctor.repair.transaction import carryover


def test_template_differences_between_versions_are_not_edits(tmp_path: Path) -> None:
    # as in a rebuild: the old venv renamed aside, the new one made at the same path
    old = make_venv(real_python("3.12"), tmp_path / "v").rename(tmp_path / "backup")
    new = make_venv(real_python("3.11"), tmp_path / "v")
    assert carryover.plan(old, new).edited_activate == ()
    assert carryover.plan(old, new).kept_new == ()
    with (old / "bin" / "activate").open("a") as fh:
        fh.write('export DJANGO_SETTINGS_MODULE="proj.settings"\n')
    assert carryover.plan(old, new).edited_activate == ("bin/activate",)


def test_creator_files_are_not_carried_but_user_files_are(tmp_path: Path) -> None:
    old = make_venv(real_python("3.12"), tmp_path / "v", creator="virtualenv")
    old = old.rename(tmp_path / "backup")
    new = make_venv(real_python("3.12"), tmp_path / "v", creator="virtualenv")
    (old / "bin" / "postactivate").write_text("echo hi\n")
    (old / "etc").mkdir()
    (old / "etc" / "app.ini").write_text("[app]\n")
    plan = carryover.plan(old, new)
    assert plan.kept_new == ()  # virtualenv's deactivate.* and friends are the creator's
    assert sorted(str(d.relative_to(new)) for _, d in plan.copies) == [
        "bin/postactivate",
        "etc/app.ini",
    ]


def test_everything_no_distribution_owns_is_carried_except_the_short_list(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """Issue 11's list of files a rebuild dropped, and the ones it must not carry."""
    old = make_venv(real_python("3.12"), tmp_path / "v")
    pip_install(old, wheelhouse, "tinytop==3.0.0")
    site = old / "lib" / "python3.12" / "site-packages"
    user = {
        ".gitignore": "secrets.env\n",  # the creator writes "*": a collision, kept
        "include/mylib.h": "int f(void);\n",
        "bin/activate.xonsh": "# my shell\n",
        "bin/__pycache__/notes.txt": "mine\n",
        "CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n",
        "lib/python3.12/site-packages/mine.dist-info/notes.txt": "not metadata\n",
        "lib/python3.12/site-packages/usercustomize.py": "X = 1\n",
        "lib/python3.12/site-packages/__pycache__/usercustomize.cpython-313.pyc": "same minor\n",
    }
    never = {
        ".pyvenv.cfg.a1b2c3d4.tmp": "half a relink\n",
        "bin/.python3.venv-doctor-tmp": "a relink's link\n",
        "lib/python3.12/site-packages/__pycache__/usercustomize.cpython-312.pyc": "old minor\n",
        "lib/python3.12/site-packages/__pycache__/tinytop.cpython-313.pyc": "a package's cache\n",
    }
    for rel, text in {**user, **never}.items():
        (old / rel).parent.mkdir(parents=True, exist_ok=True)
        (old / rel).write_text(text)
    (old / "share" / "empty").mkdir(parents=True)
    (old / "bin" / "fifo").parent.mkdir(exist_ok=True)
    os.mkfifo(old / "bin" / "fifo")
    assert (site / "tinytop.py").exists()
    backup = old.rename(tmp_path / "backup")
    new = make_venv(real_python("3.13"), tmp_path / "v")  # 3.13 writes a .gitignore
    pip_install(new, wheelhouse, "tinytop==3.0.0")

    plan = carryover.plan(backup, new)
    done = carryover.apply(plan, backup, new)

    carried = {str(Path(d).relative_to(new)) for d in done}
    expected = {r.replace("python3.12", "python3.13") for r in user if r != ".gitignore"}
    assert carried == expected | {"share/empty"}
    assert plan.kept_new == (".gitignore",)  # named; the user's version stays in the backup
    assert plan.uncopyable == ("bin/fifo",)
    assert (new / "include" / "mylib.h").read_text() == "int f(void);\n"
    assert not (new / "lib" / "python3.12").exists()
    assert not (new / "include" / "python3.12").exists()
    assert not list(new.rglob("*cpython-312.pyc"))
    assert not list(new.rglob("*.tmp")) and not list(new.rglob("*venv-doctor-tmp*"))
    assert (new / "bin" / "python3.13").exists() and not (new / "bin" / "python3.12").exists()
    # nothing a distribution owns comes across: the reinstall brought its own
    assert not [src for src, _ in plan.copies if "tiny" in str(src.relative_to(backup))]


def test_a_console_script_keeps_the_interpreter_options_its_old_shebang_had(
    tmp_path: Path,
) -> None:
    """pipx 1.18 adds ` -E` to its apps' scripts; an installer writes a bare shebang."""
    old, new = tmp_path / "backup", tmp_path / "v"
    for venv in (old, new):
        (venv / "bin").mkdir(parents=True)
    body = b"\nimport sys\nsys.exit(0)\n"
    scripts = {
        "app": (b"#!" + bytes(tmp_path / "v/bin/python") + b" -E", True),
        "plain": (b"#!" + bytes(tmp_path / "v/bin/python"), False),
        "odd": (b"#!" + bytes(tmp_path / "v/bin/python") + b" -c 'rm -rf ~'", False),
        "sh": (b"#!/bin/sh -e", False),
    }
    for name, (line, _) in scripts.items():
        (old / "bin" / name).write_bytes(line + body)
        fresh = b"#!/bin/sh" if name == "sh" else b"#!" + bytes(new / "bin/python")
        (new / "bin" / name).write_bytes(fresh + body)
        (new / "bin" / name).chmod(0o755)

    changed = carryover.keep_shebang_flags(old, new)

    assert changed == ["bin/app"]
    assert (new / "bin/app").read_bytes() == b"#!" + bytes(new / "bin/python") + b" -E" + body
    assert os.stat(new / "bin/app").st_mode & 0o777 == 0o755
    assert (new / "bin/odd").read_bytes().startswith(b"#!" + bytes(new / "bin/python") + b"\n")
    assert carryover.keep_shebang_flags(old, new) == []  # already there: nothing to do
