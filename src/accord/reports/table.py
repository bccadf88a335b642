"""A report table: what its rows and columns mean, which sums it publishes, and how it is suppressed.

Queries (``accord.reports.queries``) return raw counts; ``publish`` turns them into
the table a person reads: rows sorted, a Total row where rows add up, and small
cells hidden (``accord.reports.suppress``) with the published sums taken into account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .suppress import DEFAULT_THRESHOLD, Constraint, suppress_cells

TOTAL_LABEL = "Total"


@dataclass(frozen=True)
class TableSpec:
    """One published table. ``query(history, params)`` returns an Ibis expression of keys + counts."""

    name: str
    title: str
    description: str
    keys: tuple[str, ...]
    counts: tuple[str, ...]
    query: Callable[..., Any]
    labels: dict[str, str] = field(default_factory=dict)
    #: rows partition the units counted (each unit in one row): publish a Total row
    rows_additive: bool = True
    #: ``total_col`` equals the sum of ``partition_cols`` in every row
    total_col: str | None = None
    partition_cols: tuple[str, ...] = ()
    legal_basis: str = ""
    legal_note: str = ""
    chart: str = "bar"  # "stacked" (partition_cols by row), "bar" (first count by row), "" (no chart)
    chart_keys: tuple[str, ...] = ()  # keys that label a chart's bars (default: all keys)
    #: polars step after the query (e.g. looking up a rule's citation in its pack)
    post: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    def label(self, col: str) -> str:
        return self.labels.get(col, col.replace("_", " ").capitalize())


@dataclass(frozen=True)
class PublishedTable:
    """A table as published: hidden cells are null, ``hidden`` counts them."""

    spec: TableSpec
    frame: pl.DataFrame
    hidden: int
    threshold: int

    @property
    def name(self) -> str:
        return self.spec.name


def _key_strings(raw: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    return raw.with_columns([pl.col(k).cast(pl.String).fill_null("(none)") for k in keys])


def publish(raw: pl.DataFrame, spec: TableSpec, threshold: int = DEFAULT_THRESHOLD, *, suppress_zeros: bool = False) -> PublishedTable:
    """Sort, add the Total row, and hide small cells (with complementary suppression)."""
    frame = _key_strings(raw.select([*spec.keys, *spec.counts]), spec.keys)
    frame = frame.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in spec.counts]).sort(list(spec.keys))
    if spec.rows_additive and spec.counts:
        total = {k: "" for k in spec.keys}
        if spec.keys:
            total[spec.keys[0]] = TOTAL_LABEL
        total.update({c: int(frame[c].sum()) for c in spec.counts})
        frame = pl.concat([frame, pl.DataFrame([total], schema=frame.schema)])
    n = frame.height
    values = {(r, c): int(frame[c][r]) for r in range(n) for c in spec.counts}
    constraints: list[Constraint] = []
    if spec.rows_additive and n > 1:
        body = range(n - 1)
        constraints += [Constraint((n - 1, c), tuple((r, c) for r in body)) for c in spec.counts]
    if spec.total_col and spec.partition_cols:
        constraints += [Constraint((r, spec.total_col), tuple((r, c) for c in spec.partition_cols)) for r in range(n)]
    hidden = suppress_cells(values, constraints, threshold, suppress_zeros=suppress_zeros)
    cols = []
    for c in spec.counts:
        mask = [(r, c) in hidden for r in range(n)]
        cols.append(pl.when(pl.Series(mask, dtype=pl.Boolean)).then(None).otherwise(pl.col(c)).alias(c))
    published = frame.with_columns(cols) if cols else frame
    return PublishedTable(spec=spec, frame=published, hidden=len(hidden), threshold=threshold)
