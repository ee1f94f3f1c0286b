"""Where a rebuild's time goes: one real venv (cookiecutter and its 19 dependencies,
Python 3.12, uv, warm cache, offline) rebuilt N times, each phase timed.

    python bench/profile_rebuild.py --runs 5
    python bench/profile_rebuild.py --runs 5 --tree /path/to/other/checkout/src   # A/B

Each rebuild runs ``venv-doctor repair VENV --strategy rebuild --yes --json`` in its
own process, with the core functions of each phase wrapped by a timer: wall clock
and CPU (user + system of the process and the children it waited for, which a
loaded machine inflates least). With ``--tree``, that source tree and this one
take turns, run by run. The wheels come from bench_repair.py's cache (downloaded
once); everything else lives in a throwaway home.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench_repair import CACHE, MINOR, REAL_PACKAGE, real_packages
from sandbox_home import machine, make_sandbox, precompile_venv_doctor, run, table

HERE = Path(__file__).resolve().parent
# The phases, by the function that carries each out (module, attribute path).
PHASES = (
    ("create the venv", "venv_doctor.install.installers", "create_venv"),
    ("install (uv pip install)", "venv_doctor.install.installers", "UvInstaller.install"),
    ("carry-over: plan", "venv_doctor.repair.transaction.carryover", "plan"),
    ("carry-over: copy", "venv_doctor.repair.transaction.carryover", "apply"),
    ("verify", "venv_doctor.repair.verify", "verify_rebuilt"),
    ("owner's records", "venv_doctor.repair.records", "update"),
    ("record the repaired venv", "venv_doctor.repair.run", "_record_repaired"),
)
START = "start: interpreter, imports, planning"
REST = "the rest: journal, backup, lock, output"
TOTAL = "whole command"

# Runs inside the venv-doctor process: wraps each phase, runs the CLI, prints one JSON line.
HARNESS = r"""
import functools, importlib, json, resource, sys, time
T0 = time.perf_counter()

def cpu():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

spent = {}
first = []

def wrap(owner, attr, label):
    f = getattr(owner, attr)
    @functools.wraps(f)
    def timed(*args, **kwargs):
        if not first:
            first.append((time.perf_counter() - T0, cpu()))
        wall, used = time.perf_counter(), cpu()
        try:
            return f(*args, **kwargs)
        finally:
            w, c = spent.get(label, (0.0, 0.0))
            spent[label] = (w + time.perf_counter() - wall, c + cpu() - used)
    setattr(owner, attr, timed)

for label, module, path in json.loads(sys.argv[2]):
    owner = importlib.import_module(module)
    *parents, attr = path.split(".")
    for p in parents:
        owner = getattr(owner, p)
    wrap(owner, attr, label)
from venv_doctor.cli import run as cli
code = cli(["repair", sys.argv[1], "--strategy", "rebuild", "--yes", "--json"])
spent["total"] = (time.perf_counter() - T0, cpu())
spent["start"] = first[0] if first else (0.0, 0.0)
sys.stderr.write("PROFILE" + json.dumps({"code": code, "spent": spent}) + "\n")
"""


def one_rebuild(
    tree: Path, venv: Path, env: dict[str, str], reset: list[list[str | Path]]
) -> dict[str, tuple[float, float]]:
    shutil.rmtree(venv, ignore_errors=True)
    for cmd in reset:
        run(cmd, env)
    phases = json.dumps([[label, module, path] for label, module, path in PHASES])
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, str(venv), phases],
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("PROFILE")]
    report = json.loads(lines[-1][len("PROFILE") :]) if lines else {}
    if report.get("code") != 0 or '"repaired"' not in done.stdout:
        raise SystemExit(f"the rebuild failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    spent = {k: (float(v[0]), float(v[1])) for k, v in report["spent"].items()}
    known = sum(spent.get(label, (0.0, 0.0))[0] for label, _, _ in PHASES)
    known_cpu = sum(spent.get(label, (0.0, 0.0))[1] for label, _, _ in PHASES)
    total, start = spent.pop("total"), spent.pop("start")
    spent[START] = (start[0], start[1])
    spent[REST] = (total[0] - start[0] - known, total[1] - start[1] - known_cpu)
    spent[TOTAL] = total
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="another checkout's src/ to compare with")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    precompile_venv_doctor()
    trees = {"this": HERE.parent / "src"}
    if args.tree:
        import compileall

        compileall.compile_dir(args.tree, quiet=1)
        trees = {str(args.tree): args.tree, **trees}
    sandbox = make_sandbox("venv-doctor-profile-rebuild-")
    try:
        python = sandbox.fake_pyenv(MINOR)
        packages = real_packages(sandbox.root, REAL_PACKAGE, args.cache, python)
        env = {**sandbox.env, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(packages.house)}
        sandbox.write_config('[repair]\ninstaller = "uv"\n')
        venv = sandbox.workon_home / "rebuild-me"
        uv = shutil.which("uv", path=env["PATH"]) or str(Path(sys.executable).parent / "uv")
        offline: list[str | Path] = ["--offline", "--no-index", "--find-links", packages.house]
        reset: list[list[str | Path]] = [
            [uv, "venv", "-q", "--python", python, venv],
            [
                uv,
                "pip",
                "install",
                "-q",
                *offline,
                "--python",
                venv / "bin" / "python",
                packages.top,
            ],
        ]
        load_before = machine()
        samples: dict[str, list[dict[str, tuple[float, float]]]] = {t: [] for t in trees}
        # each tree its own state and cache: their database schemas may differ
        envs = {
            name: {
                **env,
                "VENV_DOCTOR_STATE_DIR": str(sandbox.root / f"vd-{i}" / "state"),
                "VENV_DOCTOR_CACHE_DIR": str(sandbox.root / f"vd-{i}" / "cache"),
            }
            for i, name in enumerate(trees)
        }
        for i in range(args.runs + 1):  # the first round warms the caches
            for name, tree in trees.items():
                spent = one_rebuild(tree, venv, envs[name], reset)
                if i:
                    samples[name].append(spent)
        print(f"before: {load_before}\nafter:  {machine()}")
        print(
            f"rebuild of {packages.top} + {len(packages.names()) - 1} dependencies, uv;"
            f" median of {args.runs} runs (wall s / CPU s)\n"
        )
        labels = [START, *(label for label, _, _ in PHASES), REST, TOTAL]
        rows = []
        for label in labels:
            row = [label]
            for name in trees:
                got = [s.get(label, (0.0, 0.0)) for s in samples[name]]
                row.append(
                    f"{statistics.median(g[0] for g in got):.3f} / "
                    f"{statistics.median(g[1] for g in got):.3f}"
                )
            rows.append(row)
        print(table(["phase", *trees], rows))
    finally:
        sandbox.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
