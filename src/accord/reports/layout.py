"""How history tables are laid out in Parquet, for every writer (synthetic, sample, ledger export).

Reports filter by jurisdiction (the statutory formats: NYC §9-131/§10-178/§14-154, California
§7284.6) and group by period. Rows sorted by jurisdiction, then by time, in row groups of
DuckDB's own size (122,880 rows, its unit of parallel work) let a reader skip whole row
groups on their min/max statistics instead of scanning every row; the sort key is also what
a partitioned lake would use. Sorting happens per written file (per chunk), so writers stay
in bounded memory. See docs/contracts.md, "History tables".
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from accord.errors import InputError

from .calendar import LOCAL_TIME_COLUMNS, UTC, offset_column, zone_for
from .schema import LIST_KEYS, LIST_SEPARATOR

#: bumped when the layout changes (benchmarks regenerate their histories)
LAYOUT_VERSION = 4  # 3: list grouping keys (schema.LIST_KEYS); 4: local UTC offsets (calendar.offset_column)
#: DuckDB's default row group size: one row group is one unit of its parallel scan
ROW_GROUP_ROWS = 122_880
#: columns a history table is sorted by, where it has them (first present wins in order)
SORT_KEYS = ("jurisdiction", "received_at", "requested_at", "due_by")


def sort_keys(frame: pl.DataFrame) -> list[str]:
    return [c for c in SORT_KEYS if c in frame.columns]


def laid_out(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in the history layout's row order (jurisdiction, then time)."""
    keys = sort_keys(frame)
    return frame.sort(keys, nulls_last=True, maintain_order=True) if keys else frame


def with_list_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the grouping key of each list column it has (``schema.LIST_KEYS``), where missing.

    The key is the items joined with ``LIST_SEPARATOR``, null for a null or empty list, so it
    splits back into exactly the list: an item holding the separator is refused here.
    """
    lists = [c for c in LIST_KEYS if c in frame.columns and LIST_KEYS[c] not in frame.columns]
    for c in lists:
        if frame.select(pl.col(c).list.eval(pl.element().str.contains(LIST_SEPARATOR, literal=True)).list.any().any()).item():
            raise InputError(f"an item of {c} contains the reserved separator U+001F", field=c)
    return frame.with_columns(
        pl.when(pl.col(c).list.len() > 0).then(pl.col(c).list.join(LIST_SEPARATOR)).alias(LIST_KEYS[c]) for c in lists
    )


def with_local_offsets(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with, beside each of its local-time columns, the row's UTC offset in minutes there.

    The zone is the row's jurisdiction's (``calendar.zone_for``); reports then count by local day
    with integer arithmetic instead of converting time zones (see ``calendar.by_period``).
    """
    todo = [c for c in LOCAL_TIME_COLUMNS if c in frame.columns and offset_column(c) not in frame.columns]
    if not todo or "jurisdiction" not in frame.columns:
        return frame
    zone_of = {j: zone_for(j) for j in frame["jurisdiction"].unique().to_list()}
    zone = pl.col("jurisdiction").replace_strict(zone_of, default=UTC, return_dtype=pl.String)
    columns = []
    for c in todo:
        ts = pl.col(c).dt.replace_time_zone("UTC") if frame.schema[c].time_zone is None else pl.col(c)  # type: ignore[attr-defined]
        offset: pl.Expr = pl.lit(0, dtype=pl.Int16)
        for z in sorted(set(zone_of.values()) - {UTC}):
            local = ts.dt.convert_time_zone(z)
            minutes = (local.dt.base_utc_offset() + local.dt.dst_offset()).dt.total_minutes().cast(pl.Int16)
            offset = pl.when(zone == z).then(minutes).otherwise(offset)
        columns.append(pl.when(pl.col(c).is_not_null()).then(offset).alias(offset_column(c)))
    return frame.with_columns(columns)


def write_history_parquet(frame: pl.DataFrame, path: Path, *, dictionary: bool = True) -> None:
    """Write one history file: list grouping keys and local offsets added (``with_list_keys``,
    ``with_local_offsets``), sorted, row groups of
    ``ROW_GROUP_ROWS``, min/max statistics, zstd.

    Dictionary encoding (pyarrow's writer) because ids, codes and offence lists repeat, and DuckDB
    reads dictionary-encoded lists about twice as fast as the plain encoding."""
    frame = laid_out(with_local_offsets(with_list_keys(frame)))
    if dictionary:
        frame.write_parquet(path, use_pyarrow=True, row_group_size=ROW_GROUP_ROWS, statistics=True,
                            pyarrow_options={"use_dictionary": True, "compression": "zstd"})
    else:
        frame.write_parquet(path, compression="zstd", statistics=True, row_group_size=ROW_GROUP_ROWS)
