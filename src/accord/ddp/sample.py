"""Synthetic detainer releases in either known layout, for tests and the benchmark (never real data).

Every value is drawn from made-up vocabularies with a seeded generator: facility names, offices,
charges and identifiers resemble the release's shape (DOMAIN.md §7) but describe no one. The frame
is built column by column (no Python loop over rows), so a 339,000-row release costs seconds; the
writers turn it into the three formats people hold: a workbook with title rows above the header
(xlsx, one or more sheets), CSV and Parquet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from .layouts import LATEST, OCT_2025

#: What DDP's files show where a value was withheld under FOIA exemptions 6 and 7(C) [D15].
REDACTED = "b(6), b(7)c"
TITLE_ROWS = (
    "U.S. Immigration and Customs Enforcement - ERO Detainers (SYNTHETIC TEST DATA, describes no one)",
    "FOIA request: SYNTHETIC-0000",
    "Data as of: synthetic",
    "",
    "Rows describe invented people in invented facilities.",
    "",
)
STATES = ("NY", "CA", "TX", "IL", "FL", "AZ", "GA", "NJ", "WA", "MA")
STATE_P = (0.12, 0.2, 0.25, 0.05, 0.12, 0.08, 0.06, 0.05, 0.04, 0.03)
AOR = {"NY": "NYC", "CA": "LOS", "TX": "HOU", "IL": "CHI", "FL": "MIA", "AZ": "PHO", "GA": "ATL", "NJ": "NEW",
       "WA": "SEA", "MA": "BOS"}
CITIES = ("Alder", "Birchwood", "Cedar Falls", "Dunmore", "Elmstead", "Fernhill", "Granite", "Harbor")
CRIMINALITY = ("1 Convicted Criminal", "2 Pending Criminal Charges", "3 Other Immigration Violator")
CRIMINALITY_P = (0.5, 0.3, 0.2)
CHARGES = ("Assault", "Driving Under Influence Liquor", "Robbery", "Dangerous Drugs", "Weapon Offense",
           "Sexual Assault", "Homicide", "Larceny", "Burglary", "Traffic Offense", "Illegal Entry")
CHARGE_CODES = ("1399", "5404", "1299", "3599", "5299", "1199", "0999", "2399", "2299", "5499", "0399")
LIFT_REASONS = ("Booked into ICE detention", "Detainer declined by LEA", "Released by LEA",
                "Lifted - subject removed")
TYPES = ("Hold", "Notification")
START, END = date(2023, 9, 1), date(2025, 7, 28)
DATE_COLUMNS = ("Detainer Prepare Date", "Departed Date", "Birth Date", "MSC Charge Date", "MSC Conviction Date",
                "Final Order Date", "Apprehension Date", "Entry Date", "Order to Show Cause Served Date",
                "Arrest Warrant Served Date")
NUMBER_COLUMNS = ("Birth Year", "MSC Sentence Days", "MSC Sentence Months", "MSC Sentence Years")


def _pick(rng: np.random.Generator, options: Sequence[str], n: int, p: Sequence[float] | None = None) -> pl.Series:
    idx = rng.choice(len(options), size=n, p=None if p is None else np.asarray(p) / np.sum(p))
    return pl.Series(list(options), dtype=pl.String).gather(idx)


def _days(rng: np.random.Generator, lo: date, hi: date, n: int) -> pl.Series:
    base = (lo - date(1970, 1, 1)).days
    return pl.Series(rng.integers(base, base + (hi - lo).days + 1, n), dtype=pl.Int32).cast(pl.Date)


def release_frame(n: int, layout: str = "latest", seed: int = 0, people: float | None = 0.8) -> pl.DataFrame:
    """``n`` synthetic detainer rows with every column of ``layout`` (``"latest"`` or ``"oct_2025"``), in order.

    Dates are ``Date``, counts ``Int64``, the rest ``String``; about ``1 - people`` of the rows share
    a person with another row, so some pairs also share a prepare date (likely duplicates);
    ``people=None`` gives every row its own person.
    """
    headers = {"latest": LATEST, "oct_2025": OCT_2025}[layout]
    rng = np.random.default_rng(seed)
    state = _pick(rng, STATES, n, STATE_P)
    crim = _pick(rng, CRIMINALITY, n, CRIMINALITY_P)
    convicted = (crim == CRIMINALITY[0]).to_numpy()
    charge_i = rng.integers(0, len(CHARGES), n)
    prepared = _days(rng, START, END, n)
    yes_no = lambda: _pick(rng, ("YES", "NO"), n)  # noqa: E731
    person = np.arange(n) + seed * 10**6 if people is None else rng.integers(0, max(1, int(n * people)), n)
    values: dict[str, pl.Series] = {
        "Detainer Prepare Date": prepared,
        "Facility State": state,
        "Facility AOR": state.replace_strict(AOR, return_dtype=pl.String),
        "Port of Departure": _pick(rng, ("Port A", "Port B", None), n),  # type: ignore[arg-type]
        "Departure Country": _pick(rng, ("Country A", "Country B", None), n),  # type: ignore[arg-type]
        "Departed Date": _days(rng, START, END, n),
        "Case Status": _pick(rng, ("ACTIVE", "8-Excluded/Deported/Removed"), n),
        "criminality": crim,
        "city": _pick(rng, CITIES, n),
        "Detainer Prep Threat Level": _pick(rng, ("Level 1", "Level 2", "Level 3", None), n),  # type: ignore[arg-type]
        "Gender": _pick(rng, ("Male", "Female", "Unknown"), n),
        "Citizenship Country": _pick(rng, ("Country A", "Country B", "Country C"), n),
        "Birth Country": _pick(rng, ("Country A", "Country B", "Country C"), n),
        "Birth Date": pl.Series([REDACTED] * n, dtype=pl.String),
        "Birth Year": pl.Series(rng.integers(1950, 2006, n)),
        "Entry Status": _pick(rng, ("EWI", "Other"), n),
        "msc": pl.Series(list(CHARGES)).gather(charge_i).zip_with(pl.Series(convicted), pl.Series([None] * n, dtype=pl.String)),
        "MSC Sentence Days": pl.Series(np.where(convicted, rng.integers(0, 30, n), -1)),
        "MSC Sentence Months": pl.Series(np.where(convicted, rng.integers(0, 12, n), -1)),
        "MSC Sentence Years": pl.Series(np.where(convicted, rng.integers(0, 5, n), -1)),
        "MSC Charge Code": pl.Series(list(CHARGE_CODES)).gather(charge_i).zip_with(pl.Series(convicted), pl.Series([None] * n, dtype=pl.String)),
        "MSC Charge Date": _days(rng, date(2005, 1, 1), date(2022, 12, 31), n),
        "MSC Conviction Date": _days(rng, date(2006, 1, 1), date(2023, 6, 30), n),
        "lift": _pick(rng, (*LIFT_REASONS, None), n, (0.3, 0.2, 0.15, 0.05, 0.3)),  # type: ignore[arg-type]
        "Detainer Type": _pick(rng, TYPES, n, (0.9, 0.1)),
        "person": pl.Series(person).map_elements(lambda i: f"{i * 2654435761 % 2**32:08X}{i:06d}", return_dtype=pl.String),
    }
    frame = pl.DataFrame(values).with_columns(
        pl.when(pl.col(c) >= 0).then(pl.col(c)) for c in ("MSC Sentence Days", "MSC Sentence Months", "MSC Sentence Years")
    ).with_columns(
        pl.when(pl.col("msc").is_not_null()).then(pl.col(c)) for c in ("MSC Charge Date", "MSC Conviction Date")
    )
    facility_no = pl.Series(rng.integers(0, 40, n))
    frame = frame.with_columns(
        facility=pl.format("{} County Jail {}", pl.col("city"), facility_no),
        facility_code=pl.format("{}{}J", pl.col("Facility State"), facility_no.cast(pl.String).str.zfill(3)),
    )
    out: dict[str, pl.Series | pl.Expr] = {}
    aliases = {"Detainer Prepared Criminality": "criminality", "Detainer Criminality": "criminality",
               "Detention Facility": "facility", "Detainer Facility": "facility",
               "Detention Facility Code": "facility_code", "Detainer Facility Code": "facility_code",
               "Facility City": "city", "Detainer Threat Level": "Detainer Prep Threat Level",
               "Most Serious Conviction (MSC) Charge": "msc", "MSC Charge": "msc",
               "Detainer Lift Reason": "lift", "Unique Identifier": "person", "Anonymized Identifier": "person"}
    for h in headers:
        source = aliases.get(h, h)
        if source in frame.columns:
            out[h] = frame[source]
        elif h.endswith("Yes No"):
            out[h] = yes_no()
        elif h in DATE_COLUMNS:
            out[h] = _days(rng, date(2000, 1, 1), date(2024, 12, 31), n)
        else:
            out[h] = pl.Series(rng.integers(10**6, 10**7, n)).cast(pl.String)
    return pl.DataFrame(out)


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text (dates ISO), so tests can put any cell anywhere (a bad date, a redaction)."""
    return frame.with_columns(pl.all().cast(pl.String))


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^-?\d{1,15}$")


