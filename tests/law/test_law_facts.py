"""facts_from_case flattens a case the way the packs' rules read it; unknown stays null."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from accord.domain import Conviction, Reduction
from accord.domain.enums import Disposition, OffenseLevel, ReductionKind
from accord.law.case import DetainerCase
from accord.law.facts import FACT_NAMES, FACTS, facts_from_case, frame_from_facts

EXAMPLE = Path(__file__).parents[2] / "src/accord/law/examples/nyc_case.json"


def _case() -> DetainerCase:
    return DetainerCase.model_validate_json(EXAMPLE.read_text())


def _with_convictions(case: DetainerCase, *convictions: Conviction) -> DetainerCase:
    custody = case.custody.model_copy(update={"convictions": convictions})
    return case.model_copy(update={"custody": custody})


def _conv(cid: str, **kw) -> Conviction:
    base = dict(conviction_id=cid, offense_code="X", jurisdiction="US-NY", level=OffenseLevel.FELONY, convicted_on=date(2015, 1, 1))
    base.update(kw)
    return Conviction(**base)


def test_every_fact_is_named_once_with_a_meaning():
    assert len(FACT_NAMES) == len(set(FACT_NAMES))
    assert all(f.meaning and f.derived_from for f in FACTS)


def test_example_case_flattens_to_every_fact_and_fits_the_schema():
    facts = facts_from_case(_case(), date(2024, 3, 5))
    assert set(facts) == set(FACT_NAMES)
    frame = frame_from_facts([facts])
    assert frame.schema == pl.Schema({f.name: f.dtype for f in FACTS})
    assert facts["requests_hold"] and facts["judicial_warrant_judge_kind"] == "federal_magistrate"
    # NYC look-back counts from release from incarceration, not from conviction.
    assert facts["nyc_vs_lookback_from"] == date(2021, 6, 30)


def test_unclassified_later_conviction_makes_lookback_unknown_not_false():
    case = _with_convictions(
        _case(),
        _conv("a", nyc_violent_or_serious=True, convicted_on=date(2012, 1, 1)),
        _conv("b", nyc_violent_or_serious=None, convicted_on=date(2020, 1, 1)),
    )
    facts = facts_from_case(case, date(2024, 3, 5))
    assert facts["nyc_violent_or_serious_ever"] is True
    assert facts["nyc_vs_lookback_from"] is None


def test_no_convictions_is_known_false_not_unknown():
    facts = facts_from_case(_with_convictions(_case()), date(2024, 3, 5))
    assert facts["nyc_violent_or_serious_ever"] is False
    assert facts["ca_list_felony_ever"] is False and facts["felony_conviction_ever"] is False


def test_youthful_offender_and_vacated_are_not_convictions():
    case = _with_convictions(
        _case(),
        _conv("yo", nyc_violent_or_serious=True, disposition=Disposition.YOUTHFUL_OFFENDER),
        _conv("v", nyc_violent_or_serious=True, reductions=(Reduction(kind=ReductionKind.VACATED, on=date(2020, 1, 1)),)),
    )
    assert facts_from_case(case, date(2024, 3, 5))["nyc_violent_or_serious_ever"] is False
    # before the vacatur the conviction still stood
    assert facts_from_case(case, date(2019, 6, 1))["nyc_violent_or_serious_ever"] is True


def test_prop47_reduced_conviction_is_flagged_and_not_a_california_basis():
    red = Reduction(kind=ReductionKind.PROP_47, on=date(2015, 6, 1), new_level=OffenseLevel.MISDEMEANOR)
    case = _with_convictions(_case(), _conv("p", jurisdiction="US-CA", ca_list_code="F", wobbler=True, convicted_on=date(2013, 1, 1), reductions=(red,)))
    facts = facts_from_case(case, date(2020, 1, 1))
    assert facts["ca_prop47_reduced"] is True
    assert facts["ca_list_felony_ever"] is False and facts["ca_list_wobbler_misdemeanor_ever"] is False
    before = facts_from_case(case, date(2014, 1, 1))
    assert before["ca_prop47_reduced"] is False and before["ca_list_felony_latest_on"] == date(2013, 1, 1)
