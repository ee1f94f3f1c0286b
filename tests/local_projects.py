"""Local projects, git repositories and installs for the requirements tests (no network).

A project carries its own tiny PEP 517/660 build backend (stdlib only, in-tree via
``backend-path``), so real installers (uv, pip) build editable, VCS and directory
installs offline and write the real ``direct_url.json``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.support import TOOLS_BIN, run

BACKEND = '''"""A tiny in-tree PEP 517/660 build backend for venv-doctor's tests (stdlib only)."""
import base64, hashlib, os, re, zipfile

def _meta():
    text = open("pyproject.toml", encoding="utf-8").read()
    name = re.search(r'^name = "([^"]+)"', text, re.M).group(1)
    version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    return name, version

def _dist(name):
    return re.sub(r"[-_.]+", "_", name)

def _hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()

def _wheel(directory, files):
    name, version = _meta()
    info = "%s-%s.dist-info" % (_dist(name), version)
    files = dict(files)
    files[info + "/METADATA"] = ("Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (name, version)).encode()
    files[info + "/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = ["%s,%s,%d" % (p, _hash(b), len(b)) for p, b in files.items()] + [info + "/RECORD,,"]
    files[info + "/RECORD"] = ("\\n".join(record) + "\\n").encode()
    filename = "%s-%s-py3-none-any.whl" % (_dist(name), version)
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return filename

def _modules():
    return {f: open(f, "rb").read() for f in sorted(os.listdir(".")) if f.endswith(".py") and f != "backend.py"}

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, _modules())

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = "__editable___%s.pth" % _dist(_meta()[0])
    return _wheel(wheel_directory, {pth: (os.path.abspath(".") + "\\n").encode()})

def get_requires_for_build_wheel(config_settings=None):
    return []

def get_requires_for_build_editable(config_settings=None):
    return []
'''


def make_project(root: Path, name: str, version: str) -> Path:
    """A buildable project: ``pyproject.toml``, one module, the in-tree backend."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n',
        encoding="utf-8",
    )
    module = name.replace("-", "_").lower()
    (root / f"{module}.py").write_text(f"VERSION = {version!r}\n", encoding="utf-8")
    (root / "backend.py").write_text(BACKEND, encoding="utf-8")
    return root


def make_git_project(root: Path, name: str, version: str) -> tuple[Path, str]:
    """The project as a git repository with one commit; returns (repo, commit id)."""
    make_project(root, name, version)
    git: list[str | Path] = [
        "git",
        "-C",
        root,
        "-c",
        "user.email=t@example.invalid",
        "-c",
        "user.name=t",
    ]
    run([*git, "init", "-q"])
    run([*git, "add", "-A"])
    run([*git, "commit", "-q", "-m", "init"])
    return root, run([*git, "rev-parse", "HEAD"]).stdout.strip()


def real_pip_install(venv: Path, wheelhouse: Path, *args: str | Path) -> None:
    """pip itself (it writes REQUESTED only for what was asked), offline, config ignored.

    The venv's own pip when it has one (a newer host pip refuses old targets:
    pip 25+ cannot install into Python 3.8), else the host's with --python.
    """
    has_pip = any((venv / "bin" / name).exists() for name in ("pip", "pip3"))
    pip: list[str | Path] = (
        [venv / "bin" / "python", "-m", "pip"]
        if has_pip
        else [TOOLS_BIN / "pip", "--python", venv / "bin" / "python"]
    )
    flags = ["--isolated", "--disable-pip-version-check", "install", "-q", "--no-index"]
    run([*pip, *flags, "--find-links", wheelhouse, *args])


def uv_install(venv: Path, *args: str | Path) -> None:
    """uv without any index (direct references only): editable, VCS, archive installs."""
    run(
        [
            TOOLS_BIN / "uv",
            "pip",
            "install",
            "-q",
            "--no-config",
            "--offline",
            "--no-index",
            "--python",
            venv / "bin" / "python",
            *args,
        ],
        env={"UV_NO_CACHE": "1"},
    )


def break_interpreter(venv: Path, gone: Path) -> None:
    """What `pyenv uninstall` / `brew cleanup` do to a venv: every bin/python* link
    that leaves bin/ now points at ``gone``, which does not exist."""
    for entry in (venv / "bin").iterdir():
        if entry.name.startswith("python") and entry.is_symlink():
            target = os.readlink(entry)
            if os.path.isabs(target):
                entry.unlink()
                entry.symlink_to(gone / os.path.basename(target))


def site_packages(venv: Path) -> Path:
    (found,) = (venv / "lib").glob("python*/site-packages")
    return found


def clone_venv(source: Path, target: Path) -> Path:
    """A copy of a venv (links kept as links): cheaper than installing again."""
    shutil.copytree(source, target, symlinks=True)
    return target
