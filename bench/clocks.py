"""How late the clocks fire, and how fast the outbox delivers (not a timed test).

1. Lag. ``--n`` jobs (default 100,000: holds, each a warning and a limit, and notices that go
   overdue) are derived from ledger events — bookings, detainers, decisions and notices appended in
   bulk, then projected (the clocks' followers schedule them) — with due times spread over
   ``--window`` seconds; the store's (injectable) clock is set back by the setup's duration, so the
   window starts when setup ends whatever the machine's speed. The scheduler (``accord.clocks.scheduler``) runs
   as in ``accord worker`` and fires them; a firing's lag is its event's recorded time minus its
   due time. Goals: p99 <= 1 s, max <= 5 s. On SQLite, and on PostgreSQL with ``--pg URL`` (or
   ``$ACCORD_TEST_DATABASE_URL``).
2. Deliveries. ``--deliveries`` signed messages to a receiver on 127.0.0.1 (a separate process,
   HTTP/1.1 keep-alive, answering 200): the dispatcher's deliveries per second (claim, sign, POST,
   record) against the same receiver hit directly by the same HTTP client (httpx) at the same
   concurrency with the same bodies — the fair baseline. Goal: >= 50 % of the direct rate.

Prints a summary and, last, one JSON line.

    python bench/clocks.py            # 100,000 jobs
    python bench/clocks.py --n 5000   # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

os.environ.setdefault("ACCORD_WEBHOOK_ALLOW_LOOPBACK_HTTP", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from accord.clocks import schema  # noqa: E402
from accord.clocks.dispatcher import Config, Dispatcher  # noqa: E402
from accord.clocks.outbox import body as message_body  # noqa: E402
from accord.clocks.scheduler import Scheduler  # noqa: E402
from accord.clocks.signing import new_secret  # noqa: E402
from accord.ledger import BatchRef, NewEvent  # noqa: E402
from accord.service.store import Store  # noqa: E402

UTC = timezone.utc
RECEIVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
ThreadingHTTPServer.request_queue_size = 256
s = ThreadingHTTPServer(("127.0.0.1", 0), H); s.daemon_threads = True
print(s.server_address[1], flush=True); s.serve_forever()
"""


def _template():
    """One real decided case (NYC DOC, a hold) whose events are copied with new ids and times."""
    from accord.law.engine import decide
    from accord.law.pack import load_pack
    from helpers.service_world import EXAMPLE, agencies, booking, detainer

    from accord.law.case import DetainerCase

    rec, person = booking(1)
    det = detainer(1)
    agency = agencies()[0][0]
    decision = decide(DetainerCase(detainer=det, custody=rec, person=person, receiving_agency=agency), load_pack("nyc_doc"))
    return rec.model_dump(mode="json"), det.model_dump(mode="json"), decision.to_payload(), EXAMPLE


