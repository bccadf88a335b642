"""Calendar periods in each jurisdiction's local time, cheaply, on any Ibis backend.

A detainer received at 22:00 on 31 March in New York is a first-quarter detainer there,
although it is 02:00 on 1 April in UTC. Converting every row's timestamp to local time goes
through a time-zone library row by row (about 1 s per 10 million rows in DuckDB). Instead,
where a history stores each row's UTC offset (``offset_column``) rows are counted by local
day with integer arithmetic; where it does not, rows are first counted by stretches of the
UTC day between the hours at which a local midnight can fall (:func:`local_bucket`), and only
the small grouped result is converted to local time by the backend's own time-zone database.
Either way day numbers are taken apart into months and years on the grouped result. The
stretches are exact wherever offsets are whole hours, which a property test checks for every
zone in :data:`ZONES` from 1970 to 2100.

The time zone of a row is its jurisdiction's (:data:`ZONES`, longest prefix wins); a
jurisdiction without one is counted in UTC, and the report says so.

The backend-specific names (epoch, time-zone conversion) are the only thing that differs
between DuckDB and Spark SQL.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000

#: Time zone of each jurisdiction a shipped pack covers (code prefix -> IANA zone); longest prefix wins.
#: A test checks these agree with the law and access packs' own ``timezone``. Texas's El Paso and
#: Hudspeth counties keep Mountain time; a county-level code would need its own entry.
ZONES: dict[str, str] = {
    "US-NY": "America/New_York",
    "US-MA": "America/New_York",
    "US-IL": "America/Chicago",
    "US-TX": "America/Chicago",
    "US-CA": "America/Los_Angeles",
}
UTC = "UTC"
#: Bumped whenever ZONES changes, so offsets stored with a history name the zone table they came from
#: (a test pins ZONES to this number); a history with older offsets is read as if it had none.
ZONES_VERSION = 1
#: Timestamps whose local offset a history may carry beside them (``offset_column``).
LOCAL_TIME_COLUMNS = ("received_at", "requested_at")


def offset_column(ts_name: str) -> str:
    """Column holding, per row, the UTC offset in minutes of the row's local clock at ``ts_name``.

    >>> offset_column("received_at")
    'received_at_utc_offset_min_z1'
    """
    return f"{ts_name}_utc_offset_min_z{ZONES_VERSION}"


_LONGEST_FIRST = sorted(ZONES, key=len, reverse=True)


def zone_for(jurisdiction: str | None) -> str:
    """The zone whose calendar a jurisdiction's periods follow.

    >>> zone_for("US-NY-NYC"), zone_for("US-CA-SF"), zone_for("US-FL"), zone_for(None)
    ('America/New_York', 'America/Los_Angeles', 'UTC', 'UTC')
    """
    for prefix in _LONGEST_FIRST:
        if jurisdiction is not None and (jurisdiction == prefix or jurisdiction.startswith(prefix + "-")):
            return ZONES[prefix]
    return UTC


def zone_column(jurisdiction: Any) -> Any:
    """:func:`zone_for` as an Ibis expression over a jurisdiction column."""
    branches = []
    for prefix in _LONGEST_FIRST:
        branches.append(((jurisdiction == prefix) | jurisdiction.startswith(prefix + "-"), ZONES[prefix]))
    return ibis.cases(*branches, else_=UTC)


@lru_cache(maxsize=None)
def new_year_offset_us(zone: str) -> int:
    """The zone's UTC offset at every New Year 1970-2100, in microseconds (it must not vary).

    >>> new_year_offset_us("America/New_York") // US_PER_HOUR
    -5
    """
    tz = ZoneInfo(zone)
    offsets = {tz.utcoffset(datetime(y, 1, 1)) for y in range(1970, 2101)}
    if len(offsets) != 1:
        raise ValueError(f"{zone}: the offset at New Year changed over the years; year periods need per-year offsets")
    (offset,) = offsets
    return int(offset.total_seconds()) * 1_000_000


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type, empty-body]
    """DuckDB's microseconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_unix_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type, empty-body]
    """Spark SQL's microseconds since 1970-01-01 UTC."""


_EPOCH_US = {"duckdb": _duckdb_epoch_us, "pyspark": _spark_unix_micros}


@ibis.udf.scalar.builtin(name="to_timestamp")
def _duckdb_to_timestamptz(seconds: dt.float64) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type, empty-body]
    """DuckDB: seconds since the epoch -> TIMESTAMPTZ."""


@ibis.udf.scalar.builtin(name="timezone")
def _duckdb_wall_clock(zone: dt.string, ts: dt.Timestamp(timezone="UTC")) -> dt.Timestamp():  # type: ignore[valid-type, empty-body]
    """DuckDB: the wall-clock time in ``zone`` at instant ``ts`` (a TIMESTAMP without zone)."""


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us_naive(ts: dt.Timestamp()) -> dt.int64:  # type: ignore[valid-type, empty-body]
    """DuckDB: microseconds from 1970-01-01 00:00 to a wall-clock TIMESTAMP."""


