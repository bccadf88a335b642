"""Read a release (.xlsx, .csv, .parquet) as batches of text cells, each row numbered as its source shows it.

Every value is read as text (dates too: ``2024-01-05 00:00:00`` from a workbook's date cell,
``01/05/2024`` from a CSV), and :mod:`accord.ddp.mapping` parses it, so the three formats go
through one set of rules. The header row is found by its names (:func:`layouts.is_header_row`),
not by its number: DDP's files have six title rows above it [D15], but a file saved by hand may
have more or none.

Memory. A workbook is read one sheet at a time with calamine (``fastexcel``), which parses a whole
sheet in one call (it has no row cursor), so the peak is one sheet's cells; a 107 MB release is
never held whole. The sheet's text is then cut to the mapped columns (plus a count of filled and
redacted cells in every column, for the manifest) and handed on in batches of ``BATCH`` rows.
CSV and Parquet are scanned lazily and streamed in batches of the same size.

Row numbers: a workbook's or CSV's row is the number a spreadsheet shows for it (the header on
row 7 makes the first data row 8); a Parquet file has no header row, so its rows count from 1.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from accord.errors import InputError

from .layouts import FIELDS, ColumnMap, is_header_row, map_columns

BATCH = 50_000
#: Rows searched for the header row, from the top of each sheet.
HEADER_SEARCH_ROWS = 50
ROW = "_row"
FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv", ".parquet": "parquet"}

#: A cell withheld under FOIA exemptions, in any case and spacing: ``b(6), b(7)c``, ``b(6), b(7)C``
#: (the two spellings DDP's code removes [D15]), ``(b)(6), (b)(7)(C)``, or one exemption alone.
REDACTION = r"(?i)^\s*(\(?b\)?\s*\(\s*\d\s*\)\s*(\(\s*[a-f]\s*\)|[a-f])?\s*[,;]?\s*)+$"
_REDACTION = re.compile(REDACTION)


def is_redacted(text: str | None) -> bool:
    """Is this cell a redaction marker (which means "withheld", i.e. missing)?

    >>> [is_redacted(t) for t in ("b(6), b(7)c", "B(6), B(7)C", "(b)(6), (b)(7)(C)", "b(6)", "Robbery", None)]
    [True, True, True, True, False, False]
    """
    return text is not None and _REDACTION.match(text) is not None


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook (a CSV or Parquet file is one sheet named after its format)."""

    name: str
    sheet_no: int  # 1-based, in the workbook's order
    header_row: int | None  # the spreadsheet row number of the header; None for Parquet
    columns: ColumnMap


@dataclass
class ColumnCounts:
    """Per header, over every column of a file (read or not): cells holding a value, and cells redacted."""

    filled: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)

    def add(self, frame: pl.DataFrame, headers: tuple[str, ...]) -> None:
        if frame.height == 0:
            return
        exprs = []
        for i, (name, dtype) in enumerate(frame.schema.items()):
            if i >= len(headers) or not headers[i]:
                continue
            c = pl.col(name)
            if dtype == pl.String:
                # the regex only over the few cells that could be a marker (short, with a parenthesis)
                maybe = c.filter((c.str.len_bytes() < 40) & c.str.contains("(", literal=True))
                exprs += [(c.str.len_bytes() > 0).sum().alias(f"f{i}"), maybe.str.contains(REDACTION).sum().alias(f"r{i}")]
            else:
                exprs += [c.is_not_null().sum().alias(f"f{i}"), pl.lit(0).alias(f"r{i}")]
        if not exprs:
            return
        got = frame.select(exprs).row(0, named=True)
        for i, header in enumerate(headers):
            if f"f{i}" in got:
                self.filled[header] = self.filled.get(header, 0) + int(got[f"f{i}"] or 0)
                self.redacted[header] = self.redacted.get(header, 0) + int(got[f"r{i}"] or 0)


@dataclass(frozen=True)
class Batch:
    """Up to ``BATCH`` data rows of one sheet: ``_row`` (source row number) and one text column per mapped
    field (null where the sheet lacks the column). Rows blank in every column are already left out."""

    sheet: Sheet
    frame: pl.DataFrame


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot read a {path.suffix or 'suffix-less'} file: give a .xlsx, .csv or .parquet release",
                         source=str(path))
    return fmt


def _blank(frame: pl.DataFrame) -> pl.Expr:
    """True where every cell of the row is empty (null or ""; a workbook's whitespace-only cells are read as null)."""
    parts = [(pl.col(n).str.len_bytes().fill_null(0) == 0) if t == pl.String else pl.col(n).is_null()
             for n, t in frame.schema.items()]
    return pl.all_horizontal(parts) if parts else pl.lit(True)


def _fields_frame(frame: pl.DataFrame, columns: ColumnMap, first_row: int) -> pl.DataFrame:
    """The mapped fields as text, ``_row`` numbered from ``first_row``, fully blank rows dropped."""
    names = frame.columns
    exprs: list[pl.Expr] = [pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64).alias(ROW)]
    for f in FIELDS:
        pos = columns.positions.get(f.name)
        exprs.append(pl.lit(None, pl.String).alias(f.name) if pos is None else pl.col(names[pos]).cast(pl.String).alias(f.name))
    return frame.select(exprs).filter(~frame.select(_blank(frame)).to_series())


