"""The due-notice projection: notice.due events minus notice.sent, as of a moment.

Who is owed what, by when, under which clause; overdue ones are those whose ``due_by`` has passed
with no notice.sent recorded. Built from the ledger alone (DESIGN.md: state is a projection).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accord.domain import Notice, NoticeSent
from accord.domain.events import EventKind
from accord.errors import InputError, NotFoundError
from accord.ledger import Ledger


@dataclass(frozen=True)
class DueNotice:
    notice: Notice
    due_seq: int
    overdue: bool


@dataclass(frozen=True)
class NoticeBook:
    due: tuple[DueNotice, ...]
    sent_count: int

    @property
    def overdue(self) -> tuple[DueNotice, ...]:
        return tuple(d for d in self.due if d.overdue)


def _due_events(ledger: Ledger) -> dict[str, tuple[int, Notice]]:
    return {ev.payload["notice_id"]: (ev.seq, Notice.model_validate_json(ev.payload_json))
            for ev in ledger.events(kind=EventKind.NOTICE_DUE.value)}


def _sent_ids(ledger: Ledger) -> set[str]:
    return {ev.payload["notice_id"] for ev in ledger.events(kind=EventKind.NOTICE_SENT.value)}


def notice_book(ledger: Ledger, as_of: datetime) -> NoticeBook:
    """Notices owed and not yet sent, oldest deadline first, each flagged overdue at ``as_of``."""
    due = _due_events(ledger)
    sent = _sent_ids(ledger)
    open_ = [DueNotice(n, seq, n.due_by < as_of) for nid, (seq, n) in due.items() if nid not in sent]
    open_.sort(key=lambda d: (d.notice.due_by, d.notice.notice_id))
    return NoticeBook(tuple(open_), len(sent & due.keys()))


def mark_sent(ledger: Ledger, notice_id: str, sent_at: datetime, channel: str = "mail") -> int:
    """Record that a notice went out; returns the notice.sent event's seq."""
    due = None
    for ev in ledger.events(kind=EventKind.NOTICE_DUE.value, stream=f"notice/{notice_id}"):
        due = ev
    if due is None:
        raise NotFoundError(f"no notice.due event for notice '{notice_id}'")
    for _ in ledger.events(kind=EventKind.NOTICE_SENT.value, stream=f"notice/{notice_id}", limit=1):
        raise InputError(f"notice '{notice_id}' is already recorded as sent", field="notice_id")
    sent = NoticeSent(notice_id=notice_id, sent_at=sent_at, channel=channel)
    return ledger.append(EventKind.NOTICE_SENT.value, sent, caused_by=due.seq).seq
