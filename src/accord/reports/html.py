"""One self-contained HTML page: every table, its chart, its legal basis, and the stamp to verify it.

The Vega, Vega-Lite and vega-embed JavaScript comes from the ``vl-convert-python``
package and is inlined once, so the page opens with no network.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from .table import TOTAL_LABEL

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


@dataclass
class HtmlTable:
    name: str
    title: str
    description: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    total_row: bool
    chart: dict[str, Any] | None = None
    legal_basis: str = ""
    legal_note: str = ""
    hidden: int = 0
    extra: bool = False
    empty_note: str = ""
    row_classes: list[str] = field(default_factory=list)


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


TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
  :root { --ink:#1d2733; --muted:#5b6b7c; --line:#d9e1ea; --accent:#1f4e79; --bg:#f6f8fb; }
  * { box-sizing: border-box; }
  body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
  header { background:var(--accent); color:#fff; padding:28px 40px 22px; }
  header h1 { margin:0 0 6px; font-size:26px; font-weight:600; }
  header p { margin:0; opacity:.9; }
  main { max-width:1100px; margin:0 auto; padding:24px 40px 60px; }
  .card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:20px 24px; margin:0 0 22px; }
  .stamp dl { display:grid; grid-template-columns:max-content 1fr; gap:4px 18px; margin:8px 0 0; }
  .stamp dt { color:var(--muted); } .stamp dd { margin:0; font-family:ui-monospace, monospace; word-break:break-all; }
  nav ol { columns:2; margin:6px 0 0; padding-left:20px; }
  h2 { font-size:19px; margin:0 0 4px; }
  .desc { color:var(--muted); margin:0 0 10px; }
  .law { font-size:13px; margin:0 0 10px; } .law b { color:var(--accent); }
  .note { font-size:13px; background:#fff8e6; border-left:3px solid #e6a700; padding:6px 10px; margin:0 0 10px; }
  .chart { margin:8px 0 14px; overflow-x:auto; }
  table { border-collapse:collapse; width:100%; font-size:13.5px; }
  th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
  th { background:#eef3f8; font-weight:600; }
  td.n, th.n { text-align:right; font-variant-numeric: tabular-nums; }
  tr.total td { font-weight:600; border-top:2px solid var(--ink); }
  td.s { color:#9aa7b4; font-style:italic; }
  td:first-child { white-space:nowrap; }
  .figures { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:12px; margin-top:10px; }
  .figure { border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
  .figure b { display:block; font-size:24px; color:var(--accent); font-variant-numeric: tabular-nums; }
  .figure span { color:var(--muted); font-size:13px; }
  .scroll { max-height:520px; overflow:auto; }
  footer { color:var(--muted); font-size:13px; }
  code { background:#eef3f8; padding:1px 4px; border-radius:3px; }
</style>
<script>{{ bundle|safe }}</script>
</head>
<body>
<header>
  <h1>{{ title }}</h1>
  <p>{{ subtitle }}</p>
</header>
<main>
<section class="card stamp" id="source">
  <h2>Where these numbers come from</h2>
  <p class="desc">Every table was computed from the source below. Anyone holding it can recompute every figure:
  <code>{{ verify_command }}</code>.
  Cells marked <b>{{ mark }}</b> are suppressed: counts from 1 to {{ threshold - 1 }} are hidden, and so is at least one
  more cell wherever a published total would give a hidden one away.</p>
  <dl>{% for k, v in stamp %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl>
</section>
{% if figures %}<section class="card" id="key-figures"><h2>Key figures</h2>
  <p class="desc">Totals over the whole history, from the first table below.</p>
  <div class="figures">{% for label, value in figures %}<div class="figure"><b>{{ value }}</b><span>{{ label }}</span></div>{% endfor %}</div>
</section>{% endif %}
<nav class="card"><h2>Tables</h2><ol>{% for t in tables %}<li><a href="#{{ t.name }}">{{ t.title }}</a></li>{% endfor %}</ol></nav>
{% for t in tables %}
<section class="card" id="{{ t.name }}">
  <h2>{{ t.title }}</h2>
  {% if t.description %}<p class="desc">{{ t.description }}</p>{% endif %}
  {% if t.legal_basis %}<p class="law"><b>Law:</b> {{ t.legal_basis }}</p>{% endif %}
  {% if t.legal_note %}<p class="note">{{ t.legal_note }}</p>{% endif %}
  {% if t.empty_note %}<p class="desc"><i>{{ t.empty_note }}</i></p>{% else %}
  {% if t.chart %}<div class="chart" id="chart-{{ t.name }}" data-chart="{{ t.name }}"></div>{% endif %}
  <div class="scroll"><table>
    <thead><tr>{% for c in t.columns %}<th{% if t.numeric[loop.index0] %} class="n"{% endif %}>{{ c }}</th>{% endfor %}</tr></thead>
    <tbody>{% for row in t.rows %}<tr{% if t.row_classes[loop.index0] %} class="{{ t.row_classes[loop.index0] }}"{% endif %}>{% for v in row %}<td class="{% if t.numeric[loop.index0] %}n{% endif %}{% if v == mark and t.numeric[loop.index0] %} s{% endif %}">{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody>
  </table></div>
  {% if t.hidden %}<p class="law">{{ t.hidden }} cell{{ 's' if t.hidden != 1 }} suppressed.</p>{% endif %}
  {% endif %}
</section>
{% endfor %}
<footer>Generated by Accord {{ version }} with suppression threshold {{ threshold }}. CSV and JSON of every table sit
beside this file, each stamped with the same source.</footer>
</main>
<script>
const ACCORD_CHARTS = {{ charts|safe }};
const accordErrors = [];
window.addEventListener("error", (e) => { accordErrors.push(String(e.message)); document.body.dataset.chartErrors = accordErrors.length; });
Promise.allSettled(Object.entries(ACCORD_CHARTS).map(([name, spec]) =>
  vegaEmbed("#chart-" + name, spec, {actions: false, renderer: "svg"})
    .then(() => { document.getElementById("chart-" + name).dataset.rendered = "1"; })
    .catch((err) => { accordErrors.push(name + ": " + err); console.error(err); throw err; })
)).then((results) => {
  document.body.dataset.chartsRendered = results.filter((r) => r.status === "fulfilled").length;
  document.body.dataset.chartErrors = accordErrors.length;
});
</script>
</body>
</html>
"""
)


def render_html(
    *, title: str, subtitle: str, stamp: dict[str, Any], threshold: int, tables: list[HtmlTable], verify_command: str, version: str,
    figures: list[tuple[str, str]] | None = None,
) -> str:
    charts = {t.name: t.chart for t in tables if t.chart and not t.empty_note}
    for t in tables:
        if not t.row_classes:
            t.row_classes = ["total" if t.total_row and r and r[0] == TOTAL_LABEL else "" for r in t.rows]
    stamp_rows = [(k.replace("_", " "), v if isinstance(v, str) else json.dumps(v)) for k, v in stamp.items()]
    return TEMPLATE.render(
        title=title,
        subtitle=subtitle,
        stamp=stamp_rows,
        threshold=threshold,
        tables=tables,
        charts=_script_json(charts),
        bundle=vega_bundle(),
        mark=SUPPRESSED_MARK,
        verify_command=verify_command,
        version=version,
        figures=figures or [],
    )
