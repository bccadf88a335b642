"""A report table: what its rows and columns mean, which sums it publishes, and how it is suppressed.

Queries (``accord.reports.queries``) return raw counts; ``publish`` turns them into
the table a person reads: rows sorted, a Total row where rows add up, and small
cells hidden (``accord.reports.suppress``) with the published sums taken into account.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from accord.errors import InputError

from .suppress import DEFAULT_THRESHOLD, Constraint, suppress_cells

TOTAL_LABEL = "Total"
#: a key the history does not hold (a ledger without bookings has no receiving agency)
UNKNOWN_LABEL = "(unknown)"


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
    #: columns whose Total is a headline figure (complements of last resort)
    headline: tuple[str, ...] = ()
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
    return raw.with_columns([pl.col(k).cast(pl.String).fill_null(UNKNOWN_LABEL) for k in keys])


def with_total(raw: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """The table before suppression: keys as strings, counts as integers, sorted, with its Total row."""
    frame = _key_strings(raw.select([*spec.keys, *spec.counts]), spec.keys)
    frame = frame.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in spec.counts]).sort(list(spec.keys))
    if spec.rows_additive and spec.counts:
        total = {k: "" for k in spec.keys}
        if spec.keys:
            total[spec.keys[0]] = TOTAL_LABEL
        total.update({c: int(frame[c].sum()) for c in spec.counts})
        frame = pl.concat([frame, pl.DataFrame([total], schema=frame.schema)])
    return frame


def _system(frame: pl.DataFrame, spec: TableSpec, tag: Any = None) -> tuple[dict, list[Constraint], set]:
    """Cells (``(tag, row, column)``), the sums the table publishes, and its headline cells."""
    n = frame.height
    values = {(tag, r, c): int(frame[c][r]) for r in range(n) for c in spec.counts}
    constraints: list[Constraint] = []
    if spec.rows_additive and n > 1:
        body = range(n - 1)
        constraints += [Constraint((tag, n - 1, c), tuple((tag, r, c) for r in body)) for c in spec.counts]
    if spec.total_col and spec.partition_cols:
        constraints += [Constraint((tag, r, spec.total_col), tuple((tag, r, c) for c in spec.partition_cols))
                        for r in range(n)]
    keep = {(tag, n - 1, c) for c in spec.headline} if spec.rows_additive and n > 1 else set()
    return values, constraints, keep


def _hide(frame: pl.DataFrame, spec: TableSpec, hidden: set, tag: Any, threshold: int) -> PublishedTable:
    cols = []
    for c in spec.counts:
        mask = [(tag, r, c) in hidden for r in range(frame.height)]
        cols.append(pl.when(pl.Series(mask, dtype=pl.Boolean)).then(None).otherwise(pl.col(c)).alias(c))
    published = frame.with_columns(cols) if cols else frame
    mine = sum(1 for cell in hidden if cell[0] == tag)
    return PublishedTable(spec=spec, frame=published, hidden=mine, threshold=threshold)


def _suppress(values, constraints, threshold, suppress_zeros, what, *, keep=(), sensitive=(), elsewhere=()) -> set:
    seen = {v for v in elsewhere if v >= threshold}
    known = {cell for cell, v in values.items() if v in seen}
    try:
        return suppress_cells(values, constraints, threshold, suppress_zeros=suppress_zeros, known=known, keep=keep,
                              sensitive=sensitive)
    except ValueError as exc:
        raise InputError(f"{what}: {exc}", source=what, field="elsewhere") from exc


def publish_all(
    raw: Mapping[str, pl.DataFrame], specs: Mapping[str, TableSpec], threshold: int = DEFAULT_THRESHOLD, *,
    suppress_zeros: bool = False,
) -> dict[str, PublishedTable]:
    """Publish the tables of one report together: a reader holds all of them.

    The same figure often appears in two tables (the Total row of detainers by period and by office, the
    transferred total in the statutory formats). If one table hid it as a complement and another printed
    it, the complement would protect nothing. So cells of different tables with the same value (at least
    the threshold) are tied: once one of them is hidden, the others are hidden too, and protected in their
    own tables like small cells (so their sums do not give them back); repeated until nothing changes.
    Equal values are a superset of the figures that really are the same, so this errs on the side of
    hiding. Cells equal to a headline figure are complements of last resort everywhere.
    """
    frames = {name: with_total(frame, specs[name]) for name, frame in raw.items()}
    systems = {name: _system(frame, specs[name], name) for name, frame in frames.items()}
    by_value: dict[int, list] = {}
    for values, _, _ in systems.values():
        for cell, v in values.items():
            if v >= threshold:
                by_value.setdefault(v, []).append(cell)
    ties = [cells for cells in by_value.values() if len({c[0] for c in cells}) > 1]
    headline = {values[c] for values, _, keep in systems.values() for c in keep}
    keep = {name: {c for c, v in values.items() if v in headline and v >= threshold} | own
            for name, (values, _, own) in systems.items()}
    forced: dict[str, set] = {name: set() for name in frames}
    hidden: dict[str, set] = {}
    todo = set(frames)
    while todo:
        for name in sorted(todo):
            values, constraints, _ = systems[name]
            hidden[name] = _suppress(values, constraints, threshold, suppress_zeros, f"table {name}",
                                     keep=keep[name], sensitive=forced[name])
        todo = set()
        for cells in ties:
            if any(c in hidden[c[0]] for c in cells):
                for c in cells:
                    if c not in hidden[c[0]]:
                        forced[c[0]].add(c)
                        todo.add(c[0])
    return {name: _hide(frame, specs[name], hidden[name], name, threshold) for name, frame in frames.items()}


def hidden_figures(published: Mapping[str, PublishedTable], raw: Mapping[str, pl.DataFrame]) -> set[int]:
    """The values of the cells the tables hid: no other part of the report may print them."""
    out: set[int] = set()
    for name, table in published.items():
        full = with_total(raw[name], table.spec)
        for c in table.spec.counts:
            out.update(int(v) for v, shown in zip(full[c], table.frame[c], strict=True) if shown is None)
    return out


def publish(
    raw: pl.DataFrame, spec: TableSpec, threshold: int = DEFAULT_THRESHOLD, *, suppress_zeros: bool = False,
    elsewhere: Collection[int] = (),
) -> PublishedTable:
    """Sort, add the Total row, and hide small cells (with complementary suppression) of one table.

    ``elsewhere``: values published outside this table. A cell whose value is among them may be that
    very figure, known to a reader whatever this table hides, so it is never used as a complement (an
    over-approximation of what a reader can match up). A report publishes its tables with ``publish_all``.
    """
    frame = with_total(raw, spec)
    values, constraints, keep = _system(frame, spec, spec.name)
    hidden = _suppress(values, constraints, threshold, suppress_zeros, f"table {spec.name}", keep=keep, elsewhere=elsewhere)
    return _hide(frame, spec, hidden, spec.name, threshold)
