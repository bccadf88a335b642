"""A pack that is not valid law-as-code does not load, and the error names the problem."""

from __future__ import annotations

import copy
from datetime import date

import pytest
import yaml

from accord.errors import AccordError, NotFoundError
from accord.law import decide_batch, load_pack
from accord.law.pack import PACK_DIR, LawDateError, PackError, build_pack
from accord.law.sample import random_facts

RAW = yaml.safe_load((PACK_DIR / "cook_county.yaml").read_text())


def _raw():
    return copy.deepcopy(RAW)


def test_shipped_pack_builds():
    assert build_pack(_raw()).id == "cook_county"


def test_unlabelled_conflict_is_an_error_at_load():
    raw = _raw()
    # a second exception to the interview default with the opposite outcome of its sibling
    raw["rules"].append({"id": "cook.interview.rogue", "action": "allow_interview", "outcome": "deny", "exception_to": "cook.interview.no_access",
                         "condition": "terrorist_screening_match", "citation": "Cook County Code §46-37(b)", "summary": "x", "effective_from": "2011-09-07"})
    with pytest.raises(PackError, match="unlabelled conflict.*cook.interview.criminal_warrant.*cook.interview.rogue|unlabelled conflict.*rogue"):
        build_pack(raw)


def test_labelling_the_exception_resolves_the_conflict():
    raw = _raw()
    raw["rules"].append({"id": "cook.interview.rogue", "action": "allow_interview", "outcome": "deny", "exception_to": "cook.interview.criminal_warrant",
                         "condition": "terrorist_screening_match", "citation": "Cook County Code §46-37(b)", "summary": "x", "effective_from": "2011-09-07"})
    assert any(r.id == "cook.interview.rogue" for r in build_pack(raw).rules)


def test_citation_missing_from_table_is_named():
    raw = _raw()
    raw["rules"][0]["citation"] = "Cook County Code §99-99"
    with pytest.raises(PackError, match=r"cook.hold.decline.*§99-99.*not in the pack's citation table"):
        build_pack(raw)


def test_unknown_fact_and_second_default_are_named():
    raw = _raw()
    raw["rules"][1]["condition"] = "reimbursement_agreement_in_farce"
    with pytest.raises(PackError, match="unknown fact or predicate 'reimbursement_agreement_in_farce'"):
        build_pack(raw)
    raw = _raw()
    del raw["rules"][1]["exception_to"]
    with pytest.raises(PackError, match="default rule .* must be unconditional"):
        build_pack(raw)


def test_unknown_pack_names_the_known_ones():
    with pytest.raises(NotFoundError, match="unknown pack 'atlantis'.*california"):
        load_pack("atlantis")


def test_batch_before_pack_date_is_an_error():
    pack = load_pack("california")
    with pytest.raises(LawDateError, match="before pack 'california'"):
        decide_batch(random_facts(pack, 10, 1), pack, date(2017, 1, 1))
    frame = random_facts(load_pack("federal_baseline"), 50, 2)  # rows from 1997 on
    with pytest.raises(AccordError, match="before pack 'california' first takes effect"):
        decide_batch(frame, pack, None)


def test_batch_without_fact_columns_names_them():
    pack = load_pack("texas")
    frame = random_facts(pack, 5, 1).drop("status_proof_presented", "form")
    with pytest.raises(AccordError, match="missing FACT columns: form, status_proof_presented"):
        decide_batch(frame, pack, date(2020, 1, 1))


def test_lazy_rows_before_the_pack_get_no_decision_and_unknown_dates_are_insufficient():
    import polars as pl

    pack = load_pack("nyc_doc")
    frame = random_facts(load_pack("federal_baseline"), 400, 3).with_columns(requests_hold=pl.lit(True))
    out = decide_batch(frame.lazy(), pack, None).collect()
    day = frame["received_at"].dt.convert_time_zone(pack.timezone).dt.date()
    before = out.filter(day < pack.effective_from)
    unknown = out.filter(frame["received_at"].is_null())
    assert before.height and before["decision_hold_past_release"].null_count() == before.height
    assert unknown.height and (unknown["decision_hold_past_release"] == "insufficient_facts").all()
