"""The demo's report as a person sees it at 1280x800: Playwright drives Debian's Chromium (no browser download).

Checks what the issue found wrong: no chart has fewer rows than its table unless it says how many are
not shown; nothing scrolls sideways at 1280 px; key figures come first and provenance last; rules are
shown by their summary (ids on hover); no internal document is cited; statutory formats appear only for
the jurisdictions in the history; the what-if headline figures are shown; a figure of 100 or more is
hidden only where it was the smallest that could protect a small one. The screenshot is saved under the
test's tmp_path.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install playwright)")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from accord.demo import run_demo

    return run_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def page(demo):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        pg = browser.new_page(viewport={"width": 1280, "height": 800})
        console: list[str] = []
        pg.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        pg.goto(demo.report.as_uri())
        pg.wait_for_function("document.body.dataset.chartsRendered !== undefined", timeout=120_000)
        pg.console_messages = console  # type: ignore[attr-defined]
        yield pg
        browser.close()


def test_screenshot_at_1280_by_800(page, tmp_path: Path):
    shot = tmp_path / "demo-report-1280x800.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 30_000  # a blank page is a few kB
    page.screenshot(path=str(tmp_path / "demo-report-full.png"), full_page=True)
    assert page.evaluate("document.body.dataset.chartErrors") == "0"
    assert [m for m in page.console_messages if m.startswith("error")] == []


def test_no_horizontal_scroll_at_1280(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    wide = page.evaluate("""Array.from(document.querySelectorAll('main *')).filter(e => {
        const s = getComputedStyle(e); return (s.overflowX === 'auto' || s.overflowX === 'scroll') && e.scrollWidth > e.clientWidth;
    }).map(e => e.id || e.tagName)""")
    assert wide == [], "a box scrolls sideways"
    tables = page.evaluate("""Array.from(document.querySelectorAll('section table')).filter(
        t => t.getBoundingClientRect().right > t.closest('section').getBoundingClientRect().right + 1).map(t => t.closest('section').id)""")
    assert tables == [], "a table sticks out of its card"


def test_every_chart_has_its_tables_rows_or_says_how_many_are_not_shown(page):
    charts = page.evaluate("""Array.from(document.querySelectorAll('.chart')).map(e => ({
        name: e.dataset.chart, rows: +e.dataset.tableRows, notShown: +e.dataset.notShown, drawn: +e.dataset.drawnRows,
        line: !!document.querySelector('[data-not-shown-line="' + e.dataset.chart + '"]'),
        body: e.closest('section').querySelectorAll('tbody tr:not(.total)').length}))""")
    assert len(charts) >= 6
    for c in charts:
        assert c["rows"] == c["body"], c  # the chart accounts for every row of the table below it
        assert c["drawn"] == c["rows"] - c["notShown"], c  # what Vega drew: one band per row shown
        if c["drawn"] < c["body"]:
            assert c["line"], f"{c['name']}: {c['body'] - c['drawn']} rows missing without a 'not shown' line"


def test_a_reader_finds_figures_first_and_provenance_last(page):
    ids = page.evaluate("Array.from(document.querySelectorAll('main > section')).map(s => s.id)")
    assert ids[0] == "key-figures" and ids[-1] == "source"
    text = page.inner_text("main")
    assert "How to verify this report" in text and "accord report verify" in text
    assert "DOMAIN.md" not in page.content()
    first_table = page.inner_text("#detainers_by_period thead")
    assert "_" not in first_table  # headers are words, not column names


def test_rules_are_shown_by_summary_with_the_id_on_hover(page):
    cells = page.evaluate("""Array.from(document.querySelectorAll('#detainers_by_reason td[title]')).map(td => [td.title, td.innerText])""")
    assert cells, "rule cells carry their id as a title"
    ids = [t for t, _ in cells if t.startswith("nyc_doc.")]
    assert ids and all(not text.startswith("nyc_doc.") for t, text in cells if t.startswith("nyc_doc."))
    assert "nyc_doc." not in page.inner_text("#detainers_by_reason table")


def test_only_the_historys_jurisdictions(page, demo):
    html = demo.report.read_text()
    assert 'id="ca_7284_6_c2"' not in html and 'id="truth_act_forum"' not in html
    subtitle = page.inner_text("header p")
    assert "Los_Angeles" not in subtitle and "Chicago" not in subtitle and "America/New_York" in subtitle
    assert "declined" in page.inner_text("#key-figures").lower() and "Declined under this law" in page.inner_text("#whatif_counts")


def test_demo_suppression_hides_only_what_it_must_and_shows_the_whatif(demo):
    """Every hidden figure of 100 or more was the smallest figure that could protect a hidden one in a sum
    the table publishes (headline totals and zeros aside); the what-if headline figures are all shown."""
    out = demo.report.parent
    manifest = json.loads((out / "manifest.json").read_text())
    from accord.ledger import Ledger
    from accord.reports.build import compute_tables
    from accord.reports.catalog import BY_NAME
    from accord.reports.export import history_at_stamp
    from accord.reports.table import _system, with_total

    with Ledger.open(demo.db_url, create=False) as led:
        history = history_at_stamp(led, manifest["source"])
    names = [n for n, e in manifest["tables"].items() if not e.get("extra")]
    raw = compute_tables(history, names=names)
    big = []
    for name in names:
        spec = BY_NAME[name]
        full = with_total(raw[name], spec)
        shown = pl.read_csv(out / f"{name}.csv", infer_schema=False)
        values, constraints, keep = _system(full, spec, name)
        hidden = {(name, r, c) for (_, r, c) in values if shown[c][r] is None}
        for cell in hidden:
            if values[cell] < 100:
                continue
            big.append((name, cell[1], cell[2], values[cell]))
            def cheapest(k):
                others = [x for x in k.cells if x != cell and x not in hidden and values[x] > 0 and x not in keep]
                return all(values[x] >= values[cell] for x in others)
            assert any(cell in k.cells and any(x in hidden for x in k.cells if x != cell) and cheapest(k) for k in constraints), \
                f"{name}: hid {values[cell]} where a smaller figure would have protected the same sum"
    print("hidden figures of 100 or more:", big)
    assert len(big) <= 8, big
    whatif = pl.read_csv(out / "whatif_counts.csv")
    headline = whatif.filter(pl.col("metric").is_in(["detainers", "holds", "notifications", "transfers", "declined"]))
    assert headline.select(pl.exclude("metric", "label")).null_count().sum_horizontal().item() == 0
    sup = manifest["suppression"]
    assert sup["primary"] > 0 and sup["secondary"] <= sup["primary"]


def test_report_verify_checks_every_table_and_section_the_demo_shows(demo):
    from typer.testing import CliRunner

    from accord.cli import app

    res = CliRunner().invoke(app, ["report", "verify", str(demo.report.parent), "--db", demo.db_url])
    assert res.exit_code == 0, res.output
    shown = re.findall(r'<section class="card" id="([a-z0-9_]+)"', demo.report.read_text())
    tables = [s for s in shown if s not in ("key-figures", "suppression", "coverage", "nothing")]
    for name in tables:
        assert f"{name}: matches" in res.output, name
    assert "not checked" not in res.output
    assert f"All {len(tables)} tables and sections" in res.output
