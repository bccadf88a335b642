"""One batch of text cells -> rows in Accord's terms (``import.ddp.detainer``) and rows that cannot be mapped.

Vectorised: every rule is a Polars expression over the batch, so a 339,000-row release is mapped
in a few passes, not 339,000 Python calls. The rules:

* a redaction marker (:data:`accord.ddp.read.REDACTION`) or a blank cell is missing (null);
* a row is rejected (with its sheet, row and reason) when its prepare date is missing, redacted,
  unreadable or outside ``EARLIEST_PREPARED`` .. the day of the import, when an MSC date is outside
  ``EARLIEST_DATE`` .. that day, or when a cell holds more than ``MAX_TEXT`` characters: the row
  cannot be placed in time, or holds a value no record can have;
* any other unreadable date or number (an MSC date written ``13/45/2020``, a sentence of ``N/A``,
  ``-3`` or ``1.5``: sentences are whole days, months and years)
  becomes null and the field is named in the row's ``unreadable`` list and counted per column;
* category values are recognised by :mod:`accord.ddp.values`; the raw text is always kept, and a
  value not recognised is counted per column (``unknown_values``) with its most frequent spellings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import polars as pl

from .events import MAX_KEY, MAX_TEXT
from .layouts import FIELD_BY_NAME, FIELDS
from .read import REDACTION, ROW, Batch
from .values import criminality, detainer_type, lift_outcome, state_code

#: Before any detainer record DDP publishes (the historical files begin in FY2008, DOMAIN.md §7),
#: with a wide margin: an earlier prepare date is a typing error, not a detainer.
EARLIEST_PREPARED = date(1990, 1, 1)
#: The earliest charge or conviction date taken as a date rather than an error.
EARLIEST_DATE = date(1900, 1, 1)
#: How many distinct unknown values are kept per column for the manifest's examples.
EXAMPLES_KEPT = 20
_EXAMPLES_TRACKED = 1000

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
#: Category columns whose unrecognised values are counted (field -> recogniser).
CATEGORIES: dict[str, Callable[[str], StrEnum | str | None]] = {
    "criminality": criminality, "detainer_type": detainer_type, "lift_reason": lift_outcome, "facility_state": state_code}
DATE_FIELDS = tuple(f.name for f in FIELDS if f.kind == "date")
NUMBER_FIELDS = tuple(f.name for f in FIELDS if f.kind == "number")
TEXT_FIELDS = tuple(f.name for f in FIELDS if f.kind == "text")


@dataclass
class Tally:
    """What the mapping saw, over every batch of a file (per column header as the file spells it)."""

    rows: int = 0
    unknown: Counter[str] = field(default_factory=Counter)
    examples: dict[str, Counter[str]] = field(default_factory=dict)
    unreadable: Counter[str] = field(default_factory=Counter)

    def top_examples(self) -> dict[str, dict[str, int]]:
        return {col: dict(c.most_common(EXAMPLES_KEPT)) for col, c in sorted(self.examples.items())}

    def _example(self, header: str, values: dict[str, int]) -> None:
        kept = self.examples.setdefault(header, Counter())
        for v, n in values.items():
            if v in kept or len(kept) < _EXAMPLES_TRACKED:
                kept[v] += n


def parse_date(col: pl.Expr) -> pl.Expr:
    """A date from the text forms the three formats produce (ISO, ISO with time, US month/day/year)."""
    parts = [col.str.to_date(f, strict=False) for f in _DATE_FORMATS]
    parts += [col.str.to_datetime(f, strict=False, time_unit="us").dt.date() for f in _DATETIME_FORMATS]
    return pl.coalesce(parts)


def _redacted(name: str) -> pl.Expr:
    return pl.col(name).str.contains(REDACTION).fill_null(False)


#: What Python's ``str.strip()`` strips: Unicode White_Space plus the ASCII separators U+001C-U+001F,
#: which Polars' ``strip_chars()`` keeps (a cell holding only a separator is blank in a spreadsheet too).
BLANK_CHARS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def _value(name: str) -> pl.Expr:
    """The cell's text, stripped; null when blank or redacted (needs ``<name>__red``)."""
    text = pl.col(name).str.strip_chars(BLANK_CHARS)
    return pl.when((text == "") | pl.col(f"{name}__red")).then(None).otherwise(text)


