"""``decide_batch``: the same rules as ``decide``, compiled to Polars expressions over FACT columns.

Nothing here restates a rule: each rule's condition is the one parsed from the pack,
compiled by :func:`accord.law.expr.compile_pl`, and the exception tree is evaluated
with the same precedence as :func:`accord.law.engine.decide` (a property test holds
the two equal). Each action yields an integer: -1 = undecided (insufficient facts),
otherwise 1 + the index of the deciding rule in ``pack.rules``. Within the tree each
node carries the bit set of results still possible, exactly as ``engine._eval``.
"""

from __future__ import annotations

import hashlib
from datetime import date

import polars as pl

from accord.domain.enums import Action, Outcome
from accord.errors import InputError

from .engine import BIT, NA, REQUESTED_BY_FORM, context, plan_for
from .relevance import ActionAtoms
from .vector import compile_pl, local_date_pl
from .facts import FACT_SCHEMA
from .pack import LawDateError, Pack, Rule

LAW_DATE_COL = "__law_local_date_received_at"  # the same name local_date(received_at) is hoisted under
OUTCOME_DTYPE = pl.Enum([o.value for o in Outcome])
OUTPUT_COLUMNS = tuple(f"decision_{a.value}" for a in Action) + tuple(f"rule_{a.value}" for a in Action)


def decide_batch(frame: pl.DataFrame | pl.LazyFrame, pack: Pack, as_of: date | None = None, *,
                 missing: bool = False) -> pl.DataFrame | pl.LazyFrame:
    """Decide every row of a FACTS frame; returns it with ``decision_<action>`` and ``rule_<action>`` columns.

    ``as_of`` given: every row is decided under the law in force on that date (what
    would this history look like under that law?). ``as_of=None``: each row is decided
    under the law in force on the local date (pack zone) it was received, so a history
    is replayed row by row at its own date; rows with no ``received_at`` are
    ``insufficient_facts``. A ``decision_*`` column is null when the form did not
    request that action; outcomes use the ``Outcome`` values as a Polars Enum and
    ``rule_*`` (the deciding rule, null when undecided) an Enum of the pack's rule ids;
    ``.cast(pl.String)`` gives plain strings.
    A LazyFrame in gives a LazyFrame out. An eager frame with rows dated before the
    pack's first effective date raises :class:`LawDateError`; lazily those rows get
    null decisions.

    ``missing=True`` adds a ``missing_<action>`` list column per action: for an undecided
    action the unknown facts its outcome depends on (:mod:`accord.law.relevance`, the same
    definition ``decide`` uses), empty when decided, null when not requested.
    """
    absent = [c for c in FACT_SCHEMA if c not in frame.collect_schema().names()]
    if absent:
        raise InputError(f"missing FACT columns: {', '.join(absent)}", field="frame")
    hoisted: dict[str, pl.Expr] = {}
    keys: list[tuple[str, ActionAtoms, str]] = []  # (key column, atoms, mask column) for missing lists
    lists: dict[Action, pl.Expr] = {}
    if as_of is not None:
        pack.epoch(as_of)  # raises for a date before the pack
        codes = _codes(pack, as_of, pl.lit(as_of), hoisted)
        if missing:
            lists = _missing_lists(pack, as_of, pl.lit(as_of), hoisted, keys)
    else:
        hoisted[LAW_DATE_COL] = local_date_pl(pl.col("received_at"), pack.tz)
        law_date = pl.col(LAW_DATE_COL)
        if isinstance(frame, pl.DataFrame):
            first = frame.select(hoisted[LAW_DATE_COL].min()).item()
            if first is not None and first < pack.effective_from:
                raise LawDateError(
                    f"rows received from {first} are before pack {pack.id!r} first takes effect ({pack.effective_from}); "
                    "pass as_of to apply one version of the law to all rows",
                    field="received_at",
                )
        codes = _per_row_codes(pack, law_date, hoisted)
        if missing:
            lists = _per_row_lists(pack, law_date, hoisted, keys)
    out = frame.lazy()  # one plan for the whole evaluation, run by Polars' default (streaming) engine
    for level in _levels(hoisted):
        out = out.with_columns(level)
    if missing:
        out = out.with_columns(_mask(key, atoms).alias(mask) for key, atoms, mask in keys)
    out = out.with_columns(_outputs(pack, codes))
    if missing:
        out = out.with_columns(_missing_outputs(lists, as_of is None)).drop([m for _, _, m in keys])
    out = out.drop(list(hoisted))
    return out.collect() if isinstance(frame, pl.DataFrame) else out


