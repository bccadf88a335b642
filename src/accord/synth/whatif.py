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
from accord.law.pack import load_pack
from accord.law.facts import FACT_NAMES
from accord.law.pack import Pack

_REQUESTED = {"hold_past_release": "requests_hold", "notify_release": "requests_notify", "transfer_at_release": "requests_transfer"}
_ALLOWED = ["allow", "require"]
#: Rows of the side-by-side table, in order: (key, label).
METRICS = (
    ("detainers", "Detainers"),
    ("holds", "Held past release"),
    ("notifications", "Release notified"),
    ("transfers", "Transferred at release"),
    ("declined", "Declined (nothing requested allowed)"),
    ("required", "Compliance required by law"),
    ("insufficient_facts", "Insufficient facts"),
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


def _allowed(prefix: str, action: str) -> pl.Expr:
    return pl.col(_REQUESTED[action]).fill_null(False) & pl.col(f"{prefix}decision_{action}").cast(pl.String).is_in(_ALLOWED).fill_null(False)


def _metrics(prefix: str) -> list[pl.Expr]:
    acts = [f"{prefix}decision_{a}" for a in _REQUESTED]
    allowed = [_allowed(prefix, a) for a in _REQUESTED]
    return [
        pl.len().alias(f"{prefix}detainers"),
        allowed[0].sum().alias(f"{prefix}holds"),
        allowed[1].sum().alias(f"{prefix}notifications"),
        allowed[2].sum().alias(f"{prefix}transfers"),
        (~pl.any_horizontal(allowed)).sum().alias(f"{prefix}declined"),
        pl.any_horizontal([pl.col(c).cast(pl.String) == "require" for c in acts]).fill_null(False).sum().alias(f"{prefix}required"),
        pl.any_horizontal([pl.col(c).cast(pl.String) == "insufficient_facts" for c in acts]).fill_null(False).sum().alias(f"{prefix}insufficient_facts"),
    ]


def decided_both(frame: pl.DataFrame | pl.LazyFrame, a: Pack, b: Pack, as_of: date | None = None) -> pl.LazyFrame:
    """The FACTS of ``frame`` with ``a_``- and ``b_``-prefixed decision and rule columns."""
    lf = frame.lazy().select(FACT_NAMES)
    outs = [f"{k}_{x.value}" for x in Action for k in ("decision", "rule")]
    lf = decide_batch(lf, a, as_of).rename({c: f"a_{c}" for c in outs})
    return decide_batch(lf, b, as_of).rename({c: f"b_{c}" for c in outs})


def counts(frame: pl.DataFrame | pl.LazyFrame, pack: Pack | str, as_of: date | None = None, engine: str = "auto") -> dict[str, int]:
    """The side-by-side metrics under one pack (what ``compare`` computes for each side)."""
    p = _resolve(pack)
    lf = decide_batch(frame.lazy().select(FACT_NAMES), p, as_of)
    row = lf.select(_metrics("")).collect(engine=engine).row(0, named=True)
    return {k: int(v) for k, v in row.items()}


def compare(frame: pl.DataFrame | pl.LazyFrame, pack_a: Pack | str, pack_b: Pack | str, as_of: date | None = None,
            engine: str = "auto") -> WhatIf:
    """Decide ``frame`` under both packs and compare (see :class:`WhatIf`); ``engine`` as in ``LazyFrame.collect``."""
    a, b = _resolve(pack_a), _resolve(pack_b)
    both = decided_both(frame, a, b, as_of)
    counts_q = both.select(_metrics("a_") + _metrics("b_"))
    drivers_q = pl.concat(
        [
            both.filter(
                pl.col(req).fill_null(False)
                & pl.col(f"a_decision_{act}").cast(pl.String).ne_missing(pl.col(f"b_decision_{act}").cast(pl.String))
            )
            .group_by(
                pl.col(f"a_rule_{act}").alias("rule_a"), pl.col(f"a_decision_{act}").cast(pl.String).alias("outcome_a"),
                pl.col(f"b_rule_{act}").alias("rule_b"), pl.col(f"b_decision_{act}").cast(pl.String).alias("outcome_b"),
            )
            .agg(pl.len().alias("detainers"))
            .with_columns(pl.lit(act).alias("action"))
            for act, req in _REQUESTED.items()
        ]
    )
    counts, drivers = pl.collect_all([counts_q, drivers_q], engine=engine)
    row = counts.row(0, named=True)
    name_a, name_b = a.id, (b.id if b.id != a.id else f"{b.id} (b)")
    table = pl.DataFrame(
        {
            "metric": [k for k, _ in METRICS],
            "label": [label for _, label in METRICS],
            name_a: [int(row[f"a_{k}"]) for k, _ in METRICS],
            name_b: [int(row[f"b_{k}"]) for k, _ in METRICS],
        },
        schema={"metric": pl.String, "label": pl.String, name_a: pl.Int64, name_b: pl.Int64},
    )
    table = table.with_columns((pl.col(name_b) - pl.col(name_a)).alias("difference"))
    cite_a = {r.id: r.citation for r in a.rules}
    cite_b = {r.id: r.citation for r in b.rules}
    drivers = drivers.select(
        "action", "rule_a", "outcome_a", "rule_b", "outcome_b", pl.col("detainers").cast(pl.Int64),
        pl.col("rule_a").replace_strict(cite_a, default=None, return_dtype=pl.String).alias("citation_a"),
        pl.col("rule_b").replace_strict(cite_b, default=None, return_dtype=pl.String).alias("citation_b"),
    ).sort(["detainers", "action", "rule_a", "rule_b"], descending=[True, False, False, False], nulls_last=True)
    return WhatIf(pack_a=a.id, pack_b=b.id, table=table, rule_drivers=drivers)