def by_unique(values: pl.Series, fn: Callable[[pl.Series], pl.Series], dtype: pl.DataType) -> pl.Series:
    """``fn`` applied to each distinct value only: category and date columns repeat a few values many times."""
    distinct = values.drop_nulls().unique()
    if distinct.len() == 0:
        return pl.Series(values.name, [None] * values.len(), dtype=dtype)
    lookup = pl.DataFrame({"k": distinct, "v": fn(distinct).cast(dtype)})
    return values.to_frame("k").join(lookup, on="k", how="left", maintain_order="left")["v"].alias(values.name)


def _code(value: StrEnum | str | None) -> str | None:
    return None if value is None else str(value)


def _header(batch: Batch, name: str) -> str:
    pos = batch.sheet.columns.positions.get(name)
    return FIELD_BY_NAME[name].headers[0] if pos is None else batch.sheet.columns.headers[pos]


def _shown(col: pl.Expr) -> pl.Expr:
    """A bad value as a reason may quote it: short, one line."""
    return col.str.replace_all(r"[\r\n\t]+", " ").str.slice(0, 40)


def map_batch(batch: Batch, today: date, tally: Tally) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(mapped rows, rejected rows) of one batch; ``tally`` gains its unknown and unreadable counts.

    Mapped rows have ``sheet``, ``sheet_no``, ``row`` and one column per :class:`ImportedDetainer`
    field (structs for the nested ones), except the duplicate marks, which need the whole file.
    Rejected rows have ``sheet``, ``sheet_no``, ``row``, ``field`` and ``reason``.
    """
    frame = batch.frame
    tally.rows += frame.height
    v = (frame.with_columns([_redacted(f.name).alias(f"{f.name}__red") for f in FIELDS])
         .with_columns([_value(f.name).alias(f.name) for f in FIELDS]))
    v = v.with_columns(
        [by_unique(v[n], lambda u: u.to_frame().select(parse_date(pl.col(u.name))).to_series(), pl.Date).alias(f"{n}__d")
         for n in DATE_FIELDS]
        + [pl.col(n).str.replace_all(",", "").cast(pl.Float64, strict=False).alias(f"{n}__n") for n in NUMBER_FIELDS]
        + [by_unique(v[n], lambda u, fn=fn: pl.Series([_code(fn(x)) for x in u], dtype=pl.String), pl.String).alias(f"{n}__c")
           for n, fn in CATEGORIES.items()])
    lo, hi = pl.lit(EARLIEST_DATE), pl.lit(today)
    prep_h = _header(batch, "prepare_date")
    reason = (
        pl.when(pl.col("prepare_date__red")).then(pl.lit(f"{prep_h} is redacted"))
        .when(pl.col("prepare_date").is_null()).then(pl.lit(f"no {prep_h}"))
        .when(pl.col("prepare_date__d").is_null())
        .then(pl.format(f"{prep_h} '{{}}' is not a date", _shown(pl.col("prepare_date"))))
        .when((pl.col("prepare_date__d") < pl.lit(EARLIEST_PREPARED)) | (pl.col("prepare_date__d") > hi))
        .then(pl.format(f"{prep_h} {{}} is outside {EARLIEST_PREPARED}..{today}", pl.col("prepare_date__d").cast(pl.String)))
    )
    fault = pl.when(pl.col("prepare_date__red") | pl.col("prepare_date__d").is_null()
                    | (pl.col("prepare_date__d") < pl.lit(EARLIEST_PREPARED)) | (pl.col("prepare_date__d") > hi)).then(pl.lit(prep_h))
    for n in ("msc_charge_date", "msc_conviction_date"):
        h, d = _header(batch, n), pl.col(f"{n}__d")
        out = (d < lo) | (d > hi)
        reason = reason.when(out).then(pl.format(f"{h} {{}} is outside {EARLIEST_DATE}..{today}", d.cast(pl.String)))
        fault = fault.when(out).then(pl.lit(h))
    for n in TEXT_FIELDS:
        h, limit = _header(batch, n), MAX_KEY if n == "person_key" else MAX_TEXT
        long = pl.col(n).str.len_chars() > limit
        reason = reason.when(long).then(pl.lit(f"{h} is longer than {limit} characters"))
        fault = fault.when(long).then(pl.lit(h))
    v = v.with_columns(reason.otherwise(None).alias("__reason"), fault.otherwise(None).alias("__field"))
    sheet = [pl.lit(batch.sheet.name).alias("sheet"), pl.lit(batch.sheet.sheet_no).alias("sheet_no"),
             pl.col(ROW).alias("row")]
    rejected = v.filter(pl.col("__reason").is_not_null()).select(
        sheet + [pl.col("__field").alias("field"), pl.col("__reason").alias("reason")])
    ok = v.filter(pl.col("__reason").is_null())
    _count(batch, ok, tally)
    return ok.select(sheet + _payload_columns()), rejected


def _count(batch: Batch, ok: pl.DataFrame, tally: Tally) -> None:
    for n in CATEGORIES:
        unknown = ok.filter(pl.col(n).is_not_null() & pl.col(f"{n}__c").is_null())
        if unknown.height:
            h = _header(batch, n)
            tally.unknown[h] += unknown.height
            counts = unknown.group_by(n).len()
            tally._example(h, dict(zip(counts[n].to_list(), counts["len"].to_list())))
    checked = [*((d, "__d") for d in DATE_FIELDS), *((x, "__n") for x in NUMBER_FIELDS)]
    bad = ok.select([_unreadable(n, suffix).sum().alias(n) for n, suffix in checked]).row(0, named=True)
    for n, count in bad.items():
        if count:
            tally.unreadable[_header(batch, n)] += int(count)


def _unreadable(n: str, suffix: str) -> pl.Expr:
    got = pl.col(f"{n}{suffix}")
    if suffix == "__n":  # a count of days, months or years: a whole number, not negative
        return pl.col(n).is_not_null() & (got.is_null() | (got < 0) | (got != got.floor()) | (got >= 2**31))
    return pl.col(n).is_not_null() & got.is_null()


def _coded(n: str) -> pl.Expr:
    return pl.when(pl.col(n).is_not_null()).then(pl.struct(code=pl.col(f"{n}__c"), raw=pl.col(n)))


def _number(n: str) -> pl.Expr:
    got = pl.col(f"{n}__n")
    return pl.when((got >= 0) & (got == got.floor()) & (got < 2**31)).then(got.cast(pl.Int64))


def _payload_columns() -> list[pl.Expr]:
    """The payload's columns, every struct's fields in name order (the JSON text is then canonical)."""
    msc_parts = {
        "charge": pl.col("msc_charge"), "charge_code": pl.col("msc_charge_code"),
        "charge_date": pl.col("msc_charge_date__d"), "conviction_date": pl.col("msc_conviction_date__d"),
        "sentence_days": _number("msc_sentence_days"), "sentence_months": _number("msc_sentence_months"),
        "sentence_years": _number("msc_sentence_years"),
    }
    any_msc = pl.any_horizontal([e.is_not_null() for e in msc_parts.values()])
    state = pl.col("facility_state__c")
    custodian = {"city": pl.col("facility_city"), "code": pl.col("facility_code"),
                 "jurisdiction": pl.when(state.is_not_null()).then(pl.lit("US-") + state),
                 "name": pl.col("facility"), "state": pl.col("facility_state")}
    return [
        _coded("criminality").alias("criminality"),
        pl.struct(**custodian).alias("custodian"),
        _coded("detainer_type").alias("detainer_type"),
        pl.col("facility_aor").alias("issuing_office"),
        _coded("lift_reason").alias("lift_reason"),
        pl.col("lift_reason_code"),
        pl.when(any_msc).then(pl.struct(**dict(sorted(msc_parts.items())))).alias("msc"),
        pl.col("person_key"),
        pl.col("prepare_date__d").alias("prepared_on"),
        pl.concat_list([pl.when(pl.col(f"{f.name}__red")).then(pl.lit(f.name)) for f in FIELDS])
        .list.drop_nulls().alias("redacted_fields"),
        pl.concat_list([pl.when(_unreadable(n, "__d")).then(pl.lit(n)) for n in DATE_FIELDS]
                       + [pl.when(_unreadable(n, "__n")).then(pl.lit(n)) for n in NUMBER_FIELDS])
        .list.drop_nulls().alias("unreadable_fields"),
    ]
