"""What a due job appends: the event that says the clock ran out, or nothing when it no longer applies.

Pure over the unit of work's view: it reads the read model as the firing transaction sees it
(under the ledger's lock), so a hold already ended by a release, a lift or a newer decision, or a
notice already sent, is not fired but cancelled with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accord.domain.clocks import HoldLimitReached, HoldWarning, NoticeOverdue
from accord.domain.events import EventKind
from accord.ledger import NewEvent
from accord.service import schema as rm
from accord.service.lifecycle import HOLD, DetainerState
from accord.service.store import UnitOfWork

from . import schema
from .sql import moment


def event_for(uow: UnitOfWork, job: dict[str, Any], now: datetime) -> NewEvent | str:
    """The event ``job`` fires at ``now``, or why it does not fire (a reason to cancel it with)."""
    if job["kind"] == schema.OVERDUE:
        return _overdue(uow, job, now)
    rid = job["subject"]
    d = uow.row(rm.detainers, rid)
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
                               citation=_hold_citation(uow, cause), fired_at=now)
    return NewEvent(EventKind.HOLD_LIMIT_REACHED.value, payload, stream, cause)


def _overdue(uow: UnitOfWork, job: dict[str, Any], now: datetime) -> NewEvent | str:
    n = uow.row(rm.notices, job["subject"])
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
    if ev is None:
        return None
    return next((d["citation"] for d in ev.payload["decisions"] if d["action"] == HOLD), None)
