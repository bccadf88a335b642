"""The synthetic NYC year, decided by the NYC DOC pack, reproduces DOMAIN.md §10 from case-level rows."""

from __future__ import annotations

import polars as pl
import pytest

from accord.synth.calibration import NYC_2020_FIGURES, check, measure
from accord.synth.profile import NYC_2020
from accord.synth.year import decide_history, draw


@pytest.fixture(scope="module", params=[0, 1, 2])
def year(request):
    world = draw(NYC_2020, seed=request.param)
    detainers, encounters = decide_history(world, "nyc_doc")
    return detainers, encounters


def test_every_published_figure_is_within_its_stated_tolerance(year):
    detainers, encounters = year
    observed = measure(detainers, encounters, NYC_2020.period_end)
    failures = [(c.figure.key, c.value, c.figure.describe()) for c in check(observed) if not c.ok]
    assert failures == []


def test_tolerances_are_stated_and_tight_enough_to_fail():
    by_key = {f.key: f for f in NYC_2020_FIGURES}
    assert by_key["with_history"].tolerance == 261  # 3 * sqrt(7526), rounded up
    assert by_key["honored"].tolerance == 15
    assert not by_key["honored"].accepts(41) and not by_key["honored"].accepts(9)
    assert not by_key["declined"].accepts(3999) and by_key["declined"].accepts(4000)
    assert not by_key["category_homicide"].accepts(300)


def test_honored_detainers_are_exactly_those_the_law_allowed_and_ice_collected(year):
    detainers, _ = year
    honored = detainers.filter(pl.col("disposition") == "transferred")
    # every honoured detainer had a judicial warrant and a recent violent-or-serious conviction or TSDB match
    assert honored.height > 0
    assert honored["judicial_warrant_judge_kind"].is_in(["article_iii", "federal_magistrate"]).all()
    assert (honored["nyc_violent_or_serious_ever"] | honored["terrorist_screening_match"]).all()
    by_rule = honored["decision_rules"].list.contains("nyc_doc.hold.judicial_warrant_and_danger") | honored[
        "decision_rules"
    ].list.contains("nyc_doc.transfer.conditions_met")
    assert by_rule.all()
    # and declined ones were denied by the pack
    declined = detainers.filter(pl.col("disposition") == "declined")
    assert (declined["decision_hold_past_release"].fill_null("deny") == "deny").all()


def test_categories_overlap_and_count_subjects_once(year):
    detainers, _ = year
    with_hist = detainers.filter("has_criminal_history")
    six = ["assault", "dui", "sex_crime", "weapons", "robbery", "homicide"]
    counts = {c: with_hist.filter(pl.col("offense_categories").list.contains(c)).height for c in six}
    in_two = with_hist.filter(pl.col("offense_categories").list.set_intersection(six).list.len() >= 2).height
    assert in_two > 0 and sum(counts.values()) > with_hist.filter(pl.col("offense_categories").list.set_intersection(six).list.len() >= 1).height
    assert detainers["detainer_id"].n_unique() == detainers.height
    no_hist = detainers.filter(~pl.col("has_criminal_history"))
    assert (no_hist["offense_categories"].list.len() == 0).all()
