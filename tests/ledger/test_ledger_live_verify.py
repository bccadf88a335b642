"""`accord audit verify` on a ledger that three writers keep appending to: never a false alarm,
and a real change made while one run is under way is caught by the next run."""

from __future__ import annotations

import multiprocessing
import os
import time

import sqlalchemy as sa
from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger, NewEvent

WRITERS = 3
RUNS = 20


def _writer(url: str, w: int, start, stop) -> None:  # type: ignore[no-untyped-def]
    led = Ledger.open(url)
    start.wait(30)
    i = 0
    while not stop.is_set():
        led.append_many([NewEvent("decision.made", {"writer": w, "i": i + k}, stream=f"detainer/w{w}-{i % 7}")
                         for k in range(1 + i % 40)])  # batches of 1..40 events: tree nodes complete mid-run
        i += 1
        if w == 0 and i % 25 == 0:
            led.checkpoint()
    led.close()
    os._exit(0)


def _verify(url: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--db", url])
    return result.exit_code, result.output + repr(result.exception)


def test_verify_while_three_writers_append_never_fails_and_catches_a_real_tamper(db_url: str) -> None:
    led = Ledger.open(db_url)
    led.append_many([NewEvent("decision.made", {"seed": n}, stream=f"detainer/seed-{n % 5}") for n in range(600)])
    led.checkpoint()
    ctx = multiprocessing.get_context("fork")
    start, stop = ctx.Event(), ctx.Event()
    procs = [ctx.Process(target=_writer, args=(db_url, w, start, stop)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    start.set()
    try:
        deadline = time.time() + 60
        while led.size <= 600 and time.time() < deadline:  # the writers are under way (a loaded machine starts slowly)
            time.sleep(0.05)
        sizes, failures = [led.size], []
        for _ in range(RUNS):
            code, output = _verify(db_url)
            if code != 0:
                failures.append((code, output))
            sizes.append(led.size)
            time.sleep(0.02)
        assert failures == []
        assert sizes[-1] > sizes[0] > 600  # the writers really were appending while verify ran

        # A real tamper committed while a run is reading its snapshot: that run may not see it, the next does.
        engine = sa.create_engine(db_url)
        tampered = []

        def tamper(done: int, total: int) -> None:
            if not tampered:
                with engine.begin() as conn:
                    conn.execute(sa.text("UPDATE ledger_events SET payload = :p WHERE seq = 3"), {"p": '{"seed":999}'})
                tampered.append(done)

        led.verify(progress=tamper)
        assert tampered
        engine.dispose()
        code, output = _verify(db_url)
        assert code == 3 and "seq 3:" in output and "leaf hash" in output, output
    finally:
        stop.set()
        for p in procs:
            p.join(60)
        led.close()
    assert all(p.exitcode == 0 for p in procs)
