"""A rule's condition, written once, compiled twice: to a Python closure and to a Polars expression.

Conditions are short strings in Python syntax, parsed with :mod:`ast` into a tiny tree
of fact references, parameters, constants, comparisons, ``and``/``or``/``not`` and a
few date helpers. Both compilers use three-valued (Kleene) logic: an unknown (null)
fact makes a comparison unknown, ``False and unknown`` is false, ``True or unknown``
is true. That is what lets a missing fact become ``insufficient_facts`` only when it
could change the answer.

>>> e = parse("served_on_subject and form in ['I-247A', 'I-247D']")
>>> sorted(e.facts())
['form', 'served_on_subject']
>>> fn = compile_py(e, Context())
>>> fn({"served_on_subject": True, "form": "I-247A"}), fn({"served_on_subject": None, "form": "I-247N"})
(True, False)
>>> fn({"served_on_subject": None, "form": "I-247A"}) is None
True
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from accord.errors import InputError

#: Name that refers to the date whose law is applied (``as_of``, or the row's received date).
LAW_DATE = "law_date"


class Node:
    """Base of the condition tree."""

    def facts(self) -> set[str]:
        return set()

    def params(self) -> set[str]:
        return set()

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Fact(Node):
    name: str

    def facts(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class Param(Node):
    name: str

    def params(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class Pred(Node):
    """A named predicate of the pack, inlined at compile time (written once, reused)."""

    name: str


@dataclass(frozen=True)
class Const(Node):
    value: Any


@dataclass(frozen=True)
class LawDate(Node):
    pass


@dataclass(frozen=True)
class Op(Node):
    """``and``/``or``/``not``, comparisons, ``in``, and the date helpers."""

    op: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args

    def facts(self) -> set[str]:
        return set().union(*(a.facts() for a in self.args))

    def params(self) -> set[str]:
        return set().union(*(a.params() for a in self.args))


_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in"}
_FUNCS = {"years_before": 2, "days_before": 2, "local_date": 1, "date": 1}


def parse(text: str, *, facts: Mapping[str, Any] | None = None, predicates: Mapping[str, Any] = (), where: str = "condition") -> Node:
    """Parse a condition; with ``facts`` given, unknown names are an error naming them."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise InputError(f"cannot parse condition {text!r}: {exc.msg}", field=where) from None
    return _Builder(facts, set(predicates), where, text).build(tree)


@dataclass
class _Builder:
    facts: Mapping[str, Any] | None
    predicates: set[str]
    where: str
    text: str

    def fail(self, msg: str) -> InputError:
        return InputError(f"{msg} in {self.text!r}", field=self.where)

    def build(self, n: ast.AST) -> Node:
        match n:
            case ast.BoolOp(op=ast.And(), values=vs):
                return Op("and", tuple(self.build(v) for v in vs))
            case ast.BoolOp(op=ast.Or(), values=vs):
                return Op("or", tuple(self.build(v) for v in vs))
            case ast.IfExp(test=t, body=a, orelse=b):
                return Op("if", (self.build(t), self.build(a), self.build(b)))
            case ast.UnaryOp(op=ast.Not(), operand=x):
                return Op("not", (self.build(x),))
            case ast.Compare(left=left, ops=ops, comparators=rights):
                parts, lhs = [], self.build(left)
                for o, r in zip(ops, rights):
                    if type(o) not in _CMP:
                        raise self.fail(f"operator {type(o).__name__} is not supported")
                    rhs = self.build(r)
                    parts.append(Op(_CMP[type(o)], (lhs, rhs)))
                    lhs = rhs
                return parts[0] if len(parts) == 1 else Op("and", tuple(parts))
            case ast.Attribute(value=ast.Name(id="param"), attr=name):
                return Param(name)
            case ast.Name(id=name):
                return self.name(name)
            case ast.Constant(value=v) if v is None or isinstance(v, (bool, int, str)):
                return Const(v)
            case ast.List(elts=es) | ast.Tuple(elts=es):
                vals = [self.build(e) for e in es]
                if not all(isinstance(v, Const) for v in vals):
                    raise self.fail("list items must be constants")
                return Const(tuple(v.value for v in vals))  # type: ignore[union-attr]
            case ast.Call(func=ast.Name(id=fn), args=args, keywords=[]) if fn in _FUNCS:
                if len(args) != _FUNCS[fn]:
                    raise self.fail(f"{fn}() takes {_FUNCS[fn]} argument(s)")
                if fn == "date":
                    arg = self.build(args[0])
                    if not (isinstance(arg, Const) and isinstance(arg.value, str)):
                        raise self.fail("date() takes an ISO date string")
                    try:
                        return Const(date.fromisoformat(arg.value))
                    except ValueError:
                        raise self.fail(f"bad date {arg.value!r}") from None
                return Op(fn, tuple(self.build(a) for a in args))
        raise self.fail(f"unsupported expression {ast.unparse(n)!r}")

    def name(self, name: str) -> Node:
        if name == LAW_DATE:
            return LawDate()
        if name in ("true", "false"):
            return Const(name == "true")
        if name in self.predicates:
            return Pred(name)
        if self.facts is not None and name not in self.facts:
            raise self.fail(f"unknown fact or predicate {name!r}")
        return Fact(name)


