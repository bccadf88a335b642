"""What-if: replay every detainer of a history under two packs and say what would differ, and why.

Works on anything with the FACTS columns (a synthetic or exported history, eager or lazy,
e.g. ``pl.scan_parquet(dir / "detainers/*.parquet")``). Both packs are applied in one
lazy plan with the vectorised engine; each row is decided under the law in force on its
own received date (``as_of=None``), or on ``as_of`` for every row when given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from accord.domain.enums import Action
from accord.law.batch import decide_batch
from accord.law.facts import FACT_NAMES
from accord.law.pack import Pack, load_pack

_REQUESTED = {"hold_past_release": "requests_hold", "notify_release": "requests_notify", "transfer_at_release": "requests_transfer"}
_ALLOWED = ["allow", "require"]
#: Rows of the side-by-side table, in order: (key, label).
METRICS = (
    ("detainers", "Detainers"),
    ("holds", "Held past release"),
    ("notifications", "Release notified"),
    ("transfers", "Transferred at release"),
    ("declined", "Declined under this law (every requested action decided, none allowed)"),
    ("required", "Compliance required by law"),
    ("insufficient_facts", "Insufficient facts"),
    ("before_law", "Received before this law took effect (not decided)"),
)


@dataclass(frozen=True)
class WhatIf:
    """``table``: metric, label, one count column per pack, difference (b - a).

    ``rule_drivers``: for rows whose outcome for an action differs, the (rule, outcome) under
    each pack and how many detainers moved that way, largest first, with citations.
    """

    pack_a: str
    pack_b: str
    table: pl.DataFrame
    rule_drivers: pl.DataFrame


def _resolve(pack: Pack | str) -> Pack:
    return load_pack(pack) if isinstance(pack, str) else pack


def _metrics(combos: pl.DataFrame, prefix: str) -> dict[str, int]:
    """The side-by-side metrics for one side, from the counted combinations."""
    allowed = [
        pl.col(req).fill_null(False) & pl.col(f"{prefix}decision_{act}").is_in(_ALLOWED).fill_null(False)
        for act, req in _REQUESTED.items()
    ]
    acts = [pl.col(f"{prefix}decision_{a}") for a in _REQUESTED]
    undecided = [(pl.col(req).is_null() | pl.col(req)).fill_null(False)
                 & (pl.col(f"{prefix}decision_{act}") == "insufficient_facts").fill_null(False) for act, req in _REQUESTED.items()]
    # requested, yet no outcome at all: the row was received before the pack's law took effect
    no_law = [pl.col(req).fill_null(False) & pl.col(f"{prefix}decision_{act}").is_null() for act, req in _REQUESTED.items()]
    n = pl.col("n")
    row = combos.select(
        n.sum().alias("detainers"),
        n.filter(allowed[0]).sum().alias("holds"),
        n.filter(allowed[1]).sum().alias("notifications"),
        n.filter(allowed[2]).sum().alias("transfers"),
        # a row with an undecided requested action is not counted declined: its facts might allow it
        n.filter(~pl.any_horizontal(allowed) & ~pl.any_horizontal(undecided) & ~pl.any_horizontal(no_law)).sum().alias("declined"),
        n.filter(pl.any_horizontal([(a == "require").fill_null(False) for a in acts])).sum().alias("required"),
        n.filter(pl.any_horizontal([(a == "insufficient_facts").fill_null(False) for a in acts])).sum().alias("insufficient_facts"),
        n.filter(pl.any_horizontal(no_law)).sum().alias("before_law"),
    ).row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def _keys(prefixes: tuple[str, ...]) -> list[str]:
    return list(_REQUESTED.values()) + [f"{p}{k}_{a}" for p in prefixes for a in _REQUESTED for k in ("decision", "rule")]


def _combinations(lf: pl.LazyFrame, prefixes: tuple[str, ...], engine: str) -> pl.DataFrame:
    """Count rows per distinct (requested actions, outcome and rule per action per pack): a few hundred
    rows however long the history, so every figure below is computed on them in one streaming pass."""
    keys = _keys(prefixes)
    combos = lf.group_by(keys).agg(pl.len().alias("n")).collect(engine=engine)
    return combos.with_columns(pl.col(c).cast(pl.String) for c in keys if c not in _REQUESTED.values())


def decided_both(frame: pl.DataFrame | pl.LazyFrame, a: Pack, b: Pack, as_of: date | None = None) -> pl.LazyFrame:
    """The FACTS of ``frame`` with ``a_``- and ``b_``-prefixed decision and rule columns."""
    lf = frame.lazy().select(FACT_NAMES)
    outs = [f"{k}_{x.value}" for x in Action for k in ("decision", "rule")]
    lf = decide_batch(lf, a, as_of).rename({c: f"a_{c}" for c in outs})
    return decide_batch(lf, b, as_of).rename({c: f"b_{c}" for c in outs})


def counts(frame: pl.DataFrame | pl.LazyFrame, pack: Pack | str, as_of: date | None = None, engine: str = "auto") -> dict[str, int]:
    """The side-by-side metrics under one pack (what ``compare`` computes for each side)."""
    p = _resolve(pack)
    outs = [f"{k}_{x.value}" for x in Action for k in ("decision", "rule")]
    lf = decide_batch(frame.lazy().select(FACT_NAMES), p, as_of).rename({c: f"a_{c}" for c in outs})
    return _metrics(_combinations(lf, ("a_",), engine), "a_")


def compare(frame: pl.DataFrame | pl.LazyFrame, pack_a: Pack | str, pack_b: Pack | str, as_of: date | None = None,
            engine: str = "auto") -> WhatIf:
    """Decide ``frame`` under both packs and compare (see :class:`WhatIf`); ``engine`` as in ``LazyFrame.collect``."""
    a, b = _resolve(pack_a), _resolve(pack_b)
    combos = _combinations(decided_both(frame, a, b, as_of), ("a_", "b_"), engine)
    ma, mb = _metrics(combos, "a_"), _metrics(combos, "b_")
    name_a, name_b = a.id, (b.id if b.id != a.id else f"{b.id} (b)")
    table = pl.DataFrame(
        {
            "metric": [k for k, _ in METRICS],
            "label": [label for _, label in METRICS],
            name_a: [ma[k] for k, _ in METRICS],
            name_b: [mb[k] for k, _ in METRICS],
        },
        schema={"metric": pl.String, "label": pl.String, name_a: pl.Int64, name_b: pl.Int64},
    ).with_columns((pl.col(name_b) - pl.col(name_a)).alias("difference"))
    drivers = pl.concat(
        [
            combos.filter(pl.col(req).fill_null(False) & pl.col(f"a_decision_{act}").ne_missing(pl.col(f"b_decision_{act}")))
            .group_by(
                pl.col(f"a_rule_{act}").alias("rule_a"), pl.col(f"a_decision_{act}").alias("outcome_a"),
                pl.col(f"b_rule_{act}").alias("rule_b"), pl.col(f"b_decision_{act}").alias("outcome_b"),
            )
            .agg(pl.col("n").sum().cast(pl.Int64).alias("detainers"))
            .with_columns(pl.lit(act).alias("action"))
            for act, req in _REQUESTED.items()
        ]
    )
    cite_a = {r.id: r.citation for r in a.rules}
    cite_b = {r.id: r.citation for r in b.rules}
    drivers = drivers.select(
        "action", "rule_a", "outcome_a", "rule_b", "outcome_b", "detainers",
        pl.col("rule_a").replace_strict(cite_a, default=None, return_dtype=pl.String).alias("citation_a"),
        pl.col("rule_b").replace_strict(cite_b, default=None, return_dtype=pl.String).alias("citation_b"),
    ).sort(["detainers", "action", "rule_a", "rule_b"], descending=[True, False, False, False], nulls_last=True)
    return WhatIf(pack_a=a.id, pack_b=b.id, table=table, rule_drivers=drivers)
