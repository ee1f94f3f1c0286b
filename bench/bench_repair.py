"""Repair benchmark: relink many venvs after a Homebrew upgrade, rebuild one venv of
real packages (cookiecutter and its 19 dependencies) with uv and with pip, beside
``pipx reinstall`` with both of its backends and the bare ``uv venv && uv pip install``.

    python bench/bench_repair.py --runs 7
    python bench/bench_repair.py --only rebuild --package black   # another real package
    python bench/bench_repair.py --quick          # smoke test: small sizes, tiny wheels, 1 run

Everything happens in a throwaway home (see sandbox_home.py); the real
interpreters under the real pyenv root are only read. The real package's wheels
are downloaded once (``pip download``, the machine's own index) into a cache
(``build/bench-wheels``, git-ignored); every install after that is offline, from
a copy of them in the throwaway home. pipx comes from venv-doctor's environment,
or is installed once into a private venv in the throwaway home.

Exit status: 0 when every result verified (targets missed are reported, loudly,
but do not fail), 1 when a verification failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sandbox_home import (
    REAL_PYENV_ROOT,
    BenchError,
    FakeHomebrew,
    Figures,
    Sandbox,
    check_statuses,
    clone_venvs,
    machine,
    make_sandbox,
    make_wheel,
    precompile_venv_doctor,
    run,
    table,
    timed,
    venv_doctor,
)

MINOR = "3.12"
RELINK_TARGET_S = 2.0
PIPX_UV_TARGET = 1.2  # venv-doctor with uv / pipx reinstall with uv (issue 13)
TOP = "benchtop"
REAL_PACKAGE = "cookiecutter"  # 20 distributions with its dependencies (issue 13)
CACHE = Path(__file__).resolve().parent.parent / "build" / "bench-wheels"
UV_CASE = "venv-doctor rebuild (uv)"
UV_STDLIB_CASE = "venv-doctor rebuild (uv), a `python -m venv` venv"
PIP_CASE = "venv-doctor rebuild (pip)"
PIPX_PIP = "pipx reinstall (pip backend)"
PIPX_UV = "pipx reinstall (uv backend)"
FLOOR = "floor: uv venv && uv pip install -r"


@dataclass(frozen=True)
class Sizes:
    venvs: int  # venvs relinked at once


# --- relink of many venvs ---------------------------------------------------------------


class RelinkScene:
    """N venvs made through a Cellar keg path; ``brew upgrade`` breaks them all."""

    def __init__(self, sandbox: Sandbox, count: int) -> None:
        self.sandbox = sandbox
        self.count = count
        self.brew = FakeHomebrew(sandbox.root / "homebrew")
        sandbox.env["HOMEBREW_PREFIX"] = str(self.brew.prefix)
        cellar_python = self.brew.install(MINOR, f"{MINOR}.1")
        self.template = sandbox.root / "templates" / "cellar-venv"
        run([cellar_python, "-m", "venv", "--without-pip", self.template], sandbox.env)
        self.venvs = [sandbox.workon_home / f"app{i:03d}" for i in range(count)]

    def break_them(self) -> None:
        """Fresh Cellar-pinned venvs (a relink hardens them through opt/), checked
        once while working, then the keg they point into is renamed away."""
        if self.brew.keg(MINOR, f"{MINOR}.2").exists():
            self.brew.upgrade(MINOR, f"{MINOR}.2", f"{MINOR}.1")
        clone_venvs(self.template, self.venvs)
        run(venv_doctor("check", "--json"), self.sandbox.env, check=False)
        self.brew.upgrade(MINOR, f"{MINOR}.1", f"{MINOR}.2")
        broken = check_statuses(self.sandbox)
        if sorted(broken.values()) != ["broken"] * self.count:
            raise BenchError(f"expected {self.count} broken venvs, got {broken}")

    def repair_once(self) -> tuple[float, str]:
        seconds, done = timed(venv_doctor("repair", "--all", "--json"), self.sandbox.env)
        results = json.loads(done.stdout or "{}").get("results", [])
        outcomes = {(r["action"], r["outcome"]) for r in results}
        if (
            done.returncode != 0
            or len(results) != self.count
            or outcomes != {("relink", "repaired")}
        ):
            raise BenchError(
                f"repair --all: exit {done.returncode}, {len(results)} results, {outcomes}\n"
                + done.stderr[-2000:]
            )
        statuses = check_statuses(self.sandbox)
        healthy = [p for p, s in statuses.items() if s == "healthy"]
        if len(healthy) != self.count:
            raise BenchError(f"after repair: {len(healthy)} of {self.count} healthy: {statuses}")
        return seconds, done.stderr


# --- rebuild of one venv, beside pipx reinstall --------------------------------------------


@dataclass(frozen=True)
class PackageSet:
    """What the rebuilt venv holds: ``top`` (the one requested distribution, with a
    console script of the same name) and its dependencies, as wheels in ``house``."""

    top: str
    version: str
    house: Path

    def names(self) -> list[str]:
        """Every distribution the venv must hold (canonical names, pip's wheel aside)."""
        found = {canonical(w.name.split("-")[0]) for w in self.house.glob("*.whl")}
        return sorted(found - {"pip"})


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def tiny_packages(root: Path, packages: int) -> PackageSet:
    """``benchtop`` (with a console script) requiring packages-1 tiny dependencies."""
    house = root / "wheelhouse"
    deps = [f"benchdep{i:02d}" for i in range(1, packages)]
    for name in deps:
        make_wheel(house, name, "1.0.0")
    make_wheel(house, TOP, "1.0.0", requires=deps, console_scripts={TOP: f"{TOP}:main"})
    return PackageSet(TOP, "1.0.0", house)


def real_packages(root: Path, spec: str, cache: Path, python: Path) -> PackageSet:
    """``spec`` and its dependencies from PyPI, downloaded once into ``cache`` by the
    interpreter the venvs run on (so the wheels' tags fit it), then copied into the
    sandbox's wheelhouse: every install after that is offline."""
    where = cache / f"{canonical(spec)}-{python.name}"
    done = where / ".complete"
    if not done.exists():
        where.mkdir(parents=True, exist_ok=True)
        print(f"  downloading {spec} and its dependencies into {where}", file=sys.stderr)
        # the machine's own pip configuration (its index) applies here, not the sandbox's
        run([python, "-m", "pip", "download", "-q", "-d", where, spec], os.environ, timeout=900)
        done.write_text(spec + "\n", encoding="utf-8")
    house = root / "wheelhouse"
    house.mkdir(parents=True, exist_ok=True)
    for wheel in where.glob("*.whl"):
        shutil.copy2(wheel, house / wheel.name)
    top = [w for w in house.glob("*.whl") if canonical(w.name.split("-")[0]) == canonical(spec)]
    if len(top) != 1:
        raise BenchError(f"{where} holds no single wheel of {spec}: {sorted(os.listdir(where))}")
    return PackageSet(canonical(spec), top[0].name.split("-")[1], house)


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds of the whole command
    cpu: float  # user + system seconds of it and every process it waited for


def timed_cpu(
    cmd: Sequence[str | Path], env: Mapping[str, str]
) -> tuple[Sample, subprocess.CompletedProcess[str]]:
    """Wall clock and CPU time of one command and its whole process tree. CPU time
    (the children's rusage) is what a loaded machine inflates least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, done = timed(cmd, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(seconds, cpu), done


class RebuildScene:
    """One venv of real or tiny packages, rebuilt by venv-doctor; pipx's copies
    reinstalled; and the floor: ``uv venv`` and ``uv pip install -r`` alone."""

    def __init__(self, sandbox: Sandbox, packages: PackageSet, pipx: list[str]) -> None:
        self.sandbox = sandbox
        self.packages = packages
        self.pipx = pipx
        self.python = sandbox.fake_pyenv(MINOR)  # the inventory finds it in $PYENV_ROOT
        self.env = {
            **sandbox.env,
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(packages.house),
        }
        self.venv = sandbox.workon_home / "rebuild-me"
        self.floor = sandbox.root / "floor"
        self.uv = self._uv()

    def _uv(self) -> Path:
        from venv_doctor.install.tools import find_uv

        uv = find_uv(self.env)
        if uv is None:
            raise BenchError("uv was not found (install venv-doctor[uv] or the test extras)")
        return uv

    def _uv_install(self, venv: Path, *requirements: str | Path) -> None:
        run(
            [
                *(self.uv, "pip", "install", "-q", "--offline", "--no-index"),
                *("--find-links", self.packages.house, "--python", venv / "bin" / "python"),
                *requirements,
            ],
            self.env,
        )

    # venv-doctor

    def reset_venv(self, creator: str) -> None:
        """A fresh venv without pip holding the packages, made as pipx's backend of the
        same name makes its venvs: ``uv venv``, or ``python -m venv --without-pip``."""
        if self.venv.exists():
            shutil.rmtree(self.venv)
        if creator == "uv":
            run([self.uv, "venv", "-q", "--python", self.python, self.venv], self.env)
        else:
            run([self.python, "-m", "venv", "--without-pip", self.venv], self.env)
        self._uv_install(self.venv, self.packages.top)

    def rebuild(self, installer: str, creator: str) -> tuple[Sample, str]:
        self.sandbox.write_config(f'[repair]\ninstaller = "{installer}"\n')
        self.reset_venv(creator)
        cmd = venv_doctor("repair", self.venv, "--strategy", "rebuild", "--yes", "--json")
        sample, done = timed_cpu(cmd, self.env)
        results = json.loads(done.stdout or "{}").get("results", [])
        if done.returncode != 0 or [(r["action"], r["outcome"]) for r in results] != [
            ("rebuild", "repaired")
        ]:
            raise BenchError(
                f"rebuild with {installer}: exit {done.returncode}: {results}\n{done.stderr[-2000:]}"
            )
        count = len(self.packages.names())
        if f"({count} packages)" not in results[0]["message"]:
            raise BenchError(f"rebuild with {installer}: {results[0]['message']}")
        self._verify(self.venv / "bin" / self.packages.top, self.venv, f"rebuild with {installer}")
        return sample, done.stderr

    # the floor

    def floor_once(self) -> tuple[Sample, str]:
        """``uv venv`` then ``uv pip install -r`` of the same pins, nothing else."""
        if self.floor.exists():
            shutil.rmtree(self.floor)
        pins = self.sandbox.root / "pins.txt"
        if not pins.exists():
            frozen = run(
                [self.uv, "pip", "freeze", "--python", self.venv / "bin" / "python"], self.env
            )
            # the pins venv-doctor installs: what the venv held, not the pip a pip rebuild seeded
            lines = [ln for ln in frozen.stdout.splitlines() if not ln.startswith("pip==")]
            pins.write_text("\n".join(lines) + "\n", encoding="utf-8")
        uv, python = shlex.quote(str(self.uv)), shlex.quote(str(self.python))
        floor, house = shlex.quote(str(self.floor)), shlex.quote(str(self.packages.house))
        script = (
            f"{uv} venv -q --python {python} {floor} && {uv} pip install -q --offline --no-index"
            f" --find-links {house} --python {floor}/bin/python -r {shlex.quote(str(pins))}"
        )
        sample, done = timed_cpu(["sh", "-c", script], self.env)
        if done.returncode != 0:
            raise BenchError(f"the uv floor: exit {done.returncode}\n{done.stderr[-2000:]}")
        self._verify(self.floor / "bin" / self.packages.top, self.floor, "the uv floor")
        return sample, done.stderr

    # pipx

    def pipx_env(self, backend: str) -> dict[str, str]:
        """Each backend has its own pipx home: a reinstall keeps the recorded backend."""
        root = self.sandbox.root
        return {
            **self.env,
            "PIPX_HOME": str(root / f"pipx-{backend}"),
            "PIPX_BIN_DIR": str(root / f"pipx-{backend}-bin"),
            "PIPX_MAN_DIR": str(root / f"pipx-{backend}-man"),
            "PIPX_DEFAULT_BACKEND": backend,
        }

    def pipx_install(self, backend: str) -> None:
        args = ["install", "--backend", backend, "--python", str(self.python), "--pip-args"]
        args += [f"--no-index --find-links {self.packages.house}", self.packages.top]
        run([*self.pipx, *args], self.pipx_env(backend))
        self._verify_pipx(backend)

    def pipx_reinstall(self, backend: str) -> tuple[Sample, str]:
        """pipx 1.18 rebuilds with ``--backend`` (else PIPX_DEFAULT_BACKEND, else uv
        when it finds uv): both are given, and the recorded backend is checked after."""
        cmd = [*self.pipx, "reinstall", "--backend", backend, "--python", str(self.python)]
        sample, done = timed_cpu([*cmd, self.packages.top], self.pipx_env(backend))
        if done.returncode != 0:
            raise BenchError(f"pipx reinstall: exit {done.returncode}\n{done.stderr[-2000:]}")
        self._verify_pipx(backend)
        return sample, done.stderr

    def _verify_pipx(self, backend: str) -> None:
        env = self.pipx_env(backend)
        venv = Path(env["PIPX_HOME"]) / "venvs" / self.packages.top
        self._verify(Path(env["PIPX_BIN_DIR"]) / self.packages.top, venv, f"pipx ({backend})")
        meta = json.loads((venv / "pipx_metadata.json").read_text(encoding="utf-8"))
        if meta.get("backend", "pip") != backend:
            raise BenchError(f"pipx reinstalled with {meta.get('backend')}, not {backend}")
        if (venv / "bin" / "pip").exists():
            raise BenchError(f"pipx's venv {venv} has its own pip, unlike pipx's default")

    def _verify(self, script: Path, venv: Path, what: str) -> None:
        """The console script runs and names its version; every distribution is there;
        ``venv-doctor check`` calls the venv healthy."""
        out = run([script, "--version"], self.env, check=False)
        if out.returncode != 0 or self.packages.version not in out.stdout:
            raise BenchError(f"{what}: {script} printed {out.stdout!r} {out.stderr[-500:]!r}")
        status = check_statuses(self.sandbox, venv).get(str(venv))
        if status != "healthy":
            raise BenchError(f"{what}: venv-doctor check says {venv} is {status}")
        site = venv / "lib" / f"python{MINOR}" / "site-packages"
        got = sorted(canonical(p.name.split("-")[0]) for p in site.glob("*.dist-info"))
        if got != self.packages.names():
            raise BenchError(f"{what}: {venv} holds {got}, not {self.packages.names()}")


def newest_pip_wheel(sandbox: Sandbox, into: Path) -> None:
    """pipx seeds its shared venv with a recent pip (1.18: pip >= 26.1), offline here: the
    newest pip wheel bundled with virtualenv or an interpreter's ensurepip, else PyPI."""
    places = [Path(p) for p in sys.path if p]
    spec = importlib.util.find_spec("virtualenv")
    if spec is not None and spec.submodule_search_locations:
        places = [Path(spec.submodule_search_locations[0]) / "seed" / "wheels" / "embed"]
    found = [w for d in places if d.is_dir() for w in d.glob("pip-*-py3-none-any.whl")]
    found += list(REAL_PYENV_ROOT.glob("versions/*/lib/python3.*/ensurepip/_bundled/pip-*.whl"))
    if found:
        newest = max(found, key=lambda w: [int(x) for x in w.name.split("-")[1].split(".")])
        shutil.copy2(newest, into / newest.name)
        return
    env = {k: v for k, v in sandbox.env.items() if k != "PIP_CONFIG_FILE"}
    run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", into, "pip"], env)


def pipx_command(sandbox: Sandbox) -> list[str]:
    """pipx from venv-doctor's environment, else from PyPI into a private venv here."""
    if importlib.util.find_spec("pipx") is not None:
        return [sys.executable, "-m", "pipx"]
    private = sandbox.root / "pipx-tool"
    run([sys.executable, "-m", "venv", private], sandbox.env)
    # the machine's own pip configuration (its index) applies here, not the sandbox's
    env = {k: v for k, v in sandbox.env.items() if k != "PIP_CONFIG_FILE"}
    run([private / "bin" / "python", "-m", "pip", "install", "-q", "pipx"], env, timeout=900)
    return [str(private / "bin" / "python"), "-m", "pipx"]


# --- the run -------------------------------------------------------------------------------


def _times(this: float, base: float) -> str:
    return f"{this / base:.2f}x" if base > 0 else "-"


@dataclass(frozen=True)
class CaseFigures:
    wall: Figures
    cpu: Figures


def rebuild_rows(figures: dict[str, CaseFigures]) -> list[list[str]]:
    uv, floor = figures[PIPX_UV], figures[FLOOR]
    pip = figures[PIPX_PIP].wall.median if PIPX_PIP in figures else 0.0
    return [
        [
            case,
            f"{f.wall.median:.3f}",
            f"{f.wall.low:.3f}-{f.wall.high:.3f}",
            _times(f.wall.median, uv.wall.median),
            _times(f.wall.median, pip),
            _times(f.wall.median, floor.wall.median),
            f"{f.cpu.median:.3f}",
            _times(f.cpu.median, uv.cpu.median),
        ]
        for case, f in figures.items()
    ]


def measure_relink(sizes: Sizes, runs: int, verbose: bool) -> Figures:
    sandbox = make_sandbox("venv-doctor-bench-relink-")
    try:
        scene = RelinkScene(sandbox, sizes.venvs)
        samples = []
        for i in range(runs):
            scene.break_them()
            seconds, stderr = scene.repair_once()
            samples.append(seconds)
            print(f"  relink run {i + 1}/{runs}: {seconds:.3f} s", file=sys.stderr)
            if verbose:
                print(stderr, file=sys.stderr)
        return Figures(tuple(samples))
    finally:
        sandbox.cleanup()


def measure_rebuild(
    packages: Callable[[Sandbox, Path], PackageSet],
    runs: int,
    warmup: int,
    verbose: bool,
    skip_pip: bool = False,
) -> tuple[dict[str, CaseFigures], str, list[str]]:
    """Every case once per round, interleaved: the figures, the requested package and
    every distribution the venv held."""
    sandbox = make_sandbox("venv-doctor-bench-rebuild-")
    try:
        python = sandbox.fake_pyenv(MINOR)
        scene = RebuildScene(sandbox, packages(sandbox, python), pipx_command(sandbox))
        scene.pipx_install("uv")
        cases: dict[str, Callable[[], tuple[Sample, str]]] = {
            UV_CASE: lambda: scene.rebuild("uv", "uv"),
            UV_STDLIB_CASE: lambda: scene.rebuild("uv", "venv"),
            PIPX_UV: lambda: scene.pipx_reinstall("uv"),
            FLOOR: scene.floor_once,
        }
        if not skip_pip:
            newest_pip_wheel(sandbox, scene.packages.house)
            scene.pipx_install("pip")
            cases[PIP_CASE] = lambda: scene.rebuild("pip", "venv")
            cases[PIPX_PIP] = lambda: scene.pipx_reinstall("pip")
        samples: dict[str, list[Sample]] = {case: [] for case in cases}
        for i in range(warmup + runs):
            for case, measure in cases.items():  # interleaved: load hits every case alike
                sample, stderr = measure()
                if i >= warmup:
                    samples[case].append(sample)
                label = "warm-up" if i < warmup else f"run {i - warmup + 1}/{runs}"
                print(
                    f"  {case} {label}: {sample.wall:.3f} s, CPU {sample.cpu:.3f} s",
                    file=sys.stderr,
                )
                if verbose:
                    print(stderr, file=sys.stderr)
        figures = {
            case: CaseFigures(
                Figures(tuple(x.wall for x in got)), Figures(tuple(x.cpu for x in got))
            )
            for case, got in samples.items()
        }
        return figures, scene.packages.top, scene.packages.names()
    finally:
        sandbox.cleanup()


def paired_ratios(figures: dict[str, CaseFigures]) -> str:
    """Each round's ratio to pipx (uv), its median: the cases of a round ran one after the
    other, so a load that shifts between rounds cancels out of these."""
    base = figures[PIPX_UV]
    lines = ["per-round ratios to pipx (uv), median of the rounds (wall / CPU):"]
    for case in (UV_CASE, UV_STDLIB_CASE):
        f = figures[case]
        wall = [a / b for a, b in zip(f.wall.samples, base.wall.samples, strict=True) if b > 0]
        cpu = [a / b for a, b in zip(f.cpu.samples, base.cpu.samples, strict=True) if b > 0]
        if wall and cpu:
            lines.append(
                f"  {case}: {statistics.median(wall):.2f}x / {statistics.median(cpu):.2f}x"
            )
    return "\n".join(lines)


def report_relink(sizes: Sizes, relink: Figures) -> list[str]:
    """Print the relink table; returns the targets missed."""
    missed = []
    verdict = "met" if relink.median < RELINK_TARGET_S else "MISSED"
    if verdict == "MISSED":
        missed.append(
            f"relink of {sizes.venvs} venvs: {relink.median:.3f} s >= {RELINK_TARGET_S} s"
        )
    print(
        table(
            ["case", "median s", "min", "max", "target", "verdict"],
            [
                [
                    f"relink {sizes.venvs} venvs (repair --all)",
                    f"{relink.median:.3f}",
                    f"{relink.low:.3f}",
                    f"{relink.high:.3f}",
                    f"< {RELINK_TARGET_S:g} s",
                    verdict,
                ]
            ],
        )
    )
    print(
        f"\nrelink: {sizes.venvs} venvs made through a Homebrew Cellar keg path, the keg renamed"
        " (brew upgrade);\nthe whole `venv-doctor repair --all --json` process, then"
        " `venv-doctor check --json` must say all are healthy.\n"
    )
    return missed


def report_rebuild(rebuild: dict[str, CaseFigures], top: str, names: list[str]) -> list[str]:
    """Print the rebuild table; returns the targets missed."""
    missed = []
    headers = ["case", "median s", "min-max", "/ pipx (uv)", "/ pipx (pip)", "/ uv floor"]
    print(table([*headers, "CPU s", "CPU / pipx (uv)"], rebuild_rows(rebuild)))
    versus_uv = rebuild[UV_CASE].wall.median / rebuild[PIPX_UV].wall.median
    cpu_versus_uv = rebuild[UV_CASE].cpu.median / rebuild[PIPX_UV].cpu.median
    verdict = "met" if max(versus_uv, cpu_versus_uv) <= PIPX_UV_TARGET else "MISSED"
    if verdict == "MISSED":
        missed.append(
            f"rebuild with uv takes {versus_uv:.2f}x the wall time and {cpu_versus_uv:.2f}x the"
            f" CPU of pipx reinstall (uv backend), target {PIPX_UV_TARGET:g}x"
        )
    print(f"\n{paired_ratios(rebuild)}")
    print(
        f"\nrebuild: one venv of {len(names)} distributions ({top} and {len(names) - 1}"
        " dependencies) from a warm local wheelhouse and a warm uv cache, offline."
        "\nEach venv venv-doctor rebuilds is made --without-pip, as pipx makes its venvs: with"
        "\n`uv venv` (pipx's uv backend) or `python -m venv` (its pip backend); venv-doctor makes"
        "\nthe new one with the same creator. The pip rebuild runs the pip the interpreter bundles"
        "\nfor ensurepip from its wheel (no pip is seeded into the venv, none is left there)."
        "\npipx installs the package in two pipx homes, one per"
        "\nbackend, and `pipx reinstall --backend B` rebuilds each. The floor is `uv venv` then"
        "\n`uv pip install -r` of the same pins in one `sh -c`, nothing verified or kept."
        "\nratios: this case's median / the column's median (lower is faster). CPU: user +"
        "\nsystem time of the command and every process it waited for (children's rusage)."
        f"\ntarget: venv-doctor with uv within {PIPX_UV_TARGET:g}x of pipx reinstall (uv backend):"
        f" {versus_uv:.2f}x wall, {cpu_versus_uv:.2f}x CPU, {verdict}"
    )
    return missed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="measured runs, median taken (default 5; quick 1)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs first")
    parser.add_argument("--quick", action="store_true", help="smoke test: small sizes")
    parser.add_argument("--venvs", type=int, help="venvs to relink (default 100; quick 10)")
    parser.add_argument(
        "--package",
        help=f"a real package to rebuild with its dependencies (default {REAL_PACKAGE};"
        " quick: tiny wheels)",
    )
    parser.add_argument(
        "--tiny", type=int, metavar="N", help="rebuild N tiny local packages instead (quick: 5)"
    )
    parser.add_argument(
        "--cache", type=Path, default=CACHE, help=f"where real wheels are kept (default {CACHE})"
    )
    parser.add_argument("--only", choices=["relink", "rebuild"], help="run one benchmark")
    parser.add_argument(
        "--skip-pip", action="store_true", help="rebuild with uv only (pip takes most of a run)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show venv-doctor's progress")
    return parser.parse_args(argv)


