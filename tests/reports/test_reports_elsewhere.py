"""A report is read whole: a figure one section publishes must not undo another table's suppression.

The leak (found in the demo): the main table's Total row hid a small ``expired`` count and, as its
complement, ``transferred``; the demo's published-vs-recomputed section printed the transferred
figure, and ``expired`` came back by subtraction. The attacker here holds a published table and knows
the exact value of every cell whose value appears anywhere else in the report.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from accord.errors import InputError
from accord.reports.build import build_report, compute_tables, suppress_section
from accord.reports.catalog import BY_NAME, MAIN_TABLE
from accord.reports.html import Section
from accord.reports.sample import write_sample_parquet
from accord.reports.source import History
from accord.reports.suppress import Constraint
from accord.reports.table import hidden_quantities, publish, publish_all, with_total
from accord.reports.verify import verify_report
from helpers.attacker import feasible_range

THRESHOLD = 10
DISP = ("transferred", "notified_only", "declined", "lifted", "expired", "released_before_decision", "pending")


def _period_rows(rows: list[dict[str, int]]) -> pl.DataFrame:
    out = []
    for i, r in enumerate(rows):
        full = {c: r.get(c, 0) for c in DISP}
        out.append({"period": f"2020-0{i + 1}", "received": sum(full.values()), **full, "held": r.get("held", 20)})
    return pl.DataFrame(out)


# expired is small in one period (and so in the Total row); transferred is the smallest other Total
RAW = _period_rows([
    {"transferred": 40, "declined": 300, "lifted": 50, "expired": 3, "released_before_decision": 60, "pending": 70},
    {"transferred": 35, "declined": 310, "lifted": 45, "released_before_decision": 55, "pending": 80},
    {"transferred": 30, "declined": 290, "lifted": 55, "released_before_decision": 65, "pending": 75},
])
# the same table without headline preference: complements chosen by size alone, as before the fix
PLAIN = replace(BY_NAME[MAIN_TABLE], headline=())


def _system(full: pl.DataFrame, spec) -> tuple[dict, list[Constraint]]:
    n = full.height
    values = {(r, c): int(full[c][r]) for r in range(n) for c in spec.counts}
    cons = [Constraint((n - 1, c), tuple((r, c) for r in range(n - 1))) for c in spec.counts]
    cons += [Constraint((r, spec.total_col), tuple((r, c) for c in spec.partition_cols)) for r in range(n)]
    return values, cons


def _recovered(published: pl.DataFrame, full: pl.DataFrame, spec, elsewhere: set[int]) -> list:
    """Hidden cells below the threshold whose value the attacker pins (exact integer programme).

    The attacker knows every published cell, every sum, that hidden cells are >= 1 (zeros are published)
    and, for every hidden cell whose value the report publishes elsewhere, that value."""
    values, cons = _system(full, spec)
    hidden = [cell for cell in values if published[cell[1]][cell[0]] is None]
    unknown = [c for c in hidden if values[c] not in elsewhere]
    pinned = []
    for cell in sorted(unknown, key=str):
        if 0 < values[cell] < THRESHOLD:
            lo, hi = feasible_range(cell, unknown, values, cons)
            if lo == hi:
                pinned.append(cell)
    return pinned


def test_the_leak_a_complement_published_elsewhere_gives_the_small_cell_away():
    full = with_total(RAW, PLAIN)
    alone = publish(RAW, PLAIN, THRESHOLD).frame
    total = alone.row(-1, named=True)
    assert total["expired"] is None and total["transferred"] is None  # transferred is the complement
    assert _recovered(alone, full, PLAIN, set()) == []  # the table alone is safe ...
    section = {int(full["transferred"][-1])}  # ... until a section publishes the transferred total
    assert (full.height - 1, "expired") in _recovered(alone, full, PLAIN, section)


def test_a_figure_published_elsewhere_is_never_a_complement():
    full = with_total(RAW, PLAIN)
    section = {int(full["transferred"][-1])}
    fixed = publish(RAW, PLAIN, THRESHOLD, elsewhere=section).frame
    assert fixed.row(-1, named=True)["expired"] is None
    assert fixed.row(-1, named=True)["transferred"] == full["transferred"][-1]
    assert _recovered(fixed, full, PLAIN, section) == []


def test_headline_figures_are_complements_of_last_resort():
    spec = BY_NAME[MAIN_TABLE]
    total = publish(RAW, spec, THRESHOLD).frame.row(-1, named=True)
    assert total["expired"] is None
    assert all(total[c] is not None for c in spec.headline)
    assert _recovered(publish(RAW, spec, THRESHOLD).frame, with_total(RAW, spec), spec, set()) == []


def test_another_table_publishing_the_complement_counts_too():
    """The same quantity in two tables (the Total row of detainers by period and by office) is hidden in both."""
    office = BY_NAME["detainers_by_office"]
    raw_office = RAW.rename({"period": "issuing_office"}).with_columns(
        pl.Series("issuing_office", ["Newark", "Buffalo", "New York"]))
    specs = {MAIN_TABLE: PLAIN, "detainers_by_office": office}
    out = publish_all({MAIN_TABLE: RAW, "detainers_by_office": raw_office.select([*office.keys, *office.counts])}, specs, THRESHOLD)
    main, other = out[MAIN_TABLE].frame.row(-1, named=True), out["detainers_by_office"].frame.row(-1, named=True)
    assert main["expired"] is None
    for c in PLAIN.counts:  # the complement and its copy in the other table are hidden together, or neither is
        assert (main[c] is None) == (other[c] is None), c
    seen = {int(v) for c in office.counts for v in out["detainers_by_office"].frame[c].drop_nulls()}
    assert _recovered(out[MAIN_TABLE].frame, with_total(RAW, PLAIN), PLAIN, seen & {int(main[c]) for c in PLAIN.counts if main[c]}) == []


def test_equal_numbers_of_different_quantities_are_not_tied():
    """A statutory table's figure that happens to equal a hidden complement counts other units: it stays."""
    other = BY_NAME["nyc_10_178"]
    transferred = int(RAW["transferred"].sum())
    raw_other = pl.DataFrame({"quarter": ["2020-Q1"], "request": ["record dmv_photo"], "requester": ["police"],
                              "requests": [transferred + 50], "complied": [transferred], "declined": [50], "lifted": [0],
                              "expired": [0], "released_before_decision": [0], "pending": [0], "no_decision": [0]})
    out = publish_all({MAIN_TABLE: RAW, "nyc_10_178": raw_other}, {MAIN_TABLE: PLAIN, "nyc_10_178": other}, THRESHOLD)
    assert out[MAIN_TABLE].frame.row(-1, named=True)["transferred"] is None  # the main table's complement
    assert out["nyc_10_178"].frame["complied"].to_list() == [transferred, transferred]  # not hidden for its number
    assert out["nyc_10_178"].hidden == 0


