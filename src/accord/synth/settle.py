"""What happened to each detainer once the law had answered: the disposition and its clock.

The law says what the custodian may do (``decision_<action>``); the synthetic world says
whether ICE lifted the detainer first, whether the person was still in custody, and
whether ICE came to pick them up within the hold limit. Vectorised over a frame.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from accord.reports.schema import DETAINERS

HOLD_LIMIT_HOURS = 48  # 8 CFR 287.7(d); the pack's own deadline column is used when it gives one

_ALLOWED = ("allow", "require")


def _allowed(action: str) -> pl.Expr:
    col = f"decision_{action}"
    return pl.col(col).is_in(_ALLOWED).fill_null(False)


def settle(frame: pl.DataFrame, period_end: datetime) -> pl.DataFrame:
    """Add ``disposition``, ``released_at``, ``hold_deadline``, ``hold_hours`` and ``_encountered_at``.

    ``frame`` holds FACTS, ``decision_*`` columns and the generator's latent ``_`` columns.
    """
    end = pl.lit(period_end).dt.cast_time_unit("us")
    eligible, received = pl.col("release_eligible_at"), pl.col("received_at")
    held = pl.col("requests_hold") & _allowed("hold_past_release")
    transfer = pl.col("requests_transfer") & _allowed("transfer_at_release")
    notify = pl.col("requests_notify") & _allowed("notify_release")
    deadline = (
        pl.col("_hold_until") if "_hold_until" in frame.columns else eligible + pl.duration(hours=HOLD_LIMIT_HOURS)
    )
    pickup_hours = pl.col("_pickup_hours")  # when ICE comes, it comes inside the limit (assumption)
    disposition = (
        pl.when(eligible < received).then(pl.lit("released_before_decision"))
        .when(pl.col("_lifted_at").is_not_null() & (pl.col("_lifted_at") < eligible)).then(pl.lit("lifted"))
        .when(eligible >= end).then(pl.lit("pending"))
        .when((held | transfer) & pl.col("_pickup")).then(pl.lit("transferred"))
        .when(held).then(pl.lit("expired"))
        .when(notify).then(pl.lit("notified_only"))
        .otherwise(pl.lit("declined"))
    )
    out = frame.with_columns(disposition.alias("disposition"), pl.when(held).then(deadline).alias("hold_deadline"))
    d = pl.col("disposition")
    released = (
        pl.when(d == "pending").then(None)
        .when((d == "transferred") & held).then(eligible + pl.duration(microseconds=(pickup_hours * 3_600_000_000).cast(pl.Int64)))
        .when(d == "expired").then(pl.col("hold_deadline"))
        .otherwise(eligible)
    )
    out = out.with_columns(released.alias("released_at"))
    out = out.with_columns(
        pl.when(d.is_in(["transferred", "expired"]) & held)
        .then((pl.col("released_at") - eligible).dt.total_microseconds() / 3_600_000_000)
        .alias("hold_hours"),
        pl.when(pl.col("_encounter") & ~d.is_in(["transferred", "pending"]))
        .then(pl.col("released_at") + pl.duration(microseconds=pl.col("_encounter_delay_us")))
        .alias("_encountered_at"),
    )
    return out.with_columns(pl.when(pl.col("_encountered_at") < end).then(pl.col("_encountered_at")).alias("_encountered_at"))


def history_columns(frame: pl.DataFrame, fact_names: tuple[str, ...]) -> pl.DataFrame:
    """The ``detainers`` history table: schema columns in order, then the FACTS not already in it."""
    cols = [pl.col(c).cast(t) for c, t in DETAINERS.items()]
    extra = [c for c in fact_names if c not in DETAINERS]
    return frame.select(cols + extra)
