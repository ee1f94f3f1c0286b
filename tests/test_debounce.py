from __future__ import annotations

import threading
from pathlib import Path

from venv_doctor.daemon.watching.debounce import Debouncer


def test_burst_becomes_one_batch() -> None:
    d = Debouncer(quiet=0.2, max_wait=5)
    for i in range(50):
        d.add(Path(f"/x/{i}"))
    assert d.next_batch(timeout=5) == {Path(f"/x/{i}") for i in range(50)}
    assert d.next_batch(timeout=0.3) == set()


def test_max_wait_releases_a_never_quiet_stream() -> None:
    d = Debouncer(quiet=0.5, max_wait=0.6)
    stop = threading.Event()

    def spam() -> None:
        i = 0
        while not stop.is_set():
            d.add(Path(f"/s/{i}"))
            i += 1
            stop.wait(0.05)

    t = threading.Thread(target=spam)
    t.start()
    try:
        batch = d.next_batch(timeout=10)
    finally:
        stop.set()
        t.join()
    assert batch  # released by max_wait although events never stopped
