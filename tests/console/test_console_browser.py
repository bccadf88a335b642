"""The console in a real browser (Debian's chromium via Playwright) against a real ``accord serve``.

One server per backend (SQLite always, PostgreSQL when ``ACCORD_TEST_DATABASE_URL`` is set),
started once for the module. Each test signs in in its own browser context. Screenshots of every
page go to the test's temporary folder (``pytest --basetemp=DIR`` keeps them where you look).
axe-core's ``axe.min.js`` comes from the npm package, installed once into a cache folder
(``ACCORD_AXE_DIR``, default ``~/.cache/accord-tests/axe-core``); without npm or the registry the
accessibility test is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from helpers.console_world import AUDITOR, OFFICER, OTHER, PASSWORD, add_users, register_other_jail
from helpers.server import running_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
PG_ENV = "ACCORD_TEST_DATABASE_URL"


def _backend_url(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'console.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("ACCORD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but {PG_ENV} is not set")
        pytest.skip(f"{PG_ENV} is not set")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


class Served:
    def __init__(self, base: str, tokens: dict[str, str], url: str) -> None:
        self.base, self.tokens, self.url = base, tokens, url
        self.n = 0

    def post(self, who: str, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.base + path, content=json.dumps(body), timeout=30, headers={
            "Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/json",
            "Idempotency-Key": f'"{uuid.uuid4()}"'})

    def new_case(self) -> str:
        """Book a new synthetic person at the NYC jail and file ICE's detainer on them, through the API."""
        from datetime import datetime, timezone

        from helpers.console_world import current_case

        self.n += 1
        custody, detainer = current_case(1000 + self.n, datetime.now(timezone.utc))
        r = self.post("jail", "/v1/custody-records", custody)
        assert r.status_code == 201, r.text
        r = self.post("ice", "/v1/detainers", detainer)
        assert r.status_code == 201, r.text
        return r.json()["request_id"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served(request, tmp_path_factory) -> Iterator[Served]:
    from accord.api.tokens import ensure_tables, issue
    from accord.console.users import ensure_tables as ensure_console
    from accord.service.store import Store
    from helpers.service_world import ICE, JAIL, world

    folder = tmp_path_factory.mktemp(f"console-{request.param}")
    gen = _backend_url(request.param, folder)
    url = next(gen)
    from datetime import datetime, timezone

    with Store.open(url) as store:
        world(store)
        register_other_jail(store)
        ensure_tables(store.engine)
        ensure_console(store.engine)
        add_users(store.engine)
        now = datetime.now(timezone.utc)
        tokens = {"jail": issue(store.engine, JAIL, {"submit", "read", "officer"}, now=now, label="jail")[1],
                  "ice": issue(store.engine, ICE, {"submit", "read"}, now=now, label="ice")[1]}
        store.ledger.checkpoint()  # so the audit page has a signed checkpoint and proofs to show
    try:
        with running_server(url, env={"ACCORD_LOG_LEVEL": "warning"}) as base:
            yield Served(base, tokens, url)
    finally:
        for _ in gen:
            pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def axe_js() -> str:
    folder = Path(os.environ.get("ACCORD_AXE_DIR") or Path.home() / ".cache" / "accord-tests" / "axe-core")
    js = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not js.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install axe-core for the accessibility check")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            got = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), "axe-core@4"],
                                 capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            pytest.skip("npm install axe-core timed out (is the npm registry reachable?)")
        if got.returncode != 0 or not js.exists():
            pytest.skip(f"npm install axe-core failed (is the npm registry reachable?): {got.stderr.strip()[-300:]}")
    return js.read_text(encoding="utf-8")


def _context(browser: Any, served: Served, **kw: Any) -> Any:
    ctx = browser.new_context(base_url=served.base, viewport=kw.pop("viewport", {"width": 1280, "height": 800}), **kw)
    ctx.set_default_timeout(15_000)
    return ctx


def _sign_in(page: Any, user: str) -> None:
    page.goto("/console/sign-in")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/queue")


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_release_flow_and_tenancy(browser, served, tmp_path):
    ctx = _context(browser, served)
    page = ctx.new_page()
    _sign_in(page, OFFICER)
    request_id = served.new_case()
    page.reload()
    row = page.get_by_role("row").filter(has_text=request_id)
    assert row.count() == 1
    _shot(page, tmp_path, "queue")
    row.get_by_role("link", name=request_id).click()
    page.wait_for_url(f"**/console/detainers/{request_id}")
    assert page.get_by_role("heading", name=f"Detainer {request_id}").is_visible()
    decision = page.locator("section", has=page.get_by_role("heading", name="The decision, action by action"))
    citations = decision.locator(".citation").all_inner_texts()
    assert citations and any(c.strip() and c != "none" for c in citations), citations
    assert page.get_by_text("Hold past release", exact=True).is_visible()
    _shot(page, tmp_path, "detainer")
    page.get_by_role("link", name="Record release").click()
    page.get_by_label("Why the person is released").select_option("bail_posted")
    _shot(page, tmp_path, "confirm-release")
    page.get_by_role("button", name="Confirm: Record release").click()
    page.wait_for_url(f"**/console/detainers/{request_id}?done=release")
    assert page.get_by_role("status").inner_text().startswith("Recorded: the release")
    summary = page.locator("dl.summary")
    assert "closed: the person was released" in summary.inner_text()
    assert page.get_by_role("link", name="Record release").count() == 0  # the hold is closed: no steps left
    notes = page.locator("section", has=page.get_by_role("heading", name="Notifications to agencies")).inner_text()
    assert "Release notification to ice: owed" in notes
    assert "Person released from custody (by user:olive)" in page.locator(".timeline").inner_text()
    _shot(page, tmp_path, "detainer-released")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/sign-in")
    page.goto(f"/console/detainers/{request_id}")
    assert page.url.endswith("/console/sign-in")  # signed out means signed out
    ctx.close()

    other = _context(browser, served)
    page = other.new_page()
    _sign_in(page, OTHER)
    assert request_id not in page.locator("main").inner_text()
    r = page.goto(f"/console/detainers/{request_id}")
    assert r.status == 404 and page.get_by_role("heading", name="Not found").is_visible()
    assert request_id not in page.locator("main").inner_text()
    _shot(page, tmp_path, "other-custodian-404")
    other.close()


def _tab_to(page: Any, matches: Any, limit: int = 120) -> None:
    """Press Tab until the focused element satisfies ``matches(info)``; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const e = document.activeElement; return {tag: e.tagName.toLowerCase(),
            text: (e.innerText || e.value || '').trim(), name: e.getAttribute('name') || '', id: e.id || '',
            outline: getComputedStyle(e).outlineStyle, type: e.getAttribute('type') || ''}; }""")
        if matches(info):
            assert info["outline"] != "none", f"no visible focus on {info}"
            return
    raise AssertionError("never reached by keyboard")


