"""Suppression: an attacker holding a published table cannot recover any hidden count below the threshold.

The attacker knows every published cell and total, that totals are sums, that
counts are integers and that zeros are published (so a hidden cell is at least 1).
For every hidden cell an exact integer program (scipy's MILP) finds the smallest
and largest value consistent with all of that; if they are equal, it was recovered.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.reports.suppress import Constraint, suppress_cells
from helpers.attacker import feasible_range
from accord.reports.table import TOTAL_LABEL, TableSpec, publish


def _grid(values_rows):
    """Cells and constraints of a table with row totals, column totals and a grand total."""
    nr, nc = len(values_rows), len(values_rows[0])
    values = {(r, c): v for r, row in enumerate(values_rows) for c, v in enumerate(row)}
    for r in range(nr):
        values[(r, "T")] = sum(values_rows[r])
    for c in range(nc):
        values[("T", c)] = sum(values_rows[r][c] for r in range(nr))
    values[("T", "T")] = sum(map(sum, values_rows))
    cons = [Constraint((r, "T"), tuple((r, c) for c in range(nc))) for r in range(nr)]
    cons += [Constraint(("T", c), tuple((r, c) for r in range(nr))) for c in range(nc)]
    cons.append(Constraint(("T", "T"), tuple(("T", c) for c in range(nc))))
    cons.append(Constraint(("T", "T"), tuple((r, "T") for r in range(nr))))
    return values, cons


small_counts = st.integers(min_value=0, max_value=25)
tables = st.integers(1, 5).flatmap(
    lambda nr: st.integers(1, 5).flatmap(lambda nc: st.lists(st.lists(small_counts, min_size=nc, max_size=nc), min_size=nr, max_size=nr))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=tables, threshold=st.integers(3, 10))
def test_no_hidden_small_cell_can_be_recovered_from_totals(rows, threshold):
    values, cons = _grid(rows)
    hidden = suppress_cells(values, cons, threshold)
    # every small non-zero count is hidden
    assert all(c in hidden for c, v in values.items() if 0 < v < threshold)
    for cell in sorted(hidden, key=str):
        if not 0 < values[cell] < threshold:
            continue
        lo, hi = feasible_range(cell, hidden, values, cons)
        assert lo is not None, "the true table must be a feasible assignment"
        assert not lo == hi == values[cell], f"hidden cell {cell}={values[cell]} recovered exactly from published totals"


def test_lone_small_cell_in_a_row_takes_a_second_cell_with_it():
    values, cons = _grid([[3, 50, 40], [20, 30, 25]])
    hidden = suppress_cells(values, cons, 10)
    assert (0, 0) in hidden
    assert sum(1 for c in range(3) if (0, c) in hidden) >= 2, "row 0 would give the small cell away"
    assert sum(1 for r in range(2) if (r, 0) in hidden) >= 2, "column 0 would give the small cell away"


def test_no_small_cells_means_nothing_hidden():
    values, cons = _grid([[30, 50], [20, 40]])
    assert suppress_cells(values, cons, 10) == set()


def test_one_plus_one_is_not_left_to_give_both_away():
    # two hidden ones in a row whose total is published: 2 = 1 + 1 pins both (zeros are published)
    values, cons = _grid([[1, 1, 40], [20, 30, 25]])
    hidden = suppress_cells(values, cons, 10)
    lo, hi = feasible_range((0, 0), hidden, values, cons)
    assert lo < hi


@pytest.mark.parametrize("threshold", [5, 10])
def test_published_table_hides_small_cells_in_columns_and_total_column(threshold):
    spec = TableSpec(name="t", title="t", description="", keys=("k",), counts=("all", "a", "b"), query=lambda h, p: None,
                     total_col="all", partition_cols=("a", "b"))
    raw = pl.DataFrame({"k": ["x", "y", "z"], "all": [40, 33, 60], "a": [2, 13, 30], "b": [38, 20, 30]})
    table = publish(raw, spec, threshold)
    f = table.frame
    assert f["k"].to_list()[-1] == TOTAL_LABEL
    assert f.filter(pl.col("k") == "x")["a"].item() is None
    # the row's other partition cell and another cell of column a are hidden too
    assert f.filter(pl.col("k") == "x")["b"].item() is None
    assert f["a"].null_count() >= 2
    # nothing below the threshold is shown
    for col in ("all", "a", "b"):
        assert all(v is None or v == 0 or v >= threshold for v in f[col].to_list())


def test_every_small_value_in_a_random_catalog_table_is_hidden():
    from accord.reports.build import compute_tables
    from accord.reports.catalog import BY_NAME
    from accord.reports.sample import sample_history
    from accord.reports.source import History

    raw = compute_tables(History.from_frames(sample_history(1500, seed=3)))
    for name, frame in raw.items():
        spec = BY_NAME[name]
        pub = publish(frame, spec, 10).frame
        for col in spec.counts:
            shown = [v for v in pub[col].to_list() if v is not None]
            assert all(v == 0 or v >= 10 for v in shown), (name, col)


def test_the_attacker_finds_an_unprotected_cell():
    """The attacker in this file works: with only primary suppression a small cell is recovered."""
    values, cons = _grid([[3, 50], [20, 30]])
    lo, hi = feasible_range((0, 0), {(0, 0)}, values, cons)
    assert lo == hi == 3


partitioned = st.integers(1, 6).flatmap(
    lambda nr: st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 12), st.integers(0, 40)),
                        min_size=nr, max_size=nr)
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=partitioned, threshold=st.integers(2, 12))
def test_published_frame_gives_no_small_cell_away(rows, threshold):
    """Attack the table exactly as published (nulls), re-deriving the sums a reader can see."""
    spec = TableSpec(name="t", title="t", description="", keys=("k",), counts=("all", "a", "b", "c", "extra"),
                     query=lambda h, p: None, total_col="all", partition_cols=("a", "b", "c"))
    raw = pl.DataFrame({"k": [f"r{i}" for i in range(len(rows))], "all": [a + b + c for a, b, c, _ in rows],
                        "a": [r[0] for r in rows], "b": [r[1] for r in rows], "c": [r[2] for r in rows],
                        "extra": [r[3] for r in rows]})
    pub = publish(raw, spec, threshold).frame
    truth = pl.concat([raw, raw.select(pl.lit(TOTAL_LABEL).alias("k"), *(pl.col(c).sum() for c in spec.counts))])
    n = pub.height
    values = {(r, c): truth[c][r] for r in range(n) for c in spec.counts}
    hidden = {(r, c) for r in range(n) for c in spec.counts if pub[c][r] is None}
    cons = [Constraint((n - 1, c), tuple((r, c) for r in range(n - 1))) for c in spec.counts]
    cons += [Constraint((r, "all"), tuple((r, c) for c in ("a", "b", "c"))) for r in range(n)]
    for (r, c) in hidden:
        if values[(r, c)] < threshold:
            lo, hi = feasible_range((r, c), hidden, values, cons)
            assert not lo == hi == values[(r, c)], f"{c} of row {r} ({values[(r, c)]}) recovered"
    shown = [pub[c][r] for r in range(n) for c in spec.counts if pub[c][r] is not None]
    assert all(v == 0 or v >= threshold for v in shown)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=tables, threshold=st.integers(3, 10))
def test_complements_lose_no_more_than_the_greedy_choice(rows, threshold):
    """Minimum information loss: the integer programme's complements never hide more (in total value) than the
    one-at-a-time greedy choice it replaced, and the result still passes the exact attacker."""
    from accord.reports.suppress import _greedy, _Picker

    values, cons = _grid(rows)
    hidden = suppress_cells(values, cons, threshold)
    primary = {c for c, v in values.items() if 0 < v < threshold}
    greedy = _greedy(values, cons, set(primary), threshold, _Picker(values, frozenset(), frozenset()), frozenset())
    # the loss the programme minimises: each hidden cell its value plus one (fewer and smaller cells win)
    assert sum(values[c] + 1 for c in hidden) <= sum(values[c] + 1 for c in greedy)
    if any(values[c] == 0 for c in hidden - primary):
        # a published zero is a complement of last resort only: where the programme (zeros banned) found no
        # protection and adding complements one at a time needs a zero too
        assert any(values[c] == 0 for c in greedy - primary), "a published zero hidden although greedy needs none"


def test_one_complement_shared_by_two_small_cells():
    """Two small cells in one row, each alone in its column: the cheapest protection hides one more row's pair
    (a rectangle), not the column totals."""
    values, cons = _grid([[3, 200, 5], [20, 300, 25], [60, 400, 70]])
    hidden = suppress_cells(values, cons, 10)
    assert hidden == {(0, 0), (0, 2), (1, 0), (1, 2)}