def _events(n_holds: int, n_notices: int, start: datetime, window: float):
    """Chunks of ledger events: per hold a booking, a detainer, its decision (hold_until set); per notice a notice.due."""
    from helpers.service_world import agencies

    rec, det, decision, _ = _template()
    out = [NewEvent("agency.registered", a.model_dump(mode="json")) for a, _ in agencies()]
    out += [NewEvent("agency.configured", {"agency_id": a.agency_id, "law_pack": p, "recorded_by": "bench"})
            for a, p in agencies() if p]
    yield out
    chunk: list[NewEvent] = []
    for i in range(n_holds):
        # limits over the window's second half; their warnings (lead = window / 2) over its first half
        until = start + timedelta(seconds=window / 2 + (i / max(n_holds, 1)) * window / 2)
        rid, bid, pid = f"det-{i}", f"bk-{i}", f"p-{i}"
        eligible = until - timedelta(hours=48)
        r = {**rec, "booking_id": bid, "person_id": pid, "release_eligible_at": eligible.isoformat()}
        d = {**det, "request_id": rid, "booking_id": bid, "person_id": pid}
        p = {**decision, "request_id": rid, "hold_until": until.isoformat(), "notices": []}
        base = len(chunk)
        chunk += [NewEvent("custody.booked", r), NewEvent("detainer.received", d),
                  NewEvent("decision.made", p, f"detainer/{rid}", BatchRef(base + 1))]
        if i < n_notices:
            due = start + timedelta(seconds=(i / max(n_notices, 1)) * window)
            chunk.append(NewEvent("notice.due", {"notice_id": f"{rid}.notice", "kind": "subject_held_on_detainer",
                                                 "recipient": "custodian", "person_id": pid, "about_request_id": rid,
                                                 "due_by": due.isoformat(), "citation": "bench"}, None, BatchRef(base + 1)))
        if len(chunk) >= 4000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def lag(url: str, n: int, window: float) -> dict:
    n_notices = n // 5
    n_holds = (n - n_notices) // 2
    os.environ["ACCORD_HOLD_WARNING_LEAD_SECONDS"] = str(window / 2)
    from accord.settings import get_settings

    get_settings.cache_clear()
    t0 = time.perf_counter()
    shift = [timedelta(0)]  # the store's clock runs this far behind: the window starts when setup ends
    with Store.open(url, clock=lambda: datetime.now(UTC) - shift[0]) as store:
        start = datetime.now(UTC) + timedelta(seconds=5)
        store.ledger.append_chunks(_events(n_holds, n_notices, start, window))
        store.catch_up()  # the followers derive the schedule (in the projection's transaction)
        setup = time.perf_counter() - t0
        with store.engine.connect() as conn:
            jobs = conn.execute(sa.select(sa.func.count()).select_from(schema.jobs).where(schema.jobs.c.state == "scheduled")).scalar()
        shift[0] = max(timedelta(0), datetime.now(UTC) + timedelta(seconds=2) - start)
        scheduler = Scheduler(store, batch=500)
        stop = threading.Event()
        thread = threading.Thread(target=scheduler.run, args=(stop, 0.2), daemon=True)
        seq0 = store.ledger.size
        thread.start()
        deadline = time.monotonic() + window + 1800
        while time.monotonic() < deadline:
            time.sleep(1)
            with store.engine.connect() as conn:
                if not conn.execute(sa.select(sa.func.count()).select_from(schema.jobs).where(schema.jobs.c.state == "scheduled")).scalar():
                    break
        stop.set()
        thread.join(60)
        lags = []
        due_field = {"hold.warning": "warn_at", "hold.limit_reached": "hold_until", "notice.overdue": "due_by"}
        for ev in store.ledger.events(after_seq=seq0):
            if ev.kind in due_field:
                due = datetime.fromisoformat(ev.payload[due_field[ev.kind]].replace("Z", "+00:00"))
                lags.append((ev.recorded_at - shift[0] - due).total_seconds())  # on the store's clock
    lags.sort()
    q = statistics.quantiles(lags, n=100) if len(lags) > 1 else lags * 99
    return {"jobs": jobs, "fired": len(lags), "window_s": window, "setup_s": round(setup, 1),
            "clock_shift_s": round(shift[0].total_seconds(), 1), "p50_lag_s": round(q[49], 3), "p99_lag_s": round(q[98], 3),
            "max_lag_s": round(max(lags), 3), "min_lag_s": round(min(lags), 3)}


async def _direct(port: int, bodies: list[str], concurrency: int, secret: str) -> float:
    from accord.clocks.sender import attempt, client

    url = f"http://127.0.0.1:{port}/direct"
    sem = asyncio.Semaphore(concurrency)
    async with client(allow_loopback=True, timeout=30, max_connections=concurrency) as http:
        async def one(i: int, b: str) -> None:
            async with sem:
                out = await attempt(http, url, f"msg_direct{i}", b, secret, int(time.time()), 30)
                assert out.ok, out.reason

        t = time.perf_counter()
        await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
        return len(bodies) / (time.perf_counter() - t)


