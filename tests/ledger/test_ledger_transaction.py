"""``Ledger.transaction()``: events and the caller's own rows commit together, or neither does."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from accord.ledger import BatchRef, Ledger, NewEvent

META = sa.MetaData()
COUNTER = sa.Table("t_counter", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.Integer))


def _open(url: str) -> Ledger:
    led = Ledger.open(url)
    META.create_all(led.engine)
    with led.engine.begin() as conn:
        conn.execute(COUNTER.insert().values(id=1, n=0))
    return led


def _count(led: Ledger) -> int:
    with led.engine.connect() as conn:
        return conn.execute(sa.select(COUNTER.c.n)).scalar_one()


def test_events_and_own_rows_commit_together(db_url: str) -> None:
    led = _open(db_url)
    with led.transaction() as tx:
        a = tx.append_many([NewEvent("agency.registered", {"agency_id": "A"}, "agency/A")])
        b = tx.append_many([NewEvent("correction", {"n": 1}, "agency/A", a[0].seq),
                            NewEvent("correction", {"n": 2}, None, BatchRef(0))])
        tx.connection.execute(COUNTER.update().values(n=COUNTER.c.n + 1))
        assert tx.size == 3 and tx.size_at_start == 0
        # BatchRef counts from each call's first event; a stream-less effect joins its cause's stream
        assert [e.caused_by for e in b] == [1, 2] and b[1].stream == "agency/A"
        assert [e.seq for e in tx.events(stream="agency/A")] == [1, 2, 3]
    assert led.size == 3 and _count(led) == 1
    assert led.verify().ok
    assert a[0].leaf_hash == led.get(1).leaf_hash


def test_an_error_leaves_neither(db_url: str) -> None:
    led = _open(db_url)
    with pytest.raises(RuntimeError):
        with led.transaction() as tx:
            tx.append("agency.registered", {"agency_id": "A"}, "agency/A")
            tx.connection.execute(COUNTER.update().values(n=COUNTER.c.n + 1))
            raise RuntimeError("boom")
    assert led.size == 0 and _count(led) == 0
    led.append("agency.registered", {"agency_id": "B"}, "agency/B")
    assert led.verify().ok and led.get(1).stream == "agency/B"


def test_readers_in_transactions_never_lose_an_update(db_url: str) -> None:
    """The lock is held from the start: read-modify-write of a caller's row is serialised."""
    led = _open(db_url)

    def work() -> None:
        for _ in range(15):
            with led.transaction() as tx:
                n = tx.connection.execute(sa.select(COUNTER.c.n)).scalar_one()
                tx.append("correction", {"n": n}, "agency/A")
                tx.connection.execute(COUNTER.update().values(n=n + 1))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _count(led) == 45 and led.size == 45
    assert sorted(e.payload["n"] for e in led.events()) == list(range(45))
    assert led.verify().ok
