"""What a due job appends: the event that says the clock ran out, or nothing when it no longer applies.

Pure over the unit of work's view: it reads the read model as the firing transaction sees it
(under the ledger's lock), so a hold already ended by a release, a lift or a newer decision, or a
notice already sent, is not fired but cancelled with the reason.

:func:`events_for` decides a whole batch the same way (:func:`event_for` is one job), with the
rows it needs read in one query per table instead of one per job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from accord.domain.clocks import HoldLimitReached, HoldWarning, NoticeOverdue
from accord.domain.events import EventKind
from accord.ledger import NewEvent
from accord.ledger.schema import events as ledger_events
from accord.service import schema as rm
from accord.service.lifecycle import HOLD, DetainerState
from accord.service.store import UnitOfWork

from . import schema
from .sql import moment


Row = dict[str, Any]
Lookup = Callable[[str], Row | None]


def event_for(uow: UnitOfWork, job: dict[str, Any], now: datetime) -> NewEvent | str:
    """The event ``job`` fires at ``now``, or why it does not fire (a reason to cancel it with)."""
    return _decide(job, now, lambda k: uow.row(rm.detainers, k), lambda k: uow.row(rm.notices, k),
                   lambda seq: _hold_citation(uow, seq))


def events_for(uow: UnitOfWork, jobs: Sequence[dict[str, Any]], now: datetime) -> list[NewEvent | str]:
    """:func:`event_for` of each job, in order; the detainers, notices and decisions they read, read at once.

    Called before the batch appends anything, right after the unit of work caught up (which wrote
    the read model it projected), so the rows read here are the ones ``uow.row`` would return.
    """
    conn = uow.connection
    holds = sorted({j["subject"] for j in jobs if j["kind"] != schema.OVERDUE})
    notices = sorted({j["subject"] for j in jobs if j["kind"] == schema.OVERDUE})
    limits = sorted({j["source_seq"] for j in jobs if j["kind"] == schema.LIMIT})
    detainer_rows = _rows(conn, rm.detainers, rm.detainers.c.request_id, holds)
    notice_rows = _rows(conn, rm.notices, rm.notices.c.notice_id, notices)
    citations: dict[int, str | None] = {}
    for part in _parts(limits):
        for seq, payload in conn.execute(sa.select(ledger_events.c.seq, ledger_events.c.payload)
                                         .where(ledger_events.c.seq.in_(part))):
            citations[int(seq)] = _citation_of(orjson.loads(payload))
    return [_decide(j, now, detainer_rows.get, notice_rows.get, lambda seq: citations.get(seq)) for j in jobs]


def _rows(conn: Any, table: sa.Table, key: sa.Column, keys: list[str]) -> dict[str, Row]:
    out: dict[str, Row] = {}
    for part in _parts(keys):
        for r in conn.execute(sa.select(table).where(key.in_(part))).mappings():
            out[r[key.name]] = dict(r)
    return out


def _parts(keys: list[Any], size: int = 500) -> list[list[Any]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _decide(job: dict[str, Any], now: datetime, detainer: Lookup, notice: Lookup,
            citation: Callable[[int], str | None]) -> NewEvent | str:
    if job["kind"] == schema.OVERDUE:
        return _overdue(notice(job["subject"]), job, now)
    rid = job["subject"]
    d = detainer(rid)
    if d is None:
        return f"no detainer {rid}"
    if d["decision_seq"] != job["source_seq"]:
        return f"a newer decision (event {d['decision_seq']}) replaced this hold"
    if d["state"] != DetainerState.HOLDING:
        return f"detainer is {d['state']}, not holding"
    hold_until = moment(d["hold_until"])
    stream, cause = f"detainer/{rid}", job["source_seq"]
    if job["kind"] == schema.WARNING:
        warn_at = moment(job["due_at"])
        payload: Any = HoldWarning(request_id=rid, decision_seq=cause, hold_until=hold_until, warn_at=warn_at,
                                   lead_seconds=int((hold_until - warn_at).total_seconds()), fired_at=now)
        return NewEvent(EventKind.HOLD_WARNING.value, payload, stream, cause)
    payload = HoldLimitReached(request_id=rid, decision_seq=cause, hold_until=hold_until,
                               citation=citation(cause), fired_at=now)
    return NewEvent(EventKind.HOLD_LIMIT_REACHED.value, payload, stream, cause)


def _overdue(n: Row | None, job: dict[str, Any], now: datetime) -> NewEvent | str:
    if n is None:
        return f"no notice {job['subject']}"
    if n["state"] != "owed":
        return f"notice is {n['state']}"
    if n["due_seq"] != job["source_seq"]:
        return f"owed again at event {n['due_seq']}"
    payload = NoticeOverdue(notice_id=n["notice_id"], about_request_id=n["about_request_id"], kind=n["kind"],
                            due_by=moment(n["due_by"]), citation=n["citation"], fired_at=now)
    return NewEvent(EventKind.NOTICE_OVERDUE.value, payload, f"notice/{n['notice_id']}", n["due_seq"])


def _hold_citation(uow: UnitOfWork, decision_seq: int) -> str | None:
    ev = uow.event(decision_seq)
    return None if ev is None else _citation_of(ev.payload)


def _citation_of(decision: dict[str, Any]) -> str | None:
    return next((d["citation"] for d in decision["decisions"] if d["action"] == HOLD), None)
