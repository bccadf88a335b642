"""List columns (rules that fired, offence categories) count each detainer once per distinct item, whatever the list."""

from __future__ import annotations

import polars as pl
import pytest

from accord.errors import InputError
from accord.reports.build import compute_tables
from accord.reports.sample import sample_history
from accord.reports.source import History

ODD_LISTS = [["R01", "R01"], [], None, [""], ["R01", "R02"], ["R02", "R01"], ["R02"], ["R03", "", "R03"]]


def odd_history(column: str, lists: list) -> dict[str, pl.DataFrame]:
    """A small history whose ``column`` cycles through awkward lists: duplicates, empty, null, an empty item."""
    frames = sample_history(400, seed=3)
    d = frames["detainers"]
    values = [lists[i % len(lists)] for i in range(d.height)]
    return {**frames, "detainers": d.with_columns(pl.Series(column, values, dtype=pl.List(pl.String)))}


def expected_counts(d: pl.DataFrame, column: str, keys: list[str]) -> pl.DataFrame:
    """Detainers per distinct item (polars, independently): each list's items made unique, then exploded."""
    return (
        d.select(*keys, pl.col(column).list.unique()).explode(column).drop_nulls(column)
        .group_by([*keys, column]).len().sort([*keys, column])
    )


def test_reason_counts_each_rule_once_per_detainer_for_awkward_lists():
    frames = odd_history("decision_rules", ODD_LISTS)
    got = compute_tables(History.from_frames(frames), names=["detainers_by_reason"])["detainers_by_reason"]
    want = expected_counts(frames["detainers"], "decision_rules", ["pack_id"])
    got = got.select("pack_id", "rule_id", "detainers").sort("pack_id", "rule_id")
    assert got["rule_id"].to_list() == want["decision_rules"].to_list()
    assert got["detainers"].to_list() == want["len"].to_list()
    assert "" in got["rule_id"].to_list()  # an empty rule id is an item, an empty list is none


def test_offence_counts_each_category_once_per_detainer_for_awkward_lists():
    lists = [[c.replace("R", "cat") for c in x] if x is not None else None for x in ODD_LISTS]
    frames = odd_history("offense_categories", lists)
    got = compute_tables(History.from_frames(frames), names=["detainers_by_offence"])["detainers_by_offence"]
    want = expected_counts(frames["detainers"], "offense_categories", [])
    got = got.sort("offence_category")
    assert got["offence_category"].to_list() == want["offense_categories"].to_list()
    assert got["detainers"].to_list() == want["len"].to_list()


@pytest.mark.parametrize(("column", "table"), [("decision_rules", "detainers_by_reason"),
                                               ("offense_categories", "detainers_by_offence")])
def test_an_item_holding_the_separator_is_refused_naming_the_column(column, table):
    frames = odd_history(column, [["A\x1fB"], ["A", "B"]])
    with pytest.raises(InputError) as exc:
        compute_tables(History.from_frames(frames), names=[table])
    assert column in str(exc.value)
