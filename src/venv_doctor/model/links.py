"""Following a symlink chain hop by hop, so a diagnosis can say which hop broke."""

from __future__ import annotations

import os
from pathlib import Path

MAX_HOPS = 40


class LinkChain:
    """``start`` and every path it leads to; ``end`` is the last path reached.

    Held as strings (``origin``, ``targets``, ``real``): a check reads thousands of
    chains and looks at most hops only as text; the Path properties are made when asked.
    Immutable by convention, a plain slotted class rather than a frozen dataclass: a
    check makes three for every venv, and a frozen dataclass costs three times more
    to make."""

    __slots__ = ("_resolved", "dangling", "loop", "origin", "real", "targets")

    def __init__(
        self,
        origin: str,
        targets: tuple[str, ...],  # each link target made absolute, in order
        dangling: bool,  # the last hop does not exist
        loop: bool,  # the chain never ends (or is longer than MAX_HOPS)
        real: str | None = None,  # the real file at the end, when ``follow`` resolved it
        resolved: Path | None = None,  # ``Path(real)``, when the caller has it already
    ) -> None:
        self.origin = origin
        self.targets = targets
        self.dangling = dangling
        self.loop = loop
        self.real = real
        self._resolved = resolved

    def _key(self) -> tuple[str, tuple[str, ...], bool, bool, str | None]:
        return self.origin, self.targets, self.dangling, self.loop, self.real

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LinkChain) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"LinkChain(origin={self.origin!r}, targets={self.targets!r}, "
            f"dangling={self.dangling!r}, loop={self.loop!r}, real={self.real!r})"
        )

    @property
    def start(self) -> Path:
        return Path(self.origin)

    @property
    def hops(self) -> tuple[Path, ...]:
        return tuple(map(Path, self.targets))

    @property
    def last(self) -> str:
        """``end`` as text."""
        return self.targets[-1] if self.targets else self.origin

    @property
    def end(self) -> Path:
        return Path(self.last)

    @property
    def first_target(self) -> Path | None:
        return Path(self.targets[0]) if self.targets else None

    @property
    def is_link(self) -> bool:
        return bool(self.targets) or self.loop

    def first_missing(self) -> str | None:
        """The first hop that does not exist (a dangling chain breaks there)."""
        for hop in self.targets:
            if not os.path.lexists(hop):
                return hop
        return None

    @property
    def resolved(self) -> Path | None:
        """The real file at the end of the chain, or None when it breaks."""
        if self.dangling or self.loop:
            return None
        if self._resolved is None:  # made once, when first asked
            self._resolved = Path(
                self.real if self.real is not None else os.path.realpath(self.last)
            )
        return self._resolved


class Walked:
    """What one pass (a check over thousands of venvs) learnt about links: the chain from
    each path followed so far, and the real path of each directory resolved. A venv's
    ``python3 -> python -> /usr/bin/python3.12`` reads each link once, and the thousand
    venvs made from one interpreter resolve it once. Only for one pass: links change."""

    def __init__(self) -> None:
        self.real_dirs: dict[str, str] = {}
        self._paths: dict[str, Path] = {}  # the Path of each real file reached
        self._shared: dict[str, LinkChain] = {}  # links outside the directory walked now
        self._here = ""  # the directory of the chains followed now (a venv's bin/)
        self._near: dict[str, LinkChain] = {}  # its links: let go when the walk moves on

    def enter(self, directory: str) -> None:
        """Chains start in ``directory`` now (another venv's ``bin/``): the links of the
        last one are not asked about again, and are let go (memory stays flat)."""
        if directory != self._here:
            self._here, self._near = directory, {}

    def get(self, path: str) -> LinkChain | None:
        return self._near.get(path) or self._shared.get(path)

    def put(self, chain: LinkChain) -> None:
        near = _parent(chain.origin) == self._here
        (self._near if near else self._shared).setdefault(chain.origin, chain)

    def real(self, path: str) -> str:
        """The real path of ``path``, a file that is no link: only its directory may hold
        links, and that is resolved once."""
        parent, name = os.path.split(os.path.abspath(path))
        if (real_parent := self.real_dirs.get(parent)) is None:
            real_parent = self.real_dirs[parent] = os.path.realpath(parent)
        return os.path.join(real_parent, name)

    def path(self, real: str) -> Path:
        """``Path(real)``, one object for every chain that reaches ``real``."""
        if (found := self._paths.get(real)) is None:
            found = self._paths[real] = Path(real)
        return found