def _levels(hoisted: dict[str, pl.Expr]) -> list[list[pl.Expr]]:
    """Group derived columns so each group only reads earlier groups: one parallel pass per group."""
    level: dict[str, int] = {}
    for name, expr in hoisted.items():  # registration order is a dependency order
        deps = [level[r] for r in expr.meta.root_names() if r in level]
        level[name] = 1 + max(deps, default=-1)
    groups: list[list[pl.Expr]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name, expr in hoisted.items():
        groups[level[name]].append(expr.alias(name))
    return groups


def _codes(pack: Pack, on: date, law_date: pl.Expr, hoisted: dict[str, pl.Expr]) -> dict[Action, pl.Expr]:
    """One Int32 expression per action: the deciding rule's code, or -1 when undecided."""
    ctx = context(pack, on)
    ctx.hoisted = hoisted
    rules = pack.rules_at(on)
    index = {r.id: i + 1 for i, r in enumerate(pack.rules)}
    kids: dict[str | None, list[Rule]] = {}
    for r in rules:
        kids.setdefault(r.exception_to, []).append(r)
    i8 = pl.Int8

    def node(r: Rule) -> tuple[pl.Expr, pl.Expr]:
        """(possible-results bit set, code of the rule sure to decide or null): as engine._eval."""
        c = compile_pl(r.condition, ctx, law_date)
        bit = BIT[r.outcome]
        # true -> bit, false -> NA, unknown -> bit | NA, in integer arithmetic (cheaper than when/then)
        own = (c.cast(i8) * pl.lit(bit - NA, i8) + pl.lit(NA, i8)).fill_null(pl.lit(bit | NA, i8))
        possible: pl.Expr | None = None
        through: pl.Expr | None = None
        deciders = []
        for k in kids.get(r.id, ()):
            p, d = node(k)
            # a column per node, computed once: referring to a child's expression three times
            # would otherwise grow the plan exponentially with the depth of exceptions
            p = _hoist_col(hoisted, "possible", p)
            d = _hoist_col(hoisted, "decider", d)
            contrib = p & pl.lit(~NA & 0x7F, i8)
            possible = contrib if through is None else possible | pl.when(through).then(contrib).otherwise(pl.lit(0, i8))
            applies_maybe_not = (p & pl.lit(NA, i8)) != 0
            through = applies_maybe_not if through is None else through & applies_maybe_not
            deciders.append(pl.when(~applies_maybe_not).then(d))
        deciders.append(pl.when(c).then(pl.lit(index[r.id], pl.Int32)))
        if possible is None:
            return own, deciders[-1]
        possible = possible | pl.when(through).then(own).otherwise(pl.lit(0, i8))
        return possible, pl.coalesce(deciders)

    out = {}
    for root in kids.get(None, ()):
        possible, decider = node(root)
        decided = possible.is_in(list(BIT.values()))
        out[root.action] = pl.when(decided).then(decider).otherwise(pl.lit(-1, pl.Int32))
    return out


def _hoist_col(hoisted: dict[str, pl.Expr], kind: str, expr: pl.Expr) -> pl.Expr:
    """A column named after the expression itself, so periods of law that share a subtree compute it once."""
    name = f"__law_{kind}_{hashlib.sha1(expr.meta.serialize()).hexdigest()[:20]}"
    hoisted.setdefault(name, expr)
    return pl.col(name)


def _per_row_codes(pack: Pack, law_date: pl.Expr, hoisted: dict[str, pl.Expr]) -> dict[Action, pl.Expr]:
    """Stitch the per-period expressions by each row's own law date."""
    bounds = pack.boundaries
    per_epoch = [_codes(pack, d, law_date, hoisted) for d in bounds]
    if len(bounds) == 1:  # one period of law: only rows before it (null) and unknown dates differ
        return {a: pl.when(law_date >= bounds[0]).then(per_epoch[0][a]).when(law_date.is_null()).then(pl.lit(-1, pl.Int32))
                for a in Action}
    # period index per row (-1 before the pack, null when the date is unknown), computed once
    index = pl.sum_horizontal([(law_date >= b).cast(pl.Int8) for b in bounds]) - 1
    epoch = _hoist_col(hoisted, "epoch", pl.when(law_date.is_not_null()).then(index))
    out = {}
    for action in Action:
        codes = [_hoist_col(hoisted, "code", per_epoch[i][action]) for i in range(len(bounds))]
        expr = pl.when(epoch.is_null()).then(pl.lit(-1, pl.Int32))
        for i, code in enumerate(codes):
            expr = expr.when(epoch == i).then(code)
        out[action] = expr.otherwise(pl.lit(None, pl.Int32))
    return out


def _outputs(pack: Pack, codes: dict[Action, pl.Expr]) -> list[pl.Expr]:
    """Codes to outcome and rule columns by table lookup (code -1 -> insufficient_facts, no rule)."""
    outcomes = pl.Series([Outcome.INSUFFICIENT_FACTS.value] + [r.outcome.value for r in pack.rules], dtype=OUTCOME_DTYPE)
    rule_dtype = pl.Enum([r.id for r in pack.rules])
    rule_ids = pl.Series([None] + [r.id for r in pack.rules], dtype=rule_dtype)
    exprs = []
    for action in Action:
        code = codes[action]
        if not code.meta.root_names():  # an unconditional default: a constant, not a column
            k = max(pl.select(code).item(), 0)
            outcome, rule = pl.lit(outcomes[k], OUTCOME_DTYPE), pl.lit(rule_ids[k], rule_dtype)
        else:
            idx = pl.when(code > 0).then(code).when(code == -1).then(pl.lit(0, pl.Int32))  # null: no law applied
            outcome, rule = pl.lit(outcomes).gather(idx), pl.lit(rule_ids).gather(idx)
        req = REQUESTED_BY_FORM.get(action)
        if req is not None:
            wanted = pl.col(req)
            outcome = (
                pl.when(wanted.is_null()).then(pl.lit(Outcome.INSUFFICIENT_FACTS.value, OUTCOME_DTYPE))
                .when(wanted).then(outcome)
                .otherwise(pl.lit(None, OUTCOME_DTYPE))
            )
            rule = pl.when(wanted).then(rule).otherwise(pl.lit(None, rule_dtype))
        exprs += [outcome.alias(f"decision_{action.value}"), rule.alias(f"rule_{action.value}")]
    return exprs


# --- missing facts (accord.law.relevance) -------------------------------------------------------

_LIST = pl.List(pl.String)


def _missing_lists(pack: Pack, on: date, law_date: pl.Expr, hoisted: dict[str, pl.Expr],
                   keys: list[tuple[str, ActionAtoms, str]]) -> dict[Action, pl.Expr]:
    """Per action, the missing-fact list for rows where it is undecided (the law in force on ``on``)."""
    plan = plan_for(pack, on)
    ctx = context(pack, on)
    ctx.hoisted = hoisted
    out = {}
    for action, atoms in plan.atoms.items():
        if not atoms.atoms:
            out[action] = pl.lit([], _LIST)
            continue
        key = pl.lit(0, pl.Int64)
        for i, a in enumerate(atoms.atoms):
            e = compile_pl(a, ctx, law_date)
            key = key + pl.when(e.is_null()).then(pl.lit(2 << (2 * i), pl.Int64)).when(e).then(pl.lit(1 << (2 * i), pl.Int64)).otherwise(pl.lit(0, pl.Int64))
        key_col = _hoist_col(hoisted, "atomkey", key).meta.output_name()
        mask_col = f"{key_col}_mask"
        if not any(m == mask_col for _, _, m in keys):
            keys.append((key_col, atoms, mask_col))
        mask = pl.col(mask_col)
        items = [pl.when(pl.col(x).is_null() & ((mask & pl.lit(m, pl.Int64)) != 0)).then(pl.lit(x)) for x, m in atoms.facts_mask().items()]
        out[action] = pl.concat_list(items).list.drop_nulls()
    return out


def _mask(key_col: str, atoms: ActionAtoms) -> pl.Expr:
    """Relevant-atom masks by the shared Python definition, once per distinct state key in a batch."""

    def batch(s: pl.Series) -> pl.Series:
        uniq = s.unique().to_list()
        return s.replace_strict(uniq, [atoms.relevant(k) for k in uniq], return_dtype=pl.Int64)

    return pl.col(key_col).map_batches(batch, return_dtype=pl.Int64, is_elementwise=True)


def _per_row_lists(pack: Pack, law_date: pl.Expr, hoisted: dict[str, pl.Expr],
                   keys: list[tuple[str, ActionAtoms, str]]) -> dict[Action, pl.Expr]:
    bounds = pack.boundaries
    per_epoch = [_missing_lists(pack, d, law_date, hoisted, keys) for d in bounds]
    index = pl.sum_horizontal([(law_date >= b).cast(pl.Int8) for b in bounds]) - 1
    out = {}
    for action in Action:
        expr = pl.when(law_date.is_null()).then(pl.lit(["received_at"], _LIST))
        for i, lists in enumerate(per_epoch):
            if action in lists:
                expr = expr.when(index == i).then(lists[action])
        out[action] = expr.otherwise(pl.lit(None, _LIST))
    return out


def _missing_outputs(lists: dict[Action, pl.Expr], per_row: bool) -> list[pl.Expr]:
    exprs = []
    for action in Action:
        decision = pl.col(f"decision_{action.value}")
        expr = pl.when(decision.is_null()).then(pl.lit(None, _LIST))
        req = REQUESTED_BY_FORM.get(action)
        if req is not None:
            expr = expr.when(pl.col(req).is_null()).then(pl.lit([req], _LIST))
        expr = expr.when(decision == Outcome.INSUFFICIENT_FACTS.value).then(lists.get(action, pl.lit(None, _LIST)))
        exprs.append(expr.otherwise(pl.lit([], _LIST)).alias(f"missing_{action.value}"))
    return exprs
