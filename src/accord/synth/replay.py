"""Replay with honest unknowns: what a pack would decide for each detainer, and what it cannot decide.

For histories that hold only part of the facts the law reads (imported public releases,
``accord.ddp``: no judicial warrant, one conviction a row), every row is decided under the
chosen pack whatever its jurisdiction (a what-if: "this release under NYC law"), with
``decide_batch``. A requested action the law cannot settle from the row is *undecided*, and
the facts it depends on are named: nothing missing is filled in.

Which facts an undecided action depends on (``missing_<action>``):

* when ``decide_batch`` reports them itself (``decide_batch(..., missing=True)`` gives
  ``missing_<action>`` lists: only the unknown facts that could change the outcome), those;
* otherwise (:data:`MISSING_SOURCE` says which was used) the facts that are null in the row
  and read by the conditions of the rules of that action in force on the row's law date,
  plus the form's request column when it is null (the release does not say whether the form
  asked for it). This errs towards naming a fact, never towards hiding one that matters.

A row is counted once per pack under one of (:data:`ROW_OUTCOMES`):

* ``required``: every requested action decided, at least one required by law;
* ``honoured``: every requested action decided, at least one allowed (none required);
* ``declined``: every requested action decided and none allowed ("would be declined");
* ``depends``: at least one requested action undecided (its facts named in ``depends``);
* ``before_law``: received before the pack's law first took effect: not decided at all.

"Honoured" means the law allows it, not that it makes the custodian comply (``required`` does).
A row the law would allow whichever way its unknown facts turn out (Texas: required unless proof
of status was presented, allowed if it was) still counts as ``depends``: whether compliance is
*required* depends on that fact.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import date

import polars as pl

from accord.errors import InputError
from accord.law.batch import decide_batch
from accord.law.expr import inline
from accord.law.engine import context
from accord.law.facts import FACTS, FACT_NAMES
from accord.law.pack import Pack, load_pack
from accord.law.vector import local_date_pl

#: The actions a detainer form requests, and the column saying whether it did.
REQUESTED = {"hold_past_release": "requests_hold", "notify_release": "requests_notify",
             "transfer_at_release": "requests_transfer"}
ROW_OUTCOMES = ("required", "honoured", "declined", "depends", "before_law")
#: ``--by`` values: the group column each makes
BY = ("state", "facility", "office", "month")
MEANING = {f.name: f.meaning for f in FACTS}
_UNSET = "(not recorded)"


def _law_supports_missing() -> bool:
    return "missing" in inspect.signature(decide_batch).parameters


#: "law": the law's own relevance lists (``decide_batch(missing=True)``); "null facts read by the action's rules" otherwise
MISSING_SOURCE = "law" if _law_supports_missing() else "null facts read by the action's rules"


def group_expr(by: str) -> pl.Expr:
    """The group a row belongs to for ``--by``: state (from the jurisdiction US-<state>[-...]), facility,
    issuing office, or month received (YYYY-MM, UTC). A row that does not say is '(not recorded)'."""
    if by == "state":
        e = pl.col("jurisdiction").str.split("-").list.get(1, null_on_oob=True)
    elif by == "facility":
        e = pl.col("facility")
    elif by == "office":
        e = pl.col("issuing_office")
    elif by == "month":
        e = pl.col("received_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m")
    else:
        raise InputError(f"unknown breakdown '{by}' (expected one of {', '.join(BY)})", field="by")
    return e.fill_null(_UNSET).alias("group")


def _rule_facts(pack: Pack, on: date, action: str) -> list[str]:
    ctx = context(pack, on)
    out: set[str] = set()
    for r in pack.rules_at(on):
        if r.action.value == action:
            out |= inline(r.condition, ctx).facts()
    return [f for f in FACT_NAMES if f in out]


def _fallback_missing(pack: Pack, as_of: date | None) -> list[pl.Expr]:
    """``missing_<action>``: null facts read by the action's rules in force at the row's law date (see module doc)."""
    bounds = list(pack.boundaries) if as_of is None else [as_of]
    law_date = pl.lit(as_of) if as_of is not None else local_date_pl(pl.col("received_at"), pack.tz)
    out = []
    for action, req in REQUESTED.items():
        def nulls(facts: list[str]) -> pl.Expr:
            if not facts:
                return pl.lit([], dtype=pl.List(pl.String))
            return pl.concat_list([pl.when(pl.col(f).is_null()).then(pl.lit(f)).otherwise(pl.lit(None, pl.String))
                                   for f in facts]).list.drop_nulls()
        chain = None  # newest period first: the first bound the row's law date reaches decides
        for i in reversed(range(len(bounds))):
            facts = [f for f in _rule_facts(pack, bounds[i], action) if f != req]
            step = nulls([req] + facts)
            chain = pl.when(law_date >= bounds[i]).then(step) if chain is None else chain.when(law_date >= bounds[i]).then(step)
        assert chain is not None  # a pack has at least one period
        expr = chain.otherwise(pl.lit(None, dtype=pl.List(pl.String)))  # before the pack: no law applied
        undecided = pl.col(f"decision_{action}").cast(pl.String) == "insufficient_facts"
        out.append(pl.when(undecided).then(expr).otherwise(pl.lit([], dtype=pl.List(pl.String))).alias(f"missing_{action}"))
    return out


def decided(frame: pl.DataFrame | pl.LazyFrame, pack: Pack, as_of: date | None = None) -> pl.LazyFrame:
    """The frame's FACT columns (and breakdown columns) with ``decision_*`` and ``missing_*`` per requested action."""
    keep = [c for c in ("jurisdiction", "facility", "issuing_office") if c in frame.collect_schema().names()]
    lf = frame.lazy().select(list(dict.fromkeys([*FACT_NAMES, *keep])))
    if MISSING_SOURCE == "law":
        out = decide_batch(lf, pack, as_of, missing=True)  # type: ignore[call-arg]
        return out.with_columns(pl.col(f"missing_{a}").fill_null(pl.lit([], dtype=pl.List(pl.String))) for a in REQUESTED)
    out = decide_batch(lf, pack, as_of)
    return out.with_columns(_fallback_missing(pack, as_of))


