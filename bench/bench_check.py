"""Benchmark `venv-doctor check` against `pipx health` and a plain interpreter loop.

    python bench/bench_check.py [--venvs 500] [--runs 5] [--venvs-large 5000,20000] [--skip-pipx]

Everything happens under a temporary directory: HOME, XDG_*, PYENV_ROOT and
VENV_DOCTOR_* point there, never at the real home. The bench builds a fake
Homebrew prefix, a fake pyenv root and a fake /usr/bin whose interpreters are
links to the real pyenv CPythons (read-only), makes a handful of real venvs
with them and clones those (hard links, symlinks kept) into every store
venv-doctor knows. Half of the venvs are then broken the ways BRIEF.md
describes: a Homebrew keg renamed by a revision upgrade, a pyenv version
removed, `python3` retargeted to another minor, dead shebangs, a garbage
pyvenv.cfg. Every venv-doctor run is checked against what the bench broke
(exit 1 when it disagrees), then timed: the median of --runs after one
warm-up run. pipx (from PyPI, in a private venv unless one sits beside this
Python) times `pipx health` on as many pipx-made venvs, half of them broken.
venv-doctor's bytecode is compiled first, as a pip install leaves it.

The syscall floor is a plain script (FLOOR below) doing the system calls the
static check needs and nothing else: scandir each store, read pyvenv.cfg,
readlink/stat bin/python*, read each script's head, list lib/. Each set of
venvs reports venv-doctor / floor in CPU time (user + system of the child,
from wait4: wall time is noise on a loaded machine) and each run's peak RSS,
then `check PATH`, `requirements PATH`, `history PATH` and `repair PATH --dry-run`
for one venv among all the others and for the same venv alone. The floor and the
check it is compared with run interleaved (floor, check, floor, check, ...), as do
each single-venv command among the others and alone, so a load that comes and goes
weighs on both sides of a ratio.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

NEEDED_MINORS = ("3.10", "3.11", "3.12")
OPTIONAL_MINORS = ("3.8", "3.13")
PACKAGES_PER_VENV = 8
STORES = (
    "multivenv",
    "virtualenvwrapper",
    "pipx",
    "poetry",
    "hatch",
    "uv-tools",
    "pdm",
    "pyenv-virtualenv",
)
BROKEN_KINDS = ("keg-upgrade", "pyenv-removed", "minor-drift", "dead-shebang", "garbage-cfg")
# what venv-doctor must say about each kind: (status, a finding code it must report)
EXPECTED = {
    "healthy": ("healthy", None),
    "keg-upgrade": ("broken", "interpreter-dangling"),
    "pyenv-removed": ("broken", "interpreter-dangling"),
    "minor-drift": ("broken", "minor-mismatch"),
    "dead-shebang": ("broken", "dead-shebang"),
    "garbage-cfg": ("unknown", "cfg-unreadable"),
}
NOT_OK = ("broken", "unknown")  # the statuses that make `check` exit 1
BENCH_TOOL = "benchtool"


class BenchError(Exception):
    """The bench cannot run or its result is wrong; the message says why."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- machine and real interpreters --------------------------------------------------------


def machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {cpus} CPUs "
        f"({cpu_model()}), Python {platform.python_version()}"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def real_pyenv_root() -> Path:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    exe = shutil.which("pyenv")
    if exe:
        done = subprocess.run([exe, "root"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip())
    return Path.home() / ".pyenv"


def _version_key(name: str) -> list[int]:
    return [int(x) for x in name.split(".") if x.isdigit()]


def find_interpreters(root: Path) -> dict[str, Path]:
    """minor -> newest real CPython of that minor under the pyenv root (read-only)."""
    try:
        names = sorted(os.listdir(root / "versions"), key=_version_key)
    except OSError:
        names = []
    found: dict[str, Path] = {}
    for minor in NEEDED_MINORS + OPTIONAL_MINORS:
        for name in names:
            exe = root / "versions" / name / "bin" / f"python{minor}"
            if name.startswith(minor + ".") and name.replace(".", "").isdigit() and exe.exists():
                found[minor] = exe
    missing = [m for m in NEEDED_MINORS if m not in found]
    if missing:
        raise BenchError(
            f"CPython {', '.join(missing)} not installed under {root}/versions "
            "(the bench needs 3.10, 3.11 and 3.12; pass --pyenv-root)"
        )
    return found


def patch_of(exe: Path) -> str:
    """The pyenv version directory name of a real interpreter, e.g. "3.12.1"."""
    return exe.parent.parent.name


# --- a world: HOME, stores and fake interpreter installations ------------------------------


@dataclass
class World:
    """One temporary machine: its HOME, environment and what each venv should be."""

    root: Path
    real: dict[str, Path]
    expected: dict[str, str] = field(default_factory=dict)  # real venv path -> kind

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def pyenv(self) -> Path:
        return self.home / ".pyenv"

    @property
    def brew(self) -> Path:
        return self.root / "homebrew"

    @property
    def sysbin(self) -> Path:
        return self.root / "usr" / "bin"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return isolated_env(self.root, self.home, extra)


STORE_VARIABLES = (
    "WORKON_HOME",
    "PIPX_HOME",
    "PIPX_BIN_DIR",
    "PIPX_MAN_DIR",
    "PIPX_DEFAULT_PYTHON",
    "POETRY_VIRTUALENVS_PATH",
    "POETRY_CACHE_DIR",
    "HATCH_DATA_DIR",
    "UV_TOOL_DIR",
    "HOMEBREW_PREFIX",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
)


def isolated_env(root: Path, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every command the bench runs: nothing points at the real home."""
    env = {k: v for k, v in os.environ.items() if k not in STORE_VARIABLES}
    env.update(HOME=str(home), PYENV_ROOT=str(home / ".pyenv"), NO_COLOR="1")
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        env[var] = str(home / sub)
    for var in ("CONFIG", "STATE", "CACHE", "LOG"):
        env[f"VENV_DOCTOR_{var}_DIR"] = str(root / "venv-doctor" / var.lower())
    env.update(
        PIP_NO_INDEX="1",
        PIP_CONFIG_FILE=os.devnull,
        UV_OFFLINE="1",
        UV_NO_CACHE="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_CONFIG="1",
    )
    env.update(extra or {})
    return env


def symlink(link: Path, target: Path | str) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def install_fake_interpreters(world: World) -> None:
    """A Homebrew keg, two pyenv versions and a /usr/bin, all links to real CPythons."""
    py310, py311, py312 = (world.real[m] for m in NEEDED_MINORS)
    keg = world.brew / "Cellar" / "python@3.12" / patch_of(py312)
    symlink(keg / "bin" / "python3.12", py312)
    symlink(keg / "bin" / "python3", "python3.12")
    symlink(world.brew / "opt" / "python@3.12", Path("..") / "Cellar" / "python@3.12" / keg.name)
    for exe in (py310, py312):
        version_bin = world.pyenv / "versions" / patch_of(exe) / "bin"
        symlink(version_bin / exe.name, exe)
    symlink(world.sysbin / "python3.11", py311)
    symlink(world.sysbin / "python3.12", py312)
    symlink(world.sysbin / "python3", "python3.11")


# --- templates: a handful of real venvs ---------------------------------------------------


@dataclass(frozen=True)
class Template:
    kind: str  # "healthy" or the broken kind it is made for
    path: Path


def tools_bin() -> Path:
    return Path(sys.executable).parent  # the project venv: uv, virtualenv, venv-doctor


def run(cmd: Sequence[str | Path], env: Mapping[str, str], what: str) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=dict(env), check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def make_venv(world: World, python: Path, dest: Path, creator: str = "venv") -> Path:
    if creator == "uv":
        cmd: list[str | Path] = [tools_bin() / "uv", "venv", "-q", "--python", python, dest]
    elif creator == "virtualenv":
        cmd = [tools_bin() / "virtualenv", "-q", "--no-seed", "-p", python, dest]
    else:
        cmd = [python, "-m", "venv", "--without-pip", dest]
    run(cmd, world.env(), f"creating {dest} with {creator}")
    add_packages(dest)
    return dest


def add_packages(venv: Path, count: int = PACKAGES_PER_VENV) -> None:
    """Installed-looking distributions (module, dist-info with RECORD) in site-packages."""
    for site in venv.glob("lib/python*/site-packages"):
        for i in range(count):
            name = f"benchpkg{i}"
            (site / name).mkdir()
            (site / name / "__init__.py").write_text(f"VALUE = {i}\n", encoding="utf-8")
            info = site / f"{name}-1.{i}.0.dist-info"
            info.mkdir()
            meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.{i}.0\n"
            (info / "METADATA").write_text(meta, encoding="utf-8")
            (info / "INSTALLER").write_text("pip\n", encoding="utf-8")
            (info / "RECORD").write_text(f"{name}/__init__.py,,\n", encoding="utf-8")
            if i % 3 == 0:
                (info / "REQUESTED").write_text("", encoding="utf-8")


def make_templates(world: World) -> tuple[list[Template], dict[str, Template]]:
    """The healthy templates, and one per broken kind that needs its own interpreter."""
    t = world.root / "templates"
    py312 = world.real["3.12"]
    opt = world.brew / "opt" / "python@3.12" / "bin" / "python3.12"
    pyenv312 = world.pyenv / "versions" / patch_of(py312) / "bin" / "python3.12"
    healthy = [
        make_venv(world, opt, t / "brew-opt"),
        make_venv(world, pyenv312, t / "pyenv-312"),
        make_venv(world, world.sysbin / "python3.12", t / "sys-312"),
        make_venv(world, world.real["3.11"], t / "virtualenv-311", "virtualenv"),
        make_venv(world, world.real.get("3.13", py312), t / "uv", "uv"),
    ]
    if "3.8" in world.real:
        healthy.append(make_venv(world, world.real["3.8"], t / "venv-38"))
    keg = world.brew / "Cellar" / "python@3.12" / patch_of(py312) / "bin" / "python3.12"
    py310 = world.real["3.10"]
    pyenv310 = world.pyenv / "versions" / patch_of(py310) / "bin" / "python3.10"
    broken = {
        "keg-upgrade": make_venv(world, keg, t / "brew-cellar"),
        "pyenv-removed": make_venv(world, pyenv310, t / "pyenv-310"),
        "minor-drift": make_venv(world, world.sysbin / "python3", t / "sys-python3"),
    }
    return (
        [Template("healthy", p) for p in healthy],
        {k: Template(k, p) for k, p in broken.items()},
    )


# --- cloning into the stores --------------------------------------------------------------


def store_path(world: World, store: str, name: str) -> Path:
    home, share = world.home, world.home / ".local" / "share"
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return {
        "multivenv": home / ".multivenv" / name,
        "virtualenvwrapper": home / ".virtualenvs" / name,
        "pipx": share / "pipx" / "venvs" / name,
        "poetry": home / ".cache" / "pypoetry" / "virtualenvs" / f"{name}-{digest}-py3",
        "hatch": share / "hatch" / "env" / "virtual" / name / digest / "default",
        "uv-tools": share / "uv" / "tools" / name,
        "pdm": share / "pdm" / "venvs" / f"{name}-{digest}",
        "pyenv-virtualenv": world.pyenv / "versions" / patch_of(world.real["3.12"]) / "envs" / name,
    }[store]


def clone(template: Path, dest: Path) -> None:
    """A copy that costs little: hard links for files, symlinks kept as symlinks."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template, dest, symlinks=True, copy_function=os.link)


def write_script(venv: Path, name: str, interpreter: Path, trampoline: bool = False) -> None:
    """A console script as pip writes it: a shebang, or the long-path sh trampoline."""
    body = "import sys\nfrom benchpkg0 import VALUE\nsys.exit(VALUE)\n"
    if trampoline:
        head = f"#!/bin/sh\n'''exec' \"{interpreter}\" \"$0\" \"$@\"\n' '''\n"
    else:
        head = f"#!{interpreter}\n"
    script = venv / "bin" / name
    script.unlink(missing_ok=True)  # a clone's files are hard links: never write through
    script.write_text(head + body, encoding="utf-8")
    script.chmod(0o755)


def plan(n: int, healthy: list[Template]) -> list[tuple[str, str, str]]:
    """(name, store, kind) for n venvs: every other one broken, kinds and stores mixed."""
    out = []
    for i in range(n):
        pair = i // 2
        store = STORES[pair % len(STORES)]
        kind = "healthy" if i % 2 == 0 else BROKEN_KINDS[pair % len(BROKEN_KINDS)]
        out.append((f"venv{i:05d}", store, kind))
    return out


def populate(world: World, n: int) -> None:
    healthy, broken = make_templates(world)
    for i, (name, store, kind) in enumerate(plan(n, healthy)):
        source = broken.get(kind) or healthy[(i // 2) % len(healthy)]
        dest = store_path(world, store, name)
        clone(source.path, dest)
        interpreter = dest / "bin" / "python"
        if kind == "dead-shebang":
            interpreter = world.root / "moved-away" / name / "bin" / "python"
        write_script(dest, "pip", interpreter)
        write_script(dest, f"tool{i % 5}", interpreter, trampoline=i % 4 == 3)
        if kind == "garbage-cfg":
            cfg = dest / "pyvenv.cfg"
            cfg.unlink()  # a hard link: never write through to the template
            cfg.write_bytes(b"home = \xff\xfe\x00garbage\n\x80\x81 = \xc3\x28\n")
        world.expected[os.path.realpath(dest)] = kind


def break_interpreters(world: World) -> None:
    """What the user's tools did: `brew upgrade` (revision), `pyenv uninstall`, a python3 bump."""
    old = patch_of(world.real["3.12"])
    cellar = world.brew / "Cellar" / "python@3.12"
    (cellar / old).rename(cellar / f"{old}_1")
    opt = world.brew / "opt" / "python@3.12"
    opt.unlink()
    opt.symlink_to(Path("..") / "Cellar" / "python@3.12" / f"{old}_1")
    removed = world.pyenv / "versions" / patch_of(world.real["3.10"])
    if not removed.resolve().is_relative_to(world.root.resolve()):
        raise BenchError(f"refusing to delete {removed}: outside the bench directory")
    shutil.rmtree(removed)
    python3 = world.sysbin / "python3"
    python3.unlink()
    python3.symlink_to("python3.12")


def build_world(root: Path, real: dict[str, Path], n: int) -> World:
    started = time.perf_counter()
    world = World(root, real)
    world.home.mkdir(parents=True)
    install_fake_interpreters(world)
    populate(world, n)
    break_interpreters(world)
    log(f"built {n} venvs in {root} ({time.perf_counter() - started:.1f} s)")
    return world


# --- verifying what venv-doctor said ------------------------------------------------------


def verify_check(output: str, expected: Mapping[str, str], label: str) -> str:
    """Each venv has the status and finding the bench caused; returns a one-line summary."""
    data = json.loads(output)
    seen = {v["path"]: v for v in data["venvs"]}
    problems = [f"not reported: {p}" for p in expected if p not in seen]
    problems += [f"not made by the bench: {p}" for p in seen if p not in expected]
    for path, kind in expected.items():
        venv = seen.get(path)
        status, code = EXPECTED[kind]
        codes = [f["code"] for f in venv["findings"]] if venv else []
        if venv and (venv["status"] != status or (code and code not in codes)):
            problems.append(f"{path} ({kind}): {venv['status']} {codes}, expected {status} {code}")
    broke = sum(1 for kind in expected.values() if kind != "healthy")
    found = sum(data["summary"][s] for s in NOT_OK)
    if found != broke:
        problems.append(f"summary counts {found} broken or unknown, the bench broke {broke}")
    if problems:
        shown = "\n  ".join(problems[:10])
        raise BenchError(f"{label}: venv-doctor disagrees with the bench:\n  {shown}")
    return f"{label}: {len(seen)} venvs, {found} broken or unknown = {broke} broken by the bench"


# --- timing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    tool: str
    venvs: int
    times: tuple[float, ...]  # wall seconds of each run
    cpu: tuple[float, ...]  # user + system seconds of each run, children included
    rss: tuple[float, ...] = ()  # peak resident set of each run, MB

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    stdout: str
    rss: float = 0.0  # MB


def timed(cmd: Sequence[str | Path], env: Mapping[str, str], ok: Iterable[int]) -> Run:
    """One run of ``cmd``: wall time, and the CPU time and peak RSS of that child alone
    (``wait4``'s rusage, which a loaded machine does not inflate the way it does wall time)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err, env=dict(env))
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if child.returncode not in ok:
        raise BenchError(f"{cmd[0]} exited {child.returncode}:\n{stderr[-2000:]}")
    # kilobytes on Linux, which counts the pages shared with this process before exec:
    # no child shows less than the bench's own RSS
    rss = usage.ru_maxrss / 1024
    return Run(elapsed, usage.ru_utime + usage.ru_stime, stdout, rss)


def measure(
    tool: str,
    venvs: int,
    cmd: Sequence[str | Path],
    env: Mapping[str, str],
    runs: int,
    verify: Callable[[str], str] | None = None,
    ok: Iterable[int] = (0, 1),
    before: Callable[[], None] = lambda: None,
) -> Row:
    """One warm-up run (its output verified), then ``runs`` timed runs; ``before``
    runs untimed before each."""
    before()
    warm_up = timed(cmd, env, ok)
    if verify:
        log("verified " + verify(warm_up.stdout))
    done = []
    for _ in range(runs):
        before()
        done.append(timed(cmd, env, ok))
    row = Row(
        tool,
        venvs,
        tuple(r.wall for r in done),
        tuple(r.cpu for r in done),
        tuple(r.rss for r in done),
    )
    log(f"{tool}: median {row.median:.3f} s wall, {row.median_cpu:.3f} s CPU over {runs} runs")
    return row


@dataclass(frozen=True)
class Spec:
    """One command to time, for ``measure_interleaved``."""

    tool: str
    venvs: int
    cmd: Sequence[str | Path]
    env: Mapping[str, str]
    verify: Callable[[str], str] | None = None
    ok: Iterable[int] = (0, 1)


def measure_interleaved(specs: Sequence[Spec], runs: int) -> list[Row]:
    """One warm-up run of each (verified), then ``runs`` rounds running each once in
    turn (A, B, A, B, ...): ratios between them survive a load that changes."""
    for spec in specs:
        warm_up = timed(spec.cmd, spec.env, spec.ok)
        if spec.verify:
            log("verified " + spec.verify(warm_up.stdout))
    done: list[list[Run]] = [[] for _ in specs]
    for _ in range(runs):
        for spec, runs_of in zip(specs, done, strict=True):
            runs_of.append(timed(spec.cmd, spec.env, spec.ok))
    rows = []
    for spec, runs_of in zip(specs, done, strict=True):
        row = Row(
            spec.tool,
            spec.venvs,
            tuple(r.wall for r in runs_of),
            tuple(r.cpu for r in runs_of),
            tuple(r.rss for r in runs_of),
        )
        log(f"{spec.tool}: median {row.median:.3f} s wall, {row.median_cpu:.3f} s CPU")
        rows.append(row)
    return rows


def venv_doctor_cmd(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    script = tools_bin() / "venv-doctor"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "venv_doctor"]


def interpreter_loop(world: World, runs: int) -> Row:
    """What a shell loop over every venv's `bin/python -c pass` costs."""
    listing = world.root / "venvs.txt"
    listing.write_text("".join(p + "\n" for p in world.expected), encoding="utf-8")
    script = f'while IFS= read -r v; do "$v/bin/python" -c pass 2>/dev/null; done < "{listing}"'
    cmd = ["/bin/sh", "-c", script]
    return measure("sh loop: bin/python -c pass", len(world.expected), cmd, world.env(), runs)


# --- pipx ---------------------------------------------------------------------------------


def make_wheel(wheelhouse: Path, name: str, version: str) -> Path:
    """A tiny pure-Python wheel with one console script."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"def main():\n    print({name!r})\n".encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": f"[console_scripts]\n{name} = {name}:main\n".encode(),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheelhouse.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    target = wheelhouse / f"{name}-{version}-py3-none-any.whl"
    target.write_bytes(buf.getvalue())
    return target


def find_pipx(explicit: str | None, root: Path) -> Path:
    """--pipx, else a pipx beside this Python, else pipx from PyPI in a private venv."""
    if explicit:
        return Path(explicit)
    beside = tools_bin() / "pipx"
    if beside.exists():
        return beside
    venv = root / "pipx-tool"
    log(f"installing pipx from PyPI into {venv}")
    run([sys.executable, "-m", "venv", venv], os.environ, "creating the pipx venv")
    pip: list[str | Path] = [venv / "bin" / "python", "-m", "pip", "install", "-q", "pipx>=1.16"]
    run(pip, os.environ, "pip install pipx")
    return venv / "bin" / "pipx"


@dataclass(frozen=True)
class PipxWorld:
    pipx: Path
    home: Path
    env: dict[str, str]
    venvs: dict[str, str]  # real venv path -> kind


def build_pipx_world(root: Path, real: dict[str, Path], n: int, pipx_exe: str | None) -> PipxWorld:
    """One real `pipx install` of a local wheel, cloned n-1 times; every other one broken."""
    started = time.perf_counter()
    pipx = find_pipx(pipx_exe, root)
    log(f"pipx {run([pipx, '--version'], os.environ, 'pipx --version').strip()}: {pipx}")
    home = root / "pipx-home"
    env = isolated_env(root / "pipx-world", root / "pipx-world" / "home")
    env.update(
        PIPX_HOME=str(home),
        PIPX_BIN_DIR=str(root / "pipx-world" / "bin"),
        PIPX_MAN_DIR=str(root / "pipx-world" / "man"),
        PIPX_DEFAULT_PYTHON=str(real["3.12"]),
    )
    wheels = root / "wheels"
    make_wheel(wheels, BENCH_TOOL, "1.0.0")
    pip_args = f"--no-index --find-links {wheels}"
    install: list[str | Path] = [
        pipx,
        "install",
        "--skip-maintenance",
        BENCH_TOOL,
        f"--pip-args={pip_args}",
    ]
    run(install, env, "pipx install")
    clones = clone_pipx_venvs(home / "venvs", n)
    pw = PipxWorld(pipx, home, env, {os.path.realpath(p): "healthy" for p in clones})
    verify_pipx_list(pw)
    dead = root / "pipx-gone" / "Cellar" / "python@3.12" / "3.12.0" / "bin" / "python3.12"
    for path in clones[1::2]:  # as if their Homebrew keg had been removed
        # every interpreter link: pipx makes venvs with uv when it finds uv (`bin/python`
        # is then the link that leaves the venv) and with venv otherwise (`bin/python3.X`)
        for link in path.glob("bin/python*"):
            if link.is_symlink():
                link.unlink()
                link.symlink_to(dead)
        pw.venvs[os.path.realpath(path)] = "keg-upgrade"
    log(f"built {n} pipx venvs in {home} ({time.perf_counter() - started:.1f} s)")
    return pw


def clone_pipx_venvs(venvs_dir: Path, n: int) -> list[Path]:
    """The venv `pipx install` made, and n-1 copies of it with their own shebangs."""
    out = [venvs_dir / BENCH_TOOL]
    for i in range(1, n):
        dest = venvs_dir / f"{BENCH_TOOL}-{i:05d}"
        clone(out[0], dest)
        write_script(dest, BENCH_TOOL, dest / "bin" / "python")
        out.append(dest)
    return out


def verify_pipx_health(output: str, expected: Mapping[str, str]) -> str:
    data = json.loads(output)
    statuses = Counter(e["status"] for e in data["data"]["environments"])
    broke = sum(1 for kind in expected.values() if kind != "healthy")
    want = Counter({"healthy": len(expected) - broke, "broken": broke})
    if statuses != want:
        raise BenchError(f"pipx health saw {dict(statuses)}, expected {dict(want)}")
    return f"pipx health: {dict(statuses)}"


def verify_pipx_list(pw: PipxWorld) -> None:
    listed = run([pw.pipx, "list", "--short"], pw.env, "pipx list").splitlines()
    if len(listed) != len(pw.venvs):
        raise BenchError(f"pipx list shows {len(listed)} venvs, the bench made {len(pw.venvs)}")
    log(f"verified pipx list: {len(listed)} venvs")


def pipx_rows(pw: PipxWorld, vd: list[str], runs: int) -> list[Row]:
    n = len(pw.venvs)
    health: list[str | Path] = [pw.pipx, "health", "--skip-maintenance", "--output", "json"]
    shared = os.path.realpath(pw.home / "shared")
    with_shared = dict(pw.venvs)
    if os.path.isdir(shared):  # pipx's pip backend makes it; its uv backend does not
        with_shared[shared] = "healthy"  # venv-doctor checks pipx's shared venv too
    return [
        measure(
            "pipx health",
            n,
            health,
            pw.env,
            runs,
            lambda out: verify_pipx_health(out, pw.venvs),
        ),
        measure(
            "venv-doctor check --json --store pipx",
            len(with_shared),
            [*vd, "check", "--json", "--store", "pipx"],
            pw.env,
            runs,
            lambda out: verify_check(out, with_shared, "pipx venvs"),
        ),
    ]


# --- the syscall floor --------------------------------------------------------------------

# The system calls the static check cannot do without, in a plain script: scandir
# every store (to its depth), and for each venv read pyvenv.cfg, readlink and stat
# bin/python*, stat and read the head of every script in bin/ (activate* aside, as
# the check skips them), list lib/. argv: one
# DEPTH:ROOT per store. Prints the number of venvs it read.
FLOOR = """\
import os, sys

def walk(root, depth):
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for e in entries:
        if e.name[0] != "." and e.is_dir():
            if depth == 1:
                yield e.path
            else:
                yield from walk(e.path, depth - 1)

def read(venv):
    try:
        with open(venv + "/pyvenv.cfg", "rb") as f:
            cfg = f.read()
    except OSError:
        cfg = b""
    links, heads = [], []
    for e in os.scandir(venv + "/bin"):
        if e.name.startswith("python"):
            try:
                links.append((os.readlink(e.path), os.path.exists(e.path)))
            except OSError:
                links.append((None, os.path.exists(e.path)))
        elif not e.name.startswith(("activate", "Activate", "deactivate")):
            if e.stat().st_size and e.is_file():
                with open(e.path, "rb") as f:
                    heads.append(f.read(512).split(b"\\n", 3)[:3])
    return cfg, links, heads, os.listdir(venv + "/lib")

n = 0
for arg in sys.argv[1:]:
    depth, root = arg.split(":", 1)
    for venv in walk(root, int(depth)):
        read(venv)
        n += 1
print(n)
"""


def floor_roots(world: World) -> list[str]:
    """DEPTH:ROOT of every store the bench fills, for FLOOR."""
    out = []
    for store in STORES:
        path = store_path(world, store, "x")
        depth = 3 if store == "hatch" else 1
        root = path.parents[depth - 1] if store != "poetry" else path.parent
        out.append(f"{depth}:{root}")
    return out


def floor_spec(world: World, vd: list[str]) -> Spec:
    n = len(world.expected)

    def verify(out: str) -> str:
        if int(out) != n:
            raise BenchError(f"the floor script read {out.strip()} venvs, the bench made {n}")
        return f"floor script: {n} venvs"

    cmd = [python_of(vd), "-c", FLOOR, *floor_roots(world)]
    return Spec("syscall floor (plain script)", n, cmd, world.env(), verify, ok=(0,))


# commands about one venv: (label, arguments before PATH, after it, exit statuses)
SINGLE_COMMANDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[int, ...]], ...] = (
    ("check --json PATH", ("check", "--json"), (), (0,)),
    ("requirements PATH", ("requirements",), (), (0,)),
    ("history PATH", ("history",), (), (0,)),
    ("repair PATH --dry-run", ("repair",), ("--dry-run",), (0,)),
)


def _one_venv(expected: str) -> Callable[[str], str]:
    def verify(out: str) -> str:
        seen = [v["path"] for v in json.loads(out)["venvs"]]
        if seen != [expected]:
            raise BenchError(f"check PATH reported {seen}, expected [{expected}]")
        return f"check PATH: {expected}"

    return verify


def single_rows(world: World, alone: World, vd: list[str], runs: int) -> list[Row]:
    """Commands about one venv: with every other venv of the set around it, and the
    same command on a venv alone in its world, interleaved (what the others cost is
    the ratio of the two)."""
    n = len(world.expected)
    path = next(p for p, kind in world.expected.items() if kind == "healthy")
    (lone,) = alone.expected
    rows = []
    for label, before, after, ok in SINGLE_COMMANDS:
        is_check = label.startswith("check")
        among = Spec(
            f"  {label} (one venv)",
            n,
            [*vd, *before, path, *after],
            world.env(),
            _one_venv(path) if is_check else None,
            ok,
        )
        by_itself = Spec(
            f"  {label} (one venv alone)",
            1,
            [*vd, *before, lone, *after],
            alone.env(),
            _one_venv(lone) if is_check else None,
            ok,
        )
        rows += measure_interleaved([among, by_itself], runs)
    return rows


# --- main ---------------------------------------------------------------------------------


# `venv-doctor check` with snapshot recording (issue 4) replaced by a no-op, to
# measure what recording costs; argv after -c is the command line.
NO_SNAPSHOTS = """\
from venv_doctor.record import snapshots
snapshots.record = lambda *args, **kwargs: snapshots.RecordResult(0)
import venv_doctor.check as check
if hasattr(check, "_static"):  # the static check records through a Recorder, venv by venv
    static = check._static
    check._static = lambda ctx, locations, record: static(ctx, locations, False)
from venv_doctor.cli import main
main()
"""


def python_of(vd: list[str]) -> str:
    """The interpreter of the venv-doctor under test (beside its console script)."""
    if len(vd) > 1:
        return vd[0]  # [python, -m, venv_doctor]
    beside = Path(vd[0]).parent / "python"
    return str(beside) if beside.exists() else sys.executable


def snapshot_rows(world: World, vd: list[str], runs: int, label: str) -> list[Row]:
    """The check without snapshot recording, and the first check (every snapshot new)."""
    python = python_of(vd)
    has = subprocess.run([python, "-c", "import venv_doctor.record.snapshots"], check=False)
    if has.returncode != 0:
        log("this venv-doctor records no snapshots: no snapshot rows")
        return []
    n, env = len(world.expected), world.env()
    state = Path(env["VENV_DOCTOR_STATE_DIR"])
    verify = lambda out: verify_check(out, world.expected, label)  # noqa: E731
    return [
        measure(
            "  the same, snapshot recording off",
            n,
            [python, "-c", NO_SNAPSHOTS, "check", "--json"],
            env,
            runs,
            verify,
        ),
        measure(
            "  the same, first run (empty state)",
            n,
            [*vd, "check", "--json"],
            env,
            runs,
            verify,
            before=lambda: shutil.rmtree(state, ignore_errors=True),
        ),
    ]


def check_rows(
    world: World,
    alone: World,
    vd: list[str],
    runs: int,
    label: str,
    deep: bool,
    snapshots: bool,
) -> list[Row]:
    n = len(world.expected)
    check = Spec(
        "venv-doctor check --json",
        n,
        [*vd, "check", "--json"],
        world.env(),
        lambda out: verify_check(out, world.expected, label),
    )
    rows = measure_interleaved([floor_spec(world, vd), check], runs)
    rows += single_rows(world, alone, vd, runs)
    if snapshots:
        rows += snapshot_rows(world, vd, runs, label)
    if deep:
        rows.append(
            measure(
                "venv-doctor check --json --deep",
                n,
                [*vd, "check", "--json", "--deep"],
                world.env(),
                runs,
                lambda out: verify_check(out, world.expected, label + " --deep"),
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    """Wall seconds (median, min, max), CPU seconds and peak RSS (medians) and the
    ratio of CPU medians to the syscall floor of the same number of venvs."""
    floors = {r.venvs: r.median_cpu for r in rows if r.tool.startswith("syscall floor")}
    head = f"{'tool':<44} {'venvs':>6} {'median s':>9} {'min':>7} {'max':>7} {'cpu s':>7}"
    head += f" {'rss MB':>7} {'cpu/floor':>10}"
    lines = [head, "-" * len(head)]
    for r in rows:
        floor = floors.get(r.venvs)
        ratio = f"{r.median_cpu / floor:>9.2f}x" if floor else f"{'-':>10}"
        rss = statistics.median(r.rss) if r.rss else 0.0
        lines.append(
            f"{r.tool:<44} {r.venvs:>6} {r.median:>9.3f} {min(r.times):>7.3f} "
            f"{max(r.times):>7.3f} {r.median_cpu:>7.3f} {rss:>7.1f} {ratio}"
        )
    return "\n".join(lines)


def single_ratios(rows: list[Row]) -> list[str]:
    """Each single-venv command among N others over the same command on a venv alone
    (CPU medians of the same interleaved rounds: the alone row follows its pair)."""
    out = []
    for among, alone in itertools.pairwise(rows):
        if among.tool.endswith("(one venv)") and alone.tool.endswith("(one venv alone)"):
            out.append(
                f"{among.tool.strip()} among {among.venvs} venvs: "
                f"{among.median_cpu / alone.median_cpu:.2f}x the CPU of the same command "
                "on the venv alone"
            )
    return out


def snapshot_overhead(rows: list[Row]) -> str | None:
    """What snapshot recording adds to the check, from the rows `snapshot_rows` made."""
    by_tool = {r.tool.strip(): r for r in rows}
    off = by_tool.get("the same, snapshot recording off")
    first = by_tool.get("the same, first run (empty state)")
    if off is None or first is None:
        return None
    check = next(r for r in rows if r.tool == "venv-doctor check --json")
    steady = check.median_cpu / off.median_cpu - 1
    initial = first.median_cpu / off.median_cpu - 1
    return (
        f"snapshot recording adds {steady:+.0%} CPU to the check ({initial:+.0%} on the first run, "
        "which snapshots every venv)"
    )


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def version_of(vd: list[str]) -> str:
    done = subprocess.run([*vd, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or f"unknown ({vd[0]} --version exited {done.returncode})"


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text}") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--venvs", type=int, default=500, help="venvs in the main set (default 500)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    p.add_argument(
        "--venvs-large",
        type=_sizes,
        default=(5000, 20000),
        help="venvs in each large set, comma-separated (default 5000,20000); 0 skips them",
    )
    p.add_argument("--skip-pipx", action="store_true", help="do not install or time pipx")
    p.add_argument("--skip-deep", action="store_true", help="do not time --deep")
    p.add_argument("--pyenv-root", type=Path, help="where the real CPythons are (pyenv root)")
    p.add_argument("--pipx", help="the pipx executable to time (default: install from PyPI)")
    p.add_argument("--venv-doctor", help="the venv-doctor executable to time")
    p.add_argument("--workdir", type=Path, help="build here (default: a new temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args(argv)
    if args.venvs < 2 or args.runs < 1 or any(n < 0 for n in args.venvs_large):
        p.error("--venvs must be at least 2, --runs at least 1, --venvs-large 0 or more")
    return args


# Compiles the package of the venv-doctor under test, as installing it with pip does: an
# editable checkout run with PYTHONDONTWRITEBYTECODE=1 (CI, the development machines) has
# no __pycache__ and would compile every module at every start, which no installed
# venv-doctor does. argv after -c: nothing.
PRECOMPILE = """\
import compileall, os, venv_doctor
compileall.compile_dir(os.path.dirname(venv_doctor.__file__), quiet=1)
"""


def precompile(vd: list[str]) -> None:
    done = subprocess.run([python_of(vd), "-c", PRECOMPILE], capture_output=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"compiling venv-doctor failed: {done.stderr.decode()[-2000:]}")


def bench(args: argparse.Namespace, root: Path) -> list[Row]:
    real = find_interpreters(args.pyenv_root or real_pyenv_root())
    vd = venv_doctor_cmd(args.venv_doctor)
    precompile(vd)
    world = build_world(root / "main", real, args.venvs)
    alone = build_world(root / "alone", real, 1)
    label = f"{args.venvs} venvs"
    rows = check_rows(world, alone, vd, args.runs, label, not args.skip_deep, snapshots=True)
    for size in (n for n in args.venvs_large if n):
        large = build_world(root / f"large-{size}", real, size)
        label = f"{size} venvs"
        rows += check_rows(large, alone, vd, args.runs, label, deep=False, snapshots=False)
        shutil.rmtree(large.root, ignore_errors=True)  # 20,000 venvs: a million files
    if not args.skip_pipx:
        pw = build_pipx_world(root / "pipx", real, args.venvs, args.pipx)
        rows += pipx_rows(pw, vd, args.runs)
    rows.append(interpreter_loop(world, args.runs))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="venv-doctor-bench-"))
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        print(f"bench: error: {root} is not empty", file=sys.stderr)
        return 2
    load_before = load_average()
    try:
        rows = bench(args, root)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"machine: {machine()}")
    print(f"load average before: {load_before}, after: {load_average()}")
    print(
        f"{version_of(venv_doctor_cmd(args.venv_doctor))}: {' '.join(venv_doctor_cmd(args.venv_doctor))}"
    )
    print(
        f"median of {args.runs} runs after one warm-up run; wall time, CPU (user + system) "
        "and peak RSS of the whole process; cpu/floor: CPU over the syscall floor's"
    )
    print(table(rows))
    for line in single_ratios(rows):
        print(line)
    overhead = snapshot_overhead(rows)
    if overhead:
        print(overhead)
    return 0


if __name__ == "__main__":
    sys.exit(main())