def deliveries(n: int, concurrency: int) -> dict:
    rx = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    port = int(rx.stdout.readline())
    try:
        with tempfile.TemporaryDirectory() as tmp, Store.open(f"sqlite:///{tmp}/d.db") as store:
            from helpers.service_world import world

            world(store)
            secret = new_secret()
            now = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
            bodies = [message_body("detainer.decided", now, {"request_id": f"det-{i}", "state": "holding"}) for i in range(n)]
            with store.engine.begin() as conn:
                conn.execute(schema.endpoints.insert().values(
                    endpoint_id="ep_bench", agency_id="ice", url=f"http://127.0.0.1:{port}/hook", secret=secret,
                    state="active", created_at=now, created_by="bench"))
                conn.execute(schema.messages.insert(), [
                    {"message_id": f"msg_bench{i:08d}", "type": "detainer.decided", "channel": "webhook", "agency_id": "ice",
                     "owner_agency_id": "nyc-doc", "subject": f"det-{i}", "event_seq": 1, "body": b, "state": "pending",
                     "created_at": now} for i, b in enumerate(bodies)])
                conn.execute(schema.deliveries.insert(), [
                    {"message_id": f"msg_bench{i:08d}", "endpoint_id": "ep_bench", "state": "pending", "attempts": 0,
                     "next_attempt_at": now} for i in range(n)])
            direct = asyncio.run(_direct(port, bodies, concurrency, secret))
            dispatcher = Dispatcher(store, Config(timeout=30, concurrency=concurrency, allow_loopback=True))
            stop = threading.Event()
            t = time.perf_counter()
            thread = threading.Thread(target=lambda: asyncio.run(dispatcher.run(stop, 0.05)), daemon=True)
            thread.start()
            while True:
                time.sleep(0.2)
                with store.engine.connect() as conn:
                    left = conn.execute(sa.select(sa.func.count()).select_from(schema.deliveries)
                                        .where(schema.deliveries.c.state != "delivered")).scalar()
                if not left:
                    break
            rate = n / (time.perf_counter() - t)
            stop.set()
            thread.join(30)
    finally:
        rx.terminate()
    return {"n": n, "concurrency": concurrency, "dispatcher_per_s": round(rate, 1), "direct_per_s": round(direct, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="jobs to schedule and fire (default 100,000)")
    ap.add_argument("--window", type=float, default=None, help="seconds the due times spread over (default n/500, at least 30)")
    ap.add_argument("--deliveries", type=int, default=None, help="webhook messages to deliver (default min(n, 20,000))")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--pg", default=os.environ.get("ACCORD_TEST_DATABASE_URL"), help="PostgreSQL URL (a fresh schema is used)")
    args = ap.parse_args()
    window = args.window or max(30.0, args.n / 500)
    result: dict = {"bench": "clocks", "n": args.n, "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "load_average": [round(x, 1) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = lag(f"sqlite:///{tmp}/lag.db", args.n, window)
        print("sqlite", result["sqlite"], flush=True)
    result["postgresql"] = None
    if args.pg:
        schema_name = f"bench_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(args.pg)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema_name}"'))
        try:
            sep = "&" if "?" in args.pg else "?"
            result["postgresql"] = lag(f"{args.pg}{sep}options=-csearch_path%3D{schema_name}", args.n, window)
            print("postgresql", result["postgresql"], flush=True)
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema_name}" CASCADE'))
    d = deliveries(args.deliveries or min(args.n, 20_000), args.concurrency)
    print("deliveries", d, flush=True)
    result["deliveries"] = d
    result["fair_baseline"] = "the same receiver hit directly by httpx at the same concurrency with the same signed bodies"
    result["fair_ratio"] = round(d["dispatcher_per_s"] / d["direct_per_s"], 3)
    lags = [r for r in (result["sqlite"], result["postgresql"]) if r]
    result["goals"] = {"p99_lag_s": 1.0, "max_lag_s": 5.0, "fair_ratio": 0.5}
    result["met"] = {"p99_lag": all(r["p99_lag_s"] <= 1.0 for r in lags), "max_lag": all(r["max_lag_s"] <= 5.0 for r in lags),
                     "fair_ratio": result["fair_ratio"] >= 0.5}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
