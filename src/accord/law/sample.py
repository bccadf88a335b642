"""Random FACT frames for property tests and benchmarks (synthetic; not calibrated to anything).

Every fact may be null, issue days cluster around 2 Apr 2017 (form validity from the catalogue), received times cluster around the pack's change-of-law dates
(either side of local midnight) and look-back dates sit on and next to the 5-, 10- and
15-year boundaries counted from the received or the arrest day, so equality tests reach the edges where off-by-one errors live.
Vectorised with NumPy so ten million rows take seconds.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import polars as pl

from accord.domain.forms import CATALOGUE, RESCISSION_DAY

from .facts import FACT_SCHEMA
from .pack import Pack

_CHOICES = {
    "form": ["I-247A", "I-247", "I-247D", "I-247N", "I-247X"],
    "issuing_component": ["ICE", "CBP", "other"],
    "judicial_warrant_judge_kind": ["article_iii", "federal_magistrate", "state", "immigration_judge", "none"],
    "judicial_warrant_basis": ["federal_criminal_immigration", "federal_criminal_other", "state_criminal", "civil", "none"],
    "administrative_warrant_form": ["I-200", "I-205", "none"],
}
_US_PER_HOUR = 3_600_000_000


def random_facts(pack: Pack, n: int, seed: int, end: date = date(2027, 6, 30), null_rate: float = 0.1) -> pl.DataFrame:
    """``n`` FACT rows received between the day after the pack starts and ``end``."""
    rng = np.random.default_rng(seed)
    start_us = _us(pack.effective_from) + 24 * _US_PER_HOUR
    received = rng.integers(start_us, _us(end), n)
    edges = np.array([_us(b) for b in pack.boundaries[1:]], dtype=np.int64)
    if len(edges):
        near = rng.random(n) < 0.3
        jitter = rng.integers(-30 * _US_PER_HOUR, 30 * _US_PER_HOUR, n)
        received = np.where(near, np.maximum(edges[rng.integers(0, len(edges), n)] + jitter, start_us), received)
    received = received // 1_000_000 * 1_000_000
    cols: dict[str, pl.Series] = {}
    for name, dtype in FACT_SCHEMA.items():
        if name in _CHOICES:
            opts = _CHOICES[name]
            cols[name] = pl.Series(name, np.array(opts)[rng.integers(0, len(opts), n)], pl.String)
        elif dtype == pl.Boolean():
            cols[name] = pl.Series(name, rng.random(n) < rng.choice([0.3, 0.5, 0.7]), pl.Boolean)
        elif dtype == pl.Date():
            cols[name] = pl.Series(name, np.zeros(n, dtype=np.int32), pl.Int32)  # filled below
        else:
            cols[name] = pl.Series(name, received, pl.Int64)
    hours = rng.integers(0, 400 * _US_PER_HOUR, n)
    cols["release_eligible_at"] = pl.Series("release_eligible_at", received + hours)
    cols["arrested_at"] = pl.Series("arrested_at", received - rng.integers(0, 200 * _US_PER_HOUR, n))
    frame = pl.DataFrame(cols)
    ts = pl.Datetime("us", "UTC")
    frame = frame.with_columns(pl.col(c).cast(ts) for c, t in FACT_SCHEMA.items() if t == ts)
    # look-backs count from the received day (California) or the arrest day (New York City)
    anchor_arrest = pl.Series(rng.random(n) < 0.5)
    local_day = pl.when(anchor_arrest).then(pl.col("arrested_at").dt.date()).otherwise(pl.col("received_at").dt.date())
    date_cols = [c for c, t in FACT_SCHEMA.items() if t == pl.Date()]
    years = rng.choice([5, 10, 15], (len(date_cols), n))
    offset = rng.choice([-1, 0, 1, 2], (len(date_cols), n))
    anywhere = rng.integers(0, 7300, (len(date_cols), n))
    far = rng.random((len(date_cols), n)) < 0.3
    frame = frame.with_columns(
        pl.when(pl.Series(far[i]))
        .then(local_day - pl.duration(days=pl.Series(anywhere[i])))
        .otherwise(local_day.dt.offset_by(pl.format("-{}y", pl.Series(years[i]))) + pl.duration(days=pl.Series(offset[i])))
        .alias(c)
        for i, c in enumerate(date_cols)
    )
    # issue days: a third on either side of 2 Apr 2017 (the forms' rescission), the rest up to 30 days before receipt
    near_rescission = pl.Series(rng.random(n) < 0.3)
    frame = frame.with_columns(
        pl.when(near_rescission).then(pl.lit(RESCISSION_DAY) + pl.duration(days=pl.Series(rng.integers(-3, 4, n))))
        .otherwise(pl.col("received_at").dt.date() - pl.duration(days=pl.Series(rng.integers(0, 31, n))))
        .alias("issued_on")
    )
    nulls = {c: pl.Series(rng.random(n) < (null_rate * (0.2 if c == "received_at" else 1))) for c in FACT_SCHEMA}
    frame = frame.with_columns(pl.when(nulls[c]).then(None).otherwise(pl.col(c)).alias(c) for c in FACT_SCHEMA if c != "form_in_use_on_issue")
    # the form's validity as the catalogue gives it for the (possibly null) form and issue day, then nulls of its own
    in_use = pl.lit(None, pl.Boolean)
    for name, spec in CATALOGUE.items():
        ok = pl.lit(True)
        if spec.in_use_from is not None:
            ok = ok & (pl.col("issued_on") >= spec.in_use_from)
        if spec.in_use_until is not None:
            ok = ok & (pl.col("issued_on") < spec.in_use_until)
        in_use = pl.when(pl.col("form") == name.value).then(ok).otherwise(in_use)
    frame = frame.with_columns(pl.when(nulls["form_in_use_on_issue"]).then(None).otherwise(in_use).alias("form_in_use_on_issue"))
    return frame.select(pl.col(c).cast(t) for c, t in FACT_SCHEMA.items())


def _us(d: date) -> int:
    return int(datetime.combine(d, datetime.min.time(), timezone.utc).timestamp() * 1_000_000)
