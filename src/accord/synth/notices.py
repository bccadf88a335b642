"""The notices a pack owes for a decided history, as NOTICES rows (``accord.reports.schema``).

Mirrors what ``accord.law.engine`` attaches to one decision (same ids, due times and
citations), for a whole frame: a notice rule applies when every action it names came out
one of its outcomes, on a law date inside its effective window. When each notice was
*sent* is synthetic behaviour: most go out before they are due, a few late (assumption),
none after the period ends.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from accord.law.pack import Pack
from accord.reports.schema import NOTICES

LATE_SHARE = 0.06  # assumption: share of notices sent after they were due


def _hours(spec_hours: object, pack: Pack, law_date: pl.Expr) -> pl.Expr:
    """The rule's hours, reading a ``param.<name>`` at each row's law date."""
    if not isinstance(spec_hours, str):
        return pl.lit(float(spec_hours))
    name = spec_hours.removeprefix("param.")
    bounds = list(pack.boundaries)
    expr = pl.when(pl.lit(False)).then(pl.lit(None, pl.Float64))
    for b in reversed(bounds):
        expr = expr.when(law_date >= b).then(pl.lit(float(pack.params_at(b)[name])))
    return expr.otherwise(None)


def notices_frame(settled: pl.DataFrame, pack: Pack, jurisdiction: str, period_end: datetime, rng: np.random.Generator) -> pl.DataFrame:
    """NOTICES rows owed under ``pack`` by ``settled`` (decision columns, ``_hold_until``, facts)."""
    law_date = pl.col("received_at").dt.convert_time_zone(pack.timezone).dt.date()
    parts = []
    for spec in pack.notices:
        applies = pl.lit(True)
        for action, outcomes in spec.when_outcome.items():
            applies = applies & pl.col(f"decision_{action.value}").is_in([o.value for o in outcomes]).fill_null(False)
        start = max(spec.effective_from, pack.effective_from)
        applies = applies & (law_date >= start)
        if spec.effective_to is not None:
            applies = applies & (law_date < spec.effective_to)
        base = pl.col("_hold_until") if spec.due_from == "hold_until" else pl.col(spec.due_from)
        base = pl.coalesce(base, pl.col("received_at"))
        due = base + pl.duration(microseconds=(_hours(spec.due_hours, pack, law_date) * 3_600_000_000).cast(pl.Int64))
        parts.append(
            settled.filter(applies).select(
                (pl.col("detainer_id") + f".{spec.id}").alias("notice_id"),
                pl.lit(spec.kind.value).alias("kind"),
                pl.lit(spec.recipient.value).alias("recipient"),
                pl.col("detainer_id").alias("about_request_id"),
                pl.lit(jurisdiction).alias("jurisdiction"),
                pl.lit(spec.citation).alias("citation"),
                due.alias("due_by"),
                pl.col("received_at").alias("_from"),
                pl.lit(spec.business_days).alias("business_days"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=NOTICES)
    owed = pl.concat(parts)
    n = owed.height
    late = rng.random(n) < LATE_SHARE
    frac = rng.uniform(0.1, 0.9, size=n)
    late_us = (rng.uniform(2.0, 72.0, size=n) * 3_600_000_000).astype(np.int64)
    span = (owed["due_by"] - owed["_from"]).dt.total_microseconds().clip(lower_bound=0).to_numpy()
    offset = np.where(late, span + late_us, (span * frac).astype(np.int64))
    sent = owed["_from"] + pl.Series(offset, dtype=pl.Int64).cast(pl.Duration("us"))
    owed = owed.with_columns(sent.alias("sent_at")).with_columns(
        pl.when(pl.col("sent_at") < pl.lit(period_end).dt.cast_time_unit("us")).then(pl.col("sent_at")).alias("sent_at")
    )
    return owed.select([pl.col(c).cast(t) for c, t in NOTICES.items()])

