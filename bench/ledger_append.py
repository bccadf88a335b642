"""Ledger append throughput on SQLite against raw sqlite3 in the same run.

Batched: N synthetic release records arrive as JSON text; each is validated
(strict pydantic ``Release``), canonicalised (RFC 8785), hashed (RFC 6962 leaf),
chained, folded into the Merkle tree and inserted, one durable transaction per
batch (WAL, synchronous=FULL). Baseline: the very same stored rows inserted with
``sqlite3.executemany`` into an identical table, same batches, same pragmas.

Single: one event per durable transaction via ``Ledger.append`` against a raw
``BEGIN IMMEDIATE; INSERT; COMMIT`` of the same row.

    python bench/ledger_append.py              # 1,000,000 events (the figure)
    python bench/ledger_append.py --rows 50000 # quick look

Ends with one JSON line: {"figure", "value", "unit", "baseline", "ratio", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from accord.domain import Release
from accord.ledger import Ledger, NewEvent
from accord.ledger.writer import gc_paused

REASONS = ["bail_posted", "released_on_recognizance", "charges_dismissed", "sentence_served", "transferred_to_immigration"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_lines(n: int) -> list[bytes]:
    """Release records as they would arrive in a JSON Lines file (payload part only)."""
    out = []
    for i in range(n):
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


def ledger_batched(url: str, lines: list[bytes], batch: int) -> float:
    """What ``accord ingest`` does per chunk: strict validation, then one durable append transaction."""
    led = Ledger.open(url)
    validate = Release.__pydantic_validator__.validate_json  # = Release.model_validate_json, minus a wrapper
    kind = "custody.released"
    start = time.perf_counter()
    for i in range(0, len(lines), batch):
        with gc_paused():
            events = [NewEvent(kind, validate(line)) for line in lines[i : i + batch]]
        led.append_chunks([events])  # one durable transaction per batch
    elapsed = time.perf_counter() - start
    led.close()
    return elapsed


def stored_rows(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT seq, stream, stream_seq, kind, caused_by, recorded_at, payload, leaf_hash, chain_hash "
                       "FROM ledger_events ORDER BY seq").fetchall()
    schema = con.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'ledger_events' AND sql IS NOT NULL").fetchall()
    con.close()
    return rows, [s for (s,) in schema]


def raw_connection(path: Path, schema: list[str]) -> sqlite3.Connection:
    fresh(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    for ddl in schema:
        con.execute(ddl)
    return con


INSERT = "INSERT INTO ledger_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


def raw_batched(path: Path, rows: list[tuple], schema: list[str], batch: int) -> float:
    con = raw_connection(path, schema)
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(INSERT, rows[i : i + batch])
        con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def ledger_singles(url: str, lines: list[bytes]) -> float:
    led = Ledger.open(url)
    start = time.perf_counter()
    for line in lines:
        led.append("custody.released", Release.model_validate_json(line))
    elapsed = time.perf_counter() - start
    led.close()
    return elapsed


def raw_singles(path: Path, rows: list[tuple], schema: list[str]) -> float:
    con = raw_connection(path, schema)
    start = time.perf_counter()
    for row in rows:
        con.execute("BEGIN IMMEDIATE")
        con.execute(INSERT, row)
        con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="events for the batched figure")
    ap.add_argument("--batch", type=int, default=50_000, help="events per transaction")
    ap.add_argument("--singles", type=int, default=3000, help="events for the single-transaction figure")
    ap.add_argument("--dir", type=Path, default=None, help="where the databases go [default: a temp dir]")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="accord-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    lines = synthetic_lines(args.rows)
    ours_db, raw_db = work / "ledger.db", work / "raw.db"
    ours_s = ledger_batched(fresh(ours_db), lines, args.batch)
    rows, schema = stored_rows(ours_db)
    assert len(rows) == args.rows
    raw_s = raw_batched(raw_db, rows, schema, args.batch)
    ours_rate, raw_rate = args.rows / ours_s, args.rows / raw_s
    print(f"batched ({args.batch}/txn): ledger {ours_rate:,.0f} events/s ({ours_s:.2f}s); "
          f"raw sqlite3.executemany {raw_rate:,.0f} rows/s ({raw_s:.2f}s); ratio {ours_rate / raw_rate:.3f}")

    single_lines = lines[: args.singles]
    s_ours = ledger_singles(fresh(work / "single.db"), single_lines)
    s_raw = raw_singles(work / "single_raw.db", rows[: args.singles], schema)
    s_ours_rate, s_raw_rate = args.singles / s_ours, args.singles / s_raw
    print(f"single (1/txn, synchronous=FULL): ledger {s_ours_rate:,.0f} events/s; raw {s_raw_rate:,.0f} rows/s; "
          f"ratio {s_ours_rate / s_raw_rate:.3f}")

    verify_start = time.perf_counter()
    with Ledger.open(f"sqlite:///{ours_db}") as led:
        report = led.verify()
    verify_s = time.perf_counter() - verify_start
    print(f"audit verify of {report.size} events: ok={report.ok} in {verify_s:.2f}s")
    for p in work.iterdir():
        if p.name.startswith(("ledger.db", "raw.db", "single")) and not args.dir:
            p.unlink()
    if not args.dir:
        os.rmdir(work)
    print(json.dumps({
        "figure": "ledger_batched_durable_ingest_sqlite", "value": round(ours_rate), "unit": "events/s",
        "baseline": round(raw_rate), "ratio": round(ours_rate / raw_rate, 4), "rows": args.rows, "batch": args.batch,
        "goal_events_per_s": 100_000, "single_value": round(s_ours_rate), "single_baseline": round(s_raw_rate),
        "single_ratio": round(s_ours_rate / s_raw_rate, 4), "single_goal_ratio": 0.5,
        "verify_events_per_s": round(report.size / verify_s), "verify_ok": report.ok,
    }))


if __name__ == "__main__":
    main()
