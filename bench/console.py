"""The officers' console's queue page against the JSON API listing the same rows, same server, same run.

Seeds N open detainers (default 10,000) at one NYC jail through the application layer (each
decided under the jail's law, as a submission would be), starts ``accord serve`` on loopback
(SQLite; the clocks left to a worker so they do not compete), signs an officer in, then asks R
times (after a warm-up) for the queue page (``/console/queue``: the first 100 by deadline) and for
``/v1/detainers?open=true&limit=100`` with the jail's token. Time to first byte (the response's
headers arrive: server time on loopback) and full load (the body read) are measured for each;
with Debian's chromium present, the browser's load event of the queue page (HTML, CSS and the
countdown script) too. The server is stopped at the end.

    python bench/console.py              # 10,000 open detainers (the figure)
    python bench/console.py --n 500      # quick look
    python bench/console.py --pg URL     # PostgreSQL instead (a fresh schema, dropped after)

Goals: queue page <= 300 ms server time (TTFB p50) and <= 2x the API's. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "src/accord/law/examples/nyc_case.json").read_text())
PASSWORD = "bench-officer-pass-phrase"
CHROMIUM = "/usr/bin/chromium"


def seed(url: str, n: int) -> str:
    """Register the jail and ICE, N bookings with a detainer each, an officer; returns the jail's token."""
    from accord.api import tokens
    from accord.console.users import add_user, ensure_tables
    from accord.domain import Agency, CustodyRecord, DetainerRequest, Person
    from accord.service.actors import Actor
    from accord.service.agencies import register_agency
    from accord.service.detainers import submit_custody, submit_detainer
    from accord.service.store import Store

    now = datetime.now(timezone.utc)

    def at(delta: timedelta) -> str:
        return (now + delta).strftime("%Y-%m-%dT%H:%M:%SZ")

    ice = {"agency_id": "ice", "name": "ICE ERO New York", "kind": "immigration_enforcement", "jurisdiction": "US",
           "primarily_enforces_immigration": True}
    op = Actor.operator()
    with Store.open(url) as store:
        with store.transaction() as uow:
            register_agency(uow, op, Agency.model_validate_json(json.dumps(EXAMPLE["receiving_agency"])), law_pack="nyc_doc")
            register_agency(uow, op, Agency.model_validate_json(json.dumps(ice)))
        day = timedelta(days=1)
        started = time.perf_counter()
        for first in range(0, n, 500):
            with store.transaction() as uow:
                for i in range(first, min(n, first + 500)):
                    custody = {**EXAMPLE["custody"], "booking_id": f"bk-{i}", "person_id": f"p-{i}",
                               "booked_at": at(-3 * day), "release_eligible_at": at(day * (1 + i % 20)),
                               "charges": [{**c, "arrested_at": at(-3 * day - timedelta(hours=3))} for c in EXAMPLE["custody"]["charges"]],
                               "convictions": [{**c, "convicted_on": at(-7 * 365 * day)[:10], "incarceration_end": at(-2 * 365 * day)[:10]}
                                               for c in EXAMPLE["custody"]["convictions"]]}
                    det = {**EXAMPLE["detainer"], "request_id": f"det-{i:05d}", "person_id": f"p-{i}", "booking_id": f"bk-{i}",
                           "issued_at": at(-day), "received_at": at(-day + timedelta(hours=1)),
                           "served_at": at(-day + timedelta(hours=2)),
                           "administrative_warrant": {**EXAMPLE["detainer"]["administrative_warrant"], "signed_on": at(-day)[:10]},
                           "judicial_warrant": {**EXAMPLE["detainer"]["judicial_warrant"], "issued_on": at(-day)[:10]}}
                    submit_custody(uow, op, CustodyRecord.model_validate_json(json.dumps(custody)),
                                   Person(person_id=f"p-{i}", terrorist_screening_possible_match=False))
                    submit_detainer(uow, op, DetainerRequest.model_validate_json(json.dumps(det)))
            print(f"  seeded {min(n, first + 500):,} detainers ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        tokens.ensure_tables(store.engine)
        ensure_tables(store.engine)
        add_user(store.engine, "bench-officer", PASSWORD, "officer", "nyc-doc", now)
        return tokens.issue(store.engine, "nyc-doc", {"submit", "read", "officer"}, now=now)[1]


def start_server(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "ACCORD_RATE_LIMIT": "10000000/minute", "ACCORD_LOG_LEVEL": "warning",
           "ACCORD_CLOCKS_IN_SERVE": "false"}
    proc = subprocess.Popen([sys.executable, "-c", "from accord.cli import main; main()", "serve", "--db", url,
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit("accord serve exited") from None
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("accord serve did not start")


def timed(client, path: str, headers: dict[str, str], rounds: int) -> dict:
    ttfb, full, size, rows = [], [], 0, 0
    for k in range(rounds + 3):
        t0 = time.perf_counter()
        with client.stream("GET", path, headers=headers) as r:
            t1 = time.perf_counter()
            body = r.read()
            t2 = time.perf_counter()
            assert r.status_code == 200, (path, r.status_code, body[:200])
        if k >= 3:  # the first three warm the server's caches
            ttfb.append((t1 - t0) * 1000)
            full.append((t2 - t0) * 1000)
        size = len(body)
        rows = body.count(b'<th scope="row"><a href="/console/detainers/') if b"<html" in body else len(json.loads(body)["items"])
    return {"ttfb_ms_p50": statistics.median(ttfb), "ttfb_ms_max": max(ttfb), "full_ms_p50": statistics.median(full),
            "bytes": size, "rows": rows}


def browser_load(base: str, cookie: str, rounds: int) -> float | None:
    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        ctx = b.new_context(viewport={"width": 1280, "height": 800})
        ctx.add_cookies([{"name": "accord_session", "value": cookie, "url": f"{base}/console/"}])
        page = ctx.new_page()
        times = []
        for k in range(rounds + 2):
            page.goto(f"{base}/console/queue", wait_until="load")
            t = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }")
            if k >= 2:
                times.append(t)
        b.close()
    return statistics.median(times)


def main() -> None:
    import httpx

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="open detainers")
    ap.add_argument("--rounds", type=int, default=30, help="timed requests of each page")
    ap.add_argument("--pg", default=None, help="a PostgreSQL URL (a fresh schema is made and dropped) instead of SQLite")
    args = ap.parse_args()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if args.pg:
            import sqlalchemy as sa

            schema = f"bench_{uuid.uuid4().hex[:12]}"
            engine = sa.create_engine(args.pg)
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            engine.dispose()
            url = f"{args.pg}{'&' if '?' in args.pg else '?'}options={quote(f'-csearch_path={schema}')}"
        else:
            url = f"sqlite:///{tmp}/accord.db"
        try:
            token = seed(url, args.n)
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            proc = start_server(url, port)
            base = f"http://127.0.0.1:{port}"
            try:
                with httpx.Client(base_url=base, timeout=60) as client:
                    page = client.get("/console/sign-in")
                    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
                    r = client.post("/console/sign-in", data={"username": "bench-officer", "password": PASSWORD, "csrf": csrf})
                    assert r.status_code in (200, 303) and client.cookies.get("accord_session"), "sign-in failed"
                    cookie = client.cookies.get("accord_session")
                    queue = timed(client, "/console/queue", {}, args.rounds)
                    api = timed(client, "/v1/detainers?open=true&limit=100", {"Authorization": f"Bearer {token}"}, args.rounds)
                load = browser_load(base, cookie, min(args.rounds, 10))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            if schema:
                import sqlalchemy as sa

                engine = sa.create_engine(args.pg)
                with engine.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                engine.dispose()
    ratio = queue["ttfb_ms_p50"] / api["ttfb_ms_p50"]
    print(f"queue page: TTFB p50 {queue['ttfb_ms_p50']:.1f} ms, full {queue['full_ms_p50']:.1f} ms, {queue['rows']} rows, "
          f"{queue['bytes']:,} bytes; API: TTFB p50 {api['ttfb_ms_p50']:.1f} ms, full {api['full_ms_p50']:.1f} ms, "
          f"{api['rows']} rows, {api['bytes']:,} bytes; browser load {'n/a' if load is None else f'{load:.0f} ms'}", file=sys.stderr)
    print(f"goals: queue <= 300 ms server time: {queue['ttfb_ms_p50']:.1f} ms; <= 2x the API: {ratio:.2f}x", file=sys.stderr)
    print(json.dumps({"figure": "console queue page, time to first byte (p50) with open detainers", "value": round(queue["ttfb_ms_p50"], 1),
                      "unit": "ms", "baseline": round(api["ttfb_ms_p50"], 1), "baseline_is": "GET /v1/detainers?open=true&limit=100",
                      "fair_baseline": round(api["ttfb_ms_p50"], 1), "fair_ratio": round(ratio, 3),
                      "fair_baseline_is": "the JSON API serving the same open detainers (same server, same store, same "
                                          "process count), TTFB p50 ms; fair_ratio = console page over it",
                      "ratio": round(ratio, 3), "queue_full_ms_p50": round(queue["full_ms_p50"], 1),
                      "api_full_ms_p50": round(api["full_ms_p50"], 1), "queue_ttfb_ms_max": round(queue["ttfb_ms_max"], 1),
                      "browser_load_ms_p50": None if load is None else round(load, 1), "rows": queue["rows"],
                      "open_detainers": args.n, "rounds": args.rounds, "backend": "postgresql" if args.pg else "sqlite",
                      "goals_met": queue["ttfb_ms_p50"] <= 300 and ratio <= 2}))


if __name__ == "__main__":
    main()
