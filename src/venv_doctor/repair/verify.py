"""Verifying a rebuilt venv: it can do what the old one could.

Checked, in this order, with one start of the new interpreter:

- nothing a repair cures is left (the static diagnosis);
- the interpreter starts, runs the right minor and sees its site-packages;
- the installed (name, version) set is the expected one: nothing missing, nothing
  extra (what the new venv's creator seeded aside);
- every console script an installed distribution declares is in ``bin/`` and
  starts this venv's interpreter;
- the dependencies agree (``uv pip check``, else ``pip check``);
- every top-level module of the distributions the user asked for imports
  (their imports pull in what they use of the rest; importing every module of
  every dependency cost most of a rebuild's time), unless it fails only for lack
  of a distribution no installed one provides: the old venv lacked it too (an
  optional extra, like black's ``blackd`` without ``black[d]``). That is a note.

The dependency check runs beside the interpreter start. The imports write the
bytecode of what they load (the probe runs with ``-E``), so the modules the
venv's programs start with are compiled once, here, and nothing else is.
"""

from __future__ import annotations

import configparser
import contextvars
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from venv_doctor import runner
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Cure, Severity, Status, cured_by
from venv_doctor.diagnose.probe import probe
from venv_doctor.diagnose.probe_result import ProbeResult
from venv_doctor.fsutil import LARGE_FILE, SMALL_FILE, read_bounded, read_text_bounded
from venv_doctor.install.tools import find_uv
from venv_doctor.model import distributions
from venv_doctor.model.metadata import canonical_name
from venv_doctor.model.venv import Location, Venv, load
from venv_doctor.record.snapshots import bundled_wheels

CHECK_TIMEOUT = 300.0
FAIL = "VENV-DOCTOR-IMPORT"
# Runs after the probe line, on Python 2.7 to 3.13: one line per module that fails,
# naming the module it lacked when the failure (or what caused it) is a missing module.
IMPORTS = (
    "\nimport importlib\n"
    "def _missing(exc):\n"
    "    seen = 0\n"
    "    while exc is not None and seen < 10:\n"
    "        name = getattr(exc, 'name', None)\n"
    "        text = str(exc)\n"
    "        if not name and isinstance(exc, ImportError) and text.startswith('No module named '):\n"
    "            name = text[len('No module named '):].strip(\"'\")\n"
    "        if name:\n"
    "            return name\n"
    "        exc = exc.__cause__ or exc.__context__ if hasattr(exc, '__cause__') else None\n"
    "        seen += 1\n"
    "    return ''\n"
    "for _name in sys.argv[1:]:\n"
    "    try:\n"
    "        importlib.import_module(_name)\n"
    "    except BaseException as _exc:\n"
    "        _line = '%s: %s' % (type(_exc).__name__, _exc)\n"
    f"        sys.stdout.write('{FAIL}|%s|%s|%s\\n' % (_name, _missing(_exc), "
    "_line.replace('\\n', ' ')))\n"
)
# installers write these for the Python they run on, not the one in entry_points.txt
VERSIONED_SCRIPT = re.compile(r"^(pip|easy_install)-?\d+(\.\d+)?$")
SKIP_MODULES = frozenset({"pip", "setuptools", "pkg_resources", "_distutils_hack", "wheel"})


@dataclass(frozen=True)
class Verification:
    problem: str | None  # None: verified
    notes: tuple[str, ...] = ()


def load_at(path: Path) -> Venv:
    return load(Location(path.name, path, "repair"))


def left_to_cure(venv: Venv, result: ProbeResult | None, env: Mapping[str, str]) -> str | None:
    """None when nothing a repair is meant to cure is left in ``venv``.

    Errors fail it, and so do the warnings a relink or rebuild cures (a Cellar
    pin, a foreign shebang); a warning no repair touches (stray lines in
    pyvenv.cfg) was there before and is not the repair's failure.
    """
    d = diagnose(venv, result, env=env)
    cured = cured_by(Cure.RELINK, Cure.REBUILD)
    left = [
        f
        for f in d.findings
        if f.severity is Severity.ERROR or (f.code in cured and f.severity is Severity.WARNING)
    ]
    if not left and d.status is not Status.UNKNOWN:
        return None
    return "; ".join(f"{f.code}: {f.message}" for f in left) or d.status.value