def _row_outcome() -> pl.Expr:
    wanted = {a: pl.col(req).is_null() | pl.col(req) for a, req in REQUESTED.items()}
    dec = {a: pl.col(f"decision_{a}").cast(pl.String) for a in REQUESTED}
    undecided = pl.any_horizontal([(wanted[a] & (dec[a] == "insufficient_facts")).fill_null(False) for a in REQUESTED])
    no_law = pl.any_horizontal([(wanted[a] & dec[a].is_null()).fill_null(False) for a in REQUESTED])
    required = pl.any_horizontal([(wanted[a] & (dec[a] == "require")).fill_null(False) for a in REQUESTED])
    allowed = pl.any_horizontal([(wanted[a] & dec[a].is_in(["allow", "require"])).fill_null(False) for a in REQUESTED])
    return (pl.when(no_law).then(pl.lit("before_law")).when(undecided).then(pl.lit("depends")).when(required).then(pl.lit("required"))
            .when(allowed).then(pl.lit("honoured")).otherwise(pl.lit("declined")).alias("outcome"))


@dataclass(frozen=True)
class Replay:
    """One pack over a history.

    ``outcomes``: per group (``group``, '(all)' without a breakdown): detainers and one count per
    :data:`ROW_OUTCOMES`. ``depends``: per group, the undecided rows by the facts they depend on
    (``facts``: the union over their undecided actions, comma-separated, sorted), largest first.
    ``facts``: per fact, how many rows depend on it (a row may depend on several), largest first.
    ``actions``: per group and requested action, how many rows asked for it (``requested``, the form's
    request column true or unknown) and the law's answer: ``allow``, ``require``, ``deny``, ``depends`` or ``before_law``.
    """

    pack: str
    pack_name: str
    by: str | None
    outcomes: pl.DataFrame
    depends: pl.DataFrame
    facts: pl.DataFrame
    actions: pl.DataFrame
    missing_source: str = MISSING_SOURCE

    def sentence(self, meanings: bool = True) -> str:
        """'Under <law>: N would be declined; M depend on whether ...' over the whole history
        (``meanings``: say what each fact is, not only its name)."""
        t = self.outcomes.select(pl.exclude("group").sum()).row(0, named=True)
        parts = [f"{t['declined']:,} would be declined", f"{t['honoured']:,} honoured at least in part (allowed)",
                 f"{t['required']:,} required by law"]
        if t["before_law"]:
            parts.append(f"{t['before_law']:,} received before this law took effect (not decided)")
        text = f"Under {self.pack_name}: of {t['detainers']:,} detainers, " + ", ".join(parts)
        if t["depends"]:
            named = "; ".join(f"{n:,} on {f}" + (f" ({MEANING.get(f, f)})" if meanings else "") for f, n in self.facts.iter_rows())
            text += f"; {t['depends']:,} depend on facts the data does not hold: {named}"
        per = self.actions.group_by("action", maintain_order=True).agg(pl.exclude("group").sum())
        said = [f"{r['action'].replace('_', ' ')}: {r['deny']:,} denied, {r['allow'] + r['require']:,} allowed "
                f"({r['require']:,} required), {r['depends']:,} undecided" for r in per.iter_rows(named=True) if r["requested"]]
        return text + (". Per requested action: " + "; ".join(said) if said else "") + "."


