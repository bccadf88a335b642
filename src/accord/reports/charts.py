"""Vega-Lite charts (Altair) of published tables; hidden cells are left out, never drawn as zero."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from .table import TOTAL_LABEL, PublishedTable

PALETTE = ["#1f4e79", "#2e86ab", "#8fc1e3", "#c0392b", "#e67e22", "#7f8c8d", "#b8b8b8", "#6c3483"]
WIDTH = 640


def _row_label(frame: pl.DataFrame, keys: tuple[str, ...]) -> pl.Expr:
    if len(keys) == 1:
        return pl.col(keys[0])
    return pl.concat_str([pl.col(k) for k in keys], separator=" · ")


def chart_spec(table: PublishedTable) -> dict[str, Any] | None:
    """A Vega-Lite spec for the table, or None when there is nothing to draw."""
    spec = table.spec
    if not spec.chart or not spec.counts or not spec.keys:
        return None
    keys = spec.chart_keys or spec.keys
    frame = table.frame.filter(pl.col(spec.keys[0]) != TOTAL_LABEL).with_columns(row=_row_label(table.frame, keys))
    if frame.height == 0:
        return None
    row_title = " · ".join(spec.label(k) for k in keys)
    if spec.chart == "stacked" and spec.partition_cols:
        cols = list(spec.partition_cols)
        long = frame.select(["row", *cols]).unpivot(index="row", on=cols, variable_name="measure", value_name="count")
        long = long.drop_nulls("count").filter(pl.col("count") > 0)
        if long.height == 0:
            return None  # everything hidden or zero: an empty chart says nothing
        long = long.with_columns(measure=pl.col("measure").replace_strict({c: spec.label(c) for c in cols}))
        order = [spec.label(c) for c in cols]
        base = alt.Chart(alt.Data(values=long.to_dicts()))
        horizontal = spec.keys[0] != "period"
        in_order = frame["row"].to_list()  # the table's order (periods in time order)
        enc_row = alt.Y("row:N", title=row_title, sort=in_order) if horizontal else alt.X("row:N", title=row_title, sort=in_order)
        enc_val = (alt.X if horizontal else alt.Y)("count:Q", title="Count", stack="zero")
        chart = base.mark_bar().encode(
            enc_row,
            enc_val,
            color=alt.Color("measure:N", title=None, sort=order, scale=alt.Scale(domain=order, range=PALETTE[: len(order)])),
            order=alt.Order("measure_order:Q"),
            tooltip=[alt.Tooltip("row:N", title=row_title), alt.Tooltip("measure:N", title="Measure"),
                     alt.Tooltip("count:Q", title="Count", format=",")],
        ).transform_calculate(measure_order=f"indexof({order!r}, datum.measure)")
    else:
        col = spec.counts[0]
        data = frame.select(["row", col]).drop_nulls(col).rename({col: "count"})
        if data.filter(pl.col("count") > 0).height == 0:
            return None
        chart = alt.Chart(alt.Data(values=data.to_dicts())).mark_bar(color=PALETTE[1]).encode(
            alt.Y("row:N", title=row_title, sort="-x"),
            alt.X("count:Q", title=spec.label(col)),
            tooltip=[alt.Tooltip("row:N", title=row_title), alt.Tooltip("count:Q", title=spec.label(col), format=",")],
        )
    rows = frame.height
    height = max(120, min(22 * rows, 600)) if (spec.chart != "stacked" or spec.keys[0] != "period") else 260
    return chart.properties(width=WIDTH, height=height).to_dict()
