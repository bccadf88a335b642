"""Group commit (``Store.submit``): concurrent units of work share durable transactions, each all or nothing.

A unit that waits on an event holds the lead, so the callers that arrive meanwhile are queued and
join its transaction when it is done: the tests know which units share a transaction, rather than
hoping the scheduler makes one.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from accord.errors import ConflictError
from accord.ledger import NewEvent
from accord.service.detainers import submit_custody, submit_detainer
from accord.service.store import Store
from helpers.service_world import ICE, JAIL, agency_actor, booking, detainer, world


def _submission(n: int):
    rec, person = booking(n)
    det = detainer(n)

    def work(uow: Any) -> tuple[int, int, str]:
        submit_custody(uow, agency_actor(JAIL), rec, person)
        view = submit_detainer(uow, agency_actor(ICE), det)
        return uow.tx.size_at_start + 1, uow.tx.size, view.state.value

    return work


def _hold_the_lead(store: Store) -> tuple[threading.Event, Any]:
    """A unit that keeps the lead until the returned event is set (so the next callers queue up)."""
    release = threading.Event()
    pool = ThreadPoolExecutor(1)
    future = pool.submit(store.submit, lambda uow: release.wait(60))
    deadline = time.monotonic() + 30
    while not store.group._busy:
        assert time.monotonic() < deadline, "the holding unit never took the lead"
        time.sleep(0.005)
    pool.shutdown(wait=False)
    return release, future


def _wait_queued(store: Store, n: int) -> None:
    """Until ``n`` units wait behind the one holding the lead (it left the queue when it took the lead)."""
    deadline = time.monotonic() + 60
    while len(store.group._queue) < n:
        assert time.monotonic() < deadline, f"only {len(store.group._queue)} of {n} units queued"
        time.sleep(0.005)


def _verify_cli(url: str) -> None:
    verify = subprocess.run([sys.executable, "-c", "from accord.cli import main; main()", "audit", "verify",
                             "--db", url], capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr


def test_fifty_concurrent_submissions_are_each_acknowledged_and_recorded_exactly_once(db_url: str) -> None:
    from accord.service import schema

    n = 50
    with Store.open(db_url) as store:
        world(store)
        groups_before = store.group.groups
        release, holder = _hold_the_lead(store)
        with ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(store.submit, _submission(i)) for i in range(1, n + 1)]
            _wait_queued(store, n)
            release.set()
            answers = [f.result(timeout=120) for f in futures]
        holder.result(timeout=60)
        # the fifty queued while the holding unit was written joined its transaction: one commit for all
        assert store.group.groups - groups_before == 1 and store.group.units >= n + 1
        assert all(state == "holding" for _, _, state in answers)
        spans = sorted((first, last) for first, last, _ in answers)
        for (_, last), (first, _) in zip(spans, spans[1:]):
            assert first == last + 1  # each unit's events right after the previous unit's: one chain
        booked = [e.payload["booking_id"] for e in store.ledger.events(kind="custody.booked")]
        received = [e.payload["request_id"] for e in store.ledger.events(kind="detainer.received")]
        decided = [e.caused_by for e in store.ledger.events(kind="decision.made")]
        assert sorted(booked) == sorted(f"bk-{i}" for i in range(1, n + 1))
        assert sorted(received) == sorted(f"det-{i}" for i in range(1, n + 1))
        assert len(decided) == len(set(decided)) == n
        for first, last, _ in answers:  # what each caller was told is what the ledger holds
            events = list(store.ledger.events(after_seq=first - 1, until_seq=last))
            assert [e.kind for e in events][:3] == ["person.registered", "custody.booked", "detainer.received"]
            assert events[1].payload["booking_id"] == events[2].payload["booking_id"]
        assert store.ledger.verify().ok
        with store.reading() as r:  # the read model followed every unit
            assert all(r.row(schema.detainers, f"det-{i}")["state"] == "holding" for i in range(1, n + 1))
    _verify_cli(db_url)


def test_a_failing_unit_in_a_group_is_rolled_back_alone(db_url: str) -> None:
    from accord.service import schema

    with Store.open(db_url) as store:
        world(store)
        groups_before = store.group.groups
        release, holder = _hold_the_lead(store)

        def appends_then_fails(uow: Any) -> None:
            rec, person = booking(99)
            submit_custody(uow, agency_actor(JAIL), rec, person)  # events, projection rows: then an error
            raise RuntimeError("this unit fails after appending")

        def conflict(uow: Any) -> None:
            submit_custody(uow, agency_actor(JAIL), *booking(1))  # bk-1 is the group's first unit's: a 409

        with ThreadPoolExecutor(6) as pool:
            first = pool.submit(store.submit, _submission(1))
            _wait_queued(store, 1)
            failing = pool.submit(store.submit, appends_then_fails)
            _wait_queued(store, 2)
            clash = pool.submit(store.submit, conflict)
            _wait_queued(store, 3)
            last = pool.submit(store.submit, _submission(2))
            _wait_queued(store, 4)
            release.set()
            a = first.result(timeout=60)
            with pytest.raises(RuntimeError, match="fails after appending"):
                failing.result(timeout=60)
            with pytest.raises(ConflictError, match="bk-1 is already recorded"):
                clash.result(timeout=60)
            b = last.result(timeout=60)
        holder.result(timeout=60)
        assert store.group.groups - groups_before == 1  # the holding unit and all four in one transaction
        assert b[0] == a[1] + 1  # the failed units left no gap in the chain
        assert [e.payload["booking_id"] for e in store.ledger.events(kind="custody.booked")] == ["bk-1", "bk-2"]
        assert store.ledger.size == b[1]
        with store.reading() as r:
            assert r.row(schema.bookings, "bk-99") is None
            assert r.row(schema.persons, "p-99") is None
            assert r.row(schema.detainers, "det-2")["state"] == "holding"
        assert store.position() == store.ledger.size
        assert store.ledger.verify().ok
        # and the store goes on: the next unit appends after them
        more = store.submit(lambda uow: uow.append([NewEvent("person.registered", {"person_id": "p-100"})])[0].seq)
        assert more == b[1] + 1
    _verify_cli(db_url)


def test_a_unit_alone_that_fails_writes_nothing(db_url: str) -> None:
    with Store.open(db_url) as store:
        world(store)
        size = store.ledger.size

        def fails(uow: Any) -> None:
            submit_custody(uow, agency_actor(JAIL), *booking(7))
            raise ValueError("no")

        with pytest.raises(ValueError):
            store.submit(fails)
        assert store.ledger.size == size
        assert store.submit(_submission(7))[0] == size + 1
        assert store.ledger.verify().ok


def test_submit_inside_a_unit_is_refused_rather_than_waiting_forever(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store:
        with pytest.raises(RuntimeError, match="inside a unit of work"):
            store.submit(lambda uow: store.submit(lambda inner: None))
        assert store.submit(lambda uow: 42) == 42  # and the store goes on


def test_coroutines_submit_without_threads_of_their_own_and_share_a_group_with_threads(db_url: str) -> None:
    """``run_async`` (the API's POSTs): units of coroutines queue with the threads' units and join the group being
    written, each coroutine is answered once that group is durable, a failing one fails alone, and with nobody
    leading the group's writer thread writes a coroutine's unit."""
    import asyncio

    with Store.open(db_url) as store:
        world(store)
        groups_before = store.group.groups
        release, holder = _hold_the_lead(store)
        ran_on: dict[int, str] = {}

        def tracked(n: int) -> Any:
            work = _submission(n)

            def run(uow: Any) -> Any:
                ran_on[n] = threading.current_thread().name
                return work(uow)

            return run

        def conflict(uow: Any) -> None:
            submit_custody(uow, agency_actor(JAIL), *booking(1))  # bk-1 is the first coroutine's: a 409

        async def main() -> list[Any]:
            tasks = [asyncio.ensure_future(store.submit_async(tracked(i))) for i in range(1, 11)]
            tasks.append(asyncio.ensure_future(store.submit_async(conflict)))
            while len(store.group._queue) < 11:  # all queued behind the holding unit, none written yet
                await asyncio.sleep(0.005)
            assert not any(t.done() for t in tasks)
            release.set()
            return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)

        answers = asyncio.run(main())
        holder.result(timeout=60)
        *fine, clash = answers
        assert isinstance(clash, ConflictError) and "bk-1 is already recorded" in str(clash)
        assert [state for _, _, state in fine] == ["holding"] * 10
        assert store.group.groups - groups_before == 1  # they joined the holding unit's transaction
        assert len(set(ran_on.values())) == 1 and threading.current_thread().name not in ran_on.values()
        spans = sorted((first, last) for first, last, _ in fine)
        for (_, last), (first, _) in zip(spans, spans[1:]):
            assert first == last + 1
        assert sorted(e.payload["booking_id"] for e in store.ledger.events(kind="custody.booked")) == sorted(
            f"bk-{i}" for i in range(1, 11))
        assert store.ledger.verify().ok

        def alone(uow: Any) -> tuple[int, str]:
            return uow.append([NewEvent("person.registered", {"person_id": "p-100"})])[0].seq, threading.current_thread().name

        seq, thread = asyncio.run(store.submit_async(alone))  # nobody leads: the writer thread does
        assert seq == store.ledger.size and thread.startswith("accord-group-writer")
    _verify_cli(db_url)


def test_the_lead_passes_between_the_writer_thread_and_waiting_threads(sqlite_url: str) -> None:
    """One unit a group: the writer leads for coroutines, hands the lead to a thread that waits to lead its own
    unit, and that thread starts the writer again for the coroutine behind it rather than writing it itself."""
    import asyncio

    with Store.open(sqlite_url) as store:
        world(store)
        store.group.max_group = 1
        release, holder = _hold_the_lead(store)
        seen: dict[str, str] = {}

        def mark(name: str) -> Any:
            def run(uow: Any) -> str:
                seen[name] = threading.current_thread().name
                return name
            return run

        async def main() -> list[str]:
            first = asyncio.ensure_future(store.submit_async(mark("coroutine 1")))
            while len(store.group._queue) < 1:
                await asyncio.sleep(0.005)
            with ThreadPoolExecutor(1, thread_name_prefix="caller") as pool:
                thread = pool.submit(store.submit, mark("thread"))
                while len(store.group._queue) < 2:
                    await asyncio.sleep(0.005)
                second = asyncio.ensure_future(store.submit_async(mark("coroutine 2")))
                while len(store.group._queue) < 3:
                    await asyncio.sleep(0.005)
                release.set()
                return [await asyncio.wait_for(first, 60), await asyncio.wrap_future(thread), await asyncio.wait_for(second, 60)]

        assert asyncio.run(main()) == ["coroutine 1", "thread", "coroutine 2"]
        holder.result(timeout=60)
        assert seen["coroutine 1"].startswith("accord-group-writer") and seen["coroutine 2"].startswith("accord-group-writer")
        assert seen["thread"].startswith("caller")
        assert not store.group._busy and not store.group._queue


@pytest.mark.parametrize("failing", ["writer", "leading thread"])
def test_the_lead_goes_on_when_a_step_after_a_commit_fails(sqlite_url: str, failing: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """A failure after a group's commit (the signed checkpoint, say), in the writer thread or in a thread leading
    for its own caller, leaves no coroutine behind it waiting for a lead nobody holds; the writer logs it."""
    import asyncio

    with Store.open(sqlite_url) as store:
        world(store)
        store.group.max_group = 1
        real, calls = store.ledger._checkpoint_if_due, []
        fail_on = 2 if failing == "writer" else 1  # the holder's group is the first to append in the second case

        def fails_once(size: int) -> None:
            calls.append(size)
            if len(calls) == fail_on:
                raise RuntimeError("checkpoint signing failed")
            real(size)

        store.ledger._checkpoint_if_due = fails_once  # type: ignore[method-assign]
        release = threading.Event()

        def holding(uow: Any) -> None:
            release.wait(60)
            if failing == "leading thread":
                uow.append([NewEvent("person.registered", {"person_id": "p-99"})])

        pool = ThreadPoolExecutor(1)
        holder = pool.submit(store.submit, holding)
        while not store.group._busy:
            time.sleep(0.005)

        def register(n: int) -> Any:
            return lambda uow: uow.append([NewEvent("person.registered", {"person_id": f"p-{n}"})])[0].seq

        async def main() -> list[int]:
            tasks = [asyncio.ensure_future(store.submit_async(register(100 + i))) for i in range(3)]
            while len(store.group._queue) < 3:
                await asyncio.sleep(0.005)
            release.set()
            return await asyncio.wait_for(asyncio.gather(*tasks), 60)

        seqs = asyncio.run(main())
        if failing == "leading thread":
            with pytest.raises(RuntimeError, match="checkpoint signing failed"):  # its caller hears of it
                holder.result(timeout=60)
        else:
            holder.result(timeout=60)
            assert "a step after the commit failed" in caplog.text
        pool.shutdown()
        assert len(calls) == 3 + (failing == "leading thread")
        assert seqs == list(range(seqs[0], seqs[0] + 3)) and store.ledger.size == seqs[-1]
        assert not store.group._busy and store.ledger.verify().ok


_TWO_PROCESS_WRITER = """
import sys, threading
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, sys.argv[3])
from accord.service.store import Store
from test_service_group_commit import _submission
url, first = sys.argv[1], int(sys.argv[2])
with Store.open(url) as store:
    with ThreadPoolExecutor(6) as pool:
        views = list(pool.map(store.submit, [_submission(i) for i in range(first, first + 24)]))
