"""Which recorded snapshots to keep: the ``[snapshot] keep`` policy (parsed by
``config.parse_keep``).

A policy is ``"all"`` (never prune) or ``"<D> days"``, optionally followed by
``", monthly"`` or ``", <M> months"``: every snapshot of the last D days, then the
newest snapshot of each calendar month (UTC), for ever or for the M most recent
months. Whatever the policy, a venv always keeps

- its newest snapshot (what ``requirements`` shows and a rebuild installs), and
- around each status change and each repair of the venv (``ANCHOR_KINDS`` in the
  event log), the newest snapshot taken before it and the newest taken at or before
  it: the last state it was known healthy in, so a repair can rebuild from it.

``kept`` is pure (times in, ids out); ``snapshots.record`` applies it to every venv
it stores a snapshot for.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from venv_doctor.config import Keep

# events that mark a change of a venv's state: the snapshot before each is kept
ANCHOR_KINDS = ("status", "repair", "restore", "broken", "vanished", "healed", "removed")


def kept(
    snapshots: Sequence[tuple[int, datetime]],
    anchors: Iterable[datetime],
    now: datetime,
    keep: Keep,
) -> set[int]:
    """The ids among ``snapshots`` (id, taken_at) that ``keep`` keeps at ``now``;
    ``anchors``: when the venv's status changed or it was repaired."""
    if keep.days is None or not snapshots:
        return {id_ for id_, _ in snapshots}
    ordered = sorted(snapshots, key=lambda s: s[1])
    times = [at for _, at in ordered]
    out = {ordered[-1][0]}
    since = now - timedelta(days=keep.days)
    out.update(id_ for id_, at in ordered if at >= since)
    for anchor in anchors:
        before = bisect.bisect_left(times, anchor)  # first taken at or after the anchor
        at_or_before = bisect.bisect_right(times, anchor)
        out.update(ordered[i - 1][0] for i in (before, at_or_before) if i > 0)
    newest_of_month: dict[int, int] = {}
    for id_, at in ordered:  # oldest first: the last one written for a month is its newest
        newest_of_month[_month(at)] = id_
    this_month = _month(now)
    out.update(
        id_
        for month, id_ in newest_of_month.items()
        if keep.months is None or this_month - month < keep.months
    )
    return out


def _month(when: datetime) -> int:
    when = when.astimezone(UTC)
    return when.year * 12 + when.month - 1
