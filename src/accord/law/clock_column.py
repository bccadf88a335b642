"""The law's hold clock (``accord.law.clock.hold_until``) over a whole column at once.

``hold_until`` walks one datetime day by day; a synthetic history needs the deadline of
every held detainer, and under a "hold everything" pack that is every row. This is the
same walk done a day at a time for all rows together in Polars (time-zone aware, so DST
and local midnights match), with the pack's parameters in force on each row's law date.
``tests/synth/test_synth_paths.py`` checks it equals ``hold_until`` row for row.
"""

from __future__ import annotations

from datetime import date

import holidays
import polars as pl

from .pack import Pack

US = 1_000_000
MAX_DAYS = 40  # 48 working hours never need more than a couple of weeks of holidays and weekends


def _holiday_dates(calendar: str, years: range) -> pl.Series:
    country, _, subdiv = calendar.partition("-")
    cal = holidays.country_holidays(country, subdiv=subdiv or None, years=list(years))
    return pl.Series(sorted(cal.keys()), dtype=pl.Date)


def hold_deadlines(eligible: pl.Series, law_date: pl.Series, pack: Pack) -> pl.Series:
    """Deadline per row (UTC) for a hold starting at ``eligible``, as ``hold_until`` computes it."""
    frame = pl.DataFrame({"eligible": eligible, "law_date": law_date}).with_row_index("_i")
    out = pl.Series("hold_deadline", [None] * len(frame), dtype=pl.Datetime("us", "UTC"))
    bounds = list(pack.boundaries)
    parts = []
    for k, b in enumerate(bounds):
        upper = bounds[k + 1] if k + 1 < len(bounds) else date.max
        rows = frame.filter((pl.col("law_date") >= b) & (pl.col("law_date") < upper) & pl.col("eligible").is_not_null())
        if rows.height:
            parts.append(rows.select("_i", _deadline(rows["eligible"], pack.params_at(b), pack.timezone).alias("d")))
    if not parts:
        return out
    found = pl.concat(parts)
    return out.scatter(found["_i"], found["d"])


def _deadline(eligible: pl.Series, params: dict, tz: str) -> pl.Series:
    hours = float(params.get("hold_hours", 48))
    mode = params.get("hold_clock_mode", "clock_hours")
    eligible = eligible.dt.convert_time_zone("UTC")
    if mode == "clock_hours":
        return eligible + pl.duration(microseconds=int(hours * 3600 * US))
    if eligible.is_empty():
        return eligible
    years = range(eligible.dt.year().min() - 1, eligible.dt.year().max() + 2)
    off = _holiday_dates(params.get("holiday_calendar", "US"), years)
    df = pl.DataFrame({"cursor": eligible.dt.convert_time_zone(tz)}).with_columns(
        pl.lit(int(hours * 3600 * US), pl.Int64).alias("left"), pl.lit(None, pl.Datetime("us", tz)).alias("done")
    )
    for _ in range(MAX_DAYS):
        day = pl.col("cursor").dt.date()
        midnight = (day + pl.duration(days=1)).cast(pl.Datetime("us")).dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        working = (day.dt.weekday() <= 5) & ~day.is_in(off.implode())
        today = (pl.col("_mid") - pl.col("cursor")).dt.total_microseconds()
        df = df.with_columns(midnight.alias("_mid"), working.alias("_work"))
        finish = pl.col("done").is_null() & pl.col("_work") & (pl.col("left") <= today)
        df = df.with_columns(
            pl.when(finish).then(pl.col("cursor") + pl.duration(microseconds=pl.col("left"))).otherwise(pl.col("done")).alias("done"),
            pl.when(pl.col("_work")).then(pl.col("left") - today).otherwise(pl.col("left")).alias("left"),
            pl.col("_mid").alias("cursor"),
        )
        if df["done"].null_count() == 0:
            break
    return df["done"].dt.convert_time_zone("UTC")
