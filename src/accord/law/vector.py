"""Conditions compiled to Polars expressions: the vectorised twin of :func:`accord.law.expr.compile_py`.

Same tree, same three-valued logic (Polars' ``&``/``|`` are Kleene; comparisons with null
are null). Date helpers that would be per-row calendar work elsewhere are table lookups
here: local dates by an hour-indexed table of the zone's wall-clock days, look-backs by a
day-indexed table, both built once per process and both limited to DATE_MIN..DATE_MAX,
outside which both evaluators say "unknown".
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from accord.errors import InputError

from .expr import DATE_MAX, DATE_MIN, LAW_DATE, Const, Context, Fact, LawDate, Node, Op, inline

_PL_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compile_pl(node: Node, ctx: Context, law_date: pl.Expr) -> pl.Expr:
    """A Polars boolean expression (null = unknown) over FACT columns; same semantics as :func:`compile_py`."""
    return _pl(inline(node, ctx), ctx, law_date)


def _lit(v: Any) -> pl.Expr:
    if isinstance(v, bool) or v is None:
        return pl.lit(v, dtype=pl.Boolean)
    return pl.lit(v)


def _pl(n: Node, ctx: Context, law_date: pl.Expr) -> pl.Expr:
    match n:
        case Const(value=v):
            return _lit(v)
        case Fact(name=name):
            return pl.col(name)
        case LawDate():
            return law_date
        case Op(op="and", args=args):
            out = _pl(args[0], ctx, law_date)
            for a in args[1:]:
                out = out & _pl(a, ctx, law_date)
            return out
        case Op(op="or", args=args):
            out = _pl(args[0], ctx, law_date)
            for a in args[1:]:
                out = out | _pl(a, ctx, law_date)
            return out
        case Op(op="not", args=(a,)):
            return ~_pl(a, ctx, law_date)
        case Op(op="in" | "not in" as o, args=(a, Const(value=vals))):
            e = _pl(a, ctx, law_date).is_in(list(vals))
            return ~e if o == "not in" else e
        case Op(op=o, args=(a, b)) if o in _PL_CMP:
            return _PL_CMP[o](_pl(a, ctx, law_date), _pl(b, ctx, law_date))
        case Op(op="years_before", args=(a, Const(value=years))):
            return _hoist(ctx, f"__law_{_key(a)}_minus_{int(years)}y", lambda: _years_before_pl(_pl(a, ctx, law_date), int(years)))
        case Op(op="days_before", args=(a, Const(value=days))):
            return _pl(a, ctx, law_date) - pl.duration(days=int(days))
        case Op(op="local_date", args=(a,)):
            return _hoist(ctx, f"__law_{_key(n)}", lambda: local_date_pl(_pl(a, ctx, law_date), ctx.tz))
    raise InputError(f"cannot compile {n!r} for Polars")


def _key(n: Node) -> str:
    match n:
        case Fact(name=name):
            return name
        case LawDate():
            return LAW_DATE
        case Op(op=o, args=args):
            return f"{o}_{'_'.join(_key(a) for a in args)}"
        case Const(value=v):
            return str(v)
    return type(n).__name__


def _hoist(ctx: Context, name: str, build: Callable[[], pl.Expr]) -> pl.Expr:
    """Compute a derived column once for the whole frame and refer to it by name."""
    if name not in ctx.hoisted:
        ctx.hoisted[name] = build()
    return pl.col(name)


_EPOCH = date(1970, 1, 1)
_BASE = (DATE_MIN - _EPOCH).days
_NDAYS = (DATE_MAX - DATE_MIN).days + 1
_DAY_US = 86_400_000_000


@lru_cache(maxsize=64)
def _years_before_table(years: int) -> pl.Series:
    """years_before for every day DATE_MIN..DATE_MAX, computed once (a gather beats per-row calendars)."""
    days = pl.date_range(DATE_MIN, DATE_MAX, "1d", eager=True)
    return days.dt.offset_by(f"-{years}y")


def _years_before_pl(d: pl.Expr, years: int) -> pl.Expr:
    idx = d.cast(pl.Int32) - _BASE
    idx = pl.when((idx >= 0) & (idx < _NDAYS)).then(idx)
    return pl.lit(_years_before_table(years)).gather(idx)


@lru_cache(maxsize=64)
def _zone_transitions(key: str) -> tuple[pl.Series, pl.Series]:
    """(UTC instants in µs where the zone's offset changes, offset in µs from each), DATE_MIN..DATE_MAX."""
    tz = ZoneInfo(key)
    utc = ZoneInfo("UTC")

    def offset(sec: int) -> int:
        return int(datetime.fromtimestamp(sec, utc).astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]

    start = int(datetime.combine(DATE_MIN - timedelta(days=1), datetime.min.time(), utc).timestamp())
    end = int(datetime.combine(DATE_MAX + timedelta(days=2), datetime.min.time(), utc).timestamp())
    times, offs = [start], [offset(start)]
    step = 7 * 86_400  # offset changes are months apart in the zones Accord serves; a finer step only costs start-up
    t = start
    while t < end:
        nxt = min(t + step, end)
        if offset(nxt) != offs[-1]:
            lo, hi = t, nxt  # offset(lo) == offs[-1] != offset(hi): find the first second of the new offset
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == offs[-1]:
                    lo = mid
                else:
                    hi = mid
            times.append(hi)
            offs.append(offset(hi))
        t = nxt
    return pl.Series([x * 1_000_000 for x in times], dtype=pl.Int64), pl.Series([o * 1_000_000 for o in offs], dtype=pl.Int64)


def local_date_pl(ts: pl.Expr, tz: ZoneInfo) -> pl.Expr:
    """The date on the wall clock of ``tz`` for UTC timestamps, by table lookup.

    Where every offset change of the zone falls on a whole UTC hour (all US zones since
    1900) one gather in an hour-indexed table of local days does it; otherwise a binary
    search in the zone's transitions.
    """
    us = ts.cast(pl.Int64)
    table = _hourly_local_days(str(tz.key))
    if table is not None:
        hour = us // _HOUR_US - _FIRST_HOUR
        hour = pl.when((hour >= 0) & (hour < table.len())).then(hour)
        return pl.lit(table).gather(hour)
    times, offs = _zone_transitions(str(tz.key))
    i = (pl.lit(times).search_sorted(us, side="right").cast(pl.Int64) - 1).clip(0)
    local_days = (us + pl.lit(offs).gather(i)) // _DAY_US
    days = local_days - (_BASE)
    return pl.when((days >= 0) & (days < _NDAYS)).then(local_days.cast(pl.Int32).cast(pl.Date))


_HOUR_US = 3_600_000_000
_FIRST_HOUR = _BASE * 24 - 48  # two days of margin before DATE_MIN in UTC


@lru_cache(maxsize=16)
def _hourly_local_days(key: str) -> pl.Series | None:
    """Local date (null outside DATE_MIN..DATE_MAX) for each UTC hour, if transitions sit on whole hours."""
    times, offs = _zone_transitions(key)
    if any(t % _HOUR_US for t in times.to_list()[1:]):
        return None
    n = (_NDAYS + 4) * 24
    hours_us = (pl.int_range(_FIRST_HOUR, _FIRST_HOUR + n, eager=True, dtype=pl.Int64) * _HOUR_US).alias("h")
    idx = (times.search_sorted(hours_us, side="right").cast(pl.Int64) - 1).clip(0)
    local_days = (hours_us + offs.gather(idx)) // _DAY_US
    ok = (local_days >= _BASE) & (local_days < _BASE + _NDAYS)
    return pl.select(pl.when(ok).then(local_days.cast(pl.Int32)).cast(pl.Date)).to_series()