print(len(views))
"""


def test_two_processes_take_turns_through_the_write_lock_file(sqlite_url: str) -> None:
    """Two server-like processes submitting at once: one valid chain, every submission once, a lock file beside the db."""
    from pathlib import Path

    from accord.ledger import Ledger
    from accord.service import schema

    with Store.open(sqlite_url) as store:
        world(store)
        assert type(store._turns).__name__ == "WriteTurns"
    here = str(Path(__file__).parent)
    tests = str(Path(__file__).parents[1])
    env_path = f"{here}:{tests}"
    procs = [subprocess.Popen([sys.executable, "-c", _TWO_PROCESS_WRITER, sqlite_url, str(first), here],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**__import__("os").environ, "PYTHONPATH": env_path}) for first in (1, 101)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.strip() == "24"
    with Store.open(sqlite_url) as store, store.engine.connect() as conn:
        ids = sorted(r.request_id for r in conn.execute(schema.detainers.select()))
    assert ids == sorted([f"det-{i}" for i in range(1, 25)] + [f"det-{i}" for i in range(101, 125)])
    with Ledger.open(sqlite_url) as led:
        assert sum(1 for _ in led.events(kind="decision.made")) == 48
        assert led.verify().ok
    assert Path(sqlite_url.removeprefix("sqlite:///") + ".writer-lock").exists()
    _verify_cli(sqlite_url)


def test_write_turns_are_reentrant_and_exclude_another_process(tmp_path) -> None:
    from accord.service.group import WriteTurns

    path = str(tmp_path / "db.writer-lock")
    turns = WriteTurns(path)
    with turns, turns:  # re-entrant in one thread (a transaction inside a store's catch-up, say)
        holder = subprocess.run([sys.executable, "-c", (
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
            "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"), path], capture_output=True, text=True, timeout=60)
        assert holder.returncode != 0 and "BlockingIOError" in holder.stderr  # another process cannot have it
    # released: another process can take it now
    free = subprocess.run([sys.executable, "-c", (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"),
        path], capture_output=True, text=True, timeout=60)
    assert free.returncode == 0, free.stderr
    seen: list[str] = []  # a second thread of this process waits for the first to leave
    with turns:
        t = threading.Thread(target=lambda: (turns.__enter__(), seen.append("in"), turns.__exit__()))
        t.start()
        time.sleep(0.05)
        seen.append("first out")
    t.join(30)
    assert seen == ["first out", "in"]
    turns.close()
