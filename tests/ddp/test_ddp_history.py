"""Imported rows as ``detainers`` history rows: what the release tells is filled in, the rest is null."""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl
import pytest

from accord.ddp.events import DETAINER
from accord.ddp.history import detainer_rows, schema, without_repeats
from accord.ddp.importer import import_release
from accord.law import decide_batch, load_pack
from accord.law.facts import FACT_NAMES
from accord.ledger import Ledger
from accord.reports.schema import DETAINERS
from helpers.ddp_release import N, REJECTED, TODAY, header, source_row

#: The synthetic charges and the categories a reader of their text would give them.
CATEGORIES_BY_HAND = {"Assault": ["assault"], "Driving Under Influence Liquor": ["dui"], "Robbery": ["robbery"],
                      "Dangerous Drugs": ["drugs"], "Weapon Offense": ["weapons"], "Sexual Assault": ["sex_crime"],
                      "Homicide": ["homicide"], "Larceny": ["theft"], "Burglary": [], "Traffic Offense": [],
                      "Illegal Entry": []}
CONVICTION_FACTS = [f for f in FACT_NAMES if f.endswith("_ever")] + ["ca_prop47_reduced"]
NEVER_IN_THE_RELEASE = ["release_eligible_at", "arrested_at", "judicial_warrant_judge_kind", "judicial_warrant_basis",
                        "judicial_pc_determination_only", "administrative_warrant_form", "served_on_subject",
                        "outstanding_federal_felony_warrant", "terrorist_screening_match",
                        "previously_removed_and_reentered", "status_proof_presented", "ca_sex_or_arson_registrant",
                        "magistrate_probable_cause_current_charge", "reimbursement_agreement_in_force",
                        "nyc_vs_lookback_from", "nyc_covered_misdemeanor_latest_on", "ca_list_felony_latest_on",
                        "ca_list_wobbler_misdemeanor_latest_on"]


@pytest.fixture(scope="module")
def imported(releases, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('hist') / 'h.db'}"
    with Ledger.open(url) as led:
        import_release(releases["latest"].xlsx, led, today=TODAY)
        frame = detainer_rows(led.events(kind=DETAINER))
    rows = releases["latest"].rows
    by_row = {(r["ddp_sheet"], r["ddp_row"]): r for r in frame.iter_rows(named=True)}
    by_k = {k: by_row[source_row("xlsx", k)] for k in range(N) if k not in REJECTED}
    return frame, by_k, rows


def test_one_row_per_imported_detainer_with_the_history_schema(imported) -> None:
    frame, by_k, _ = imported
    assert frame.schema == pl.Schema(schema())
    assert set(DETAINERS) <= set(frame.columns) and set(FACT_NAMES) <= set(frame.columns)
    assert frame.height == N - len(REJECTED) and frame["detainer_id"].n_unique() == frame.height
    assert by_k[0]["detainer_id"].startswith("ddp-") and by_k[0]["detainer_id"].endswith("-1-8")


def test_what_the_release_tells(imported) -> None:
    _, by_k, rows = imported
    for k, r in by_k.items():
        prepared = date.fromisoformat(rows[header("latest", "prepare_date")][k])
        assert r["received_at"] == datetime(prepared.year, prepared.month, prepared.day, 12, tzinfo=timezone.utc)
        assert r["form"] == "I-247A" and r["issuing_component"] == "ICE"
        assert r["issuing_office"] == rows["Facility AOR"][k]
        crim = k % 3 if k not in (10, 160) else None
        assert r["has_criminal_history"] == {0: True, 1: False, 2: False, None: None}[crim]
        for fact in CONVICTION_FACTS:  # no conviction ICE knew of -> false; convicted or unknown -> unknown
            assert r[fact] == (False if crim in (1, 2) else None), (k, fact)
        kind = "mystery" if k in (11, 12) else "notification" if k % 10 == 9 else "hold"
        assert (r["requests_hold"], r["requests_notify"], r["requests_transfer"]) == {
            "hold": (True, True, True), "notification": (False, True, None), "mystery": (None, None, None)}[kind]
        assert r["disposition"] == {0: "transferred", 1: "declined", 2: None, 3: None}[k % 4]
        charge = rows[header("latest", "msc_charge")][k]
        if crim == 0 and k != 54:
            assert r["offense_categories"] == CATEGORIES_BY_HAND[charge]
        else:
            assert r["offense_categories"] == []
        for fact in NEVER_IN_THE_RELEASE:
            assert r[fact] is None, fact
        assert r["decision_hold_past_release"] is None and r["pack_id"] is None and r["booking_id"] is None
    assert by_k[13]["jurisdiction"] is None and by_k[1]["jurisdiction"] == "US-CA"
    assert by_k[50]["facility"] is None and by_k[51]["person_id"] is None


def test_totals_without_likely_duplicates_count_each_group_once(imported) -> None:
    frame, by_k, _ = imported
    assert frame["ddp_likely_duplicate"].sum() == 5 and frame["ddp_repeat"].sum() == 3
    assert without_repeats(frame).height == frame.height - 3
    assert not by_k[20]["ddp_repeat"] and by_k[21]["ddp_repeat"] and by_k[170]["ddp_repeat"]


def test_the_rows_are_a_valid_input_to_decide_batch(imported) -> None:
    frame, _, _ = imported
    for pack in ("nyc_doc", "texas", "california", "federal_baseline"):
        out = decide_batch(frame.select(FACT_NAMES), load_pack(pack))
        assert out.height == frame.height and "decision_hold_past_release" in out.columns


def test_no_events_no_rows() -> None:
    empty = detainer_rows([])
    assert empty.height == 0 and empty.schema == pl.Schema(schema())
