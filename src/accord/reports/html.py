"""What a report page is made of: extra sections (``Section``), cell text, and the inlined Vega bundle.

The Vega, Vega-Lite and vega-embed JavaScript comes from the ``vl-convert-python``
package and is inlined once, so the page opens with no network. The page itself is
``accord.reports.page``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl


SUPPRESSED_MARK = "s"


@dataclass(frozen=True)
class Section:
    """Something extra to show (e.g. the demo's published-vs-recomputed table): a titled polars frame.

    Every figure of a section counts as published for the tables' suppression (a table never hides a
    complement whose value a section shows). ``counts`` are the columns that count people: a row with a
    count below the threshold has all its counts hidden (so a difference column gives nothing away).
    Sums inside a section are the caller's to protect (suppress with ``accord.reports.suppress``).
    """

    name: str
    title: str
    frame: pl.DataFrame
    description: str = ""
    chart: dict[str, Any] | None = None  # a Vega-Lite spec, e.g. ``altair_chart.to_dict()``
    counts: tuple[str, ...] = ()
    #: cells that count the same units as a table's cell (``TableSpec.quantity``): ``(row, column) -> quantity``;
    #: hidden wherever the tables hid that quantity
    quantities: dict[tuple[int, str], Any] = field(default_factory=dict)
    #: how ``accord report verify`` recomputes this section from the source (``accord.reports.sections``)
    recipe: dict[str, Any] | None = None
    #: column labels for people (default: the column name)
    labels: dict[str, str] = field(default_factory=dict)
    #: the columns the HTML shows, in order (default: all; the CSV and JSON always have all)
    html_columns: tuple[str, ...] = ()
    #: {shown column: column whose value is the shown cell's hover text (and is not shown itself)}
    hover: dict[str, str] = field(default_factory=dict)


@functools.cache
def vega_bundle() -> str:
    """The vega-embed bundle (with Vega and Vega-Lite) that ``vl-convert-python`` ships.

    Bundling takes seconds, so the result is cached per vl-convert version under
    ``$ACCORD_CACHE_DIR`` (default ``~/.cache/accord``); the file is only a cache.
    """
    import os
    from importlib.metadata import version

    import vl_convert

    cache_dir = Path(os.environ.get("ACCORD_CACHE_DIR") or Path.home() / ".cache" / "accord")
    path = cache_dir / f"vega-embed-bundle-vlc{version('vl-convert-python')}.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = vl_convert.javascript_bundle()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(bundle, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: bundle again next time
    return bundle


def _cell(value: Any, numeric: bool) -> str:
    if value is None:
        return SUPPRESSED_MARK if numeric else ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def html_rows(frame: pl.DataFrame, numeric_cols: set[str]) -> tuple[list[list[str]], list[bool]]:
    numeric = [c in numeric_cols or frame.schema[c].is_numeric() for c in frame.columns]
    rows = [[_cell(v, n) for v, n in zip(row, numeric, strict=True)] for row in frame.iter_rows()]
    return rows, numeric


def _script_json(obj: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(obj, separators=(",", ":")).replace("</", "<\\/")