def test_keyboard_only_release(browser, served):
    request_id = served.new_case()
    ctx = _context(browser, served)
    page = ctx.new_page()
    page.goto("/console/sign-in")
    # the user name field takes focus by itself (autofocus); wait for it, as a person would, before typing:
    # on a loaded machine the first keys could otherwise go nowhere and sign in as nobody
    page.wait_for_function("document.activeElement && document.activeElement.id === 'username'", timeout=10_000)
    page.keyboard.type(OFFICER)
    _tab_to(page, lambda i: i["id"] == "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/queue")
    _tab_to(page, lambda i: i["id"] == "f-booking")
    page.keyboard.type(f"bk-{request_id.split('-')[1]}")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/queue?**")
    _tab_to(page, lambda i: i["tag"] == "a" and i["text"] == request_id)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/detainers/{request_id}")
    _tab_to(page, lambda i: i["tag"] == "a" and i["text"] == "Record release")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/detainers/{request_id}/release")
    _tab_to(page, lambda i: i["id"] == "reason")
    page.keyboard.press("ArrowDown")  # the first reason
    _tab_to(page, lambda i: i["tag"] == "button" and i["text"].startswith("Confirm"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/detainers/{request_id}?done=release")
    assert "closed: the person was released" in page.locator("dl.summary").inner_text()
    ctx.close()


def _axe(page: Any, axe_js: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=axe_js)
    result = page.evaluate("""async () => { const r = await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_every_page_is_accessible_and_fits_at_200_percent(browser, served, axe_js, tmp_path):
    request_id = served.new_case()
    ctx = _context(browser, served, bypass_csp=True)  # the console's CSP forbids inline scripts: axe is injected
    page = ctx.new_page()
    failures: dict[str, Any] = {}
    page.goto("/console/sign-in")
    failures["sign-in"] = _axe(page, axe_js)
    _shot(page, tmp_path, "sign-in")
    _sign_in(page, OFFICER)
    notice_id = None
    pages = [("queue", "/console/queue"), ("queue-filtered", "/console/queue?state=holding&action=hold_past_release"),
             ("detainer", f"/console/detainers/{request_id}"), ("confirm-release", f"/console/detainers/{request_id}/release"),
             ("confirm-lift", f"/console/detainers/{request_id}/lift"), ("notices", "/console/notices?show=all"),
             ("records", "/console/records"), ("audit", "/console/audit?verify=1"), ("proof", "/console/audit/proof/1"),
             ("not-found", "/console/detainers/no-such-detainer")]
    for name, path in pages:
        page.goto(path)
        failures[name] = _axe(page, axe_js)
        _shot(page, tmp_path, name)
        if name == "notices":
            link = page.get_by_role("link", name="Mark sent").first
            if link.count():
                notice_id = link.get_attribute("href").split("/")[-2]
    if notice_id:
        page.goto(f"/console/notices/{notice_id}/sent")
        failures["confirm-sent"] = _axe(page, axe_js)
        _shot(page, tmp_path, "confirm-sent")
    # 200 % zoom of a 1280 x 800 window is a 640 x 400 CSS-pixel viewport: nothing may need sideways scrolling
    for name, path in [("queue", "/console/queue"), ("detainer", f"/console/detainers/{request_id}")]:
        page.set_viewport_size({"width": 640, "height": 400})
        page.goto(path)
        wide = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert wide <= 1, f"{name} scrolls sideways by {wide}px at 200 % zoom"
        sticking_out = page.evaluate("""() => [...document.querySelectorAll('main *, header *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '#' + e.id)""")
        assert not sticking_out, f"{name} at 200 % zoom: {sticking_out[:5]} stick out of the window"
        _shot(page, tmp_path, f"{name}-200pct")
    page.set_viewport_size({"width": 1280, "height": 800})
    ctx.close()
    auditor = _context(browser, served, bypass_csp=True)
    page = auditor.new_page()
    _sign_in(page, AUDITOR)
    for name, path in [("auditor-queue", "/console/queue"), ("auditor-audit", "/console/audit"),
                       ("auditor-detainer", f"/console/detainers/{request_id}")]:
        page.goto(path)
        failures[name] = _axe(page, axe_js)
        _shot(page, tmp_path, name)
    auditor.close()
    bad = {k: v for k, v in failures.items() if v}
    assert not bad, json.dumps(bad, indent=1)
    print(f"screenshots in {tmp_path}")


def test_time_remaining_counts_down_in_the_page(browser, served):
    request_id = served.new_case()
    ctx = _context(browser, served)
    page = ctx.new_page()
    page.clock.install()
    _sign_in(page, OFFICER)
    page.goto(f"/console/queue?booking=bk-{request_id.split('-')[1]}")
    cell = page.get_by_role("row").filter(has_text=request_id).locator(".clock")
    before = cell.inner_text()
    page.clock.fast_forward(73 * 3600 * 1000)  # the hold ends about five days on: 73 hours later it is 2 days less
    page.wait_for_function("t => document.querySelector('.clock').innerText !== t", arg=before)
    after = cell.inner_text()
    import re

    days = [int(re.search(r"(\d+) d", t).group(1)) for t in (before, after)]
    assert days[0] - days[1] == 3 and "left" in after, (before, after)  # 73 h: three days less (to the hour)
    ctx.close()
