"""The shared-aggregate path (``accord.reports.shared``) gives every table exactly as the per-table queries do.

Compared cell for cell, raw and as published (suppressed), on seeded synthetic histories (in memory and
as Parquet in the writers' layout) and on Hypothesis-made awkward ones: null keys, null or repeated
list items, local midnights and New Years, instants before 1970, one person with many detainers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import InputError
from accord.reports.build import compute_tables
from accord.reports.catalog import BY_NAME
from accord.reports.layout import write_history_parquet
from accord.reports.queries import PERIODS, QueryParams
from accord.reports.sample import sample_history, write_sample_parquet
from accord.reports.schema import DISPOSITIONS
from accord.reports import shared
from accord.reports.shared import can_share
from accord.reports.source import History
from accord.reports.table import publish_all


def both(history: History, period: str = "month") -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    params = QueryParams(period=period)
    return compute_tables(history, params=params, shared=False), compute_tables(history, params=params, shared=True)


def assert_same(slow: dict[str, pl.DataFrame], fast: dict[str, pl.DataFrame]) -> None:
    assert slow.keys() == fast.keys()
    for name in slow:
        assert slow[name].schema == fast[name].schema, name
        assert slow[name].equals(fast[name]), f"{name}\nper table:\n{slow[name]}\nshared:\n{fast[name]}"
    a, b = (publish_all(r, {n: BY_NAME[n] for n in r}, 10) for r in (slow, fast))
    for name in a:
        assert a[name].frame.equals(b[name].frame), name
        assert (a[name].hidden, a[name].primary) == (b[name].hidden, b[name].primary), name


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("seed", [1, 7])
def test_every_table_is_the_same_on_a_synthetic_history_in_memory(seed: int, period: str) -> None:
    assert_same(*both(History.from_frames(sample_history(2500, seed=seed)), period))


@pytest.mark.parametrize("one_pass", [True, False], ids=["grouping-sets", "one-query-per-set"])
def test_the_main_sets_give_the_same_tables_in_one_pass_or_one_query_each(one_pass: bool, monkeypatch) -> None:
    monkeypatch.setattr(shared, "MAIN_GROUPING_SETS", one_pass)
    timings: dict[str, float] = {}
    history = History.from_frames(sample_history(2500, seed=5))
    slow = compute_tables(history, shared=False)
    fast = compute_tables(history, shared=True, timings=timings)
    assert_same(slow, fast)
    assert ("main" in timings) == one_pass


def test_every_table_is_the_same_on_a_parquet_history(tmp_path: Path) -> None:
    for _ in write_sample_parquet(tmp_path, 6000, chunk=2500, seed=3):
        pass
    history = History.from_parquet(tmp_path)
    assert can_share(history)
    for period in PERIODS:
        assert_same(*both(history, period))


def test_a_parquet_history_without_offsets_or_list_keys_is_counted_table_by_table(tmp_path: Path) -> None:
    for name, frame in sample_history(300, seed=2).items():
        frame.write_parquet(tmp_path / f"{name}.parquet")
    history = History.from_parquet(tmp_path)
    assert not can_share(history)
    assert compute_tables(history)["detainers_by_period"]["received"].sum() == 300


def test_the_report_asks_the_shared_queries_not_one_query_per_table() -> None:
    timings: dict[str, float] = {}
    compute_tables(History.from_frames(sample_history(200, seed=4)), timings=timings)
    assert {"main period", "main office", "main reason", "main offence", "people", "nyc", "ca", "ca_lists"} <= set(timings)
    assert not {"detainers_by_period", "detainers_by_office", "nypd_14_154", "truth_act_forum"} & set(timings)


UTC = timezone.utc
#: instants where a calendar cut falls somewhere: local midnights and New Years in New York and Los Angeles, 1969 included
EDGES = [datetime(y, m, 1, h, mi, tzinfo=UTC) for y in (1969, 1970, 2020, 2021) for m in (1, 3, 4, 7, 11)
         for h in (4, 5, 7, 8) for mi in (0, 59)]
LISTS = st.one_of(st.none(), st.lists(st.sampled_from(["assault", "dui", "", "theft"]), max_size=3))
RULES = st.one_of(st.none(), st.lists(st.sampled_from(["R1", "R2", "", "nyc.a"]), max_size=3))


@st.composite
def awkward_rows(draw: st.DrawFn) -> dict:
    edge = draw(st.sampled_from(EDGES))
    when = draw(st.one_of(st.none(), st.just(edge + timedelta(seconds=draw(st.integers(-90, 90))))))
    held = draw(st.one_of(st.none(), st.floats(0, 100, allow_nan=False)))
    return {
        "jurisdiction": draw(st.sampled_from(["US-NY-NYC", "US-NY-NYC", "US-CA-LAC", "US-TX-HAR", None])),
        "received_at": when,
        "disposition": draw(st.sampled_from([*DISPOSITIONS, "transferred", "declined"])),
        "person_id": draw(st.sampled_from(["P1", "P2", "P3", None])),
        "receiving_agency_id": draw(st.sampled_from(["A1", "A2", None])),
        "issuing_office": draw(st.sampled_from(["Office X", None])),
        "form": draw(st.sampled_from(["I-247A", None])),
        "issuing_component": draw(st.sampled_from(["ICE", "CBP", None])),
        "pack_id": draw(st.sampled_from(["nyc_doc", "california", None])),
        "decision_rules": draw(RULES),
        "offense_categories": draw(LISTS),
        "decision_allow_interview": draw(st.sampled_from(["allow", "require", "deny", None])),
        "decision_share_info": draw(st.sampled_from(["allow", "deny", None])),
        "hold_hours": held,
        "hold_deadline": None if held is None or when is None else draw(st.sampled_from([None, when + timedelta(hours=48)])),
        "released_at": None if when is None else when + timedelta(hours=draw(st.integers(0, 80))),
    }


def awkward_history(rows: list[dict]) -> dict[str, pl.DataFrame]:
    frames = sample_history(len(rows), seed=9)
    d = frames["detainers"]
    patch = pl.DataFrame(rows, schema={c: d.schema[c] for c in rows[0]})
    return {**frames, "detainers": d.with_columns(patch)}


def _outcome(history: History, period: str, shared: bool):
    try:
        return compute_tables(history, params=QueryParams(period=period), shared=shared)
    except InputError as exc:
        return f"InputError: {exc}"


def assert_same_outcome(history: History, period: str) -> None:
    """Both paths give the same tables, or refuse the history with the same message."""
    slow, fast = _outcome(history, period, False), _outcome(history, period, True)
    if isinstance(slow, str):
        assert slow == fast
    else:
        assert not isinstance(fast, str), fast
        assert_same(slow, fast)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(awkward_rows(), min_size=1, max_size=40), period=st.sampled_from(PERIODS))
def test_every_table_is_the_same_on_awkward_histories(rows: list[dict], period: str, tmp_path_factory) -> None:
    frames = awkward_history(rows)
    memory = History.from_frames(frames)
    assert_same_outcome(memory, period)
    root = tmp_path_factory.mktemp("awkward")  # the same history written in the writers' layout (offsets stored)
    for name, frame in frames.items():
        write_history_parquet(frame, root / f"{name}.parquet")
    parquet = History.from_parquet(root)
    assert_same_outcome(parquet, period)
