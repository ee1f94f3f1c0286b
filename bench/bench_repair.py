"""Repair benchmark: relink many venvs after a Homebrew upgrade, rebuild one venv
of 20 packages with uv and with pip, beside ``pipx reinstall`` of the same package.

    python bench/bench_repair.py --runs 5
    python bench/bench_repair.py --quick          # smoke test: small sizes, 1 run

Everything happens in a throwaway home (see sandbox_home.py); the real
interpreters under the real pyenv root are only read; no network (tiny wheels
in a local wheelhouse; pipx itself comes from venv-doctor's environment, or is
installed once into a private venv in the throwaway home).

Exit status: 0 when every result verified (targets missed are reported, loudly,
but do not fail), 1 when a verification failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import time
from collections.abc import Callable
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
SPEEDUP_TARGET = 3.0
TOP = "benchtop"
UV_CASE = "venv-doctor rebuild (uv)"
PIPX_PIP = "pipx reinstall (pip backend)"
PIPX_UV = "pipx reinstall (uv backend)"


@dataclass(frozen=True)
class Sizes:
    venvs: int  # venvs relinked at once
    packages: int  # packages in the rebuilt venv (one top-level and its dependencies)


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


def make_wheelhouse(root: Path, packages: int) -> Path:
    """``benchtop`` (with a console script) requiring packages-1 tiny dependencies."""
    house = root / "wheelhouse"
    deps = [f"benchdep{i:02d}" for i in range(1, packages)]
    for name in deps:
        make_wheel(house, name, "1.0.0")
    make_wheel(house, TOP, "1.0.0", requires=deps, console_scripts={TOP: f"{TOP}:main"})
    return house


class RebuildScene:
    """One venv of ``packages`` packages, rebuilt by venv-doctor; pipx's copy reinstalled."""

    def __init__(self, sandbox: Sandbox, packages: int, pipx: list[str]) -> None:
        self.sandbox = sandbox
        self.packages = packages
        self.pipx = pipx
        self.house = make_wheelhouse(sandbox.root, packages)
        self.python = sandbox.fake_pyenv(MINOR)  # the inventory finds it in $PYENV_ROOT
        self.env = {
            **sandbox.env,
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(self.house),
        }
        self.venv = sandbox.workon_home / "rebuild-me"

    # venv-doctor

    def reset_venv(self) -> None:
        """A fresh venv without pip holding the packages (as pipx's venvs have no pip)."""
        from venv_doctor.install.tools import find_uv

        uv = find_uv(self.env)
        if uv is None:
            raise BenchError("uv was not found (install venv-doctor[uv] or the test extras)")
        if self.venv.exists():
            shutil.rmtree(self.venv)
        run([self.python, "-m", "venv", "--without-pip", self.venv], self.env)
        run(
            [
                *(uv, "pip", "install", "-q", "--offline", "--no-index"),
                *("--find-links", self.house, "--python", self.venv / "bin" / "python", TOP),
            ],
            self.env,
        )

    def rebuild(self, installer: str) -> tuple[float, str]:
        self.sandbox.write_config(f'[repair]\ninstaller = "{installer}"\n')
        self.reset_venv()
        cmd = venv_doctor("repair", self.venv, "--strategy", "rebuild", "--yes", "--json")
        seconds, done = timed(cmd, self.env)
        results = json.loads(done.stdout or "{}").get("results", [])
        if done.returncode != 0 or [(r["action"], r["outcome"]) for r in results] != [
            ("rebuild", "repaired")
        ]:
            raise BenchError(
                f"rebuild with {installer}: exit {done.returncode}: {results}\n{done.stderr[-2000:]}"
            )
        if f"{self.packages} packages" not in results[0]["message"]:
            raise BenchError(f"rebuild with {installer}: {results[0]['message']}")
        self._verify(self.venv / "bin" / TOP, self.venv, f"rebuild with {installer}")
        return seconds, done.stderr

    # pipx

    def pipx_env(self, backend: str) -> dict[str, str]:
        """Each backend has its own pipx home: a reinstall keeps the recorded backend."""
        root = self.sandbox.root
        return {
            **self.env,
            "PIPX_HOME": str(root / f"pipx-{backend}"),
            "PIPX_BIN_DIR": str(root / f"pipx-{backend}-bin"),
            "PIPX_MAN_DIR": str(root / f"pipx-{backend}-man"),
        }

    def pipx_install(self, backend: str) -> None:
        args = ["install", "--backend", backend, "--python", str(self.python), "--pip-args"]
        args += [f"--no-index --find-links {self.house}", TOP]
        run([*self.pipx, *args], self.pipx_env(backend))
        self._verify_pipx(backend)

    def pipx_reinstall(self, backend: str) -> tuple[float, str]:
        """Recent pipx picks uv by itself when it finds it; both backends are timed."""
        cmd = [*self.pipx, "reinstall", "--python", str(self.python), TOP]
        seconds, done = timed(cmd, self.pipx_env(backend))
        if done.returncode != 0:
            raise BenchError(f"pipx reinstall: exit {done.returncode}\n{done.stderr[-2000:]}")
        self._verify_pipx(backend)
        return seconds, done.stderr

    def _verify_pipx(self, backend: str) -> None:
        env = self.pipx_env(backend)
        venv = Path(env["PIPX_HOME"]) / "venvs" / TOP
        self._verify(Path(env["PIPX_BIN_DIR"]) / TOP, venv, f"pipx ({backend})")
        meta = json.loads((venv / "pipx_metadata.json").read_text(encoding="utf-8"))
        if meta.get("backend", "pip") != backend:
            raise BenchError(f"pipx reinstalled with {meta.get('backend')}, not {backend}")
        if (venv / "bin" / "pip").exists():
            raise BenchError(f"pipx's venv {venv} has its own pip, unlike pipx's default")

    def _verify(self, script: Path, venv: Path, what: str) -> None:
        out = run([script], self.env, check=False)
        if out.returncode != 0 or out.stdout.strip() != f"{TOP} 1.0.0":
            raise BenchError(f"{what}: {script} printed {out.stdout!r} {out.stderr[-500:]!r}")
        status = check_statuses(self.sandbox, venv).get(str(venv))
        if status != "healthy":
            raise BenchError(f"{what}: venv-doctor check says {venv} is {status}")
        got = sorted(
            p.name.split("-")[0]
            for p in (venv / "lib" / f"python{MINOR}" / "site-packages").glob("*.dist-info")
        )
        wanted = sorted([TOP, *(f"benchdep{i:02d}" for i in range(1, self.packages))])
        if [g for g in got if g.startswith("bench")] != wanted:
            raise BenchError(f"{what}: {venv} holds {got}")


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


