"""Writes of many firings at once: the followers' rows for a whole batch, in a few statements.

When the scheduler fires a batch, the followers (``follow.py``) run once per event and each would
write its own rows: the job done, the message owed and its deliveries — a handful of statements
per job, which is what the firing cost. Inside :func:`batched` those writes are collected instead
and written on leaving it, in the same transaction, one ``executemany`` per table:

- messages: those not there yet (a rebuild adds none twice), one ``INSERT`` for all;
- deliveries, for the messages that were new (as :func:`accord.clocks.outbox.owe` does one by one);
- jobs done: one ``UPDATE`` per row, sent as one ``executemany``.

The rows are the ones the one-by-one path writes (tests/clocks/test_clocks_batch_equal.py proves
it): the followers compute them the same way; only when they reach the database changes. Any other
clocks statement in the same transaction (scheduling, cancelling) first writes what was collected,
so statements still apply in event order. Outside :func:`batched` nothing is collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import schema

#: The open batch of each connection (a transaction's connection; removed when the batch closes).
_OPEN: dict[int, Batch] = {}

_DONE = (schema.jobs.update().where(schema.jobs.c.job_id == sa.bindparam("j"))
         .values(state=schema.DONE, fired_seq=sa.bindparam("f"), finished_at=sa.bindparam("t"), reason=None))


class Batch:
    """The clocks' rows collected in one transaction, written by :meth:`flush`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.done: list[dict[str, Any]] = []
        self.messages: dict[str, dict[str, Any]] = {}  # message id -> row (first owed wins, as one by one)
        self.deliveries: dict[str, list[dict[str, Any]]] = {}  # message id -> its delivery rows

    def job_done(self, job_id: str, fired_seq: int, finished_at: str | None) -> None:
        self.done.append({"j": job_id, "f": fired_seq, "t": finished_at})

    def message(self, row: dict[str, Any], deliveries: list[dict[str, Any]]) -> None:
        mid = row["message_id"]
        if mid not in self.messages:
            self.messages[mid] = row
            self.deliveries[mid] = deliveries

    def flush(self) -> None:
        if self.messages:
            m = schema.messages
            ids = list(self.messages)
            there = {r[0] for i in range(0, len(ids), 500)
                     for r in self.conn.execute(sa.select(m.c.message_id).where(m.c.message_id.in_(ids[i : i + 500])))}
            new = [mid for mid in ids if mid not in there]
            if new:
                self.conn.execute(_insert(self.conn, m), [self.messages[mid] for mid in new])
                rows = [d for mid in new for d in self.deliveries[mid]]
                if rows:
                    self.conn.execute(_insert(self.conn, schema.deliveries), rows)
            self.messages.clear()
            self.deliveries.clear()
        if self.done:
            self.conn.execute(_DONE, self.done)
            self.done.clear()


def _insert(conn: Connection, table: sa.Table) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` without ``RETURNING``: psycopg sends it as one pipelined
    ``executemany`` (with ``RETURNING`` SQLAlchemy would build one long statement per page, which
    psycopg parses again each time). The rows are new: the ledger's lock is held, and they were looked for."""
    key = (conn.dialect.name, table.name)
    stmt = _INSERTS.get(key)
    if stmt is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = _INSERTS[key] = insert(table).on_conflict_do_nothing()
    return stmt


_INSERTS: dict[tuple[str, str], Any] = {}


def current(conn: Connection) -> Batch | None:
    """The batch open on ``conn``, if any."""
    return _OPEN.get(id(conn))


def flush_before(conn: Connection) -> None:
    """Write what is collected on ``conn`` before another clocks statement runs (keeps event order)."""
    got = _OPEN.get(id(conn))
    if got is not None:
        got.flush()


@contextmanager
def batched(conn: Connection) -> Iterator[Batch]:
    """Collect the followers' clocks writes on ``conn`` and write them when the block ends without error."""
    if id(conn) in _OPEN:  # nested: the outer batch writes
        yield _OPEN[id(conn)]
        return
    b = _OPEN[id(conn)] = Batch(conn)
    try:
        yield b
        b.flush()
    finally:
        _OPEN.pop(id(conn), None)
