"""links.follow: every hop of a link chain, and where it breaks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from venv_doctor.model import links


def test_a_plain_file_is_not_a_link(tmp_path: Path) -> None:
    exe = tmp_path / "python3.12"
    exe.write_text("")
    chain = links.follow(exe)
    assert chain.hops == ()
    assert not chain.is_link
    assert not chain.dangling and not chain.loop
    assert chain.end == exe
    assert chain.first_target is None
    assert chain.resolved == exe


def test_relative_and_absolute_hops_are_made_absolute(tmp_path: Path) -> None:
    real = tmp_path / "prefix" / "bin" / "python3.12"
    real.parent.mkdir(parents=True)
    real.write_text("")
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python3.12").symlink_to(real)
    (bin_dir / "python").symlink_to("python3.12")
    chain = links.follow(bin_dir / "python")
    assert chain.hops == (bin_dir / "python3.12", real)
    assert chain.first_target == bin_dir / "python3.12"
    assert chain.is_link and not chain.dangling and not chain.loop
    assert chain.resolved == real


def test_dotdot_in_a_relative_link(tmp_path: Path) -> None:
    real = tmp_path / "Cellar" / "python@3.12" / "3.12.1" / "bin" / "python3.12"
    real.parent.mkdir(parents=True)
    real.write_text("")
    (tmp_path / "opt").mkdir()
    (tmp_path / "opt" / "python@3.12").symlink_to(Path("..") / "Cellar" / "python@3.12" / "3.12.1")
    link = tmp_path / "python"
    link.symlink_to(tmp_path / "opt" / "python@3.12" / "bin" / "python3.12")
    chain = links.follow(link)
    # the file hop is through the directory link; realpath settles where it lands
    assert chain.hops == (tmp_path / "opt" / "python@3.12" / "bin" / "python3.12",)
    assert chain.resolved == real


def test_a_dangling_chain_says_so_and_keeps_the_missing_hop(tmp_path: Path) -> None:
    gone = tmp_path / "gone" / "python3.11"
    middle = tmp_path / "usr-bin-python3"
    middle.symlink_to(gone)
    start = tmp_path / "python"
    start.symlink_to(middle)
    chain = links.follow(start)
    assert chain.dangling and not chain.loop
    assert chain.hops == (middle, gone)
    assert chain.end == gone
    assert chain.resolved is None


def test_a_link_through_a_vanished_directory_link_is_dangling(tmp_path: Path) -> None:
    (tmp_path / "opt").mkdir()
    (tmp_path / "opt" / "python@3.12").symlink_to(tmp_path / "Cellar" / "3.12.1")
    start = tmp_path / "python3.12"
    start.symlink_to(tmp_path / "opt" / "python@3.12" / "bin" / "python3.12")
    chain = links.follow(start)
    assert chain.dangling
    assert chain.resolved is None


def test_a_loop_is_found_and_ends(tmp_path: Path) -> None:
    a, b = tmp_path / "python", tmp_path / "python3"
    a.symlink_to(b.name)
    b.symlink_to(a.name)
    chain = links.follow(a)
    assert chain.loop and not chain.dangling
    assert chain.hops == (b,)
    assert chain.is_link
    assert chain.resolved is None


def test_a_self_link_is_a_loop(tmp_path: Path) -> None:
    a = tmp_path / "python"
    a.symlink_to("python")
    chain = links.follow(a)
    assert chain.loop
    assert chain.is_link
    assert chain.first_target is None


def test_a_chain_longer_than_max_hops_counts_as_a_loop(tmp_path: Path) -> None:
    (tmp_path / "p0").write_text("")
    for i in range(1, links.MAX_HOPS + 3):
        (tmp_path / f"p{i}").symlink_to(f"p{i - 1}")
    chain = links.follow(tmp_path / f"p{links.MAX_HOPS + 2}")
    assert chain.loop
    assert len(chain.hops) == links.MAX_HOPS


def test_a_missing_start_is_dangling(tmp_path: Path) -> None:
    chain = links.follow(tmp_path / "nothing")
    assert chain.dangling
    assert not chain.is_link


def test_one_walk_reads_each_link_once_and_gives_the_same_chains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass over many venvs shares a Walked: the chains are those follow() gives alone,
    and a link shared by several chains (a venv's bin/python, the base interpreter's
    python3 -> python3.12) is read once."""
    base = tmp_path / "opt" / "python@3.12"
    (tmp_path / "Cellar" / "3.12.1" / "bin").mkdir(parents=True)
    (tmp_path / "Cellar" / "3.12.1" / "bin" / "python3.12").write_text("")
    (tmp_path / "opt").mkdir()
    base.symlink_to(tmp_path / "Cellar" / "3.12.1")  # a directory link on the way
    (tmp_path / "Cellar" / "3.12.1" / "bin" / "python3").symlink_to("python3.12")
    starts = []
    for venv in ("a", "b"):
        bin_dir = tmp_path / venv / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "python").symlink_to(base / "bin" / "python3")
        (bin_dir / "python3").symlink_to("python")
        (bin_dir / "python3.12").symlink_to("python")
        (bin_dir / "gone").symlink_to(tmp_path / "nowhere" / "python3.12")
        (bin_dir / "loop").symlink_to("loop2")
        (bin_dir / "loop2").symlink_to("loop")
        starts += [bin_dir / n for n in ("python", "python3", "python3.12", "gone", "loop")]
    alone = [links.follow(p) for p in starts]
    read: list[str] = []
    real_readlink = os.readlink

    def counting(path: str) -> str:
        read.append(os.fspath(path))
        return real_readlink(path)

    monkeypatch.setattr(os, "readlink", counting)
    walked = links.Walked()
    shared = [links.follow(p, walked) for p in starts]
    for one, other in zip(alone, shared, strict=True):
        assert (one.origin, one.targets, one.dangling, one.loop) == (
            other.origin,
            other.targets,
            other.dangling,
            other.loop,
        )
        assert one.resolved == other.resolved
    assert shared[0].resolved == tmp_path / "Cellar" / "3.12.1" / "bin" / "python3.12"
    base_python3 = str(base / "bin" / "python3")
    assert read.count(base_python3) == 1  # both venvs reach it; read once
    assert read.count(str(tmp_path / "a" / "bin" / "python")) == 1  # python3 and python3.12 too