def _cell_writer(ws, fmt, headers: Sequence[str]):  # type: ignore[no-untyped-def]
    """One cell as a person's spreadsheet holds it: dates as date cells, numbers as numbers, text as text.

    Text that reads as an ISO date in a date column, or as a whole number in a count column, is
    written as a date or a number (so an all-text frame still makes a realistic workbook)."""
    write_string, write_number, write_datetime, write_blank = ws.write_string, ws.write_number, ws.write_datetime, ws.write_blank
    dates = {i for i, h in enumerate(headers) if h in DATE_COLUMNS}
    numbers = {i for i, h in enumerate(headers) if h in NUMBER_COLUMNS}

    def write(r: int, c: int, v: object) -> None:
        if v is None:
            return
        if isinstance(v, str):
            if c in dates and _ISO.match(v):
                write_datetime(r, c, datetime.fromisoformat(v), fmt)
            elif c in numbers and _INT.match(v):
                write_number(r, c, int(v))
            else:
                write_string(r, c, v)
        elif isinstance(v, datetime):
            write_datetime(r, c, v, fmt)
        elif isinstance(v, date):
            write_datetime(r, c, datetime(v.year, v.month, v.day), fmt)
        elif isinstance(v, bool):
            write_string(r, c, "YES" if v else "NO")
        elif isinstance(v, (int, float)):
            write_number(r, c, v)
        else:  # pragma: no cover - the frames above hold only these
            write_blank(r, c, None)

    return write