def follow(start: Path | str, walked: Walked | None = None) -> LinkChain:
    """Follow ``start`` through every symlink, without trusting ``realpath`` alone.

    Intermediate directory links are resolved by the kernel at each hop; the
    hops themselves are the file links a user would see with ``readlink``.
    Works on strings (pathlib is slow here, and this runs for every bin/python*).
    ``walked``: what this pass already knows (see ``Walked``); with it the chain's
    ``real`` end is resolved at once, and a hop followed before is not read again.
    """
    hops: list[str] = []
    origin = current = os.fspath(start)
    seen = {current}
    if walked is not None:
        walked.enter(_parent(origin))
        if (known := walked.get(origin)) is not None:
            return known  # a hop of a chain followed before (bin/python3 -> python)
    while True:
        if walked is not None and hops and (known := _joined(walked, origin, hops, seen)):
            _remember(walked, known)
            return known
        try:
            target = os.readlink(current)
        except OSError:
            break  # not a link (or gone): the chain ends here
        nxt = _hop(current, target)
        if nxt in seen or len(hops) >= MAX_HOPS:
            return LinkChain(origin, tuple(hops), dangling=False, loop=True)
        seen.add(nxt)
        hops.append(nxt)
        current = nxt
    # exists() is False for a missing target and for a directory loop on the way
    if not os.path.exists(current):
        chain = LinkChain(origin, tuple(hops), dangling=True, loop=False)
    elif walked is None:
        chain = LinkChain(origin, tuple(hops), dangling=False, loop=False)
    else:
        real = walked.real(current)
        chain = LinkChain(origin, tuple(hops), False, False, real, walked.path(real))
    if walked is not None:
        _remember(walked, chain)
    return chain


def _parent(path: str) -> str:
    """The directory part of ``path`` as text (``dirname`` costs more than a link here)."""
    return path.rpartition("/")[0]


def _hop(current: str, target: str) -> str:
    """Where the link ``current`` to ``target`` leads: ``normpath(join(dirname(current),
    target))``, without their Python-level work for the common cases."""
    if target.startswith("/"):
        return _normal(target)
    head, slash, _ = current.rpartition("/")
    if not slash:
        return os.path.normpath(target)  # a relative start in the working directory
    return _normal(f"{head}/{target}" if head else f"/{target}")


def _normal(path: str) -> str:
    """``normpath`` of an absolute ``path``; most are normal already (no empty, ``.`` or
    ``..`` component, no trailing slash: ``/.pyenv/`` is fine), which substring tests tell."""
    if path != "/" and (
        "//" in path or "/./" in path or "/../" in path or path.endswith(("/", "/.", "/.."))
    ):
        return os.path.normpath(path)
    return path


def _joined(walked: Walked, origin: str, hops: list[str], seen: set[str]) -> LinkChain | None:
    """The chain through ``hops`` when the last hop's chain is known: the same answer
    as reading on, unless the two would make a loop or too long a chain."""
    rest = walked.get(hops[-1])
    if rest is None or len(hops) + len(rest.targets) > MAX_HOPS or seen & set(rest.targets):
        return None
    return LinkChain(
        origin, (*hops, *rest.targets), rest.dangling, False, rest.real, rest._resolved
    )


def _remember(walked: Walked, chain: LinkChain) -> None:
    """The chain from its start and from each hop on (no loops: they are rare and their
    hops depend on where the walk entered them)."""
    walked.put(chain)
    targets = chain.targets
    for i, hop in enumerate(targets):
        if walked.get(hop) is None:
            rest = targets[i + 1 :]
            walked.put(LinkChain(hop, rest, chain.dangling, False, chain.real, chain._resolved))
