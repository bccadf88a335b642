"""Four processes appending at once leave one valid chain: no fork, no gap, no reordering within a writer."""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict

import pytest

from accord.ledger import Ledger, NewEvent

WRITERS = 4
SINGLES = 40
BATCHES = 5
BATCH = 30


def writer(url: str, w: int, start: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    led = Ledger.open(url)
    start.wait(30)
    i = 0
    for b in range(BATCHES):
        for _ in range(SINGLES // BATCHES):
            led.append("decision.made", {"writer": w, "i": i}, stream=f"detainer/shared-{i % 3}")
            i += 1
        led.append_many([NewEvent("decision.made", {"writer": w, "i": i + k, "batch": b}, stream=f"detainer/w{w}")
                         for k in range(BATCH)])
        i += BATCH
        if b == 2:
            led.checkpoint()
    led.close()
    os._exit(0)


@pytest.mark.slow
def test_four_processes_appending_at_once_leave_one_valid_chain(db_url: str) -> None:
    Ledger.open(db_url).close()
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=writer, args=(db_url, w, start)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0

    led = Ledger.open(db_url)
    per_writer = SINGLES + BATCHES * BATCH
    assert led.size == WRITERS * per_writer
    report = led.verify()
    assert report.ok and report.checkpoints_checked == WRITERS, report
    seen: dict[int, list[int]] = defaultdict(list)
    streams: dict[str, list[int]] = defaultdict(list)
    batches: dict[tuple[int, int], list[int]] = defaultdict(list)
    for ev in led.events():
        w, i = ev.payload["writer"], ev.payload["i"]
        seen[w].append(i)
        streams[ev.stream].append(ev.stream_seq)
        if "batch" in ev.payload:
            batches[(w, ev.payload["batch"])].append(ev.seq)
    for w in range(WRITERS):
        assert seen[w] == list(range(per_writer))  # each writer's events in its own order, none lost
    for key, seqs in batches.items():  # a batch is never interleaved with another writer's events
        assert seqs == list(range(seqs[0], seqs[0] + BATCH)), key
    for stream, numbers in streams.items():
        assert numbers == list(range(1, len(numbers) + 1)), stream
    led.close()