def write_xlsx(path: Path, sheets: Sequence[tuple], title_rows: Sequence[str] = TITLE_ROWS) -> Path:
    """A workbook of ``(name, frame)`` or ``(name, frame, title_rows)`` sheets, title rows above each header
    (DDP's files: six, the header on row 7)."""
    import xlsxwriter  # a test dependency: the importer only reads

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    fmt = wb.add_format({"num_format": "mm/dd/yyyy"})
    for name, frame, *own in sheets:
        titles = own[0] if own else title_rows
        ws = wb.add_worksheet(name)
        write = _cell_writer(ws, fmt, frame.columns)
        for r, text in enumerate(titles):
            if text:
                ws.write_string(r, 0, text)
        top = len(titles)
        for c, h in enumerate(frame.columns):
            ws.write_string(top, c, h)
        for r, row in enumerate(frame.iter_rows(), top + 1):
            for c, v in enumerate(row):
                write(r, c, v)
    wb.close()
    return path


def write_csv(path: Path, frame: pl.DataFrame, title_rows: Sequence[str] = ()) -> Path:
    """CSV with optional title lines above the header (as a workbook saved as CSV has); dates month/day/year."""
    us = [pl.col(c).str.replace(r"^(\d{4})-(\d{2})-(\d{2})$", "$2/$3/$1") for c in frame.columns
          if c in DATE_COLUMNS and frame.schema[c] == pl.String]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for text in title_rows:
            fh.write(f'"{text}"\n' if text else "\n")
        frame.with_columns(us).write_csv(fh, date_format="%m/%d/%Y")
    return path


def write_parquet(path: Path, frame: pl.DataFrame) -> Path:
    """Parquet as a program writes it: a date column whose every cell is an ISO date is typed ``Date``."""
    typed = []
    for c in frame.columns:
        if c in DATE_COLUMNS and frame.schema[c] == pl.String:
            parsed = frame[c].str.to_date("%Y-%m-%d", strict=False)
            if parsed.null_count() == frame[c].null_count():
                typed.append(parsed.alias(c))
    frame.with_columns(typed).write_parquet(path)
    return path
