"""A throwaway home for the repair and daemon benchmarks.

Everything a benchmark makes lives under one temporary directory: HOME, the
XDG directories, venv-doctor's own directories, PYENV_ROOT, PIPX_HOME, uv's
cache and a fake Homebrew prefix. The real interpreters under the real pyenv
root are only read (venvs link to them). No network: packages are tiny wheels
written here into a local wheelhouse.

Standard library only (plus venv-doctor itself, which the benchmarks drive as
a separate process, the way a user does).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REAL_HOME = Path.home().resolve()
REAL_PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or REAL_HOME / ".pyenv").resolve()

# Variables that would send venv-doctor (or pip, uv, pipx) to the real home or
# to this shell's project: dropped, then the ones we need are set again.
DROPPED = (
    "WORKON_HOME",
    "PIPX_HOME",
    "PIPX_BIN_DIR",
    "PIPX_MAN_DIR",
    "PIPX_SHARED_LIBS",
    "PIPX_DEFAULT_PYTHON",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "POETRY_VIRTUALENVS_PATH",
    "POETRY_CACHE_DIR",
    "HATCH_DATA_DIR",
    "UV_TOOL_DIR",
    "UV_PYTHON_INSTALL_DIR",
    "UV_CACHE_DIR",
    "HOMEBREW_PREFIX",
    "HOMEBREW_CELLAR",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "NOTIFY_SOCKET",
    "DBUS_SESSION_BUS_ADDRESS",
    "PIP_FIND_LINKS",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_NO_INDEX",
    "PIP_CONFIG_FILE",
)


def real_python(minor: str) -> Path:
    """The newest real CPython ``minor`` under the real pyenv root (read only)."""
    versions = REAL_PYENV_ROOT / "versions"
    try:
        names = [n for n in os.listdir(versions) if n.startswith(minor + ".")]
    except OSError:
        names = []
    names = [n for n in names if n.replace(".", "").isdigit()]
    if not names:
        raise SystemExit(f"bench: CPython {minor} is not installed under {versions}")
    newest = max(names, key=lambda v: [int(x) for x in v.split(".")])
    return versions / newest / "bin" / f"python{minor}"


def _path_without_real_home() -> str:
    keep = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        real = os.path.realpath(entry) if entry else ""
        if entry and not (real == str(REAL_HOME) or real.startswith(str(REAL_HOME) + "/")):
            keep.append(entry)
    return os.pathsep.join(keep)


@dataclass
class Sandbox:
    """A temporary root and the environment that points every tool into it."""

    root: Path
    env: dict[str, str]

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def workon_home(self) -> Path:
        return self.home / ".virtualenvs"

    @property
    def config_dir(self) -> Path:
        return Path(self.env["VENV_DOCTOR_CONFIG_DIR"])

    @property
    def state_dir(self) -> Path:
        return Path(self.env["VENV_DOCTOR_STATE_DIR"])

    @property
    def pyenv_root(self) -> Path:
        return Path(self.env["PYENV_ROOT"])

    def write_config(self, text: str) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "config.toml").write_text(text, encoding="utf-8")

    def fake_pyenv(self, minor: str) -> Path:
        """``$PYENV_ROOT/versions/<X.Y.Z>/bin/pythonX.Y`` -> the real interpreter."""
        real = real_python(minor)
        link = self.pyenv_root / "versions" / real.parent.parent.name / "bin" / f"python{minor}"
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(real)
        return link

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def make_sandbox(prefix: str) -> Sandbox:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(
        {
            "HOME": str(home),
            "PATH": _path_without_real_home(),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_RUNTIME_DIR": str(root / "run"),
            "PYENV_ROOT": str(root / "pyenv"),
            "PIPX_HOME": str(root / "pipx"),
            "PIPX_BIN_DIR": str(root / "pipx-bin"),
            "PIPX_MAN_DIR": str(root / "pipx-man"),
            "UV_CACHE_DIR": str(root / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
            "PIP_CONFIG_FILE": os.devnull,  # only the wheelhouse, never the machine's index
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "NO_COLOR": "1",
        }
    )
    for name, sub in (("CONFIG", "config"), ("STATE", "state"), ("CACHE", "cache"), ("LOG", "log")):
        env[f"VENV_DOCTOR_{name}_DIR"] = str(root / "vd" / sub)
    (root / "run").mkdir(mode=0o700)
    return Sandbox(root, env)


# --- processes ----------------------------------------------------------------------


def run(
    cmd: Sequence[str | Path],
    env: Mapping[str, str],
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(c) for c in cmd],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise BenchError(
            f"{' '.join(map(str, cmd))} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
    return done


def timed(
    cmd: Sequence[str | Path], env: Mapping[str, str], timeout: float = 600
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall-clock seconds of one whole process, and what it printed."""
    start = time.perf_counter()
    done = run(cmd, env, timeout=timeout, check=False)
    return time.perf_counter() - start, done


