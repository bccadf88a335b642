"""Each report table against the same figure computed independently with polars on the same history."""

from __future__ import annotations

import polars as pl
import pytest

from accord.errors import InputError
from accord.reports.build import compute_tables
from accord.reports.calendar import zone_for
from accord.reports.queries import QueryParams
from accord.reports.sample import sample_history
from accord.reports.schema import DISPOSITIONS
from accord.reports.source import History


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return sample_history(3000, seed=11)


@pytest.fixture(scope="module")
def raw(frames) -> dict[str, pl.DataFrame]:
    return compute_tables(History.from_frames(frames))


def _local(d: pl.DataFrame, column: str = "received_at") -> pl.DataFrame:
    """``local``: each row's timestamp on its jurisdiction's wall clock (independently of the queries)."""
    zones = {j: zone_for(j) for j in d["jurisdiction"].unique().to_list()}
    parts = [
        d.filter(pl.col("jurisdiction") == j).with_columns(local=pl.col(column).dt.convert_time_zone(z).dt.replace_time_zone(None))
        for j, z in zones.items()
    ]
    return pl.concat(parts)


def test_detainers_by_month_count_each_detainer_once_by_disposition(frames, raw):
    d = _local(frames["detainers"]).with_columns(period=pl.col("local").dt.strftime("%Y-%m"))
    expected = d.group_by("period").agg(
        received=pl.len(), **{x: (pl.col("disposition") == x).sum() for x in DISPOSITIONS}, held=pl.col("hold_hours").is_not_null().sum()
    ).sort("period")
    got = raw["detainers_by_period"]
    assert got.select(expected.columns).cast(expected.schema).equals(expected)
    assert got["received"].sum() == frames["detainers"].height


def test_quarter_and_year_periods(frames):
    for period in ("quarter", "year"):
        got = compute_tables(History.from_frames(frames), params=QueryParams(period=period), names=["detainers_by_period"])
        d = _local(frames["detainers"])["local"]
        label = d.dt.strftime("%Y") if period == "year" else d.dt.year().cast(str) + "-Q" + d.dt.quarter().cast(str)
        expected = label.value_counts().sort(label.name)
        table = got["detainers_by_period"]
        assert table["period"].to_list() == expected[label.name].to_list()
        assert table["received"].to_list() == expected["count"].to_list()


def test_offence_categories_overlap_and_are_counted_per_detainer(frames, raw):
    expected = (
        frames["detainers"].select("offense_categories").explode("offense_categories").drop_nulls()
        .group_by("offense_categories").len().sort("offense_categories")
    )
    got = raw["detainers_by_offence"].select("offence_category", "detainers")
    assert got["offence_category"].to_list() == expected["offense_categories"].to_list()
    assert got["detainers"].to_list() == expected["len"].to_list()
    assert got["detainers"].sum() > frames["detainers"].height * 0.9  # overlap: several categories per person


def test_hold_durations_count_holds_past_the_legal_limit(frames, raw):
    held = frames["detainers"].filter(pl.col("hold_hours").is_not_null())
    got = raw["hold_durations"]
    assert got["held"].sum() == held.height
    assert got["past_legal_limit"].sum() == held.filter(pl.col("released_at") > pl.col("hold_deadline")).height
    over_72 = got.filter(pl.col("hold_length") == "72 h or more")["held"].sum()
    assert over_72 == held.filter(pl.col("hold_hours") >= 72).height


def test_notices_on_time_late_and_unsent(frames, raw):
    n = frames["notices"]
    got = raw["notices_timeliness"]
    assert got["owed"].sum() == n.height
    assert got["sent_late"].sum() == n.filter(pl.col("sent_at") > pl.col("due_by")).height
    assert got["not_sent"].sum() == n["sent_at"].null_count()


def test_nypd_four_counts_count_people_not_detainers(frames, raw):
    d = _local(frames["detainers"].filter(pl.col("jurisdiction") == "US-NY-NYC")).with_columns(
        year=pl.col("local").dt.strftime("%Y"))
    got = raw["nypd_14_154"]
    assert got["detainers_received"].sum() == d.height
    per_agency = d.group_by("year", "receiving_agency_id").agg(
        pl.col("person_id").filter(pl.col("disposition") == "declined").n_unique().alias("n")
    ).sort("year", "receiving_agency_id")
    assert got.sort("year", "receiving_agency_id")["individuals_not_honored"].to_list() == per_agency["n"].to_list()
    assert got["year"].n_unique() == 2  # the sample's first hours of the year are the year before in New York


def test_nyc_10_178_logs_detainers_and_immigration_record_requests(frames, raw):
    det = frames["detainers"].filter(pl.col("jurisdiction") == "US-NY-NYC").height
    r = frames["record_requests"].filter(
        (pl.col("jurisdiction") == "US-NY-NYC")
        & (pl.col("purpose").is_in(["civil_immigration_enforcement", "criminal_immigration_enforcement"])
           | pl.col("requester_primarily_enforces_immigration"))
    )
    got = raw["nyc_10_178"]
    assert got["requests"].sum() == det + r.height
    parts = ("complied", "declined", "lifted", "expired", "released_before_decision", "pending", "no_decision")
    assert (got["requests"] == got.select(pl.sum_horizontal(parts)).to_series()).all()
    det_rows = got.filter(pl.col("request").str.starts_with("detainer"))
    nyc = frames["detainers"].filter(pl.col("jurisdiction") == "US-NY-NYC")
    assert det_rows["lifted"].sum() == nyc.filter(pl.col("disposition") == "lifted").height
    assert "person_id" not in got.columns


def test_california_transfers_by_offence(frames, raw):
    t = frames["detainers"].filter(pl.col("jurisdiction").str.starts_with("US-CA") & (pl.col("disposition") == "transferred"))
    got = raw["ca_7284_6_c2"]
    assert got.filter(pl.col("offence") == "(all transfers)")["transfers"].sum() == t.height


def test_reason_table_names_each_rule_once_per_detainer(frames, raw):
    got = raw["detainers_by_reason"]
    exploded = frames["detainers"].select("pack_id", pl.col("decision_rules").list.unique()).explode("decision_rules").drop_nulls()
    assert got["detainers"].sum() == exploded.height
    assert got["citation"].null_count() == 0


def test_unknown_disposition_is_an_input_error_naming_the_field(frames):
    bad = frames["detainers"].with_columns(disposition=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("vanished")).otherwise("disposition"))
    with pytest.raises(InputError) as exc:
        compute_tables(History.from_frames({**frames, "detainers": bad}), names=["detainers_by_period"])
    assert "disposition" in str(exc.value)


def test_missing_column_is_an_input_error(frames):
    with pytest.raises(InputError) as exc:
        History.from_frames({"detainers": frames["detainers"].drop("issuing_office")})
    assert "issuing_office" in str(exc.value)


def test_unknown_period_is_an_input_error(frames):
    with pytest.raises(InputError) as exc:
        compute_tables(History.from_frames(frames), params=QueryParams(period="week"))
    assert "period" in str(exc.value)