def _header_at(rows: list[list[object]], where: str) -> int | None:
    for i, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if is_header_row(cells):
            return i
    return None


def _no_header(where: str) -> InputError:
    return InputError(f"no header row in the first {HEADER_SEARCH_ROWS} rows (one naming 'Detainer Prepare Date' "
                      "and the release's other columns)", source=where)


# -- xlsx ------------------------------------------------------------------------------------------
def _xlsx(path: Path, counts: ColumnCounts, on_sheet: Callable[[str, int, int], None] | None) -> Iterator[Batch]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
    except fastexcel.FastExcelError as exc:
        raise InputError(f"not a readable workbook: {str(exc).splitlines()[0][:200]}", source=path.name) from None
    names = reader.sheet_names
    for no, name in enumerate(names, 1):
        where = f"{path.name}[{name}]"
        try:
            sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string",
                                      skip_whitespace_tail_rows=True, whitespace_as_null=True)
            table = pl.DataFrame(sheet.to_arrow())
        except fastexcel.FastExcelError as exc:
            raise InputError(f"cannot read the sheet: {str(exc).splitlines()[0][:200]}", source=where) from None
        del sheet
        if on_sheet is not None:
            on_sheet(name, no, len(names))
        if table.height == 0 or not table.select((~_blank(table)).any()).item():
            continue  # an empty sheet holds no rows, whatever its name
        top = table.head(HEADER_SEARCH_ROWS).rows()
        h = _header_at([list(r) for r in top], where)
        if h is None:
            raise _no_header(where)
        columns = map_columns(list(top[h]), where)
        info = Sheet(name, no, h + 1, columns)
        data = table.slice(h + 1)
        del table
        counts.add(data, columns.headers)
        yield from _batches(info, data, first_row=h + 2)
        del data, top  # this sheet's cells, before the next sheet is parsed (one sheet at a time)


def _batches(info: Sheet, data: pl.DataFrame, first_row: int) -> Iterator[Batch]:
    if data.height == 0:
        yield Batch(info, _fields_frame(data, info.columns, first_row))
        return
    for start in range(0, data.height, BATCH):
        part = data.slice(start, BATCH)
        yield Batch(info, _fields_frame(part, info.columns, first_row + start))


# -- csv -------------------------------------------------------------------------------------------
def _csv(path: Path, counts: ColumnCounts) -> Iterator[Batch]:
    where = path.name
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            lines = [fh.readline() for _ in range(HEADER_SEARCH_ROWS)]
    except UnicodeDecodeError:
        raise InputError("the file is not UTF-8 text: save it as UTF-8 CSV", source=where) from None
    rows = [next(csv.reader([ln]), []) for ln in lines]
    h = _header_at(rows, where)  # type: ignore[arg-type]
    if h is None:
        raise _no_header(where)
    columns = map_columns(rows[h], where)  # type: ignore[arg-type]
    info = Sheet("csv", 1, h + 1, columns)
    lazy = pl.scan_csv(path, skip_rows=h, infer_schema=False, truncate_ragged_lines=True,
                       encoding="utf8", new_columns=[f"c{i}" for i in range(len(columns.headers))])
    yield from _stream(info, lazy, counts, first_row=h + 2, where=where)


def _stream(info: Sheet, lazy: pl.LazyFrame, counts: ColumnCounts, first_row: int, where: str) -> Iterator[Batch]:
    row = first_row
    seen = False
    try:
        for part in lazy.collect_batches(chunk_size=BATCH):
            if part.height == 0:
                continue
            seen = True
            counts.add(part, info.columns.headers)
            yield Batch(info, _fields_frame(part, info.columns, row))
            row += part.height
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise InputError(f"cannot read the file: {str(exc).splitlines()[0][:200]}", source=where) from None
    if not seen:
        yield Batch(info, _fields_frame(lazy.head(0).collect(), info.columns, row))


# -- parquet ---------------------------------------------------------------------------------------
def _parquet(path: Path, counts: ColumnCounts) -> Iterator[Batch]:
    where = path.name
    try:
        schema = pl.read_parquet_schema(path)
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {str(exc).splitlines()[0][:200]}", source=where) from None
    columns = map_columns(list(schema), where)
    info = Sheet("parquet", 1, None, columns)
    yield from _stream(info, pl.scan_parquet(path), counts, first_row=1, where=where)


def read_batches(path: Path, counts: ColumnCounts,
                 on_sheet: Callable[[str, int, int], None] | None = None) -> Iterator[Batch]:
    """Every data row of every sheet, in file order, as :class:`Batch` es (see the module docstring).

    ``counts`` collects, for every column of the file, how many cells hold a value and how many are
    redacted. ``on_sheet(name, number, of)`` is called as each sheet of a workbook has been parsed.
    A sheet that holds anything must have a header row; an empty sheet is skipped.
    """
    fmt = file_format(path)
    if not path.is_file():
        raise InputError("no such file", source=str(path))
    if fmt == "xlsx":
        return _xlsx(path, counts, on_sheet)
    if fmt == "csv":
        return _csv(path, counts)
    return _parquet(path, counts)
