"""The report page for people: key figures in plain words first, then each table with its chart and law,
and where the numbers come from (with how to verify them) at the end.

Rules are shown by their summary and citation (the rule id on hover, and in the CSV); headers are
words; codes in key cells (``civil_immigration_enforcement``) are shown as words; tables wrap rather
than scroll; statutory formats appear only for jurisdictions the history holds. One self-contained
file: the Vega JavaScript is inlined (``html.vega_bundle``), so it opens with no network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import jinja2
import polars as pl

from .catalog import MAIN_TABLE
from .charts import PART_MARK, chart_for
from .html import SUPPRESSED_MARK, Section, _cell, _script_json, vega_bundle
from .table import TOTAL_LABEL, UNKNOWN_LABEL, PublishedTable

#: names people use for jurisdiction codes (longest prefix wins); others are shown as their code
JURISDICTION_NAMES = {
    "US": "United States (federal)", "US-NY": "New York State", "US-NY-NYC": "New York City", "US-CA": "California",
    "US-TX": "Texas", "US-IL": "Illinois", "US-IL-COOK": "Cook County, Illinois", "US-MA": "Massachusetts",
}
_CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def jurisdiction_name(code: str) -> str:
    """>>> jurisdiction_name("US-CA-LAC"), jurisdiction_name("US-NY-NYC")
    ('California (US-CA-LAC)', 'New York City')
    """
    if code in JURISDICTION_NAMES:
        return JURISDICTION_NAMES[code]
    for prefix in sorted(JURISDICTION_NAMES, key=len, reverse=True):
        if code.startswith(prefix + "-"):
            return f"{JURISDICTION_NAMES[prefix]} ({code})"
    return code


def words(value: str) -> str:
    """A snake_case code as words, anything else as it is.

    >>> words("civil_immigration_enforcement"), words("nyc_doc.hold.decline"), words("I-247A")
    ('civil immigration enforcement', 'nyc_doc.hold.decline', 'I-247A')
    """
    return value.replace("_", " ") if _CODE.match(value) else value


@dataclass
class Block:
    """One table or section as the page shows it."""

    name: str
    title: str
    description: str
    columns: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    titles: list[list[str]]
    row_classes: list[str]
    legal_basis: str = ""
    legal_note: str = ""
    primary: int = 0
    secondary: int = 0
    chart: dict[str, Any] | None = None
    chart_rows: int = 0
    not_shown: int = 0
    partial: int = 0
    empty_note: str = ""
    extra: bool = False
    checked: bool = True


def _block(name: str, title: str, description: str, frame: pl.DataFrame, labels: dict[str, str], counts: set[str],
           hover: dict[str, str], columns: tuple[str, ...] = (), keys: tuple[str, ...] = ()) -> Block:
    shown = [c for c in (columns or frame.columns) if c not in hover.values()]
    numeric = [c in counts or frame.schema[c].is_numeric() for c in shown]
    rows, titles, classes = [], [], []
    for r in frame.iter_rows(named=True):
        cells, tips = [], []
        for c, n in zip(shown, numeric, strict=True):
            v = r[c]
            text = _cell(v, n)
            cells.append(words(text) if (c in keys and isinstance(v, str)) else text)
            tips.append(str(r[hover[c]]) if c in hover and r.get(hover[c]) is not None else "")
        rows.append(cells)
        titles.append(tips)
        classes.append("total" if keys and r.get(keys[0]) == TOTAL_LABEL else "")
    return Block(name=name, title=title, description=description, columns=[labels.get(c, c) for c in shown], numeric=numeric,
                 rows=rows, titles=titles, row_classes=classes)


def table_block(t: PublishedTable) -> Block:
    spec = t.spec
    b = _block(t.name, spec.title, spec.description, t.frame, {c: spec.label(c) for c in t.frame.columns}, set(spec.counts),
               spec.hover, keys=spec.keys)
    b.legal_basis, b.legal_note, b.primary, b.secondary = spec.legal_basis, spec.legal_note, t.primary, t.secondary
    body = t.frame.height - (1 if spec.rows_additive and t.frame.height else 0)
    if t.frame.height == 0 or (spec.rows_additive and body == 0):
        b.empty_note = "No records of this kind in the history."
    else:
        chart = chart_for(t)
        if chart is not None:
            b.chart, b.chart_rows, b.not_shown, b.partial = chart.spec, chart.rows, chart.not_shown, chart.partial
    return b


def section_block(sec: Section, checked: bool) -> Block:
    b = _block(sec.name, sec.title, sec.description, sec.frame, sec.labels, set(sec.counts), sec.hover, sec.html_columns)
    b.chart, b.extra, b.checked = sec.chart, True, checked
    b.primary = sum(1 for c in sec.counts if c in sec.frame.columns for v in sec.frame[c] if v is None)
    if sec.frame.height == 0:
        b.empty_note = "Nothing to show: the history holds no detainers."
    return b


FIGURE_WORDS = {
    "received": ("detainers received", "requests from immigration authorities to hold, notify or transfer a person"),
    "transferred": ("transferred to immigration custody", "handed over at release"),
    "notified_only": ("release dates told, no hold", "immigration authorities told when the person would be released"),
    "declined": ("declined (as recorded)", "detainers not honoured, as the history records what was done; the what-if "
                 "below counts 'declined under a law' differently"),
    "held": ("held past their release time", "kept in custody after they would have gone free"),
    "lifted": ("lifted by the issuer", "detainers cancelled by the agency that sent them"),
}


def key_figures(published: dict[str, PublishedTable]) -> list[tuple[str, str, str]]:
    """(figure, plain label, one-line meaning) from the Total rows, suppressed totals said as such."""
    out: list[tuple[str, str, str]] = []
    main = published.get(MAIN_TABLE)
    if main is not None and main.frame.height > 1:
        total = main.frame.row(-1, named=True)
        for c, (label, meaning) in FIGURE_WORDS.items():
            if c in total:
                out.append(("suppressed" if total[c] is None else f"{total[c]:,}", label, meaning))
    rec = published.get("record_requests")
    if rec is not None and rec.frame.height > 1:
        total = rec.frame.row(-1, named=True)
        out.append(("suppressed" if total["requests"] is None else f"{total['requests']:,}", "record requests",
                    "requests to read protected records (driver, custody)"))
        out.append(("suppressed" if total["denied"] is None else f"{total['denied']:,}", "record requests denied",
                    "refused under the law of the agency holding the records"))
    return out


def _periods(published: dict[str, PublishedTable]) -> str:
    main = published.get(MAIN_TABLE)
    if main is None:
        return ""
    periods = [p for p in main.frame["period"].to_list() if p != TOTAL_LABEL]
    if not periods:
        return ""
    return periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"


def _zones(jurisdictions: list[str]) -> str:
    from .calendar import zone_for

    zones: dict[str, list[str]] = {}
    for j in jurisdictions:
        zones.setdefault(zone_for(j), []).append(jurisdiction_name(j))
    return "; ".join(f"{', '.join(names)}: {zone}" for zone, names in sorted(zones.items()))


def _stamp_rows(stamp: dict[str, Any]) -> list[tuple[str, str]]:
    names = {"kind": "Source", "tree_size": "Events counted", "root_hash": "Ledger root (SHA-256)", "signature": "Signature",
             "public_key": "Signing key (Ed25519, public)", "key_id": "Key id", "origin": "Ledger", "created_at": "Checkpoint signed at",
             "sha256": "Files' SHA-256", "files": "Files"}
    return [(names.get(k, k.replace("_", " ")), v if isinstance(v, str) else json.dumps(v)) for k, v in stamp.items()]


@dataclass
class Page:
    title: str
    subtitle: str
    figures: list[tuple[str, str, str]]
    blocks: list[Block]
    notes: list[tuple[str, int]]
    stamp: list[tuple[str, str]]
    verify: str
    threshold: int
    version: str
    primary: int
    secondary: int
    cells: int
    empty: bool
    largest_hidden: str = ""
    omitted: list[str] = field(default_factory=list)


def render_page(*, title: str, published: dict[str, PublishedTable], sections: list[Section], stamp: dict[str, Any],
                params: dict[str, Any], verify: str, version: str, jurisdictions: list[str], notes: list[tuple[str, int]],
                empty: bool) -> str:
    where = ", ".join(jurisdiction_name(j) for j in jurisdictions) or "no jurisdiction"
    span = _periods(published)
    subtitle = (f"Detainers and record requests held by {where}" + (f", {span}" if span else "") +
                f". Periods by {params.get('period', 'month')}, on local clocks ({_zones(jurisdictions) or 'UTC'}).")
    blocks = [section_block(s, s.recipe is not None) for s in sections] + [table_block(t) for t in published.values()]
    page = Page(title=title, subtitle=subtitle, figures=key_figures(published), blocks=blocks, notes=notes,
                stamp=_stamp_rows(stamp), verify=verify, threshold=int(params["threshold"]), version=version,
                primary=sum(t.primary for t in published.values()), secondary=sum(t.secondary for t in published.values()),
                cells=sum(t.cells for t in published.values()), empty=empty)
    charts = {b.name: b.chart for b in blocks if b.chart and not b.empty_note}
    return TEMPLATE.render(p=page, charts=_script_json(charts), bundle=vega_bundle(), mark=SUPPRESSED_MARK,
                           part_mark=PART_MARK.strip(), kind=stamp.get("kind"), unknown=UNKNOWN_LABEL)


TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True).from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ p.title }}</title>
<style>
  :root { --ink:#1d2733; --muted:#5b6b7c; --line:#d9e1ea; --accent:#1f4e79; --bg:#f6f8fb; }
  * { box-sizing: border-box; }
  body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
  header { background:var(--accent); color:#fff; padding:26px 40px 20px; }
  header h1 { margin:0 0 6px; font-size:26px; font-weight:600; }
  header p { margin:0; opacity:.92; max-width:1020px; }
  main { max-width:1100px; margin:0 auto; padding:24px 32px 60px; }
  .card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:20px 24px; margin:0 0 22px; max-width:100%; }
  h2 { font-size:19px; margin:0 0 4px; }
  .desc { color:var(--muted); margin:0 0 10px; }
  .law { font-size:13px; margin:0 0 10px; } .law b { color:var(--accent); }
  .note { font-size:13px; background:#fff8e6; border-left:3px solid #e6a700; padding:6px 10px; margin:0 0 10px; }
  .chart { margin:8px 0 6px; max-width:100%; }
  .notshown { font-size:13px; color:#8a4b00; margin:0 0 12px; }
  table { border-collapse:collapse; width:100%; font-size:13.5px; table-layout:auto; }
  th, td { padding:5px 7px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; overflow-wrap:break-word; }
  th { hyphens:auto; }
  th { background:#eef3f8; font-weight:600; }
  td.n, th.n { text-align:right; font-variant-numeric: tabular-nums; overflow-wrap:normal; }
  tr.total td { font-weight:600; border-top:2px solid var(--ink); }
  td.s { color:#9aa7b4; font-style:italic; }
  td[title] { text-decoration: underline dotted #9aa7b4; cursor: help; }
  .figures { display:grid; grid-template-columns:repeat(auto-fill, minmax(190px, 1fr)); gap:12px; margin-top:10px; }
  .figure { border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
  .figure b { display:block; font-size:26px; color:var(--accent); font-variant-numeric: tabular-nums; }
  .figure span { display:block; font-weight:600; }
  .figure small { color:var(--muted); font-size:12.5px; }
  nav ol { columns:2; margin:6px 0 0; padding-left:20px; }
  .stamp dl { display:grid; grid-template-columns:max-content minmax(0, 1fr); gap:4px 18px; margin:8px 0 0; }
  .stamp dt { color:var(--muted); } .stamp dd { margin:0; font-family:ui-monospace, monospace; font-size:13px; overflow-wrap:anywhere; }
  footer { color:var(--muted); font-size:13px; }
  code { background:#eef3f8; padding:1px 4px; border-radius:3px; overflow-wrap:anywhere; }
</style>
<script>{{ bundle|safe }}</script>
</head>
<body>
<header>
  <h1>{{ p.title }}</h1>
  <p>{{ p.subtitle }}</p>
</header>
<main>
{% if p.empty %}
<section class="card" id="nothing">
  <h2>Nothing to report</h2>
  <p class="desc">The source holds no detainer, notice or record request{% if p.notes %} that a report counts{% endif %}, so every table below is empty.
  This is a complete report of an empty history, not an error.</p>
</section>
{% endif %}
{% if p.figures %}
<section class="card" id="key-figures"><h2>Key figures</h2>
  <p class="desc">Totals over the whole history.</p>
  <div class="figures">{% for value, label, meaning in p.figures %}<div class="figure"><b>{{ value }}</b><span>{{ label }}</span><small>{{ meaning }}</small></div>{% endfor %}</div>
</section>
{% endif %}
<section class="card" id="suppression"><h2>What is hidden to protect people</h2>
  <p class="desc">Counts from 1 to {{ p.threshold - 1 }} could point to a person, so they are hidden (shown as <b>{{ mark }}</b>):
  {{ "{:,}".format(p.primary) }} of {{ "{:,}".format(p.cells) }} figures in the tables (primary). So that they cannot be worked out from the
  totals, {{ "{:,}".format(p.secondary) }} more are hidden (secondary), chosen to be as few and as small as possible. Zeros are shown.</p>
</section>
{% if p.notes %}
<section class="card" id="coverage"><h2>What the source does not say</h2>
  <p class="desc">Facts the ledger does not hold are counted as unknown ({{ unknown }}), never guessed.</p>
  <ul>{% for what, n in p.notes %}<li>{{ "{:,}".format(n) }} {{ what }}</li>{% endfor %}</ul>
</section>
{% endif %}
<nav class="card"><h2>Contents</h2><ol>{% for b in p.blocks %}<li><a href="#{{ b.name }}">{{ b.title }}</a></li>{% endfor %}<li><a href="#source">Where these numbers come from</a></li></ol></nav>
{% for b in p.blocks %}
<section class="card" id="{{ b.name }}">
  <h2>{{ b.title }}</h2>
  {% if b.description %}<p class="desc">{{ b.description }}</p>{% endif %}
  {% if b.legal_basis %}<p class="law"><b>Law:</b> {{ b.legal_basis }}</p>{% endif %}
  {% if b.legal_note %}<p class="note">{{ b.legal_note }}</p>{% endif %}
  {% if b.empty_note %}<p class="desc"><i>{{ b.empty_note }}</i></p>{% else %}
  {% if b.chart %}<div class="chart" id="chart-{{ b.name }}" data-chart="{{ b.name }}" data-table-rows="{{ b.chart_rows }}" data-not-shown="{{ b.not_shown }}"></div>
  {% if b.not_shown %}<p class="notshown" data-not-shown-line="{{ b.name }}">{{ b.not_shown }} row{{ 's' if b.not_shown != 1 }} not shown (suppressed).</p>{% endif %}
  {% if b.partial %}<p class="notshown">{{ part_mark }} part of this row's figures are suppressed; its other bars are drawn.</p>{% endif %}
  {% endif %}
  <table>
    <thead><tr>{% for c in b.columns %}<th{% if b.numeric[loop.index0] %} class="n"{% endif %}>{{ c }}</th>{% endfor %}</tr></thead>
    <tbody>{% for row in b.rows %}{% set r = loop.index0 %}<tr{% if b.row_classes[r] %} class="{{ b.row_classes[r] }}"{% endif %}>{% for v in row %}<td class="{% if b.numeric[loop.index0] %}n{% endif %}{% if v == mark and b.numeric[loop.index0] %} s{% endif %}"{% if b.titles[r][loop.index0] %} title="{{ b.titles[r][loop.index0] }}"{% endif %}>{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody>
  </table>
  {% if not b.extra %}<p class="law">{{ b.primary }} figure{{ 's' if b.primary != 1 }} hidden as small (primary), {{ b.secondary }} to protect them (secondary).</p>{% endif %}
  {% if b.extra and not b.checked %}<p class="law">This section was added by its caller: <code>accord report verify</code> does not recompute it.</p>{% endif %}
  {% endif %}
</section>
{% endfor %}
<section class="card stamp" id="source">
  <h2>Where these numbers come from</h2>
  <p class="desc">Every figure was computed from the {{ 'signed ledger checkpoint' if kind == 'ledger' else 'files' }} below; the CSV files
  beside this page hold every table (first row: the header), described with this provenance in <code>datapackage.json</code>.</p>
  <dl>{% for k, v in p.stamp %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl>
  <p><b>How to verify this report:</b> <code>{{ p.verify }}</code> recomputes every table and section from {{ "the ledger's first events, after checking its root and signature" if kind == "ledger" else "the files, after checking their hash" }}, and names any figure that differs.</p>
</section>
<footer>Generated by Accord {{ p.version }} with suppression threshold {{ p.threshold }}.</footer>
</main>
<script>
const ACCORD_CHARTS = {{ charts|safe }};
const accordErrors = [];
window.ACCORD_VIEWS = {};
window.addEventListener("error", (e) => { accordErrors.push(String(e.message)); document.body.dataset.chartErrors = accordErrors.length; });
Promise.allSettled(Object.entries(ACCORD_CHARTS).map(([name, spec]) =>
  vegaEmbed("#chart-" + name, spec, {actions: false, renderer: "svg"})
    .then((res) => {
      window.ACCORD_VIEWS[name] = res.view;
      const el = document.getElementById("chart-" + name);
      const band = ["x", "y"].map((s) => { try { return res.view.scale(s); } catch (e) { return null; } })
        .find((s) => s && typeof s.bandwidth === "function");
      el.dataset.drawnRows = band ? band.domain().length : -1;
      el.dataset.rendered = "1";
    })
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