def verify_rebuilt(
    path: Path,
    expected: frozenset[tuple[str, str]],
    editable: frozenset[str],
    env: Mapping[str, str],
    exact: bool = True,
    requested: Collection[str] = (),
) -> Verification:
    """Whether the venv at ``path`` can do what the old one could (see the module).

    ``requested``: the distributions the user asked for, whose modules are
    imported; when none of them is known, every top-level module is.
    """
    venv = load_at(path)
    contents = distributions.read(venv.site_packages, bundled=bundled_wheels(venv))
    problem = (
        left_to_cure(venv, None, env)
        or _contents_problem(contents.packages, expected, editable, exact)
        or _scripts_problem(venv)
    )
    if problem:
        return Verification(problem)
    modules = to_import(venv.site_packages, requested)
    main = venv.main_python.name if venv.main_python else "python"
    with ThreadPoolExecutor(max_workers=1) as pool:  # the check waits on uv, not on us
        # in this context: its child gets the run's temp dir (runner.temp_scope), which
        # is removed with the run, killed or not
        check = contextvars.copy_context().run
        dependencies = pool.submit(check, _dependencies_problem, path, contents.packages, env)
        started = probe(
            path / "bin" / main,
            venv.site_packages,
            CHECK_TIMEOUT,
            then=IMPORTS,
            args=sorted(modules - SKIP_MODULES),
            env=env,
        )
        problem = left_to_cure(venv, started, env) or dependencies.result()
    if problem:
        return Verification(problem)
    failures, notes = _imports(started.more, venv.site_packages)
    return Verification("cannot import: " + "; ".join(failures) if failures else None, notes)


def to_import(site_packages: Sequence[Path], requested: Collection[str]) -> set[str]:
    """The top-level modules of the requested distributions (only their RECORDs are
    read); all of them when no requested distribution provides any (an old record,
    a meta-package)."""
    wanted = {canonical_name(n) for n in requested}
    chosen = modules_by_distribution(site_packages, wanted) if wanted else {}
    return set().union(*chosen.values()) or provided_modules(site_packages)


def provided_modules(site_packages: Sequence[Path]) -> set[str]:
    """Every top-level module an installed distribution provides."""
    return set().union(*modules_by_distribution(site_packages).values())


def _contents_problem(
    packages: Iterable[distributions.Package],
    expected: frozenset[tuple[str, str]],
    editable: frozenset[str],
    exact: bool,
) -> str | None:
    present = {(p.name, p.version) for p in packages if p.kind != "editable"}
    # what the user had may be what the new creator seeds (pip 23.2.1 from `uv pip install`
    # in the old venv, ensurepip's 23.2.1 in the new one): present is enough for expected
    missing = sorted(f"{n}=={v}" for n, v in expected - present)
    have = {(p.name, p.version) for p in packages if not p.seeded and p.kind != "editable"}
    if missing:
        return "not installed: " + ", ".join(missing)
    extra = sorted(f"{n}=={v}" for n, v in have - expected if n not in editable)
    if extra and exact:
        return "installed, but not in the old venv: " + ", ".join(extra)
    return None


def console_scripts(site_packages: Iterable[Path]) -> dict[str, str]:
    """Script name -> distribution directory, from every ``entry_points.txt``."""
    out: dict[str, str] = {}
    for site in site_packages:
        for entry_points in site.glob("*.dist-info/entry_points.txt"):
            parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
            parser.optionxform = str  # type: ignore[assignment,method-assign]
            try:  # bounded and non-blocking, as every file of a venv is read
                parser.read_string(read_text_bounded(entry_points, SMALL_FILE))
            except (configparser.Error, UnicodeDecodeError, OSError):
                continue
            for section in ("console_scripts", "gui_scripts"):
                if parser.has_section(section):
                    out.update(dict.fromkeys(parser.options(section), entry_points.parent.name))
    return out