def precompile_venv_doctor() -> None:
    """Compile venv-doctor's bytecode once, as installing it with pip does.

    An editable checkout run with PYTHONDONTWRITEBYTECODE=1 (as on CI and the
    development machines) has no ``__pycache__`` and compiles every module at
    every start (~70 ms), which an installed venv-doctor never does; pipx,
    installed by pip, has its bytecode. compileall writes it into the
    checkout's (git-ignored) ``__pycache__`` directories.
    """
    import compileall

    import venv_doctor

    compileall.compile_dir(Path(venv_doctor.__file__).parent, quiet=1)


def venv_doctor(*args: str | Path) -> list[str | Path]:
    """The command line of venv-doctor as a user runs it (its own interpreter)."""
    return [sys.executable, "-m", "venv_doctor", *args]


class BenchError(Exception):
    """A verification failed: the benchmark's figures cannot be trusted."""


def check_statuses(sandbox: Sandbox, *targets: str | Path) -> dict[str, str]:
    """``venv-doctor check --json``: venv path -> status."""
    done = run(venv_doctor("check", *targets, "--json"), sandbox.env, check=False)
    try:
        venvs = json.loads(done.stdout)["venvs"]
    except (ValueError, KeyError) as exc:
        raise BenchError(f"venv-doctor check printed no JSON: {done.stderr[-2000:]}") from exc
    return {str(v["path"]): str(v["status"]) for v in venvs}


# --- fake Homebrew --------------------------------------------------------------------


class FakeHomebrew:
    """``Cellar/python@X.Y/<version>/bin/pythonX.Y`` links to a real interpreter,
    ``opt/python@X.Y`` points at the keg; ``upgrade`` renames the keg and repoints
    ``opt/``, which is what ``brew upgrade`` (with its cleanup) does to venvs."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        for sub in ("Cellar", "opt", "bin"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)

    def keg(self, minor: str, version: str) -> Path:
        return self.prefix / "Cellar" / f"python@{minor}" / version

    def install(self, minor: str, version: str) -> Path:
        keg_bin = self.keg(minor, version) / "bin"
        keg_bin.mkdir(parents=True)
        (keg_bin / f"python{minor}").symlink_to(real_python(minor))
        (keg_bin / "python3").symlink_to(f"python{minor}")
        self._point_opt(minor, version)
        return keg_bin / f"python{minor}"

    def _point_opt(self, minor: str, version: str) -> None:
        opt = self.prefix / "opt" / f"python@{minor}"
        tmp = opt.with_name(opt.name + ".tmp")
        tmp.symlink_to(Path("..") / "Cellar" / f"python@{minor}" / version)
        tmp.replace(opt)

    def upgrade(self, minor: str, old: str, new: str) -> None:
        self.keg(minor, old).rename(self.keg(minor, new))
        self._point_opt(minor, new)


def clone_venvs(template: Path, targets: Iterable[Path]) -> list[Path]:
    """Copies of a venv made ``--without-pip`` (links kept as links)."""
    made = []
    for target in targets:
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(template, target, symlinks=True)
        made.append(target)
    return made


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
) -> Path:
    """A tiny pure-Python wheel: one module ``<name>.py`` plus metadata."""
    dist = name.replace("-", "_")
    body = f"__version__ = {version!r}\n\n\ndef main():\n    print({name!r} + ' ' + __version__)\n"
    files: dict[str, bytes] = {f"{dist}.py": body.encode()}
    info = f"{dist}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    files[f"{info}/METADATA"] = ("\n".join(meta) + "\n").encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: venv-doctor-bench\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    if console_scripts:
        eps = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in console_scripts.items())
        files[f"{info}/entry_points.txt"] = eps.encode()
    record = [f"{p},{_record_hash(d)},{len(d)}" for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheelhouse.mkdir(parents=True, exist_ok=True)
    target = wheelhouse / f"{dist}-{version}-py3-none-any.whl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    target.write_bytes(buf.getvalue())
    return target


# --- figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table (no rich: it must read the same in a log or a pipe)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([fmt(headers), line, *(fmt(r) for r in rows)])


def machine() -> str:
    """Cores, CPU model and load average, for the report."""
    model = "unknown CPU"
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, load average {load}, Python {sys.version.split()[0]}"
