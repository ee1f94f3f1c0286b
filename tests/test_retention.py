"""The retention policy: parsing ``[snapshot] keep``, and what ``kept`` promises over
generated timelines (hypothesis); then pruning as ``check`` records, on a real state DB."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venv_doctor.config import KEEP_DEFAULT, Config, Keep, from_mapping, parse_keep
from venv_doctor.errors import ConfigError
from venv_doctor.model.distributions import Package, Snapshot
from venv_doctor.paths import app_dirs
from venv_doctor.record import retention, snapshots, state

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("all", Keep(None)),
        ("ALL ", Keep(None)),
        ("30 days, monthly", Keep(30, None)),
        ("30d", Keep(30, 0)),
        ("7 days, 12 months", Keep(7, 12)),
        ("0 days,1 month", Keep(0, 1)),
    ],
)
def test_policies_parse(text: str, policy: Keep) -> None:
    assert parse_keep(text) == policy


@pytest.mark.parametrize("text", ["", "30", "monthly", "30 days monthly", "-1 days", "99999 days"])
def test_bad_policies_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape('e.g. "30 days, monthly"')):
        parse_keep(text)


@pytest.mark.parametrize(
    ("value", "shown"), [("forever", '"forever"'), (30, "30"), (["all"], '["all"]')]
)
def test_a_bad_keep_in_config_toml_names_the_key_and_the_forms(value: object, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping({"snapshot": {"keep": value}}, Path("/c/config.toml"), Path("/h"))
    assert caught.value.message.startswith(f"/c/config.toml: snapshot.keep = {shown}: expected")
    assert '"30 days, monthly"' in caught.value.message


def test_the_default_keeps_a_month_then_one_a_month() -> None:
    assert Config().snapshot_keep == Keep(30, None) == parse_keep(KEEP_DEFAULT)


# --- what kept promises --------------------------------------------------------------------

minutes = st.integers(min_value=0, max_value=3 * 365 * 24 * 60)  # three years back from NOW
policies = st.one_of(
    st.just(Keep(None)),
    st.builds(Keep, st.integers(0, 400), st.one_of(st.none(), st.integers(0, 40))),
)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[list[tuple[int, datetime]], list[datetime]]:
    """Snapshots (id, time), oldest first as the state DB lists them, and event times."""
    ago = sorted(draw(st.lists(minutes, min_size=1, max_size=40)), reverse=True)
    shots = [(i, NOW - timedelta(minutes=m)) for i, m in enumerate(ago)]
    events = [NOW - timedelta(minutes=m) for m in draw(st.lists(minutes, max_size=8))]
    return shots, events


def _month(when: datetime) -> int:
    return when.year * 12 + when.month


@settings(max_examples=300, deadline=None, derandomize=True)
@given(timeline=timelines(), keep=policies)
def test_kept_keeps_what_it_promises_and_only_that(
    timeline: tuple[list[tuple[int, datetime]], list[datetime]], keep: Keep
) -> None:
    shots, events = timeline
    out = retention.kept(shots, events, NOW, keep)
    assert out <= {i for i, _ in shots}
    assert shots[-1][0] in out  # what requirements shows and a rebuild installs
    if keep.days is None:
        assert out == {i for i, _ in shots}
        return
    required: set[int | None] = {shots[-1][0]}
    required |= {i for i, at in shots if at >= NOW - timedelta(days=keep.days)}
    for event in events:  # the newest before each change of state, and at it
        required |= {max((s for s in shots if s[1] < event), default=(None,))[0]}
        required |= {max((s for s in shots if s[1] <= event), default=(None,))[0]}
    for month in {_month(at) for _, at in shots}:
        if keep.months is None or _month(NOW) - month < keep.months:
            required.add(max(s for s in shots if _month(s[1]) == month)[0])
    required.discard(None)
    assert out == required
    # pruning again at the same moment lets nothing more go
    assert retention.kept([s for s in shots if s[0] in out], events, NOW, keep) == out


@settings(max_examples=100, deadline=None, derandomize=True)
@given(timeline=timelines(), days=st.integers(0, 60))
def test_what_a_month_policy_keeps_bounds_the_count(
    timeline: tuple[list[tuple[int, datetime]], list[datetime]], days: int
) -> None:
    """Without events, a venv keeps its last ``days`` of snapshots plus at most one a
    month for the 12 months asked, however many it had."""
    shots, _ = timeline
    out = retention.kept(shots, [], NOW, Keep(days, 12))
    recent = sum(1 for _, at in shots if at >= NOW - timedelta(days=days))
    assert len(out) <= recent + 12 + 1


# --- pruning as check records ---------------------------------------------------------------


def snap(when: datetime, *versions: str) -> Snapshot:
    packages = tuple(Package(f"pkg{i}", v, True, "index") for i, v in enumerate(versions))
    return Snapshot(Path("/v/one"), when, "3.12.1", packages, "disk")


def test_pruning_drops_old_snapshots_and_their_package_rows_but_not_the_last_healthy(
    isolated_home: Path,
) -> None:
    """A year of weekly upgrades; the venv broke on day 100 (a status event). After the
    next recording under "30 days, 3 months": the last 30 days, the newest of October
    (this month, December, has none; November's is in the 30 days), the one before the
    break are left; package rows only the dropped snapshots used are gone."""
    dirs = app_dirs(os.environ)
    start = NOW - timedelta(days=364)
    broke = start + timedelta(days=100, hours=1)
    with state.open_db(dirs) as db:
        state.record_venvs(db, [_sighting()], at=start)
        for week in range(52):
            state.record_snapshot(db, snap(start + timedelta(weeks=week), f"1.{week}", "2.0"))
        state.append_event(db, "status", "healthy -> broken", Path("/v/one"), at=broke)
        assert snapshots.prune(db, Keep(30, 3), [Path("/v/one")], NOW) == 52 - 6
        left = state.snapshots(db, Path("/v/one"))
        records = [r[0] for r in db.conn.execute("SELECT record FROM packages")]
    assert [(NOW - s.taken_at).days for s in left] == [266, 35, 28, 21, 14, 7]
    held = {p.version for s in left for p in s.packages}
    assert {json.loads(r)["version"] for r in records} == held  # no row outlives its snapshots


def test_keep_all_never_prunes(isolated_home: Path) -> None:
    with state.open_db(app_dirs(os.environ)) as db:
        state.record_venvs(db, [_sighting()], at=NOW - timedelta(days=900))
        for day in range(0, 900, 30):
            state.record_snapshot(db, snap(NOW - timedelta(days=900 - day), str(day)))
        assert snapshots.prune(db, Keep(None), [Path("/v/one")], NOW) == 0
        assert len(state.snapshots(db, Path("/v/one"))) == 30


def _sighting() -> state.Sighting:
    return state.Sighting(Path("/v/one"), "one", "multivenv", "venv", "3.12.1", "healthy")
