"""Reading what a copied interpreter needs: ELF from the real pyenv interpreters,
Mach-O from real macOS wheels (downloaded by .ci/setup.d/50-macho-wheels.sh) and
from small files built here for the @rpath cases no small wheel carries."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from tests.support import IN_CI, make_venv, patchelf, real_python, run
from tests.test_repair import fake_pyenv_version
from venv_doctor.cli import run as cli
from venv_doctor.model import libraries
from venv_doctor.model.libraries import Needs, NotABinary, missing_python_libraries, read_needs

MACHO_WHEELS = Path(__file__).resolve().parents[1] / "build" / "macho-wheels"


def macos_extension(tmp_path: Path, platform: str) -> Path:
    """The compiled extension of a real macOS wheel (arm64, or a universal2 fat file)."""
    wheels = sorted(MACHO_WHEELS.glob(f"*{platform}*.whl"))
    if not wheels:
        message = f"no {platform} wheel in {MACHO_WHEELS}: run .ci/setup.d/50-macho-wheels.sh"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with zipfile.ZipFile(wheels[0]) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".so"))
        target = tmp_path / Path(name).name
        target.write_bytes(zf.read(name))
    return target


def macho(path: Path, dylibs: list[str], rpaths: list[str]) -> Path:
    """A minimal 64-bit little-endian Mach-O executable with these load commands."""
    commands = b""
    for cmd, text in [(0xC, d) for d in dylibs] + [(0x8000001C, r) for r in rpaths]:
        header = 24 if cmd == 0xC else 12
        body = text.encode() + b"\0"
        size = (header + len(body) + 7) // 8 * 8
        if cmd == 0xC:
            fixed = struct.pack("<IIIIII", cmd, size, header, 2, 0x10000, 0x10000)
        else:
            fixed = struct.pack("<III", cmd, size, header)
        commands += (fixed + body).ljust(size, b"\0")
    count = len(dylibs) + len(rpaths)
    head = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x0100000C, 0, 2, count, len(commands), 0, 0)
    path.write_bytes(head + commands)
    return path


def test_a_pyenv_interpreter_names_libpython_and_its_runpath() -> None:
    python = real_python("3.12").resolve()
    needs = read_needs(python)
    assert needs.format == "elf"
    assert "libpython3.12.so.1.0" in needs.libraries
    assert needs.search == (str(python.parent.parent / "lib"),)
    assert missing_python_libraries(python, needs) == []


def test_a_copy_whose_runpath_lost_libpython_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "bin" / "python3.12"
    copy.parent.mkdir()
    shutil.copy2(real_python("3.12").resolve(), copy)
    needs = read_needs(copy)
    gone = Needs(needs.format, needs.libraries, (str(tmp_path / "gone" / "lib"),))
    assert missing_python_libraries(copy, gone) == ["libpython3.12.so.1.0"]
    here = Needs(needs.format, needs.libraries, ("$ORIGIN/../lib",))
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libpython3.12.so.1.0").write_bytes(b"")
    assert missing_python_libraries(copy, here) == []


@pytest.mark.parametrize("platform", ["macosx_11_0_arm64", "macosx_10_9_universal2"])
def test_real_macos_binaries_are_read(tmp_path: Path, platform: str) -> None:
    needs = read_needs(macos_extension(tmp_path, platform))
    assert needs.format == "mach-o"
    assert "/usr/lib/libSystem.B.dylib" in needs.libraries
    assert not any(map(libraries.is_python_library, needs.libraries))


def test_a_framework_binary_through_rpath(tmp_path: Path) -> None:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    framework = "@rpath/Python.framework/Versions/3.12/Python"
    exe = macho(
        bin_dir / "python3.12",
        [framework, "/usr/lib/libSystem.B.dylib"],
        ["@executable_path/../Frameworks"],
    )
    needs = read_needs(exe)
    assert needs == Needs(
        "mach-o", (framework, "/usr/lib/libSystem.B.dylib"), ("@executable_path/../Frameworks",)
    )
    assert missing_python_libraries(exe, needs) == [framework]
    lib = tmp_path / "venv" / "Frameworks" / "Python.framework" / "Versions" / "3.12" / "Python"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"")
    assert missing_python_libraries(exe, needs) == []


def test_an_absolute_framework_path_that_homebrew_removed(tmp_path: Path) -> None:
    keg = tmp_path / "Cellar" / "python@3.12" / "3.12.1" / "Frameworks" / "Python.framework"
    exe = macho(tmp_path / "python3.12", [f"{keg}/Versions/3.12/Python"], [])
    assert missing_python_libraries(exe, read_needs(exe)) == [f"{keg}/Versions/3.12/Python"]


@pytest.mark.parametrize("data", [b"#!/bin/sh\n", b"\x7fELF" + b"\0" * 60, b"\xcf\xfa\xed\xfe"])
def test_what_is_not_a_binary_says_so(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "python"
    path.write_bytes(data)
    with pytest.raises(NotABinary):
        read_needs(path)


def test_a_copies_venv_whose_libpython_vanished_while_home_stays_is_found_and_relinked(
    tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default check sees it (no --deep), and a relink copies the binary again."""
    tool = patchelf()
    python = real_python("3.12")
    fake_pyenv_version("3.12", "3.12.1")  # an interpreter of the same minor to copy from
    venv = make_venv(python, isolated_home / ".virtualenvs" / "copied", copies=True)
    libdir = tmp_path / "libpython"
    libdir.mkdir()
    shutil.copy2(python.resolve().parent.parent / "lib" / "libpython3.12.so.1.0", libdir)
    for exe in (venv / "bin").glob("python*"):
        run([tool, "--set-rpath", libdir, exe])
    shutil.rmtree(libdir)  # the home directory stays; only the library it runs on is gone
    assert run([venv / "bin" / "python", "-c", "pass"], check=False).returncode == 127

    assert cli(["check", "--json"]) == 1
    (entry,) = json.loads(capsys.readouterr().out)["venvs"]
    assert [f["code"] for f in entry["findings"]] == ["interpreter-library-missing"]

    code = cli(["repair", "--all", "--json"])
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert code == 0, result
    assert (result["action"], result["outcome"]) == ("relink", "repaired")
    assert run([venv / "bin" / "python", "-c", "print(1)"]).stdout.strip() == "1"
