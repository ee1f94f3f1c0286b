"""Turning a burst of file events into one batch.

The watchdog handler only calls ``add`` (cheap, never raises). A batch is
released once no event came for ``quiet`` seconds, or ``max_wait`` seconds
after its first event, whichever is first.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path


class Debouncer:
    def __init__(self, quiet: float = 2.0, max_wait: float = 30.0) -> None:
        self.quiet = quiet
        self.max_wait = max_wait
        self._paths: set[Path] = set()
        self._first = 0.0
        self._last = 0.0
        self._cond = threading.Condition()
        self._poked = False

    def add(self, path: Path) -> None:
        now = time.monotonic()
        with self._cond:
            if not self._paths:
                self._first = now
            self._paths.add(path)
            self._last = now
            self._cond.notify_all()

    def poke(self) -> None:
        """Wake a waiting ``next_batch`` (it returns what is due, maybe nothing)."""
        with self._cond:
            self._poked = True
            self._cond.notify_all()

    def _due(self, now: float) -> float | None:
        """Seconds until the pending batch is due (0 = now), None when empty."""
        if not self._paths:
            return None
        return max(0.0, min(self._last + self.quiet, self._first + self.max_wait) - now)

    def next_batch(self, timeout: float | None = None) -> set[Path]:
        """Block until a batch is due, ``poke`` is called, or ``timeout`` passes
        (the last two return an empty set)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                due = self._due(now)
                if due == 0.0:
                    batch, self._paths = self._paths, set()
                    return batch
                if self._poked:
                    self._poked = False
                    return set()
                left = None if deadline is None else deadline - now
                if left is not None and left <= 0:
                    return set()
                waits = [w for w in (due, left) if w is not None]
                self._cond.wait(min(waits) if waits else None)

    def pending(self) -> int:
        with self._cond:
            return len(self._paths)
