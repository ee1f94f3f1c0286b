"""Following a symlink chain hop by hop, so a diagnosis can say which hop broke."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

MAX_HOPS = 40


@dataclass(frozen=True)
class LinkChain:
    """``start`` and every path it leads to; ``end`` is the last path reached.

    Held as strings (``origin``, ``targets``): a check reads thousands of chains and
    looks at most hops only as text; the Path properties are made when asked."""

    origin: str
    targets: tuple[str, ...]  # each link target made absolute, in order
    dangling: bool  # the last hop does not exist
    loop: bool  # the chain never ends (or is longer than MAX_HOPS)

    @property
    def start(self) -> Path:
        return Path(self.origin)

    @property
    def hops(self) -> tuple[Path, ...]:
        return tuple(map(Path, self.targets))

    @property
    def end(self) -> Path:
        return Path(self.targets[-1] if self.targets else self.origin)

    @property
    def first_target(self) -> Path | None:
        return Path(self.targets[0]) if self.targets else None

    @property
    def is_link(self) -> bool:
        return bool(self.targets) or self.loop

    @cached_property  # realpath costs a syscall per path component; asked for more than once
    def resolved(self) -> Path | None:
        """The real file at the end of the chain, or None when it breaks."""
        if self.dangling or self.loop:
            return None
        return Path(os.path.realpath(self.targets[-1] if self.targets else self.origin))


def follow(start: Path | str) -> LinkChain:
    """Follow ``start`` through every symlink, without trusting ``realpath`` alone.

    Intermediate directory links are resolved by the kernel at each hop; the
    hops themselves are the file links a user would see with ``readlink``.
    Works on strings (pathlib is slow here, and this runs for every bin/python*).
    """
    hops: list[str] = []
    origin = current = os.fspath(start)
    seen = {current}
    while True:
        try:
            target = os.readlink(current)
        except OSError:
            break  # not a link (or gone): the chain ends here
        nxt = os.path.normpath(os.path.join(os.path.dirname(current), target))
        if nxt in seen or len(hops) >= MAX_HOPS:
            return LinkChain(origin, tuple(hops), dangling=False, loop=True)
        seen.add(nxt)
        hops.append(nxt)
        current = nxt
    # exists() is False for a missing target and for a directory loop on the way
    return LinkChain(origin, tuple(hops), dangling=not os.path.exists(current), loop=False)
