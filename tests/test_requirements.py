from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from venv_doctor.model.distributions import Package, Snapshot
from venv_doctor.record.requirements import Mode, line, render, selected

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def snapshot(*packages: Package) -> Snapshot:
    return Snapshot(Path("/v/one"), T0, "3.12.1", packages, "recorded")


def body(text: str) -> list[str]:
    return [x for x in text.splitlines() if not x.startswith("#")]


def test_each_kind_renders_to_what_pip_accepts(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    wheel = tmp_path / "tinyarchive-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    assert line(Package("tinyleaf", "1.0.0", False, "index")) == "tinyleaf==1.0.0"
    assert line(Package("old", "0.3", False, "legacy")) == "old==0.3"
    assert line(Package("proj", "0.5", True, "editable", project.as_uri())) == f"-e {project}"
    vcs = "git+https://git.example.com/o/r@0123abcd"
    assert line(Package("r", "1.0", True, "vcs", vcs)) == f"r @ {vcs}"
    assert line(Package("tinyarchive", "0.1.0", True, "archive", wheel.as_uri())) == (
        f"tinyarchive @ {wheel.as_uri()}"
    )
    remote = "https://files.example.com/x-1.0.tar.gz"
    assert line(Package("x", "1.0", True, "archive", remote)) == f"x @ {remote}"


def test_gone_local_sources_fall_back_to_a_pin_with_a_comment(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    archive = Package("tinyarchive", "0.1.0", True, "archive", (gone / "a.whl").as_uri())
    assert line(archive) == (
        f"tinyarchive==0.1.0  # was installed from {(gone / 'a.whl').as_uri()}, which no longer exists"
    )
    editable = Package("proj", "0.5", True, "editable", gone.as_uri())
    assert line(editable) == f"proj==0.5  # was editable from {gone}, which no longer exists"


def test_credentials_never_reach_the_requirements_text() -> None:
    url = "git+https://deploy:s3cret@git.example.com/o/r@0123abcd"
    text = line(Package("r", "1.0", True, "vcs", url))
    assert "s3cret" not in text
    assert (
        text == "r @ git+https://git.example.com/o/r@0123abcd  # credentials removed from the URL"
    )


def test_exact_mode_sorts_and_leaves_only_what_the_creator_seeded_out() -> None:
    snap = snapshot(
        Package("tinytop", "3.0.0", True, "index"),
        Package("pip", "24.0", False, "index", seeded=True),
        Package("setuptools", "69.0", True, "index"),
        Package("tinyleaf", "1.1.0", False, "index"),
        Package("wheel", "0.43", False, "index", installer="uv"),  # pipx/uv put it there
    )
    assert body(render(snap)) == [
        "setuptools==69.0",
        "tinyleaf==1.1.0",
        "tinytop==3.0.0",
        "wheel==0.43",
    ]
    assert body(render(snap, Mode.TOP_LEVEL)) == ["setuptools==69.0", "tinytop==3.0.0"]
    assert [p.name for p in selected(snap, Mode.TOP_LEVEL)] == ["tinytop", "setuptools"]


def test_header_says_where_the_snapshot_comes_from() -> None:
    text = render(snapshot(Package("a", "1", True, "index")), Mode.TOP_LEVEL)
    assert text.splitlines()[:2] == [
        "# requirements of /v/one",
        "# recorded snapshot taken at 2024-05-01T12:00:00+00:00, Python 3.12.1, mode top-level",
    ]
    assert render(snapshot(), with_header=False) == "\n"
