"""The schedule: one row per timed thing the law set (a hold's warning and limit, a notice's due time).

A job's id names what it is for and which event scheduled it (``hold.limit_reached:det-1:42``),
so deriving the schedule again from the ledger (a rebuild) finds the same rows. A job ends
``done`` when the event its firing appends is projected (``follow.py``), or ``cancelled`` when
what it was for has gone (the person was released, the detainer lifted, the notice sent, a newer
decision replaced the hold): either way in the transaction of the event that ended it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from accord.service.driver import fetch, insert_new

from . import batch, schema
from .sql import stamp

t = schema.jobs


def job_id(kind: str, subject: str, source_seq: int) -> str:
    """
    >>> job_id("hold.limit_reached", "det-1", 42)
    'hold.limit_reached:det-1:42'
    """
    return f"{kind}:{subject}:{source_seq}"


def schedule(conn: Connection, kind: str, subject: str, due_at: datetime, source_seq: int) -> None:
    """Add a job (a no-op when the same event scheduled it before: a rebuild)."""
    row = {"job_id": job_id(kind, subject, source_seq), "kind": kind, "subject": subject,
           "due_at": stamp(due_at), "state": schema.SCHEDULED, "source_seq": source_seq}
    open_batch = batch.current(conn)
    if open_batch is not None and open_batch.collects_jobs:
        open_batch.schedule_job(row)
        return
    batch.flush_before(conn)
    insert_new(conn, t, row)


def done(conn: Connection, kind: str, subject: str, source_seq: int, fired_seq: int, at: datetime) -> None:
    """The job's event is in the ledger (whoever appended it, whenever it is projected).

    Inside :func:`accord.clocks.batch.batched` (the scheduler firing a batch) it is written with the batch's others.
    """
    open_batch = batch.current(conn)
    if open_batch is not None:
        open_batch.job_done(job_id(kind, subject, source_seq), fired_seq, stamp(at))
        return
    conn.execute(_DONE, {"j": job_id(kind, subject, source_seq), "fired": fired_seq, "at": stamp(at)})


def cancel(conn: Connection, subject: str, kinds: Iterable[str], reason: str, at: datetime, by_seq: int) -> None:
    """Cancel the subject's waiting jobs of ``kinds`` that events before ``by_seq`` (the cancelling event) scheduled.

    Only earlier events' jobs: when a rebuild applies an old event again, the jobs of the events
    after it are already in the table, and are not the old event's to cancel (a re-decided hold's
    current limit, a re-owed notice's current due time).
    """
    open_batch = batch.current(conn)
    if open_batch is not None and open_batch.collects_jobs:
        open_batch.cancel_jobs(subject, frozenset(kinds), reason, stamp(at), by_seq)
        return
    batch.flush_before(conn)
    # The subject's jobs are found by the subject index alone, then changed by primary key: given
    # ``state = 'scheduled'`` too, SQLite (no statistics) walks ix_clock_jobs_due, i.e. every waiting
    # job, once per call, which made a run's cancels quadratic in its notices.
    wanted = set(kinds)
    ids = [job for job, state, kind, source in fetch(conn, _OF_SUBJECT, {"subject": subject})
           if state == schema.SCHEDULED and kind in wanted and source < by_seq]
    if ids:
        when, why = stamp(at), reason[:200]
        conn.execute(_CANCEL, [{"j": j, "at": when, "why": why} for j in ids])


#: Built once (building a statement costs more than running it): each decision runs some of them.
_OF_SUBJECT = sa.select(t.c.job_id, t.c.state, t.c.kind, t.c.source_seq).where(t.c.subject == sa.bindparam("subject"))
_DONE = t.update().where(t.c.job_id == sa.bindparam("j")).values(
    state=schema.DONE, fired_seq=sa.bindparam("fired"), finished_at=sa.bindparam("at"), reason=None)
_CANCEL = t.update().where(t.c.job_id == sa.bindparam("j")).values(
    state=schema.CANCELLED, finished_at=sa.bindparam("at"), reason=sa.bindparam("why"))
_NEXT_DUE = sa.select(sa.func.min(t.c.due_at)).where(t.c.state == schema.SCHEDULED)


def next_due(conn: Connection) -> str | None:
    """The earliest due time of a waiting job (a stamp), or None."""
    return conn.execute(_NEXT_DUE).scalar()