def test_section_rows_with_a_small_count_hide_every_count_of_the_row():
    sec = Section("s", "S", pl.DataFrame({"label": ["a", "b", "c"], "x": [100, 4, 0], "y": [90, 50, 0],
                                          "difference": [10, 46, 0]}), counts=("x", "y", "difference"))
    frame = suppress_section(sec, THRESHOLD).frame
    assert frame.row(0) == ("a", 100, 90, 10)
    assert frame.row(1) == ("b", None, None, None)  # else 50 - 46 would give x away
    assert frame.row(2) == ("c", 0, 0, 0)


def test_a_section_never_prints_a_figure_the_tables_hid(tmp_path: Path):
    """The demo's case end to end: a section prints Total figures of the main table; whatever the tables
    hid as complements, the section does not print, and ``accord report verify`` still reproduces every table."""
    hist = tmp_path / "history"
    for _ in write_sample_parquet(hist, 1500, chunk=1500, seed=4):
        pass
    raw = compute_tables(History.from_parquet(hist))
    main = with_total(raw[MAIN_TABLE], BY_NAME[MAIN_TABLE])
    figures = [int(main[c][-1]) for c in BY_NAME[MAIN_TABLE].counts]  # every Total, small ones too
    spec = BY_NAME[MAIN_TABLE]
    section = Section("figures_elsewhere", "Figures", pl.DataFrame({"label": spec.counts, "figure": figures}),
                      counts=("figure",),
                      quantities={(i, "figure"): spec.quantity({"period": "Total"}, c) for i, c in enumerate(spec.counts)})
    out = tmp_path / "report"
    result = build_report(hist, out, extra_sections=[section])
    assert not verify_report(out, history_dir=hist).mismatches
    main_shown = result.tables[MAIN_TABLE].frame.row(-1, named=True)
    printed = pl.read_csv(out / "figures_elsewhere.csv", comment_prefix="#")["figure"].to_list()
    for c, v in zip(spec.counts, printed, strict=True):
        if main_shown[c] is None:
            assert v is None, f"the section printed {c}, which the main table hid"
    assert printed, "figures nobody hid are still printed"


def test_a_section_cell_counting_a_hidden_complement_is_hidden():
    spec = PLAIN
    published = publish_all({MAIN_TABLE: RAW}, {MAIN_TABLE: spec}, THRESHOLD)
    assert published[MAIN_TABLE].frame.row(-1, named=True)["transferred"] is None
    secret = hidden_quantities(published, {MAIN_TABLE: RAW})
    total = with_total(RAW, spec).row(-1, named=True)
    sec = Section("s", "S", pl.DataFrame({"label": ["transferred", "declined", "other"],
                                          "figure": [total["transferred"], total["declined"], total["transferred"]]}),
                  quantities={(0, "figure"): spec.quantity({"period": "Total"}, "transferred"),
                              (1, "figure"): spec.quantity({"period": "Total"}, "declined")})
    shown = suppress_section(sec, THRESHOLD, secret).frame["figure"].to_list()
    # the same quantity is hidden; the same number counting something else (row 3) is not
    assert shown == [None, total["declined"], total["transferred"]]


def test_figures_elsewhere_that_give_a_cell_away_whatever_is_hidden_are_refused():
    """Publishing every Total but one small one elsewhere leaves nothing to hide: an error, not a leak."""
    raw = RAW.with_columns(pl.lit(20, dtype=pl.Int64).alias("notified_only"), pl.col("received") + 20)
    full = with_total(raw, PLAIN)
    everything = {int(full[c][-1]) for c in PLAIN.counts if c != "expired"}
    with pytest.raises(InputError, match="elsewhere"):
        publish(raw, PLAIN, THRESHOLD, elsewhere=everything)