def test_a_walk_reads_each_link_once_when_chains_join_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -> python3.12 -> /usr/bin/python3.12 -> real`` in many venvs: a chain that
    joins a known one at its second hop is remembered hop by hop, and a start that was
    a hop before is not read again (the floor reads each link once; so does a check)."""
    real = tmp_path / "real" / "bin" / "python3.12"
    real.parent.mkdir(parents=True)
    real.write_text("")
    sysbin = tmp_path / "usr" / "bin"
    sysbin.mkdir(parents=True)
    (sysbin / "python3.12").symlink_to(real)
    (sysbin / "python3").symlink_to("python3.12")
    starts = []
    for venv in ("a", "b", "c"):
        bin_dir = tmp_path / venv / "bin"
        bin_dir.mkdir(parents=True)
        # the first venv reaches the real file through python3: its chain knows
        # /usr/bin/python3.12 only as a hop
        (bin_dir / "python3.12").symlink_to(sysbin / ("python3" if venv == "a" else "python3.12"))
        (bin_dir / "python").symlink_to("python3.12")
        (bin_dir / "python3").symlink_to("python3.12")
        starts += [bin_dir / n for n in ("python", "python3", "python3.12")]
    alone = [links.follow(p) for p in starts]
    read: list[str] = []
    real_readlink = os.readlink

    def counting(path: str) -> str:
        read.append(os.fspath(path))
        return real_readlink(path)

    monkeypatch.setattr(os, "readlink", counting)
    walked = links.Walked()
    shared = [links.follow(p, walked) for p in starts]
    assert shared == [
        links.LinkChain(c.origin, c.targets, c.dangling, c.loop, str(real)) for c in alone
    ]
    assert all(c.resolved == real for c in shared)
    assert all(c.resolved is shared[0].resolved for c in shared)  # one Path for them all
    assert sorted(read) == sorted(set(read))  # every link read once
    assert str(sysbin / "python3.12") in read


@pytest.mark.parametrize(
    "target",
    [
        "/usr/bin/python3.12",
        "/usr//bin/python3",
        "/usr/./bin/python3",
        "/usr/lib/../bin/python3",
        "/opt/.hidden/python3",
        "/opt/..hidden/python3",
        "/opt/.",
        "/opt/..",
        "/.",
        "/..",
        "/opt/bin/.python",
        ".hidden/python3",
        "/usr/bin/",
        "/",
        "//usr/bin/python3",
        "python3.12",
        "../bin/python3",
        "./python3",
        "sub/dir/",
        "..",
        ".",
    ],
)
def test_a_hop_is_normpath_of_the_join(target: str) -> None:
    """The hop's shortcut for targets already normal gives what normpath gives."""
    for current in ("/venv/bin/python", "/python", "venv/bin/python", "python"):
        expected = os.path.normpath(
            target if target.startswith("/") else os.path.join(os.path.dirname(current), target)
        )
        assert links._hop(current, target) == expected
