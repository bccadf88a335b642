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

``batched(conn, jobs=True)`` collects the schedule's changes too — jobs scheduled, cancelled and
done, in event order — and on leaving reads the jobs they touch in two queries, replays the changes
on those rows in memory and writes the outcome: one ``INSERT`` of the new jobs (in their final
state) and one ``UPDATE`` ``executemany`` of the changed ones, the rows the statements one by one
leave. The read model opens it around a batch of events (:func:`for_events`, registered with
``accord.service.projector.batches``) unless a follower of one of them reads the clocks' tables
itself (``delivery.failed`` reads the message it is about): record-access decisions owe a job and
a message per notice, which one by one was most of their writing
(tests/access/test_access_batch_equal.py proves the rows equal).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from accord.service import projector

from . import schema

#: The open batch of each connection (a transaction's connection; removed when the batch closes).
_OPEN: dict[int, Batch] = {}

_DONE = (schema.jobs.update().where(schema.jobs.c.job_id == sa.bindparam("j"))
         .values(state=schema.DONE, fired_seq=sa.bindparam("f"), finished_at=sa.bindparam("t"), reason=None))


class Batch:
    """The clocks' rows collected in one transaction, written by :meth:`flush`."""

    def __init__(self, conn: Connection, jobs: bool = False) -> None:
        self.conn = conn
        self.done: list[dict[str, Any]] = []
        self.messages: dict[str, dict[str, Any]] = {}  # message id -> row (first owed wins, as one by one)
        self.deliveries: dict[str, list[dict[str, Any]]] = {}  # message id -> its delivery rows
        #: Whether the schedule's changes are collected too (``jobs.schedule``/``cancel``/``done`` ask).
        self.collects_jobs = jobs
        self.job_changes: list[tuple] = []  # in event order: ("schedule", row) | ("cancel", ...) | ("done", ...)

    def job_done(self, job_id: str, fired_seq: int, finished_at: str | None) -> None:
        if self.collects_jobs:
            self.job_changes.append(("done", job_id, fired_seq, finished_at))
            return
        self.done.append({"j": job_id, "f": fired_seq, "t": finished_at})

    def schedule_job(self, row: dict[str, Any]) -> None:
        """``jobs.schedule``'s insert-unless-present, in order with the batch's other job changes."""
        self.job_changes.append(("schedule", row))

    def cancel_jobs(self, subject: str, kinds: frozenset[str], reason: str, finished_at: str | None,
                    by_seq: int) -> None:
        """``jobs.cancel``: the subject's waiting jobs of ``kinds`` scheduled before ``by_seq``, as they stand then."""
        self.job_changes.append(("cancel", subject, kinds, reason[:200], finished_at, by_seq))

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
                     for r in self.conn.execute(_MESSAGES_THERE, {"ids": ids[i : i + 500]})}
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
        if self.job_changes:
            self._write_jobs()

    def _write_jobs(self) -> None:
        """Replay the collected job changes on the rows they touch and write the result."""
        t = schema.jobs
        changes, self.job_changes = self.job_changes, []
        subjects = list(dict.fromkeys(c[1]["subject"] if c[0] == "schedule" else c[1]
                                      for c in changes if c[0] != "done"))
        rows: dict[str, dict[str, Any]] = {}  # job id -> its row as the changes so far leave it
        for part in _parts(subjects):
            for r in self.conn.execute(_JOBS_OF_SUBJECTS, {"keys": part}).mappings():
                rows[r["job_id"]] = dict(r)
        ids = [c[1]["job_id"] if c[0] == "schedule" else c[1] for c in changes if c[0] != "cancel"]
        rest = [i for i in dict.fromkeys(ids) if i not in rows]
        for part in _parts(rest):
            for r in self.conn.execute(_JOBS_BY_ID, {"keys": part}).mappings():
                rows[r["job_id"]] = dict(r)
        of_subject: dict[str, list[dict[str, Any]]] = {}
        for r in rows.values():
            of_subject.setdefault(r["subject"], []).append(r)
        stored = set(rows)
        new: dict[str, dict[str, Any]] = {}
        changed: dict[str, dict[str, Any]] = {}
        for change in changes:
            if change[0] == "schedule":
                row = change[1]
                if row["job_id"] not in rows:  # insert_new: a job scheduled before stays as it is
                    rows[row["job_id"]] = new[row["job_id"]] = full = {
                        c.name: row.get(c.name) for c in t.columns}
                    of_subject.setdefault(full["subject"], []).append(full)
            elif change[0] == "cancel":
                _, subject, kinds, reason, at, by_seq = change
                for r in of_subject.get(subject, ()):
                    if r["state"] == schema.SCHEDULED and r["kind"] in kinds and r["source_seq"] < by_seq:
                        r.update(state=schema.CANCELLED, finished_at=at, reason=reason)
                        if r["job_id"] in stored:
                            changed[r["job_id"]] = r
            else:
                _, job_id, fired, at = change
                r = rows.get(job_id)
                if r is not None:
                    r.update(state=schema.DONE, fired_seq=fired, finished_at=at, reason=None)
                    if job_id in stored:
                        changed[job_id] = r
        if new:
            self.conn.execute(_insert(self.conn, t), list(new.values()))
        if changed:
            self.conn.execute(_SETTLE, [{"j": r["job_id"], "s": r["state"], "f": r["fired_seq"],
                                         "t": r["finished_at"], "r": r["reason"]} for r in changed.values()])


_MESSAGES_THERE = sa.select(schema.messages.c.message_id).where(
    schema.messages.c.message_id.in_(sa.bindparam("ids", expanding=True)))
_JOBS_OF_SUBJECTS = sa.select(schema.jobs).where(schema.jobs.c.subject.in_(sa.bindparam("keys", expanding=True)))
_JOBS_BY_ID = sa.select(schema.jobs).where(schema.jobs.c.job_id.in_(sa.bindparam("keys", expanding=True)))
_SETTLE = (schema.jobs.update().where(schema.jobs.c.job_id == sa.bindparam("j"))
           .values(state=sa.bindparam("s"), fired_seq=sa.bindparam("f"), finished_at=sa.bindparam("t"),
                   reason=sa.bindparam("r")))


def _parts(keys: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for i in range(0, len(keys), size):
        yield keys[i : i + size]


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
def batched(conn: Connection, jobs: bool = False) -> Iterator[Batch]:
    """Collect the followers' clocks writes on ``conn`` and write them when the block ends without error
    (``jobs``: the schedule's changes too)."""
    if id(conn) in _OPEN:  # nested: the outer batch writes
        yield _OPEN[id(conn)]
        return
    b = _OPEN[id(conn)] = Batch(conn, jobs)
    try:
        yield b
        b.flush()
    finally:
        _OPEN.pop(id(conn), None)


#: Kinds whose followers read the clocks' own tables (not through the read model): a batch holding
#: one is written one statement at a time, as before, so the reads see what the batch's earlier events wrote.
_READS_CLOCK_TABLES = frozenset({"delivery.failed"})


def for_events(conn: Connection, kinds: frozenset[str]) -> Any:
    """What the read model opens around applying a batch of events of ``kinds``: a batch collecting
    messages and job changes, or nothing when a follower of one of them reads the clocks' tables."""
    if kinds & _READS_CLOCK_TABLES:
        return nullcontext()
    return batched(conn, jobs=True)


projector.batches(for_events)
