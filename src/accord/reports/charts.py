"""Vega-Lite charts (Altair) of published tables; hidden cells are never drawn as zero, and never silently.

A row whose every figure is suppressed has no bar: the chart says "n rows not shown (suppressed)".
A row with some figures suppressed keeps the bars it has and is marked with an asterisk. Every other
row of the table is on the chart (a zero is an empty band), so a chart has as many rows as its table
minus those it names as not shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl

from .table import TOTAL_LABEL, PublishedTable

PALETTE = ["#1f4e79", "#2e86ab", "#8fc1e3", "#c0392b", "#e67e22", "#7f8c8d", "#b8b8b8", "#6c3483"]
WIDTH = 600
PART_MARK = " *"


@dataclass(frozen=True)
class Chart:
    """A chart and what it leaves out: ``rows`` of the table, ``not_shown`` of them wholly suppressed."""

    spec: dict[str, Any]
    rows: int
    not_shown: int
    partial: int


def _labels(frame: pl.DataFrame, keys: tuple[str, ...]) -> list[str]:
    """One label per row (keys joined), made unique so that no two rows share a band."""
    seen: dict[str, int] = {}
    out = []
    for row in frame.select(keys).iter_rows():
        label = " · ".join("" if v is None else str(v).replace("_", " ") for v in row)
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def chart_for(table: PublishedTable) -> Chart | None:
    """The table's chart, or None when it has nothing to draw."""
    spec = table.spec
    if not spec.chart or not spec.counts or not spec.keys:
        return None
    frame = table.frame.filter(pl.col(spec.keys[0]) != TOTAL_LABEL) if spec.rows_additive else table.frame
    if frame.height == 0:
        return None
    cols = list(spec.partition_cols) if spec.chart == "stacked" and spec.partition_cols else [spec.counts[0]]
    hidden = frame.select(pl.sum_horizontal([pl.col(c).is_null() for c in cols]).alias("h"))["h"].to_list()
    drawn = frame.select(pl.sum_horizontal([pl.col(c).fill_null(0) for c in cols]).alias("v"))["v"].to_list()
    # a row with suppressed figures and nothing else to draw would look like a zero: it is not shown, and said so
    gone = [h > 0 and v == 0 for h, v in zip(hidden, drawn, strict=True)]
    part = [h > 0 and not g for h, g in zip(hidden, gone, strict=True)]
    labels = [lab + (PART_MARK if p else "") for lab, p in zip(_labels(frame, spec.chart_keys or spec.keys), part, strict=True)]
    frame = frame.with_columns(row=pl.Series(labels, dtype=pl.String)).filter(~pl.Series(gone))
    if frame.height == 0 or frame.select(pl.sum_horizontal([pl.col(c).fill_null(0) for c in cols]).sum()).item() == 0:
        return None  # everything hidden or zero: an empty chart says nothing
    domain = frame["row"].to_list()  # the table's order (periods in time order), zero rows included
    row_title = " · ".join(spec.label(k) for k in (spec.chart_keys or spec.keys))
    horizontal = spec.keys[0] != "period"
    axis = alt.Axis(labelLimit=300, title=None) if horizontal else alt.Axis(labelAngle=-45)  # the table's header names the rows
    enc_row = (alt.Y if horizontal else alt.X)("row:N", title=row_title, sort=domain, scale=alt.Scale(domain=domain), axis=axis)
    if len(cols) > 1:
        long = frame.select(["row", *cols]).unpivot(index="row", on=cols, variable_name="measure", value_name="count")
        long = long.drop_nulls("count").filter(pl.col("count") > 0)
        long = long.with_columns(measure=pl.col("measure").replace_strict({c: spec.label(c) for c in cols}))
        order = [spec.label(c) for c in cols]
        chart = alt.Chart(alt.Data(values=long.to_dicts())).mark_bar().encode(
            enc_row,
            (alt.X if horizontal else alt.Y)("count:Q", title="Count", stack="zero"),
            color=alt.Color("measure:N", title=None, sort=order, scale=alt.Scale(domain=order, range=PALETTE[: len(order)]),
                            legend=alt.Legend(orient="bottom", columns=4, labelLimit=260)),
            order=alt.Order("measure_order:Q"),
            tooltip=[alt.Tooltip("row:N", title=row_title), alt.Tooltip("measure:N", title="Measure"),
                     alt.Tooltip("count:Q", title="Count", format=",")],
        ).transform_calculate(measure_order=f"indexof({order!r}, datum.measure)")
    else:
        col = cols[0]
        data = frame.select(["row", col]).drop_nulls(col).rename({col: "count"})
        chart = alt.Chart(alt.Data(values=data.to_dicts())).mark_bar(color=PALETTE[1]).encode(
            enc_row,
            alt.X("count:Q", title=spec.label(col)),
            tooltip=[alt.Tooltip("row:N", title=row_title), alt.Tooltip("count:Q", title=spec.label(col), format=",")],
        )
    n = len(domain)
    height = (22 * n if n <= 40 else 14 * n) if horizontal else 260
    return Chart(spec=chart.properties(width=WIDTH, height=max(80, height)).to_dict(), rows=len(gone),
                 not_shown=sum(gone), partial=sum(part))


def chart_spec(table: PublishedTable) -> dict[str, Any] | None:
    """Just the Vega-Lite spec of :func:`chart_for`."""
    chart = chart_for(table)
    return None if chart is None else chart.spec