@ibis.udf.scalar.builtin(name="timestamp_seconds")
def _spark_timestamp_seconds(seconds: dt.int64) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type, empty-body]
    """Spark SQL: seconds since the epoch -> TIMESTAMP."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _spark_wall_clock(ts: dt.Timestamp(timezone="UTC"), zone: dt.string) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type, empty-body]
    """Spark SQL: shift an instant so that, read as UTC, it shows the wall-clock time in ``zone``."""


def _local_day_of_hour(hour: Any, zone: Any, backend: str) -> Any:
    """Local day number (days since 1970-01-01 on the wall clock) of a UTC hour number, in ``zone``."""
    if backend == "duckdb":
        local_us = _duckdb_epoch_us_naive(_duckdb_wall_clock(zone, _duckdb_to_timestamptz((hour * 3600).cast("float64"))))
    else:
        local_us = _spark_unix_micros(_spark_wall_clock(_spark_timestamp_seconds(hour * 3600), zone))
    return (local_us // US_PER_DAY).cast("int64")


def _stored_local_day(t: Any, ts: Any, backend: str) -> Any | None:
    """The exact local day number from the offset stored beside ``ts``, or None if the history has none."""
    column = offset_column(ts.get_name())
    if column not in t.columns:
        return None
    return ((_EPOCH_US[backend](ts) + t[column].cast("int64") * 60_000_000) // US_PER_DAY).cast("int64")


def local_year_day(t: Any, ts: Any, backend: str, zone: str) -> Any:
    """A day number that falls in the right LOCAL year, row by row; use with ``period_columns(..., "year")``.

    Exact (the right local day) where the history stores offsets; otherwise the zone's New Year
    offset is added to every instant, which puts each instant near a New Year on the correct side
    of it, while instants far from one keep their year whatever the offset.
    """
    stored = _stored_local_day(t, ts, backend)
    if stored is not None:
        return stored
    return ((_EPOCH_US[backend](ts) + new_year_offset_us(zone)) // US_PER_DAY).cast("int64")


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


def midnight_hours(zones: Iterable[str]) -> tuple[int, ...]:
    """The UTC hours of the day at which a local midnight can fall in any of ``zones`` (1970-2100).

    Offsets are read at 1 January and 1 July of every year, which meets both the standard and
    the summer offset of every zone in :data:`ZONES` (a property test checks the buckets built
    from these hours against ``zoneinfo`` at random instants).

    >>> midnight_hours(["America/New_York"])
    (4, 5)
    """
    return tuple(sorted({h for zone in set(zones) for h in _midnight_hours(zone)}))


@lru_cache(maxsize=None)
def _midnight_hours(zone: str) -> frozenset[int]:
    """One zone's midnight hours (cached: 262 time-zone lookups, once per zone)."""
    tz = ZoneInfo(zone)
    hours: set[int] = set()
    for year in range(1970, 2101):
        for month in (1, 7):
            offset = tz.utcoffset(datetime(year, month, 1))
            assert offset is not None
            seconds = int(offset.total_seconds())
            if seconds % 3600:
                raise ValueError(f"{zone}: offset {offset} is not a whole number of hours")
            hours.add((-seconds // 3600) % 24)
    return frozenset(hours)


def local_bucket(ts: Any, backend: str, zones: Iterable[str]) -> Any:
    """An hour number standing for a stretch of the UTC day in which no local midnight of ``zones`` falls.

    Counting by these (a few per day) rather than by hour (24) keeps the first, costly grouping
    small; every instant in a stretch has the local date of the stretch's first hour.
    """
    us = _EPOCH_US[backend](ts)
    day = (us // US_PER_DAY).cast("int64")
    cuts = [h for h in midnight_hours(zones) if h > 0]
    if not cuts:
        return day * 24
    # ``%`` keeps the sign of the dividend on DuckDB and Spark: before 1970 the hour number is negative
    hour_of_day = ((((us // US_PER_HOUR) % 24) + 24) % 24).cast("int64")
    start = ibis.cases(*((hour_of_day >= h, h) for h in reversed(cuts)), else_=0)
    return day * 24 + start


def by_period(t: Any, ts: Any, period: str, backend: str, keys: list[str], name: str = "period",
              zone: str | None = None, **aggs: Any) -> Any:
    """Aggregate ``t`` by local period of ``ts`` and ``keys``; ``aggs`` must be counts or sums (they are re-added).

    A history that stores each row's UTC offset (``offset_column``, written by
    ``accord.reports.layout``) is counted by local day directly. Otherwise rows are counted by
    stretches of the UTC day (:func:`local_bucket`) and the stretches converted: ``zone`` is the
    time zone of every row (a query that keeps one jurisdiction knows it); ``None`` takes each
    row's from its ``jurisdiction`` column (:func:`zone_column`).
    """
    stored = _stored_local_day(t, ts, backend)
    if stored is not None:
        daily = t.mutate(_day=stored).group_by(["_day", *keys]).aggregate(**aggs)
        return _periods(daily, period, keys, name, aggs)
    if zone is None:
        bucket = local_bucket(ts, backend, [*ZONES.values(), UTC])
        hourly = t.mutate(_hour=bucket).group_by(["_hour", "jurisdiction", *keys]).aggregate(**aggs)
        zones = zone_column(hourly.jurisdiction)
    else:
        hourly = t.mutate(_hour=local_bucket(ts, backend, [zone])).group_by(["_hour", *keys]).aggregate(**aggs)
        zones = ibis.literal(zone)
    daily = hourly.mutate(_day=_local_day_of_hour(hourly._hour, zones, backend))
    return _periods(daily, period, keys, name, aggs)


def _periods(daily: Any, period: str, keys: list[str], name: str, aggs: dict[str, Any]) -> Any:
    """From counts by local day number ``_day`` (and keys) to counts by labelled period."""
    parts = period_columns(daily._day, period)
    # coalesce: a count over rows whose flag is null is 0 (DuckDB would say null, Spark 0)
    periodic = daily.mutate(**parts).group_by([*parts, *keys]).aggregate(**{k: daily[k].sum().coalesce(0) for k in aggs})
    return label_period(periodic, period, name)
