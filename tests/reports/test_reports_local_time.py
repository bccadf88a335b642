"""Report periods follow each jurisdiction's wall clock, not UTC."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.reports.build import compute_tables
from accord.reports.calendar import UTC as UTC_ZONE, ZONES, ZONES_VERSION, midnight_hours, new_year_offset_us, offset_column, zone_for
from accord.reports.layout import with_local_offsets, write_history_parquet
from accord.reports.queries import QueryParams
from accord.reports.sample import sample_history
from accord.reports.source import History

#: (jurisdiction, received at, UTC) -> the month it belongs to there.
EDGES = [
    ("US-NY-NYC", datetime(2020, 4, 1, 2, 0), "2020-03"),   # 22:00 EDT on 31 March
    ("US-NY-NYC", datetime(2020, 4, 1, 4, 0), "2020-04"),   # 00:00 EDT on 1 April
    ("US-TX-HAR", datetime(2020, 4, 1, 4, 30), "2020-03"),  # 23:30 CDT on 31 March
    ("US-CA-LAC", datetime(2020, 7, 1, 6, 59), "2020-06"),  # 23:59 PDT on 30 June
    ("US-CA-LAC", datetime(2020, 7, 1, 7, 0), "2020-07"),
    ("US-FL-MIA", datetime(2020, 4, 1, 2, 0), "2020-04"),   # no zone known: counted in UTC
    ("US-NY-NYC", datetime(2021, 1, 1, 3, 0), "2020-12"),   # New Year's Eve in New York
]


def _edge_frames() -> dict[str, pl.DataFrame]:
    frames = sample_history(len(EDGES), seed=3)
    d = frames["detainers"].with_columns(
        jurisdiction=pl.Series([j for j, _, _ in EDGES]),
        received_at=pl.Series([t for _, t, _ in EDGES]).dt.replace_time_zone("UTC"),
        disposition=pl.lit("declined"), hold_hours=pl.lit(None, dtype=pl.Float64),
    )
    return {**frames, "detainers": d}


def _edge_history(stored: bool, tmp: Path | None = None) -> History:
    """In memory (no stored offsets: the UTC-stretch path) or as written Parquet (offsets stored)."""
    frames = _edge_frames()
    if not stored:
        return History.from_frames(frames)
    assert tmp is not None
    for table, frame in frames.items():
        (tmp / table).mkdir(parents=True, exist_ok=True)
        write_history_parquet(frame, tmp / table / "part-0.parquet")
    assert offset_column("received_at") in pl.read_parquet_schema(tmp / "detainers" / "part-0.parquet")
    return History.from_parquet(tmp)


def _months(backend: str, history: History) -> dict[str, int]:
    got = compute_tables(history, backend=backend, params=QueryParams(period="month"),
                         names=["detainers_by_period"])["detainers_by_period"]
    return dict(zip(got["period"].to_list(), got["received"].to_list()))


def _expected() -> dict[str, int]:
    out: dict[str, int] = {}
    for _, _, month in EDGES:
        out[month] = out.get(month, 0) + 1
    return dict(sorted(out.items()))


@pytest.mark.parametrize("stored", [False, True], ids=["converted", "stored-offsets"])
def test_a_detainer_late_on_the_last_day_counts_in_that_month_where_it_was_received(stored: bool, tmp_path: Path) -> None:
    assert _months("duckdb", _edge_history(stored, tmp_path)) == _expected()


@pytest.mark.parametrize("stored", [False, True], ids=["converted", "stored-offsets"])
def test_nypd_years_are_new_york_years(stored: bool, tmp_path: Path) -> None:
    got = compute_tables(_edge_history(stored, tmp_path), names=["nypd_14_154"])["nypd_14_154"]
    per_year = got.group_by("year").agg(pl.col("detainers_received").sum()).sort("year")
    assert per_year.rows() == [("2020", 3)]  # the one at 2021-01-01 03:00Z too: still 2020 in New York
    nyc = _edge_frames()["detainers"].filter(pl.col("jurisdiction") == "US-NY-NYC")
    people = nyc.group_by("receiving_agency_id").agg(pl.col("person_id").n_unique())["person_id"].sum()
    assert got["individuals_not_honored"].sum() == people  # one year: each agency's people once


def test_written_histories_store_each_rows_offset() -> None:
    d = with_local_offsets(_edge_frames()["detainers"])
    assert d[offset_column("received_at")].to_list() == [-240, -240, -300, -420, -420, 0, -300]


def test_zones_version_names_this_zone_table() -> None:
    digest = hashlib.sha256(json.dumps(ZONES, sort_keys=True).encode()).hexdigest()[:12]
    assert (ZONES_VERSION, digest) == (1, "adcf45cae02a"), "ZONES changed: bump ZONES_VERSION and this pin"


@pytest.mark.spark
def test_spark_puts_the_edges_in_the_same_months(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pyspark not installed")
    if shutil.which("java") is None:
        pytest.skip("java not found: PySpark needs a JVM")
    assert _months("pyspark", _edge_history(False)) == _expected()
    assert _months("pyspark", _edge_history(True, tmp_path)) == _expected()


ALL_ZONES = sorted({*ZONES.values(), UTC_ZONE})


@settings(max_examples=500, deadline=None)
@given(zone=st.sampled_from(ALL_ZONES), together=st.booleans(),
       seconds=st.integers(0, int((datetime(2100, 12, 31, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())))
def test_counting_by_stretches_of_the_utc_day_loses_no_local_day(zone: str, together: bool, seconds: int) -> None:
    """Rows are first counted by stretch of the UTC day between possible local midnights, then each
    stretch's first hour is converted: exact only if no local midnight ever falls inside a stretch."""
    cuts = [h for h in midnight_hours(ALL_ZONES if together else [zone]) if h > 0]
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    start = max([h for h in cuts if h <= moment.hour], default=0)
    first_hour = moment.replace(hour=start, minute=0, second=0)
    tz = ZoneInfo(zone)
    assert moment.astimezone(tz).date() == first_hour.astimezone(tz).date()


