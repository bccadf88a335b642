"""Ledger append throughput on SQLite against raw sqlite3 in the same run.

Batched: N synthetic release records arrive as JSON text; each is validated
(strict pydantic ``Release``), canonicalised (RFC 8785), hashed (RFC 6962 leaf),
chained, folded into the Merkle tree and inserted, one durable transaction per
batch (WAL, synchronous=FULL). Two baselines, same batches, same pragmas, identical tables:

* raw: the very same stored rows inserted with ``sqlite3.executemany`` (storing only; the old ratio);
* fair: the same work written plainly in Python (:func:`plain_batch`): the same strict validation,
  ``model_dump(mode="json")`` + ``orjson`` sorted keys, SHA-256 leaf, hash chain, Merkle compact
  range, then one ``executemany`` and one durable commit. Its rows are checked to be byte-identical
  to the ledger's (same recorded_at), so it provably did the same work.

Single: one event per durable transaction via ``Ledger.append`` against a raw
``BEGIN IMMEDIATE; INSERT; COMMIT`` of the same row.

    python bench/ledger_append.py              # 1,000,000 events (the figure)
    python bench/ledger_append.py --rows 50000 # quick look

Then ``audit verify`` throughput on the idle ledger and on a live one (another process appending
500-event transactions throughout; verify reads one snapshot, so it must still say ok).

Ends with one JSON line: {"figure", "value", "unit", "baseline", "ratio", "fair_baseline", "fair_ratio", ...}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from accord.domain import Release
from accord.ledger import Ledger, NewEvent
from accord.ledger.merkle import CompactRange
from accord.ledger.writer import entry_bytes, gc_paused

REASONS = ["bail_posted", "released_on_recognizance", "charges_dismissed", "sentence_served", "transferred_to_immigration"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_lines(n: int, start: int = 0) -> list[bytes]:
    """Release records as they would arrive in a JSON Lines file (payload part only)."""
    out = []
    for i in range(start, start + n):
        rec = {
            "booking_id": f"B{i:09d}", "person_id": f"P{i * 7919 % 10_000_019:09d}",
            "released_at": (T0 + timedelta(seconds=37 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": REASONS[i % len(REASONS)],
        }
        if i % 3 == 0:
            rec["to_agency_id"] = "ICE-ERO-NYC"
            rec["detainer_request_id"] = f"D{i:09d}"
        out.append(json.dumps(rec).encode())
    return out


def fresh(path: Path) -> str:
    for suffix in ("", "-wal", "-shm", ".signing-key"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def stored_schema(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    schema = con.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'ledger_events' AND sql IS NOT NULL").fetchall()
    con.close()
    return [s for (s,) in schema]


def stored_rows(db: Path, first: int, last: int) -> list[tuple]:
    """The ledger's own rows (same bytes) for the baseline to insert."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT seq, stream, stream_seq, kind, caused_by, recorded_at, payload, leaf_hash, chain_hash "
                       "FROM ledger_events WHERE seq BETWEEN ? AND ? ORDER BY seq", (first, last)).fetchall()
    con.close()
    return rows


