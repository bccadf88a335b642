"""Likely duplicates, flagged the way the Deportation Data Project flags them, kept and marked.

DDP marks a row ``duplicate_likely`` when another row has the same anonymised identifier and the
same prepare date (DOMAIN.md §7 [D15]; its older note says "another within 24 h" [D11], which at a
date's resolution is the same day). Rows without an identifier are in no group. Every row of a
group is flagged (``likely_duplicate``, as DDP does); every row but the first in file order also
names that first row (``duplicate_of``), so a total that counts rows whose ``duplicate_of`` is null
counts each group once, and one that counts every row counts what the release holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

KEY = ("person_key", "prepared_on")
#: One number per row that sorts as (sheet_no, row) do: the file order.
FILE_ORDER = pl.col("sheet_no").cast(pl.Int64) * (1 << 40) + pl.col("row").cast(pl.Int64)


@dataclass(frozen=True)
class DuplicateCounts:
    rows: int  # rows in a group of two or more (the issue's ``likely_duplicates``)
    groups: int
    repeats: int  # rows that name an earlier row of their group (rows - groups)


def mark_duplicates(frame: pl.DataFrame) -> tuple[pl.DataFrame, DuplicateCounts]:
    """``frame`` (mapped rows of a whole file, with ``sheet``, ``sheet_no``, ``row``, ``person_key``,
    ``prepared_on``) in file order, with ``likely_duplicate`` and ``duplicate_of`` added."""
    in_order = frame.select((FILE_ORDER.diff() > 0).all()).item()
    if not in_order:  # the importer's rows come in file order already; sorting them again would copy every column
        frame = frame.sort("sheet_no", "row", maintain_order=True)
    frame = frame.with_row_index("__i")
    groups = (frame.filter(pl.col("person_key").is_not_null()).group_by(KEY)
              .agg(pl.len().alias("__n"), pl.col("__i").min().alias("__first")).filter(pl.col("__n") > 1))
    firsts = frame.select(pl.col("__i").alias("__first"),
                          pl.struct(row=pl.col("row"), sheet=pl.col("sheet"), sheet_no=pl.col("sheet_no")).alias("__of"))
    marked = (frame.join(groups, on=list(KEY), how="left", maintain_order="left")
              .join(firsts, on="__first", how="left", maintain_order="left")
              .with_columns(pl.col("__n").is_not_null().alias("likely_duplicate"),
                            pl.when(pl.col("__n").is_not_null() & (pl.col("__i") != pl.col("__first")))
                            .then(pl.col("__of")).alias("duplicate_of"))
              .drop("__i", "__n", "__first", "__of"))
    rows = int(groups["__n"].sum()) if groups.height else 0
    return marked, DuplicateCounts(rows, groups.height, rows - groups.height)
