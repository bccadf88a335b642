"""The scheduler: fires due jobs, each firing and its ledger event in one transaction.

A batch runs in one unit of work, which holds the ledger's lock from its start; the due jobs are
then read ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite has one writer at a time anyway), checked
against the read model, and their events appended; the followers mark the jobs done in the same
transaction. So a job's effect is committed exactly once whatever crashes: before the commit
nothing happened, after it the job is done. Several schedulers on one PostgreSQL database never
fire a job twice: the second waits for the lock and then finds it done.

A batch costs a few statements, not a few per job: the rows its jobs are decided on are read in
one query per table (``fire.events_for``), the events appended in one call, and the followers'
rows — jobs done, messages owed, their deliveries — written together when the append is projected
(``batch.batched``); jobs that no longer apply are cancelled in one ``executemany``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import sqlalchemy as sa

from accord.ledger import StoredEvent
from accord.service.store import Store

from . import jobs, schema
from .batch import batched
from .fire import events_for
from .sql import moment, stamp

log = logging.getLogger("accord.clocks.scheduler")
_CANCEL = (schema.jobs.update().where(schema.jobs.c.job_id == sa.bindparam("j"))
           .values(state=schema.CANCELLED, finished_at=sa.bindparam("t"), reason=sa.bindparam("r")))


class Scheduler:
    """Fires the jobs of ``store`` that are due by its clock (``store.clock``, injectable in tests)."""

    def __init__(self, store: Store, *, batch: int = 200) -> None:
        self.store = store
        self.batch = batch
        self.fired = 0  # events this scheduler appended (what the two-worker test counts)

    def fire_due(self, now: datetime | None = None) -> list[StoredEvent]:
        """Fire every job due at ``now`` (default: the store's clock), batch by batch."""
        out: list[StoredEvent] = []
        due = self.next_due()  # a plain read first: the ledger's lock is taken only when something is due
        if due is None or due > (now or self.store.clock()):
            return out
        while True:
            fired, full = self._batch(now)
            out += fired
            if not full:
                return out

    def _batch(self, now: datetime | None) -> tuple[list[StoredEvent], bool]:
        t = schema.jobs
        with self.store.transaction() as uow:
            at = now or uow.now
            conn = uow.connection
            due = [dict(r) for r in conn.execute(
                sa.select(t).where(t.c.state == schema.SCHEDULED, t.c.due_at <= stamp(at))
                .order_by(t.c.due_at, t.c.job_id).limit(self.batch).with_for_update(skip_locked=True)).mappings()]
            events, cancelled = [], []
            for job, got in zip(due, events_for(uow, due, at)):
                if isinstance(got, str):
                    cancelled.append({"j": job["job_id"], "t": stamp(at), "r": got[:200]})
                else:
                    events.append(got)
            if cancelled:
                conn.execute(_CANCEL, cancelled)
            with batched(conn):  # the followers' rows (jobs done, messages, deliveries) in a few statements
                stored = uow.append(events) if events else []
        self.fired += len(stored)
        return stored, len(due) == self.batch

    def next_due(self) -> datetime | None:
        with self.store.engine.connect() as conn:
            return moment(jobs.next_due(conn))

    def run(self, stop: threading.Event, poll: float = 0.5) -> None:
        """Fire jobs as they come due until ``stop`` is set; an error is logged, never the end of the loop."""
        while not stop.is_set():
            wait = poll
            try:
                self.fire_due()
                due = self.next_due()
                if due is not None:
                    wait = min(poll, max(0.0, (due - self.store.clock()).total_seconds()))
            except Exception:  # noqa: BLE001 - the clock must keep running; the next round retries
                log.exception("scheduler round failed; retrying")
            stop.wait(wait)