def raw_connection(path: Path, schema: list[str]) -> sqlite3.Connection:
    fresh(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    for ddl in schema:
        con.execute(ddl)
    return con


INSERT = "INSERT INTO ledger_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
VALIDATE = Release.__pydantic_validator__.validate_json  # = Release.model_validate_json, minus a Python wrapper
KIND = "custody.released"


class PlainChain:
    """The fair baseline's state across batches: what a plain Python ledger would keep."""

    def __init__(self) -> None:
        self.seq, self.chain, self.tree, self.stream_next = 0, bytes(32), CompactRange(), {}


def plain_batch(lines: list[bytes], con: sqlite3.Connection, state: PlainChain, recorded_at: str) -> list[tuple]:
    """The same work as the ledger's batched ingest, written plainly: validate, canonical JSON, hash,
    chain, Merkle, one ``executemany``, one durable commit. Returns the rows it stored."""
    sha = hashlib.sha256
    seq, chain, tree, stream_next = state.seq, state.chain, state.tree, state.stream_next
    out = []
    with gc_paused():  # the same collector treatment as the ledger's loops get
        for line in lines:
            model = VALIDATE(line)
            payload = orjson.dumps(model.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS).decode()
            stream = "booking/" + model.booking_id
            ss = stream_next[stream] = stream_next.get(stream, 0) + 1
            seq += 1
            leaf = sha(b"\x00" + entry_bytes(seq, stream, ss, KIND, None, recorded_at, payload)).digest()
            chain = sha(chain + leaf).digest()
            tree.append(leaf)
            out.append((seq, stream, ss, KIND, None, recorded_at, payload, leaf, chain))
    con.execute("BEGIN IMMEDIATE")
    con.executemany(INSERT, out)
    con.execute("COMMIT")
    state.seq, state.chain = seq, chain
    return out


def batched(work: Path, rows: int, batch: int) -> dict[str, float]:
    """Ledger, raw and fair baselines batch by batch, interleaved so all see the same machine load.

    Timed for the ledger: validation + ``append_chunks`` (one durable transaction),
    what ``accord ingest`` does per chunk. Timed for the raw baseline: BEGIN,
    ``executemany`` of the ledger's stored rows of that batch, COMMIT; for the fair one,
    :func:`plain_batch` from the same JSON text. Making the synthetic text and reading
    rows back are not timed. Wall seconds and CPU seconds of each, by name.
    """
    ours_db = work / "ledger.db"
    led = Ledger.open(fresh(ours_db))
    schema = stored_schema(ours_db)
    con = raw_connection(work / "raw.db", schema)
    plain_con, plain = raw_connection(work / "plain.db", schema), PlainChain()
    t = dict.fromkeys(("ours", "raw", "plain", "ours_cpu", "raw_cpu", "plain_cpu"), 0.0)
    for i in range(0, rows, batch):
        n = min(batch, rows - i)
        lines = synthetic_lines(n, start=i)
        t0, c0 = time.perf_counter(), time.process_time()
        with gc_paused():
            events = [NewEvent(KIND, VALIDATE(line)) for line in lines]
        first, last = led.append_chunks([events])
        t["ours"] += time.perf_counter() - t0
        t["ours_cpu"] += time.process_time() - c0
        chunk = stored_rows(ours_db, first, last)
        t0, c0 = time.perf_counter(), time.process_time()
        con.execute("BEGIN IMMEDIATE")
        con.executemany(INSERT, chunk)
        con.execute("COMMIT")
        t["raw"] += time.perf_counter() - t0
        t["raw_cpu"] += time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        mine = plain_batch(lines, plain_con, plain, recorded_at=chunk[0][5])
        t["plain"] += time.perf_counter() - t0
        t["plain_cpu"] += time.process_time() - c0
        if mine != [tuple(r) for r in chunk]:
            raise SystemExit("the fair baseline's rows differ from the ledger's: it did not do the same work")
    led.close()
    con.close()
    plain_con.close()
    return t


def singles(work: Path, count: int, rounds: int = 10) -> tuple[float, float]:
    """One event per durable transaction: ``Ledger.append`` vs raw BEGIN IMMEDIATE/INSERT/COMMIT, interleaved."""
    source = work / "ledger.db"
    schema = stored_schema(source)
    led = Ledger.open(fresh(work / "single.db"))
    con = raw_connection(work / "single_raw.db", schema)
    models = [VALIDATE(line) for line in synthetic_lines(count)]
    rows = stored_rows(source, 1, count)
    ours = raw = 0.0
    step = max(1, count // rounds)
    for i in range(0, count, step):
        t0 = time.perf_counter()
        for model in models[i : i + step]:
            led.append(KIND, model)
        ours += time.perf_counter() - t0
        t0 = time.perf_counter()
        for row in rows[i : i + step]:
            con.execute("BEGIN IMMEDIATE")
            con.execute(INSERT, row)
            con.execute("COMMIT")
        raw += time.perf_counter() - t0
    led.close()
    con.close()
    return ours, raw


def canonical_non_ascii(count: int = 20_000) -> tuple[float, float]:
    """CPU µs per payload with a "§" citation and accented names: the canonical fast path vs the rfc8785 reference."""
    import rfc8785

    from accord.ledger.canonical import canonical_payload

    payloads = [{"request_id": f"R{i:07d}", "citation": f"8 U.S.C. § 1357(g); Tex. CCP art. 2.251 §({i % 9})",
                 "officer": "José Ñúñez", "note": "Überstellung – «detainer» 受理"} for i in range(count)]
    def best_cpu_us(work):  # CPU time, best of three: the figure should not swing with other load
        best = float("inf")
        for _ in range(3):
            c0 = time.process_time()
            out = work()
            best = min(best, time.process_time() - c0)
        return best / count * 1e6, out

    fast, ours = best_cpu_us(lambda: [canonical_payload(p) for p in payloads])
    slow, reference = best_cpu_us(lambda: [rfc8785.dumps(p) for p in payloads])
    if [o.encode() for o in ours] != reference:
        raise SystemExit("canonical bytes differ from the rfc8785 reference")
    return fast, slow


def _live_writer(url: str, start, stop, batch: int) -> None:  # type: ignore[no-untyped-def]
    led = Ledger.open(url)
    start.set()
    i = 10_000_000
    while not stop.is_set():
        led.append_chunks([[NewEvent(KIND, VALIDATE(line)) for line in synthetic_lines(batch, start=i)]])
        i += batch
    led.close()
    os._exit(0)


def verify_live(db: Path, batch: int = 500) -> tuple[float, int, bool]:
    """``audit verify`` throughput while another process appends ``batch`` events per transaction:
    (events verified per second, events appended while it ran, ok)."""
    import multiprocessing

    url = f"sqlite:///{db}"
    ctx = multiprocessing.get_context("fork")
    start, stop = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_live_writer, args=(url, start, stop, batch))
    writer.start()
    start.wait(60)
    time.sleep(0.2)  # the writer is in its stride
    with Ledger.open(url) as led:
        before = led.size
        t0 = time.perf_counter()
        report = led.verify()
        elapsed = time.perf_counter() - t0
        appended = led.size - before
    stop.set()
    writer.join(60)
    return report.size / elapsed, appended, report.ok


def postgres_batched(url: str, rows: int, batch: int) -> float:
    """The same validated, durable batched ingest into PostgreSQL (no raw baseline: informative only)."""
    led = Ledger.open(url)
    elapsed = 0.0
    for i in range(0, rows, batch):
        lines = synthetic_lines(min(batch, rows - i), start=i)
        t0 = time.perf_counter()
        with gc_paused():
            events = [NewEvent(KIND, VALIDATE(line)) for line in lines]
        led.append_chunks([events])
        elapsed += time.perf_counter() - t0
    led.close()
    return rows / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="events for the batched figure")
    ap.add_argument("--batch", type=int, default=50_000, help="events per transaction")
    ap.add_argument("--singles", type=int, default=5000, help="events for the single-transaction figure")
    ap.add_argument("--dir", type=Path, default=None, help="where the databases go [default: a temp dir]")
    ap.add_argument("--postgres", default=None, metavar="URL",
                    help="also ingest min(rows, 100000) events into this (empty) PostgreSQL schema, e.g. "
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%%3Dbench")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="accord-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    ours_db = work / "ledger.db"
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    t = batched(work, args.rows, args.batch)
    ours_rate, raw_rate, plain_rate = (args.rows / t[k] for k in ("ours", "raw", "plain"))
    ours_cpu, raw_cpu, plain_cpu = t["ours_cpu"], t["raw_cpu"], t["plain_cpu"]
    print(f"batched ({args.batch}/txn): ledger {ours_rate:,.0f} events/s ({t['ours']:.2f}s)")
    print(f"  old ratio, against raw sqlite3.executemany of the stored rows (storing only): {raw_rate:,.0f} rows/s "
          f"({t['raw']:.2f}s); ratio {ours_rate / raw_rate:.3f} (goal >= 0.6)")
    print(f"  fair ratio, against the same work in plain Python (validate, canonical JSON, hash, chain, Merkle, "
          f"one executemany): {plain_rate:,.0f} events/s ({t['plain']:.2f}s); ratio {ours_rate / plain_rate:.3f} "
          f"(goal >= 1/1.7 = {1 / 1.7:.3f}); rows byte-identical")
    print(f"  per CPU-second (this process only): ledger {args.rows / ours_cpu:,.0f} events; "
          f"raw {args.rows / raw_cpu:,.0f} rows; plain Python {args.rows / plain_cpu:,.0f} events")

    s_ours, s_raw = singles(work, min(args.singles, args.rows))
    s_ours_rate, s_raw_rate = args.singles / s_ours, args.singles / s_raw
    print(f"single (1/txn, synchronous=FULL): ledger {s_ours_rate:,.0f} events/s; raw {s_raw_rate:,.0f} rows/s; "
          f"ratio {s_ours_rate / s_raw_rate:.3f}")

    open_start = time.perf_counter()
    with Ledger.open(f"sqlite:///{ours_db}") as led:
        verify_start, verify_c0 = time.perf_counter(), time.process_time()
        report = led.verify()
        verify_s, verify_cpu = time.perf_counter() - verify_start, time.process_time() - verify_c0
    with_open_s = time.perf_counter() - open_start
    print(f"audit verify of {report.size} events: ok={report.ok} in {verify_s:.2f}s, "
          f"{report.size / verify_s:,.0f} events/s (goal >= 100,000; {with_open_s:.2f}s with opening the ledger; "
          f"{report.size / verify_cpu:,.0f} events per CPU-second of this process)")
    live_rate, live_appended, live_ok = verify_live(ours_db)
    print(f"audit verify while a writer appends: {live_rate:,.0f} events/s (idle {report.size / verify_s:,.0f}); "
          f"{live_appended:,} events appended meanwhile; ok={live_ok}")
    c_fast, c_ref = canonical_non_ascii()
    print(f"canonical JSON of a non-ASCII payload ('§', accents, CJK): {c_fast:.1f} µs vs rfc8785 {c_ref:.1f} µs "
          "(byte-identical)")
    pg_rate = None
    if args.postgres:
        pg_rate = postgres_batched(args.postgres, min(args.rows, 100_000), min(args.batch, 20_000))
        print(f"postgresql batched: ledger {pg_rate:,.0f} events/s")
    for p in work.iterdir():
        if p.name.startswith(("ledger.db", "raw.db", "plain.db", "single")) and not args.dir:
            p.unlink()
    if not args.dir:
        os.rmdir(work)
    print(json.dumps({
        "figure": "ledger_batched_durable_ingest_sqlite", "value": round(ours_rate), "unit": "events/s",
        "baseline": round(raw_rate), "ratio": round(ours_rate / raw_rate, 4), "goal_ratio": 0.6,
        "fair_baseline": round(plain_rate), "fair_ratio": round(ours_rate / plain_rate, 4),
        "fair_goal_ratio": round(1 / 1.7, 4), "rows": args.rows, "batch": args.batch,
        "goal_events_per_s": 100_000, "single_value": round(s_ours_rate), "single_baseline": round(s_raw_rate),
        "single_ratio": round(s_ours_rate / s_raw_rate, 4), "single_goal_ratio": 0.5,
        "verify_events_per_s": round(report.size / verify_s), "verify_ok": report.ok, "verify_goal_events_per_s": 100_000,
        "verify_with_open_s": round(with_open_s, 3), "verify_cpu_events_per_s": round(report.size / verify_cpu),
        "verify_live_events_per_s": round(live_rate), "verify_live_ok": live_ok,
        "verify_live_appended_meanwhile": live_appended,
        "cpu_events_per_s": round(args.rows / ours_cpu), "cpu_baseline_rows_per_s": round(args.rows / raw_cpu),
        "cpu_fair_baseline_events_per_s": round(args.rows / plain_cpu),
        "load_average": round(os.getloadavg()[0], 2),
        "canonical_non_ascii_us": round(c_fast, 2), "canonical_non_ascii_reference_us": round(c_ref, 2),
        **({"postgres_events_per_s": round(pg_rate)} if pg_rate else {}),
    }))


if __name__ == "__main__":
    main()
