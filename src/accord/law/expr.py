"""A rule's condition, written once, compiled twice: to a Python closure (here) and to a Polars expression
(:mod:`accord.law.vector`).

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
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
    #: Polars only (``accord.law.vector``): derived columns computed once per frame.
    hoisted: dict[str, Any] = field(default_factory=dict)

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
DATE_MIN, DATE_MAX = date(1950, 1, 1), date(2100, 12, 31)


def years_before(d: date, years: int) -> date:
    """The same calendar day ``years`` earlier; 29 February falls back to the 28th (as Polars does).

    >>> years_before(date(2024, 2, 29), 5)
    datetime.date(2019, 2, 28)
    """
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)