def replay(frame: pl.DataFrame | pl.LazyFrame, pack: Pack | str, by: str | None = None, as_of: date | None = None) -> Replay:
    """Decide every row of ``frame`` under ``pack`` and count what the law decides and what it cannot (module doc)."""
    p = load_pack(pack) if isinstance(pack, str) else pack
    g = group_expr(by) if by else pl.lit("(all)").alias("group")
    lf = decided(frame, p, as_of).with_columns(g, _row_outcome())
    missing = pl.concat_list([pl.col(f"missing_{a}") for a in REQUESTED]).list.unique().list.sort()
    answers = [pl.when(pl.col(req).is_null() | pl.col(req))
               .then(pl.col(f"decision_{a}").cast(pl.String).replace({"insufficient_facts": "depends"}).fill_null("before_law"))
               .alias(a)
               for a, req in REQUESTED.items()]
    rows = lf.select("group", "outcome", pl.when(pl.col("outcome") == "depends").then(missing).alias("facts"),
                     *answers).collect()
    actions = pl.concat([
        rows.group_by("group").agg(pl.lit(a).alias("action"), pl.col(a).is_not_null().sum().cast(pl.Int64).alias("requested"),
                                   *[(pl.col(a) == k).sum().cast(pl.Int64).alias(k) for k in ("allow", "require", "deny", "depends", "before_law")])
        for a in REQUESTED
    ]).sort("group", pl.col("action").replace_strict({a: i for i, a in enumerate(REQUESTED)}, return_dtype=pl.Int8))
    outcomes = (rows.group_by("group").agg(pl.len().cast(pl.Int64).alias("detainers"),
                                           *[(pl.col("outcome") == o).sum().cast(pl.Int64).alias(o) for o in ROW_OUTCOMES])
                .sort("group"))
    dep = rows.filter(pl.col("outcome") == "depends")
    depends = (dep.with_columns(pl.col("facts").list.join(", "))
               .group_by("group", "facts").agg(pl.len().cast(pl.Int64).alias("detainers"))
               .sort(["group", "detainers", "facts"], descending=[False, True, False]))
    facts = (dep.explode("facts").drop_nulls("facts").group_by("facts").agg(pl.len().cast(pl.Int64).alias("detainers"))
             .rename({"facts": "fact"}).sort(["detainers", "fact"], descending=[True, False]))
    return Replay(pack=p.id, pack_name=p.name, by=by, outcomes=outcomes, depends=depends, facts=facts, actions=actions)
