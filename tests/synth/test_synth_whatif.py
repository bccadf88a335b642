"""What-if on a history small enough to check by hand: texas vs nyc_doc on four detainers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from accord.law.facts import FACT_SCHEMA
from accord.synth.whatif import compare

BASE = {
    "form": "I-247A", "issued_on": date(2019, 6, 3), "form_in_use_on_issue": True, "issuing_component": "ICE", "requests_hold": True, "requests_notify": True, "requests_transfer": True,
    "received_at": datetime(2019, 6, 3, 14, 0, tzinfo=UTC), "release_eligible_at": datetime(2019, 6, 10, 14, 0, tzinfo=UTC),
    "arrested_at": datetime(2019, 6, 2, 9, 0, tzinfo=UTC), "judicial_warrant_judge_kind": "none", "judicial_warrant_basis": "none",
    "judicial_pc_determination_only": False, "administrative_warrant_form": "I-200", "served_on_subject": True,
    "outstanding_federal_felony_warrant": False, "terrorist_screening_match": False, "previously_removed_and_reentered": False,
    "status_proof_presented": False, "ca_sex_or_arson_registrant": False, "magistrate_probable_cause_current_charge": False,
    "felony_conviction_ever": True, "nyc_violent_or_serious_ever": True, "nyc_vs_lookback_from": date(2017, 1, 5),
    "nyc_covered_crime_ever": True, "nyc_covered_misdemeanor_ever": False, "nyc_covered_misdemeanor_latest_on": None,
    "ca_serious_or_violent_felony_ever": True, "ca_state_prison_felony_ever": True, "ca_list_felony_ever": True,
    "ca_list_felony_latest_on": date(2016, 1, 5), "ca_list_wobbler_misdemeanor_ever": False, "ca_list_wobbler_misdemeanor_latest_on": None,
    "ca_prop47_reduced": False, "federal_aggravated_felony_ever": True, "reimbursement_agreement_in_force": False,
}


def _history() -> pl.DataFrame:
    rows = [
        # 1. judicial warrant + violent/serious conviction 2.5 years ago: NYC may hold; Texas must
        {**BASE, "judicial_warrant_judge_kind": "federal_magistrate", "judicial_warrant_basis": "federal_criminal_immigration"},
        # 2. administrative warrant only: NYC declines everything; Texas must hold
        BASE,
        # 3. box 2 (no hold asked), no judicial warrant: NYC declines; Texas must notify and transfer
        {**BASE, "requests_hold": False},
        # 4. proof of citizenship presented: Texas merely allows; NYC declines
        {**BASE, "status_proof_presented": True},
    ]
    return pl.DataFrame(rows, schema=FACT_SCHEMA)


def test_side_by_side_counts_match_the_hand_count():
    w = compare(_history(), "nyc_doc", "texas")
    table = {r["metric"]: (r["nyc_doc"], r["texas"], r["difference"]) for r in w.table.iter_rows(named=True)}
    assert table["detainers"] == (4, 4, 0)
    assert table["holds"] == (1, 3, 2)  # row 3 asked for no hold
    assert table["notifications"] == (1, 4, 3)
    assert table["transfers"] == (1, 4, 3)
    assert table["declined"] == (3, 0, -3)
    assert table["required"] == (0, 3, 3)  # row 4: proof of status turns the duty into a permission
    assert table["insufficient_facts"] == (0, 0, 0)


def test_rule_drivers_name_the_rules_that_moved_each_detainer():
    w = compare(_history(), "nyc_doc", "texas")
    d = w.rule_drivers
    hold = d.filter(pl.col("action") == "hold_past_release")
    # rows 2 and 4 moved on hold: decline -> require (row 2), decline -> allow (row 4); row 1 allow -> require
    moved = {(r["rule_a"], r["outcome_a"], r["rule_b"], r["outcome_b"]): r["detainers"] for r in hold.iter_rows(named=True)}
    assert moved == {
        ("nyc_doc.hold.decline", "deny", "tx.hold.duty_2251", "require"): 1,
        ("nyc_doc.hold.decline", "deny", "tx.hold.duty_2251.proof", "allow"): 1,
        ("nyc_doc.hold.judicial_warrant_and_danger", "allow", "tx.hold.duty_2251", "require"): 1,
    }
    assert d["detainers"].sum() == 3 + 4 + 4  # every row moved on notify and transfer; rows 1, 2, 4 on hold
    assert d.filter(pl.col("rule_b") == "tx.hold.duty_2251")["citation_b"].to_list() == ["Tex. Code Crim. Proc. art. 2.251(a)"] * 2


def test_the_same_pack_on_both_sides_changes_nothing():
    w = compare(_history(), "nyc_doc", "nyc_doc")
    assert (w.table["difference"] == 0).all()
    assert w.rule_drivers.height == 0
