"""Calendar periods of UTC timestamps, cheaply, on any Ibis backend.

Extracting year and month from a time-zone-aware timestamp goes through a calendar
library row by row (about 1 s per 10 million rows in DuckDB). Instead we take the day
number (microseconds since the epoch // one day), group by it first, and turn day
numbers into dates (1970-01-01 + n days; a plain DATE has no time zone) on the small
grouped result.

The epoch in microseconds is the one backend-specific name: ``epoch_us`` in DuckDB,
``unix_micros`` in Spark SQL.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt

US_PER_DAY = 86_400_000_000


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type, empty-body]
    """DuckDB's microseconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_unix_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type, empty-body]
    """Spark SQL's microseconds since 1970-01-01 UTC."""


_EPOCH_US = {"duckdb": _duckdb_epoch_us, "pyspark": _spark_unix_micros}


def epoch_day(ts: Any, backend: str) -> Any:
    """Days since 1970-01-01 (UTC) as an integer column."""
    return (_EPOCH_US[backend](ts) // US_PER_DAY).cast("int64")


def period_columns(days: Any, period: str) -> dict[str, Any]:
    """``_year`` and, for quarters and months, ``_sub`` from a day-number column.

    >>> import ibis
    >>> t = ibis.memtable({"d": [0, 59, 18_321, 18_322, 19_782]})
    >>> cols = period_columns(t.d, "month")
    >>> ibis.duckdb.connect().to_pyarrow(t.select(**cols)).to_pydict()
    {'_year': [1970, 1970, 2020, 2020, 2024], '_sub': [1, 3, 2, 3, 2]}
    """
    date = ibis.date(1970, 1, 1) + days.as_interval("D")  # a DATE: no time zone, cheap to take apart
    parts = {"_year": date.year()}
    if period == "quarter":
        parts["_sub"] = date.quarter()
    elif period == "month":
        parts["_sub"] = date.month()
    return {k: v.cast("int64") for k, v in parts.items()}


def label_period(t: Any, period: str, name: str = "period") -> Any:
    """Replace ``_year``/``_sub`` with the label ``2020``, ``2020-Q1`` or ``2020-01``."""
    year = t._year.cast("string")
    if period == "year":
        label = year
    elif period == "quarter":
        label = year + "-Q" + t._sub.cast("string")
    else:
        label = year + "-" + t._sub.cast("string").lpad(2, "0")
    return t.mutate(**{name: label}).drop(*(c for c in ("_year", "_sub") if c in t.columns))


def by_period(t: Any, ts: Any, period: str, backend: str, keys: list[str], name: str = "period", **aggs: Any) -> Any:
    """Aggregate ``t`` by period of ``ts`` and ``keys``; ``aggs`` must be counts or sums (they are re-added)."""
    daily = t.mutate(_day=epoch_day(ts, backend)).group_by(["_day", *keys]).aggregate(**aggs)
    parts = period_columns(daily._day, period)
    periodic = daily.mutate(**parts).group_by([*parts, *keys]).aggregate(**{k: daily[k].sum() for k in aggs})
    return label_period(periodic, period, name)
