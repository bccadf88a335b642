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
    #: what a cell counts, so that cells of different tables counting the very same units are tied
    #: (``quantity``): the units (``"detainers"``, all of the history's), what each key column
    #: restricts, and what each count column restricts (``("disposition", "declined")``). Tables
    #: without a population (statutory formats: people, one jurisdiction) tie with nothing.
    population: str = ""
    dims: dict[str, str] = field(default_factory=dict)
    measures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: key columns shown in the HTML by another column's text, with this one on hover: {shown: hover}
    hover: dict[str, str] = field(default_factory=dict)
    #: a jurisdiction's statutory format, named here (e.g. "New York City"): shown only when it has rows
    only_if_rows: str = ""

    def label(self, col: str) -> str:
        return self.labels.get(col, col.replace("_", " ").capitalize())

    def quantity(self, row: Mapping[str, Any], col: str) -> Quantity | None:
        """What cell ``(row, col)`` counts, as a value comparable across tables; None if undeclared.

        >>> spec = TableSpec("t", "", "", ("office",), ("received", "declined"), lambda h, p: None, population="detainers",
        ...                  dims={"office": "issuing_office"}, measures={"declined": ("disposition", "declined")})
        >>> spec.quantity({"office": "Total"}, "declined") == spec.quantity({"office": ""}, "declined")
        False
        """
        if not self.population or col not in self.counts:
            return None
        conds = [self.measures.get(col, ())] if self.measures.get(col) else []
        total = self.rows_additive and self.keys and row.get(self.keys[0]) == TOTAL_LABEL
        if not total:
            if any(k not in self.dims for k in self.keys):
                return None
            conds += [(self.dims[k], str(row.get(k))) for k in self.keys]
        return (self.population, frozenset(conds))


#: (population, conditions): two cells with the same Quantity count exactly the same units
Quantity = tuple[str, frozenset]


@dataclass(frozen=True)
class PublishedTable:
    """A table as published: hidden cells are null, ``hidden`` counts them."""

    spec: TableSpec
    frame: pl.DataFrame
    hidden: int
    threshold: int
    #: hidden because small (1 to threshold - 1); the rest of ``hidden`` are complements (secondary)
    primary: int = 0

    @property
    def secondary(self) -> int:
        return self.hidden - self.primary

    @property
    def cells(self) -> int:
        return self.frame.height * len(self.spec.counts)

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


def _hide(frame: pl.DataFrame, spec: TableSpec, hidden: set, tag: Any, threshold: int, suppress_zeros: bool = False) -> PublishedTable:
    low = 0 if suppress_zeros else 1
    primary = sum(1 for r in range(frame.height) for c in spec.counts if low <= int(frame[c][r]) < threshold)
    cols = []
    for c in spec.counts:
        mask = [(tag, r, c) in hidden for r in range(frame.height)]
        cols.append(pl.when(pl.Series(mask, dtype=pl.Boolean)).then(None).otherwise(pl.col(c)).alias(c))
    published = frame.with_columns(cols) if cols else frame
    mine = sum(1 for cell in hidden if cell[0] == tag)
    return PublishedTable(spec=spec, frame=published, hidden=mine, threshold=threshold, primary=primary)


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

    The same figure often appears in two tables (the Total row of detainers by period and by office,
    the held total of the hold-length table). If one table hid it as a complement and another printed
    it, the complement would protect nothing. So cells of different tables that count the very same
    units (``TableSpec.quantity``: same population, same conditions) are tied: once one of them is
    hidden, the others are hidden too, and protected in their own tables like small cells (so their
    sums do not give them back); repeated until nothing changes. Cells that merely hold equal numbers
    are not tied: hiding them would hide figures for nothing. Cells counting a headline figure are
    complements of last resort everywhere.
    """
    frames = {name: with_total(frame, specs[name]) for name, frame in raw.items()}
    systems = {name: _system(frame, specs[name], name) for name, frame in frames.items()}
    quantities = {name: cell_quantities(frame, specs[name], name) for name, frame in frames.items()}
    by_quantity: dict[Any, list] = {}
    for qs in quantities.values():
        for cell, q in qs.items():
            by_quantity.setdefault(q, []).append(cell)
    ties = [cells for cells in by_quantity.values() if len({c[0] for c in cells}) > 1]
    headline = {quantities[name].get(c) for name, (_, _, keep) in systems.items() for c in keep} - {None}
    keep = {name: {c for c, q in quantities[name].items() if q in headline} | own
            for name, (_, _, own) in systems.items()}
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
    return {name: _hide(frame, specs[name], hidden[name], name, threshold, suppress_zeros) for name, frame in frames.items()}


def cell_quantities(frame: pl.DataFrame, spec: TableSpec, tag: Any = None) -> dict[Any, Quantity]:
    """``(tag, row, column) -> Quantity`` for the cells of a table (before suppression) that declare one."""
    if not spec.population:
        return {}
    out = {}
    for r, row in enumerate(frame.iter_rows(named=True)):
        for c in spec.counts:
            q = spec.quantity(row, c)
            if q is not None:
                out[(tag, r, c)] = q
    return out


def hidden_quantities(published: Mapping[str, PublishedTable], raw: Mapping[str, pl.DataFrame]) -> set[Quantity]:
    """What the cells the tables hid count: no other part of the report may print the same quantity."""
    out: set[Quantity] = set()
    for name, table in published.items():
        full = with_total(raw[name], table.spec)
        for (_, r, c), q in cell_quantities(full, table.spec, name).items():
            if table.frame[c][r] is None:
                out.add(q)
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
