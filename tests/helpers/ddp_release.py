"""A small synthetic release with every quirk, and its expected import worked out by hand.

300 data rows, ``k`` = 0..299: rows 0-149 on sheet "Detainers" (six title rows, header on row 7, a
blank row after data row 100), rows 150-299 on sheet "Detainers (2)" (three title rows, header on
row 4; in the latest layout this sheet lacks ``Birth Date``, as the FY2023/FY2024 files do). Every
row is its own person except the duplicates made below. The CSV and Parquet versions hold the same
300 rows (and the blank row) in one table.

Quirks, by ``k``:
* unknown category values: criminality "4 Unheard-Of Class" (10, 160); detainer type "Mystery Type"
  (11, 12); facility state "ZZ" (13); lift reason "Released by LEA" for every k % 4 == 3;
* duplicates (same person key and prepare date): {20, 21, 170} and {30, 31}; 40 and 41 share a
  person but not a date (no duplicate);
* redactions: facility (50), person key (51, upper case), MSC charge (54, "(b)(6), (b)(7)(C)"),
  Birth Date everywhere it exists;
* rejected: prepare date "13/45/2020" (60), blank (61), redacted (62), 2099-01-01 (63), 1985-06-01
  (200); MSC Charge Date 1850-01-01 (69);
* unreadable but imported: MSC Conviction Date "31/31/2031" (66), MSC Sentence Days "N/A" (72).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from accord.ddp.layouts import FIELD_BY_NAME
from accord.ddp.sample import CRIMINALITY, STATES, TITLE_ROWS, as_text, release_frame, write_csv, write_parquet, write_xlsx

N, PER_SHEET = 300, 150
TODAY = date(2026, 1, 1)  # the import's "today" in these tests
SHEETS = ("Detainers", "Detainers (2)")
BLANK_AFTER = 100  # a fully blank row follows data row k=100 (sheet 1)
LIFTS = ("Booked into ICE detention", "Detainer declined by LEA", None, "Released by LEA")
DUPLICATE_GROUPS = ({20, 21, 170}, {30, 31})
REJECTED = {60: ("prepare_date", "'13/45/2020' is not a date"), 61: ("prepare_date", "no"),
            62: ("prepare_date", "is redacted"), 63: ("prepare_date", "2099-01-01 is outside 1990-01-01..2026-01-01"),
            69: ("msc_charge_date", "1850-01-01 is outside 1900-01-01..2026-01-01"),
            200: ("prepare_date", "1985-06-01 is outside 1990-01-01..2026-01-01")}


def header(layout: str, field: str) -> str:
    """The column a mapped field goes by in ``layout`` (Oct 2025 spelling first, the latest's last)."""
    spellings = FIELD_BY_NAME[field].headers
    return spellings[0] if layout == "oct_2025" else spellings[-1]


def _set(frame: pl.DataFrame, k: int, column: str, value: str | None) -> pl.DataFrame:
    at = pl.int_range(pl.len()) == k
    return frame.with_columns(pl.when(at).then(pl.lit(value, pl.String)).otherwise(pl.col(column)).alias(column))


def release_rows(layout: str) -> pl.DataFrame:
    """The 300 rows as text, every quirk in place (no blank row: the writers add it)."""
    h = lambda field: header(layout, field)  # noqa: E731
    f = as_text(release_frame(N, layout=layout, seed=7, people=None))
    f = f.with_columns(
        pl.Series(h("criminality"), [CRIMINALITY[i % 3] for i in range(N)]),
        pl.Series(h("detainer_type"), ["Notification" if i % 10 == 9 else "Hold" for i in range(N)]),
        pl.Series(h("lift_reason"), [LIFTS[i % 4] for i in range(N)]),
        pl.Series(h("facility_state"), [STATES[i % len(STATES)] for i in range(N)]),
    )
    convicted = pl.Series([i % 3 == 0 for i in range(N)])
    for col in ("msc_charge", "msc_charge_code", "msc_charge_date", "msc_conviction_date", "msc_sentence_days",
                "msc_sentence_months", "msc_sentence_years"):  # an MSC on the convicted rows (k % 3 == 0) only
        fallback = {"msc_charge": "Robbery", "msc_charge_code": "1299", "msc_charge_date": "2015-03-04",
                    "msc_conviction_date": "2016-05-06", "msc_sentence_days": "10", "msc_sentence_months": "0",
                    "msc_sentence_years": "1"}[col]
        f = f.with_columns(pl.when(convicted).then(pl.col(h(col)).fill_null(fallback)).alias(h(col)))
    for i, v in ((10, "4 Unheard-Of Class"), (160, "4 Unheard-Of Class")):
        f = _set(f, i, h("criminality"), v)
    for i in (11, 12):
        f = _set(f, i, h("detainer_type"), "Mystery Type")
    f = _set(f, 13, h("facility_state"), "ZZ")
    people, dates = f[h("person_key")].to_list(), f[h("prepare_date")].to_list()
    for group in DUPLICATE_GROUPS:
        first = min(group)
        for i in group - {first}:
            f = _set(f, i, h("person_key"), people[first])
            f = _set(f, i, h("prepare_date"), dates[first])
    f = _set(f, 41, h("person_key"), people[40])
    f = _set(f, 41, h("prepare_date"), "2024-01-02" if dates[40] != "2024-01-02" else "2024-01-03")
    f = _set(f, 50, h("facility"), "b(6), b(7)c")
    f = _set(f, 51, h("person_key"), "B(6), B(7)C")
    f = _set(f, 54, h("msc_charge"), "(b)(6), (b)(7)(C)")
    for i, v in ((60, "13/45/2020"), (61, None), (62, "b(6), b(7)c"), (63, "2099-01-01"), (200, "1985-06-01")):
        f = _set(f, i, h("prepare_date"), v)
    f = _set(f, 69, h("msc_charge_date"), "1850-01-01")
    f = _set(f, 66, h("msc_conviction_date"), "31/31/2031")
    f = _set(f, 72, h("msc_sentence_days"), "N/A")
    return f


def _with_blank(frame: pl.DataFrame, after: int) -> pl.DataFrame:
    blank = pl.DataFrame({c: [None] for c in frame.columns}, schema=frame.schema)
    return pl.concat([frame.head(after + 1), blank, frame.slice(after + 1)])


@dataclass(frozen=True)
class Release:
    layout: str
    xlsx: Path
    csv: Path
    parquet: Path
    rows: pl.DataFrame


def write_release(folder: Path, layout: str) -> Release:
    rows = release_rows(layout)
    one, two = rows.head(PER_SHEET), rows.slice(PER_SHEET)
    if layout == "latest":
        two = two.drop("Birth Date")
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = write_xlsx(folder / f"release-{layout}.xlsx",
                      [(SHEETS[0], _with_blank(one, BLANK_AFTER)), (SHEETS[1], two, TITLE_ROWS[:3])])
    whole = _with_blank(rows, BLANK_AFTER)
    csv = write_csv(folder / f"release-{layout}.csv", whole, title_rows=TITLE_ROWS)
    parquet = write_parquet(folder / f"release-{layout}.parquet", whole)
    return Release(layout, xlsx, csv, parquet, rows)


def source_row(fmt: str, k: int) -> tuple[str, int]:
    """(sheet, row) a spreadsheet shows for data row ``k`` in each format."""
    shift = 1 if k > BLANK_AFTER else 0
    if fmt == "xlsx":
        if k < PER_SHEET:
            return SHEETS[0], len(TITLE_ROWS) + 2 + k + shift
        return SHEETS[1], 3 + 2 + (k - PER_SHEET)
    if fmt == "csv":
        return "csv", len(TITLE_ROWS) + 2 + k + shift
    return "parquet", 1 + k + shift


def expected_counts() -> dict[str, object]:
    rejected = set(REJECTED)
    lift_unknown = sum(1 for k in range(N) if k % 4 == 3 and k not in rejected)
    return {
        "rows": N, "imported": N - len(rejected), "rejected": len(rejected),
        "likely_duplicates": sum(len(g) for g in DUPLICATE_GROUPS), "duplicate_groups": len(DUPLICATE_GROUPS),
        "unknown": {"criminality": 2, "detainer_type": 2, "facility_state": 1, "lift_reason": lift_unknown},
        "unreadable": {"msc_conviction_date": 1, "msc_sentence_days": 1},
    }
