"""Crash safety: an appender killed with SIGKILL at random moments never loses what it reported committed.

Children are forked (the imports are already paid for) and report each batch on
a pipe only after ``append_many`` returned, i.e. after the commit was durable.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
from collections import Counter

import pytest

from accord.ledger import Ledger, NewEvent

KILLS = 20


def appender(url: str, run: int, report_fd: int) -> None:
    report = os.fdopen(report_fd, "w", buffering=1)
    led = Ledger.open(url)
    rng = random.Random(run)
    report.write("ready\n")
    batch = 0
    while True:
        n = rng.randint(1, 40)
        events = [NewEvent("decision.made", {"run": run, "batch": batch, "i": i, "n": n, "pad": "x" * rng.randint(0, 300)},
                           stream=f"detainer/R{run}-{rng.randint(0, 3)}") for i in range(n)]
        done = led.append_many(events)
        report.write(json.dumps({"batch": batch, "first": done[0].seq, "last": done[-1].seq}) + "\n")
        if batch % 7 == 3:
            led.checkpoint()
        batch += 1


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_committed(db_url: str) -> None:
    Ledger.open(db_url).close()
    fork = multiprocessing.get_context("fork")
    rng = random.Random(4711)
    reported: dict[tuple[int, int], tuple[int, int]] = {}
    for run in range(KILLS):
        r, w = os.pipe()
        child = fork.Process(target=appender, args=(db_url, run, w), daemon=True)
        child.start()
        os.close(w)
        with os.fdopen(r) as lines:
            assert lines.readline().strip() == "ready"
            time_to_kill = rng.uniform(0.0, 0.3)
            child.join(time_to_kill)
            os.kill(child.pid, signal.SIGKILL)
            child.join(30)
            assert child.exitcode == -signal.SIGKILL
            for line in lines.read().splitlines():
                rec = json.loads(line)
                reported[(run, rec["batch"])] = (rec["first"], rec["last"])

    led = Ledger.open(db_url)
    report = led.verify()
    assert report.ok, report
    stored = {ev.seq: ev.payload for ev in led.events()}
    for (run, batch), (first, last) in reported.items():
        for seq in range(first, last + 1):
            assert stored[seq]["run"] == run and stored[seq]["batch"] == batch, seq
    # every batch is all there or not there at all (no half transaction survived a kill)
    sizes = Counter((p["run"], p["batch"]) for p in stored.values())
    wanted = {(p["run"], p["batch"]): p["n"] for p in stored.values()}
    assert sizes == Counter(wanted)
    assert len(reported) >= KILLS  # kills landed between commits, not only before the first one
    led.close()


@pytest.mark.slow
def test_killed_file_ingest_lands_whole_or_not_at_all(db_url: str, tmp_path, accord_cli) -> None:
    """`accord ingest` killed part-way leaves either every row of the file or none of it."""
    import subprocess
    import sys
    import time

    rows = [json.dumps({"kind": "notice.sent", "payload": {"notice_id": f"N-{i}", "sent_at": "2026-03-02T10:00:00Z"}})
            for i in range(30000)]
    src = tmp_path / "big.jsonl"
    src.write_text("\n".join(rows) + "\n")
    Ledger.open(db_url).close()
    rng = random.Random(7)
    landed = 0
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", "from accord.cli import main; main()", "ingest", str(src), "--db", db_url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.8, 2.5))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        led = Ledger.open(db_url)
        size = led.size
        assert size in (landed, landed + len(rows)), size
        if b"committed" in out:
            assert size == landed + len(rows)
        landed = size
        assert led.verify().ok
        led.close()
