from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.local_projects import (
    clone_venv,
    make_git_project,
    make_project,
    real_pip_install,
    site_packages,
    uv_install,
)
from tests.support import TOOLS_BIN, make_venv, make_wheel, pip_install, real_python, run
from venv_doctor.model import distributions
from venv_doctor.model.distributions import (
    SEEDS,
    Package,
    read,
    redact_url,
    strip_credentials,
)
from venv_doctor.model.metadata import canonical_name
from venv_doctor.model.venv import Location, load
from venv_doctor.record import snapshots
from venv_doctor.record.requirements import render


def by_name(packages: tuple[Package, ...]) -> dict[str, Package]:
    return {p.name: p for p in packages}


@pytest.fixture
def venv312(tmp_path: Path) -> Path:
    return make_venv(real_python("3.12"), tmp_path / "venvs" / "one")


@pytest.fixture(scope="module")
def pip_chain_template(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A venv where pip itself installed tinytop (and so tinymid and tinyleaf)."""
    venv = make_venv(real_python("3.12"), tmp_path_factory.mktemp("template") / "chain")
    real_pip_install(venv, wheelhouse, "tinytop")
    return venv


@pytest.fixture
def pip_chain(pip_chain_template: Path, tmp_path: Path) -> Path:
    """A private copy of the template, free to damage."""
    return clone_venv(pip_chain_template, tmp_path / "venvs" / "chain")


def test_pip_marks_only_the_requested_distribution(pip_chain: Path) -> None:
    contents = read([site_packages(pip_chain)], verify=True)
    assert contents.warnings == ()
    assert [(p.name, p.version, p.requested, p.kind, p.installer) for p in contents.packages] == [
        ("tinyleaf", "1.1.0", False, "index", "pip"),
        ("tinymid", "2.0.0", False, "index", "pip"),
        ("tinytop", "3.0.0", True, "index", "pip"),
    ]


def test_uv_marks_everything_so_requested_comes_from_the_dependency_graph(
    venv312: Path, wheelhouse: Path
) -> None:
    pip_install(venv312, wheelhouse, "tinytop", "tinyleaf==1.0.0")
    sp = site_packages(venv312)
    assert all((sp / f"{n}.dist-info" / "REQUESTED").exists() for n in ("tinymid-2.0.0",))
    packages = by_name(read([sp]).packages)
    assert packages["tinytop"].requested
    assert not packages["tinymid"].requested  # tinytop needs it
    assert not packages["tinyleaf"].requested  # tinymid needs it (asked for too: documented)
    assert packages["tinyleaf"].version == "1.0.0"
    assert packages["tinytop"].installer == "uv"


def test_editable_vcs_and_archive_installs_from_direct_url(venv312: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "src" / "Tiny_Proj", "Tiny_Proj", "0.5.0")
    repo, commit = make_git_project(tmp_path / "src" / "tinyvcs", "tinyvcs", "0.9.0")
    wheel = make_wheel(tmp_path / "archives", "tinyarchive", "0.1.0")
    uv_install(venv312, "-e", project)
    uv_install(venv312, f"tinyvcs @ git+{repo.as_uri()}@{commit}")
    uv_install(venv312, wheel)
    packages = by_name(read([site_packages(venv312)], verify=True).packages)
    assert packages["tiny-proj"] == Package(
        "tiny-proj", "0.5.0", True, "editable", project.as_uri(), "uv"
    )
    assert packages["tinyvcs"].kind == "vcs"
    assert packages["tinyvcs"].url == f"git+{repo.as_uri()}@{commit}"
    assert packages["tinyarchive"].kind == "archive"
    assert packages["tinyarchive"].url == wheel.as_uri()


def _dist_info(sp: Path, name: str, version: str, **files: str | bytes) -> Path:
    info = sp / f"{name}-{version}.dist-info"
    info.mkdir()
    defaults: dict[str, str | bytes] = {
        "METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "RECORD": f"{name}.py,sha256=abc,3\n{info.name}/RECORD,,\n",
        "INSTALLER": "pip\n",
    }
    for key, value in {**defaults, **files}.items():
        data = value.encode() if isinstance(value, str) else value
        (info / key).write_bytes(data)
    return info


def test_vcs_direct_url_with_subdirectory_and_credentials(venv312: Path) -> None:
    sp = site_packages(venv312)
    direct = {
        "url": "https://deploy:s3cret@git.example.com/org/private.git",
        "vcs_info": {"vcs": "git", "commit_id": "0123abcd", "requested_revision": "main"},
        "subdirectory": "pkg",
    }
    info = _dist_info(sp, "private_pkg", "1.2.3", REQUESTED="")
    (info / "direct_url.json").write_text(json.dumps(direct), encoding="utf-8")
    (package,) = read([sp]).packages
    assert package.kind == "vcs"
    assert package.requested
    assert package.url == (
        "git+https://deploy:s3cret@git.example.com/org/private.git@0123abcd#subdirectory=pkg"
    )
    assert package.redacted().url == (
        "git+https://deploy:****@git.example.com/org/private.git@0123abcd#subdirectory=pkg"
    )


@pytest.mark.parametrize(
    ("url", "redacted", "stripped"),
    [
        ("https://u:tok@h/x", "https://u:****@h/x", "https://h/x"),
        (
            "git+https://ghp_token@github.com/o/r",
            "git+https://****@github.com/o/r",
            "git+https://github.com/o/r",
        ),
        (
            "git+ssh://git@github.com/o/r",
            "git+ssh://git@github.com/o/r",
            "git+ssh://git@github.com/o/r",
        ),
        ("file:///tmp/x.whl", "file:///tmp/x.whl", "file:///tmp/x.whl"),
        ("https://h/p@1.0", "https://h/p@1.0", "https://h/p@1.0"),
        (
            "https://h/x.whl?private_token=abc&v=1#sha256=00",
            "https://h/x.whl?private_token=****&v=1#sha256=00",
            "https://h/x.whl?v=1#sha256=00",
        ),
        (
            "https://u:p@h/x.tar.gz?X-Amz-Signature=abc",
            "https://u:****@h/x.tar.gz?X-Amz-Signature=****",
            "https://h/x.tar.gz",
        ),
    ],
)
def test_credentials_in_urls(url: str, redacted: str, stripped: str) -> None:
    assert redact_url(url) == redacted
    assert strip_credentials(url) == stripped


def test_legacy_egg_info_dir_file_and_egg_link(venv312: Path, tmp_path: Path) -> None:
    sp = site_packages(venv312)
    egg = sp / "Old_Thing-0.3-py3.12.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: Old-Thing\nVersion: 0.3\n")
    (egg / "requires.txt").write_text("single\n\n[extra]\nnever\n")
    (sp / "single-1.0-py3.12.egg-info").write_text(
        "Metadata-Version: 1.0\nName: single\nVersion: 1.0\n"
    )
    project = tmp_path / "devproj" / "src"
    (project / "DevProj.egg-info").mkdir(parents=True)
    (project / "DevProj.egg-info" / "PKG-INFO").write_text("Name: DevProj\nVersion: 4.5\n")
    (sp / "DevProj.egg-link").write_text(f"{project}\n../\n")
    contents = read([sp], verify=True)
    assert contents.warnings == ()
    packages = by_name(contents.packages)
    assert (packages["old-thing"].version, packages["old-thing"].kind) == ("0.3", "legacy")
    assert packages["old-thing"].requested
    assert (packages["single"].version, packages["single"].requested) == ("1.0", False)
    assert packages["devproj"].kind == "editable"
    assert packages["devproj"].version == "4.5"
    assert packages["devproj"].url == (tmp_path / "devproj").as_uri()


def test_dependencies_as_written_from_metadata_and_legacy_requires_txt(tmp_path: Path) -> None:
    sp = tmp_path / "site-packages"
    info = sp / "web_app-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "RECORD").write_text("")
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: web-app\nVersion: 1.0\n"
        "Requires-Dist: idna; python_version < '3.11'\nRequires-Dist: socks[x]; extra == 'net'\n"
        "\nRequires-Dist: not-a-header: the description\n"
    )
    egg = sp / "Old_Thing-0.3-py3.12.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: Old-Thing\nVersion: 0.3\n")
    (egg / "requires.txt").write_text(
        "single\n\n[net]\nsocks\n\n[:sys_platform == 'win32']\npywin\n\n"
        "[tls:python_version < '3.8']\nbackport@ https://example.org/b.whl\n"
    )
    project = tmp_path / "devproj"
    (project / "DevProj.egg-info").mkdir(parents=True)
    (project / "DevProj.egg-info" / "PKG-INFO").write_text("Name: DevProj\nVersion: 4.5\n")
    (project / "DevProj.egg-info" / "requires.txt").write_text("dep-of-dev\n")
    (sp / "DevProj.egg-link").write_text(f"{project}\n.\n")
    found = distributions.dependencies([sp])
    assert found.warnings == ()
    assert found.by_name == {
        "web-app": ("idna; python_version < '3.11'", "socks[x]; extra == 'net'"),
        "old-thing": (
            "single",
            'socks; extra == "net"',
            "pywin; sys_platform == 'win32'",
            "backport@ https://example.org/b.whl ; (python_version < '3.8') and extra == \"tls\"",
        ),
        "devproj": ("dep-of-dev",),
    }
    for lines in found.by_name.values():
        for line in lines:
            Requirement(line)  # every one is PEP 508


def test_corrupt_metadata_record_and_direct_url_give_warnings(pip_chain: Path) -> None:
    sp = site_packages(pip_chain)
    (sp / "tinytop-3.0.0.dist-info" / "METADATA").write_bytes(b"\xff\xfe\x00garbage")
    (sp / "tinymid-2.0.0.dist-info" / "RECORD").write_text("a,b\nc\n", encoding="utf-8")
    (sp / "tinyleaf-1.1.0.dist-info" / "direct_url.json").write_text("{not json", encoding="utf-8")
    contents = read([sp], verify=True)
    assert [(p.name, p.version, p.kind) for p in contents.packages] == [
        ("tinyleaf", "1.1.0", "index"),
        ("tinymid", "2.0.0", "index"),
        ("tinytop", "3.0.0", "index"),
    ]
    text = "\n".join(contents.warnings)
    assert f"{sp / 'tinytop-3.0.0.dist-info' / 'METADATA'} is not UTF-8 text" in text
    assert f"{sp / 'tinymid-2.0.0.dist-info' / 'RECORD'} is malformed" in text
    assert f"{sp / 'tinyleaf-1.1.0.dist-info' / 'direct_url.json'} is not valid JSON" in text
    # the fast path (check) reads neither METADATA nor RECORD: same packages
    assert read([sp]).packages == contents.packages


def test_missing_metadata_and_unparsable_directory(venv312: Path, wheelhouse: Path) -> None:
    pip_install(venv312, wheelhouse, "tinyleaf==1.0.0")
    sp = site_packages(venv312)
    (sp / "tinyleaf-1.0.0.dist-info" / "METADATA").unlink()
    odd = sp / "odd.dist-info"
    odd.mkdir()
    (odd / "METADATA").write_text("this is not a header\n")
    (odd / "RECORD").write_text("")
    contents = read([sp], verify=True)
    assert [(p.name, p.version) for p in contents.packages] == [("tinyleaf", "1.0.0")]
    assert any(
        w.endswith("tinyleaf-1.0.0.dist-info/METADATA is missing") for w in contents.warnings
    )
    assert any(f"{odd}: no name and version" in w for w in contents.warnings)


def test_metadata_disagreeing_with_directory_name_is_reported(venv312: Path) -> None:
    sp = site_packages(venv312)
    _dist_info(sp, "thing", "1.0", METADATA="Name: thing\nVersion: 2.0\n")
    contents = read([sp], verify=True)
    assert contents.packages[0].version == "1.0"
    assert "says thing 2.0, its directory says thing 1.0" in contents.warnings[0]


def test_ensurepip_seed_is_the_creators_and_no_clock_decides(tmp_path: Path) -> None:
    python = real_python("3.12")
    venv = tmp_path / "withpip"
    run([python, "-m", "venv", venv])
    sp = site_packages(venv)
    (pip_info,) = sp.glob("pip-*.dist-info")
    assert (pip_info / "REQUESTED").exists()  # ensurepip asks for pip explicitly
    bundled = snapshots.bundled_wheels(load(Location("withpip", venv, "test")))
    assert bundled == {"pip": pip_info.name[len("pip-") : -len(".dist-info")]}
    (pip,) = read([sp], bundled=bundled).packages
    assert (pip.name, pip.requested, pip.seeded) == ("pip", False, True)
    long_after = time.time() + 86400  # what SEED_WINDOW_SECONDS once looked at: ignored now
    os.utime(pip_info, (long_after, long_after))
    assert read([sp], bundled=bundled).packages[0].seeded
    (pip,) = read([sp], bundled={"pip": "0.1"}).packages  # not the bundled wheel: the user's
    assert (pip.requested, pip.seeded) == (True, False)


def test_seeds_that_uv_installed_by_hand_are_kept(tmp_path: Path, wheelhouse: Path) -> None:
    """`uv venv && uv pip install setuptools wheel pip six`: every one is the user's,
    even a minute after the venv was made (no ten-minute window drops them)."""
    python = real_python("3.11")
    house = tmp_path / "house"
    shutil.copytree(wheelhouse, house)
    bundled_dir = python.resolve().parent.parent / "lib" / "python3.11" / "ensurepip" / "_bundled"
    for bundled_wheel in bundled_dir.glob("*.whl"):
        shutil.copy(bundled_wheel, house)
    make_wheel(house, "wheel", "0.45.1", console_scripts={"wheel": "wheel:main"})
    make_wheel(house, "six", "1.17.0")
    venv = make_venv(python, tmp_path / "uvvenv", creator="uv")
    pip_install(venv, house, "setuptools", "wheel", "pip", "six")
    bundled = snapshots.bundled_wheels(load(Location("uvvenv", venv, "test")))
    assert set(bundled) == {"pip", "setuptools"}  # 3.11 bundles both
    packages = by_name(read([site_packages(venv)], bundled=bundled).packages)
    assert sorted(packages) == ["pip", "setuptools", "six", "wheel"]
    assert all(p.requested and not p.seeded for p in packages.values())
    snap = distributions.Snapshot(
        venv, datetime.now(UTC), "3.11.7", tuple(packages.values()), "disk"
    )
    assert [ln.split("==")[0] for ln in render(snap, with_header=False).split()] == [
        "pip",
        "setuptools",
        "six",
        "wheel",
    ]


def test_virtualenv_seeds_are_recognised_by_its_markers(tmp_path: Path) -> None:
    venv = tmp_path / "ve"
    run([TOOLS_BIN / "virtualenv", "-q", "--no-periodic-update", "-p", real_python("3.12"), venv])
    packages = read([site_packages(venv)]).packages
    assert packages and all(p.seeded and not p.requested for p in packages), packages


def test_metadata_body_is_not_read_as_headers(venv312: Path) -> None:
    description = "Long description.\nNot: a header in the body\n" + "x" * 40_000 + "\n"
    metadata = "Metadata-Version: 2.1\nName: thing\nVersion: 1.0\nRequires-Dist: other\n\n"
    _dist_info(site_packages(venv312), "thing", "1.0", METADATA=metadata + description)
    contents = read([site_packages(venv312)], verify=True)
    assert contents.warnings == ()
    assert contents.packages[0].version == "1.0"


def test_two_versions_of_one_name_keep_the_newest(venv312: Path) -> None:
    sp = site_packages(venv312)
    old = _dist_info(sp, "dup", "1.0")
    _dist_info(sp, "dup", "2.0")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    contents = read([sp])
    assert [(p.name, p.version) for p in contents.packages] == [("dup", "2.0")]
    assert "dup is installed 2 times" in contents.warnings[0]


def test_site_packages_stamp_changes_with_installs_only(venv312: Path, wheelhouse: Path) -> None:
    sp = site_packages(venv312)
    first = distributions.site_packages_stamp([sp])
    assert first is not None
    assert distributions.site_packages_stamp([sp]) == first
    pip_install(venv312, wheelhouse, "tinyleaf==1.0.0")
    second = distributions.site_packages_stamp([sp])
    assert second != first
    pip_install(venv312, wheelhouse, "tinyleaf==1.1.0")
    assert distributions.site_packages_stamp([sp]) not in (first, second)
    assert distributions.site_packages_stamp(
        [sp], extra="other"
    ) != distributions.site_packages_stamp([sp])
    shutil.rmtree(sp)
    assert distributions.site_packages_stamp([sp]) is None


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("Tiny_Proj", "tiny-proj"), ("zope.interface", "zope-interface"), ("A__b--C", "a-b-c")],
)
def test_canonical_name(raw: str, canonical: str) -> None:
    assert canonical_name(raw) == canonical


def test_a_python_38_virtualenv_is_read_the_same_way(tmp_path: Path, wheelhouse: Path) -> None:
    venv = make_venv(real_python("3.8"), tmp_path / "old", creator="virtualenv")
    run([venv / "bin" / "python", "-m", "ensurepip"])  # its own pip: offline, 3.8-compatible
    real_pip_install(venv, wheelhouse, "tinymid")
    packages = [p for p in read([site_packages(venv)]).packages if p.name not in SEEDS]
    assert [(p.name, p.requested) for p in packages] == [("tinyleaf", False), ("tinymid", True)]