def test_midnight_hours_are_where_local_midnights_fall() -> None:
    assert midnight_hours(["America/New_York"]) == (4, 5)  # EDT, EST
    assert midnight_hours(["America/Los_Angeles", "UTC"]) == (0, 7, 8)


def test_zones_agree_with_the_packs_own_time_zones() -> None:
    from accord.access.packs import load_pack as load_access_pack
    from accord.law.pack import list_packs, load_pack

    for pack_id in list_packs():
        pack = load_pack(pack_id)
        if pack.jurisdiction != "US":  # the federal baseline's zone is nominal: it governs no one place
            assert zone_for(pack.jurisdiction) == pack.timezone, pack_id
    assert zone_for("US-NY") == str(load_access_pack("ny_dmv").timezone)
    assert zone_for("US-MA") == str(load_access_pack("ma_rmv").timezone)
    for zone in ZONES.values():
        new_year_offset_us(zone)  # raises if a zone's New Year offset ever changed


def test_zone_prefixes_match_whole_codes_only() -> None:
    assert zone_for("US-NY") == "America/New_York"
    assert zone_for("US-NYX") == "UTC"


@pytest.mark.parametrize("period", ["month", "quarter", "year"])
def test_stored_offsets_and_converted_stretches_give_the_same_tables(period: str, tmp_path: Path) -> None:
    frames = sample_history(3000, seed=17)
    for table, frame in frames.items():
        (tmp_path / table).mkdir()
        write_history_parquet(frame, tmp_path / table / "part-0.parquet")
    params = QueryParams(period=period)
    stored, converted = compute_tables(History.from_parquet(tmp_path), params=params), compute_tables(History.from_frames(frames), params=params)
    for name in stored:
        assert stored[name].equals(converted[name]), name
    if period == "month":  # and the sample has rows whose local month is not their UTC month
        utc = frames["detainers"]["received_at"].dt.strftime("%Y-%m").value_counts().sort("received_at")
        local = stored["detainers_by_period"]
        assert dict(zip(local["period"], local["received"])) != dict(zip(utc["received_at"], utc["count"]))