def _scripts_problem(venv: Venv) -> str | None:
    """Every declared console script is in bin/ and starts this venv's interpreter."""
    declared = {
        n: d
        for n, d in console_scripts(venv.site_packages).items()
        if not VERSIONED_SCRIPT.match(n)
    }
    shebangs = {s.script.name: s.interpreter for s in venv.scripts}
    bin_dir = venv.path / "bin"
    missing = sorted(n for n in declared if not os.path.lexists(bin_dir / n))
    if missing:
        return "console scripts missing from bin/: " + ", ".join(missing)
    elsewhere = sorted(
        n
        for n in declared
        if n in shebangs and os.path.realpath(os.path.dirname(shebangs[n])) != str(bin_dir)
    )
    if elsewhere:
        return "console scripts that start another interpreter: " + ", ".join(elsewhere)
    return None


def _dependencies_problem(
    path: Path, packages: Iterable[distributions.Package], env: Mapping[str, str]
) -> str | None:
    """``uv pip check`` (no interpreter start of its own worth counting), else ``pip check``."""
    python = path / "bin" / "python"
    uv = find_uv(env)
    if uv is not None and not any(path.glob("lib/python2.*")):  # uv has no Python 2
        args: list[str | Path] = [uv, "pip", "check", "--offline", "--python", python]
    elif any(p.name == "pip" for p in packages):
        args = [python, "-m", "pip", "check", "--disable-pip-version-check"]
    else:
        return None  # nothing to check with: the import check still runs
    done = runner.run(args, env=env, timeout=CHECK_TIMEOUT)
    if done.ok:
        return None
    lines = [ln for ln in (done.stdout + "\n" + done.stderr).splitlines() if ln.strip()]
    return "dependencies do not agree: " + "; ".join(lines[-5:])


def _imports(
    lines: Iterable[str], site_packages: Sequence[Path]
) -> tuple[list[str], tuple[str, ...]]:
    """Failures, and notes for modules that need a distribution nothing here provides
    (every RECORD is read for that only when an import failed)."""
    failures, notes = [], []
    provided: set[str] | None = None
    for line in lines:
        if not line.startswith(FAIL + "|"):
            continue
        _, module, lacked, error = line.split("|", 3)
        top = lacked.split(".", 1)[0]
        if top and top != module:
            provided = provided_modules(site_packages) if provided is None else provided
            if top not in provided:
                notes.append(
                    f"{module} does not import without {top}, which no installed distribution "
                    "provides (nor did the old venv's: an optional extra?)"
                )
                continue
        failures.append(f"{module} ({error})")
    return failures, tuple(notes)


def modules_by_distribution(
    site_packages: Iterable[Path], only: Collection[str] | None = None
) -> dict[str, set[str]]:
    """Distribution (canonical name) -> the importable top-level names its RECORD
    puts in site-packages; with ``only``, of those distributions alone."""
    out: dict[str, set[str]] = {}
    for site in site_packages:
        for record in site.glob("*.dist-info/RECORD"):
            # "name-version.dist-info": a version holds no "-", an unescaped name may
            name = canonical_name(record.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0])
            if only is not None and name not in only:
                continue
            try:  # never block on, or swallow, a hostile RECORD (a FIFO, /dev/zero)
                data = read_bounded(record, LARGE_FILE)
            except OSError:
                continue  # the contents check names damaged metadata
            out.setdefault(name, set()).update(_record_modules(site, data))
    return out


def _record_modules(site: Path, data: bytes) -> set[str]:
    names: set[str] = set()
    packages: set[str] = set()  # directories, each looked at once (a RECORD lists every file)
    for line in data.decode("utf-8", errors="replace").splitlines():
        first = line.split(",", 1)[0].split("/", 1)
        top = first[0]
        if len(first) == 2:
            packages.add(top)
        elif top.endswith(".py"):
            names.add(top[:-3])
        elif top.endswith(".so"):
            names.add(top.split(".", 1)[0])
    names.update(p for p in packages if (site / p / "__init__.py").is_file())
    return {n for n in names if n.isidentifier()}