def _ratio(base: float, other: float) -> str:
    return f"{base / other:.1f}x" if other > 0 else "-"


def rebuild_rows(figures: dict[str, Figures]) -> list[list[str]]:
    pip, uv = figures[PIPX_PIP].median, figures[PIPX_UV].median
    return [
        [
            case,
            f"{f.median:.3f}",
            f"{f.low:.3f}",
            f"{f.high:.3f}",
            _ratio(pip, f.median),
            _ratio(uv, f.median),
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


def measure_rebuild(sizes: Sizes, runs: int, warmup: int, verbose: bool) -> dict[str, Figures]:
    sandbox = make_sandbox("venv-doctor-bench-rebuild-")
    try:
        scene = RebuildScene(sandbox, sizes.packages, pipx_command(sandbox))
        newest_pip_wheel(sandbox, scene.house)
        scene.pipx_install("pip")
        scene.pipx_install("uv")
        cases: dict[str, Callable[[], tuple[float, str]]] = {
            UV_CASE: lambda: scene.rebuild("uv"),
            "venv-doctor rebuild (pip)": lambda: scene.rebuild("pip"),
            PIPX_PIP: lambda: scene.pipx_reinstall("pip"),
            PIPX_UV: lambda: scene.pipx_reinstall("uv"),
        }
        samples: dict[str, list[float]] = {case: [] for case in cases}
        for i in range(warmup + runs):
            for case, measure in cases.items():  # interleaved: load hits every case alike
                seconds, stderr = measure()
                if i >= warmup:
                    samples[case].append(seconds)
                label = "warm-up" if i < warmup else f"run {i - warmup + 1}/{runs}"
                print(f"  {case} {label}: {seconds:.3f} s", file=sys.stderr)
                if verbose:
                    print(stderr, file=sys.stderr)
        return {case: Figures(tuple(s)) for case, s in samples.items()}
    finally:
        sandbox.cleanup()


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


def report_rebuild(sizes: Sizes, rebuild: dict[str, Figures]) -> list[str]:
    """Print the rebuild table; returns the targets missed."""
    missed = []
    headers = ["case", "median s", "min", "max", "speed vs pipx (pip)", "vs pipx (uv)"]
    print(table(headers, rebuild_rows(rebuild)))
    speedup = rebuild[PIPX_PIP].median / rebuild[UV_CASE].median
    versus_uv = rebuild[PIPX_UV].median / rebuild[UV_CASE].median
    verdict = "met" if speedup >= SPEEDUP_TARGET else "MISSED"
    if verdict == "MISSED":
        missed.append(
            f"rebuild with uv is {speedup:.1f}x pipx reinstall, target {SPEEDUP_TARGET:g}x"
        )
    print(
        f"\nrebuild: one venv of {sizes.packages} packages (one top-level package with a console"
        f" script, {sizes.packages - 1} dependencies) from a warm local wheelhouse, offline."
        "\nThe venv to rebuild is made --without-pip, like pipx's venvs (pipx uses its shared pip),"
        "\nso the uv rebuild runs no ensurepip; the pip rebuild must seed pip into the new venv"
        "\n(ensurepip), since pip installs from inside the venv."
        "\npipx installs the package twice, in two pipx homes: with --backend pip (its default"
        "\nwithout uv) and --backend uv (what pipx picks by itself when it finds uv); each is"
        "\nreinstalled with the backend it recorded."
        "\nspeed = pipx's median / this case's median (higher is faster)."
        f"\ntarget: venv-doctor with uv >= {SPEEDUP_TARGET:g}x faster than pipx reinstall"
        f" (pip backend): {speedup:.1f}x, {verdict}; against pipx's uv backend: {versus_uv:.1f}x"
    )
    return missed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="measured runs, median taken (default 5; quick 1)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs first")
    parser.add_argument("--quick", action="store_true", help="smoke test: small sizes")
    parser.add_argument("--venvs", type=int, help="venvs to relink (default 100; quick 10)")
    parser.add_argument("--packages", type=int, help="packages to rebuild (default 20; quick 5)")
    parser.add_argument("--only", choices=["relink", "rebuild"], help="run one benchmark")
    parser.add_argument("-v", "--verbose", action="store_true", help="show venv-doctor's progress")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 5)
    sizes = Sizes(
        venvs=args.venvs or (10 if args.quick else 100),
        packages=args.packages or (5 if args.quick else 20),
    )
    warmup = 0 if args.quick else args.warmup
    started = time.monotonic()
    precompile_venv_doctor()
    try:
        relink = measure_relink(sizes, args.runs, args.verbose) if args.only != "rebuild" else None
        rebuild = (
            measure_rebuild(sizes, args.runs, warmup, args.verbose)
            if args.only != "relink"
            else None
        )
    except BenchError as exc:
        print(f"\nVERIFICATION FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"\nvenv-doctor repair benchmark ({machine()})")
    print(f"median of {args.runs} run(s); seconds of the whole command, wall clock\n")
    missed = report_relink(sizes, relink) if relink else []
    missed += report_rebuild(sizes, rebuild) if rebuild else []
    for line in missed:
        print(f"\n!!! TARGET MISSED: {line}", file=sys.stderr)
    print(f"\nall results verified ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