@dataclass
class Context:
    """What a compiled condition needs besides the facts: resolved parameters, predicates, zone."""

    params: Mapping[str, Any] = field(default_factory=dict)
    predicates: Mapping[str, Node] = field(default_factory=dict)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    #: Polars only: derived columns (local dates, look-back dates) computed once per frame.
    hoisted: dict[str, pl.Expr] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise InputError(f"unknown parameter {name!r}", field=f"param.{name}")
        v = self.params[name]
        return tuple(v) if isinstance(v, list) else v


def inline(node: Node, ctx: Context, seen: tuple[str, ...] = ()) -> Node:
    """Replace predicates by their definitions (a cycle is an error) and parameters by values."""
    match node:
        case Pred(name=n):
            if n in seen:
                raise InputError(f"predicate {n!r} refers to itself via {' -> '.join(seen)}", field="predicates")
            return inline(ctx.predicates[n], ctx, seen + (n,))
        case Param(name=n):
            return Const(ctx.param(n))
        case Op(op="if", args=(test, a, b)):
            t = inline(test, ctx, seen)
            if not isinstance(t, Const) or not isinstance(t.value, bool):
                raise InputError("'x if C else y' needs C to be a boolean parameter (a pack switch), not a fact", field="condition")
            return inline(a if t.value else b, ctx, seen)
        case Op(op="not", args=(a,)):
            x = inline(a, ctx, seen)
            return Const(not x.value) if isinstance(x, Const) and isinstance(x.value, bool) else Op("not", (x,))
        case Op(op=o, args=args):
            return Op(o, tuple(inline(a, ctx, seen) for a in args))
    return node


# --- Python: one case -------------------------------------------------------------------------

PyFn = Callable[[Mapping[str, Any]], Any]
_PY_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compile_py(node: Node, ctx: Context) -> PyFn:
    """A closure ``facts -> True | False | None`` (None = unknown) for one case."""
    return _py(inline(node, ctx), ctx)


def _py(n: Node, ctx: Context) -> PyFn:
    match n:
        case Const(value=v):
            return lambda f: v
        case Fact(name=name):
            return lambda f: f.get(name)
        case LawDate():
            return lambda f: f.get(LAW_DATE)
        case Op(op="and", args=args):
            fns = tuple(_py(a, ctx) for a in args)

            def and_(f: Mapping[str, Any]) -> bool | None:
                unknown = False
                for fn in fns:
                    v = fn(f)
                    if v is False:
                        return False
                    if v is None:
                        unknown = True
                return None if unknown else True

            return and_
        case Op(op="or", args=args):
            fns = tuple(_py(a, ctx) for a in args)

            def or_(f: Mapping[str, Any]) -> bool | None:
                unknown = False
                for fn in fns:
                    v = fn(f)
                    if v is True:
                        return True
                    if v is None:
                        unknown = True
                return None if unknown else False

            return or_
        case Op(op="not", args=(a,)):
            fa = _py(a, ctx)
            return lambda f: None if (v := fa(f)) is None else not v
        case Op(op="in" | "not in" as o, args=(a, Const(value=vals))):
            fa, members, neg = _py(a, ctx), frozenset(vals), o == "not in"
            return lambda f: None if (v := fa(f)) is None else ((v in members) != neg)
        case Op(op=o, args=(a, b)) if o in _PY_CMP:
            fa, fb, cmp = _py(a, ctx), _py(b, ctx), _PY_CMP[o]

            def compare(f: Mapping[str, Any]) -> bool | None:
                x, y = fa(f), fb(f)
                return None if x is None or y is None else cmp(x, y)

            return compare
        case Op(op="years_before", args=(a, Const(value=years))):
            fa = _py(a, ctx)
            return lambda f: None if (d := fa(f)) is None or not DATE_MIN <= d <= DATE_MAX else years_before(d, years)
        case Op(op="days_before", args=(a, Const(value=days))):
            fa, delta = _py(a, ctx), timedelta(days=days)
            return lambda f: None if (d := fa(f)) is None else d - delta
        case Op(op="local_date", args=(a,)):
            fa, tz = _py(a, ctx), ctx.tz

            def local_date(f: Mapping[str, Any]) -> date | None:
                t = fa(f)
                if t is None:
                    return None
                d = t.astimezone(tz).date()
                return d if DATE_MIN <= d <= DATE_MAX else None

            return local_date
    raise InputError(f"cannot compile {n!r}: the right-hand side of 'in' and the count of years_before must be constants or parameters")


#: Dates the date helpers know; outside them a date is treated as unknown (both evaluators),
#: which lets the vectorised path use lookup tables instead of per-row calendar arithmetic.
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2100, 12, 31)


def years_before(d: date, years: int) -> date:
    """The same calendar day ``years`` earlier; 29 February falls back to the 28th (as Polars does).

    >>> years_before(date(2024, 2, 29), 5)
    datetime.date(2019, 2, 28)
    """
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


# --- Polars: many cases -----------------------------------------------------------------------

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