def package_set(args: argparse.Namespace) -> Callable[[Sandbox, Path], PackageSet]:
    if args.package or not (args.tiny or args.quick):
        spec = args.package or REAL_PACKAGE
        return lambda sandbox, python: real_packages(sandbox.root, spec, args.cache, python)
    count = args.tiny or 5
    return lambda sandbox, python: tiny_packages(sandbox.root, count)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 5)
    sizes = Sizes(venvs=args.venvs or (10 if args.quick else 100))
    warmup = 0 if args.quick else args.warmup
    started = time.monotonic()
    precompile_venv_doctor()
    load_before = machine()
    try:
        relink = measure_relink(sizes, args.runs, args.verbose) if args.only != "rebuild" else None
        rebuild = (
            measure_rebuild(package_set(args), args.runs, warmup, args.verbose, args.skip_pip)
            if args.only != "relink"
            else None
        )
    except BenchError as exc:
        print(f"\nVERIFICATION FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"\nvenv-doctor repair benchmark\nbefore: {load_before}\nafter:  {machine()}")
    print(f"median of {args.runs} run(s); seconds of the whole command, wall clock\n")
    missed = report_relink(sizes, relink) if relink else []
    if rebuild:
        missed += report_rebuild(*rebuild)
    for line in missed:
        print(f"\n!!! TARGET MISSED: {line}", file=sys.stderr)
    print(f"\nall results verified ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
