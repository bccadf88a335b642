"""HTTP API load: decided detainer submissions per second against the server's own /health, same run.

Starts ``accord serve`` on loopback (SQLite with 1 and then 2 workers, then PostgreSQL with 2), registers a jail and
ICE with a token each, then 16 concurrent clients submit N detainers, each after its custody
record (two POSTs, each with an Idempotency-Key; the detainer is decided at once under the
jail's law). The baseline is N requests to ``/health`` by the same clients on the same server.
The clients speak plain HTTP/1.1 keep-alive over asyncio streams, so the client costs little of
the two cores the server shares with it. Everything is bounded by N and a time limit; the
servers are stopped at the end.

The server answers a POST only once its transaction is durable, and POSTs that arrive while one is
being written share the next one (group commit, ``accord.service.group``), so the figure is what
16 concurrent clients get with every acknowledged submission on disk. The example's dates are in
2024, so every hold the law allows has already ended: the server's own scheduler fires each one's
warning and limit (two more events and their messages) while the submissions run, and that work
is in the figure too. ``decided_in_ledger`` and ``verified`` are read from the store afterwards.

    python bench/api_load.py              # 20,000 detainers (the figure)
    python bench/api_load.py --n 500      # quick look
    python bench/api_load.py --no-pg      # SQLite only
    python bench/api_load.py --no-pg --sqlite-workers 2   # only the run with two server processes on the SQLite file

With several workers each has its own ``SO_REUSEPORT`` socket (the kernel spreads the 16
connections over them) and they take turns at SQLite's write lock through ``WriteTurns``
(``accord.service.group``); the write transaction is then what limits the rate.

Goals: >= 500 decided submissions/s on SQLite with 2 cores, p99 <= 100 ms, and >= 25 % of the
health endpoint's rate. ``ratio`` is submissions/s over health requests/s; ``fair_baseline`` is
the health rate per two requests (a submission is two requests: the custody record, then the
detainer) and ``fair_ratio`` the submissions' rate over it. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "src/accord/law/examples/nyc_case.json").read_text())
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TIME_LIMIT_S = 900


def prepare(url: str) -> dict[str, str]:
    """Register the jail (NYC DOC pack) and ICE, and issue one token each."""
    from accord.api import tokens
    from accord.domain import Agency
    from accord.service.actors import Actor
    from accord.service.agencies import register_agency
    from accord.service.store import Store

    ice = {"agency_id": "ice", "name": "ICE ERO New York", "kind": "immigration_enforcement", "jurisdiction": "US",
           "primarily_enforces_immigration": True}
    with Store.open(url) as store:
        with store.transaction() as uow:
            register_agency(uow, Actor.operator(), Agency.model_validate_json(json.dumps(EXAMPLE["receiving_agency"])),
                            law_pack="nyc_doc")
            register_agency(uow, Actor.operator(), Agency.model_validate_json(json.dumps(ice)))
        tokens.ensure_tables(store.engine)
        now = datetime.now(timezone.utc)
        return {who: tokens.issue(store.engine, agency, {"submit", "read"}, now=now)[1]
                for who, agency in (("jail", "nyc-doc"), ("ice", "ice"))}


def bodies(i: int) -> tuple[bytes, bytes]:
    custody = {**EXAMPLE["custody"], "booking_id": f"bk-{i}", "person_id": f"p-{i}"}
    detainer = {**EXAMPLE["detainer"], "request_id": f"det-{i}", "person_id": f"p-{i}", "booking_id": f"bk-{i}"}
    return (json.dumps({"custody": custody, "person": {"person_id": f"p-{i}"}}).encode(), json.dumps(detainer).encode())


class Conn:
    """One keep-alive HTTP/1.1 connection: just enough of the protocol for this benchmark."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
                *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        self.writer.write("\r\n".join(head).encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def run_clients(port: int, jobs: list, clients: int) -> tuple[float, list[float], int]:
    """``jobs``: per item, a list of (method, path, headers, body); the last request's latency is the item's."""
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []
    failures = 0

    async def client() -> None:
        nonlocal failures
        conn = await Conn.open(port)
        try:
            while not queue.empty():
                steps = queue.get_nowait()
                for method, path, headers, body in steps:
                    t0 = time.perf_counter()
                    status, answer = await conn.request(method, path, headers, body)
                    if status >= 300:
                        failures += 1
                        print(f"  {method} {path}: {status} {answer[:200]!r}", file=sys.stderr)
                latencies.append(time.perf_counter() - t0)
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), TIME_LIMIT_S)
    return time.perf_counter() - start, latencies, failures


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def start_server(url: str, workers: int, port: int) -> subprocess.Popen:
    env = {**os.environ, "ACCORD_RATE_LIMIT": "10000000/minute", "ACCORD_LOG_LEVEL": "warning"}
    proc = subprocess.Popen([sys.executable, "-c", "from accord.cli import main; main()", "serve", "--db", url,
                             "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.request

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("accord serve exited") from None
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("accord serve did not start")


def measure(url: str, workers: int, n: int, clients: int, label: str) -> dict:
    toks = prepare(url)
    port = _free_port()
    proc = start_server(url, workers, port)
    try:
        health = [[("GET", "/health", {}, b"")] for _ in range(n)]
        asyncio.run(run_clients(port, health[: min(200, n)], clients))  # warm-up (imports, connections)
        h_time, h_lat, h_fail = asyncio.run(run_clients(port, health, clients))
        jobs = []
        for i in range(n):
            custody, detainer = bodies(i)
            jobs.append([("POST", "/v1/custody-records", {"Authorization": f"Bearer {toks['jail']}", "Content-Type":
                          "application/json", "Idempotency-Key": f'"b-{i}"'}, custody),
                         ("POST", "/v1/detainers", {"Authorization": f"Bearer {toks['ice']}", "Content-Type":
                          "application/json", "Idempotency-Key": f'"d-{i}"'}, detainer)])
        s_time, s_lat, s_fail = asyncio.run(run_clients(port, jobs, clients))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    from accord.ledger import Ledger

    with Ledger.open(url) as led:
        decided = sum(1 for _ in led.events(kind="decision.made"))
        ok = led.verify().ok
    out = {"label": label, "workers": workers, "n": n, "health_per_s": n / h_time, "health_p50_ms": pct(h_lat, .5) * 1e3,
           "health_p99_ms": pct(h_lat, .99) * 1e3, "submissions_per_s": n / s_time,
           "p50_ms": pct(s_lat, .5) * 1e3, "p99_ms": pct(s_lat, .99) * 1e3, "failures": h_fail + s_fail,
           "decided_in_ledger": decided, "verified": ok}
    print(f"{label} ({workers} worker(s)): health {out['health_per_s']:,.0f}/s (p50 {out['health_p50_ms']:.1f} ms, "
          f"p99 {out['health_p99_ms']:.1f} ms); decided submissions {out['submissions_per_s']:,.0f}/s "
          f"(custody record + detainer; detainer p50 {out['p50_ms']:.1f} ms, p99 {out['p99_ms']:.1f} ms); "
          f"{decided} decisions in the ledger, chain verified {ok}, {out['failures']} failed requests")
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_schema(base: str) -> tuple[str, str]:
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", schema


def _drop(base: str, schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="detainers (and as many /health requests)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--sqlite-workers", type=int, nargs="+", default=[1, 2],
                    help="server processes on the SQLite file, one run each (the first is the headline figure)")
    ap.add_argument("--pg", default=PG, help="PostgreSQL URL (a fresh schema is made and dropped)")
    ap.add_argument("--pg-workers", type=int, default=2)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    runs = []
    for workers in args.sqlite_workers:
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(measure(f"sqlite:///{tmp}/accord.db", workers, args.n, args.clients, "SQLite"))
    if not args.no_pg:
        url, schema = _pg_schema(args.pg)
        try:
            runs.append(measure(url, args.pg_workers, args.n, args.clients, "PostgreSQL"))
        finally:
            _drop(args.pg, schema)
    lite = runs[0]
    ratio = lite["submissions_per_s"] / lite["health_per_s"]
    fair = lite["health_per_s"] / 2
    for run in runs:
        if run["label"] == "SQLite":
            print(f"goals (SQLite, {run['workers']} worker(s)): >= 500 submissions/s: {run['submissions_per_s']:,.0f}; "
                  f"p99 <= 100 ms: {run['p99_ms']:.1f}; >= 25 % of health: {run['submissions_per_s'] / run['health_per_s']:.0%} "
                  f"({run['submissions_per_s'] / (run['health_per_s'] / 2):.0%} of health per two requests)")
    summary = {"figure": f"decided detainer submissions per second over HTTP (SQLite, {lite['workers']} worker(s))", "value": round(lite["submissions_per_s"]),
               "unit": "submissions/s", "baseline": round(lite["health_per_s"]), "ratio": round(ratio, 3),
               "fair_baseline": round(fair), "fair_ratio": round(lite["submissions_per_s"] / fair, 3),
               "p50_ms": round(lite["p50_ms"], 1), "p99_ms": round(lite["p99_ms"], 1), "n": args.n, "clients": args.clients,
               "runs": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()} for r in runs]}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
