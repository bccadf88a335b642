"""What the clocks show (``accord clocks``, ``/v1/clocks``, the console): each through one function.

- :func:`overview`: running holds with the time left, holds that ran out while the person is still
  in custody, notices due and overdue (with their letters), deliveries that failed or have nowhere to go;
- :func:`letter`: a notice's letter as rendered for handing over.

Tenancy as everywhere (``Actor``): an agency sees what concerns it — its holds and notices as
custodian or issuer, messages to it or sent on its behalf. The issuing agency of a detainer sees its
hold and the notices about it only where the decision lets the custodian notify it of the release
(``lifecycle.issuer_may_learn_release``, as ``service.views.detainer_view`` shows the detainer): a
running hold, its time left and a notice's due date tell when the person leaves custody and that
they are in it, which e.g. NYC Admin Code §9-131 does not let the jail tell ICE.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from accord.errors import NotFoundError
from accord.service import schema as rm
from accord.service.actors import Actor
from accord.service.lifecycle import hidden_from_issuer

from . import schema
from .letters import stored
from .sql import moment, stamp


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HoldClock(_View):
    request_id: str
    booking_id: str
    custodian_agency_id: str | None
    issuing_agency_id: str
    hold_until: datetime
    remaining_seconds: float = Field(description="Until the hold's limit (negative: past it, not yet fired)")
    warning_at: datetime | None
    warned: bool


class ExpiredHold(_View):
    request_id: str
    booking_id: str
    custodian_agency_id: str | None
    hold_until: datetime | None
    expired_seq: int | None = Field(description="The hold.limit_reached event")


class NoticeClock(_View):
    notice_id: str
    kind: str
    recipient: str
    about_request_id: str
    owed_by_agency_id: str | None
    due_by: datetime
    remaining_seconds: float
    overdue: bool
    citation: str
    letter: str | None = Field(description="ready | pending | failed | null (no letter for this notice)")


class FailedDelivery(_View):
    message_id: str
    type: str
    agency_id: str
    endpoint_id: str | None
    attempts: int
    reason: str
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None


class ClocksView(_View):
    now: datetime
    holds: list[HoldClock]
    expired_in_custody: list[ExpiredHold] = Field(description="Holds past their limit while the person is still booked: release now")
    notices: list[NoticeClock]
    failed: list[FailedDelivery]
    pending_deliveries: int
    next_job_at: datetime | None


def _tenant(actor: Actor, *columns: sa.ColumnElement) -> sa.ColumnElement | None:
    if actor.sees_all:
        return None
    return sa.or_(*(c == actor.agency_id for c in columns))


def _visible(actor: Actor, rows: Iterable[Any], limit: int) -> Iterator[Any]:
    """The first ``limit`` rows the actor may see (``hidden_from_issuer`` on the detainer's columns)."""
    n = 0
    for r in rows:
        if n >= limit:
            return
        if r.d_issuer is not None and hidden_from_issuer(actor, r.d_custodian, r.d_issuer, r.d_outcomes):
            continue
        n += 1
        yield r


def _detainer_cols(d: sa.Table) -> tuple[sa.ColumnElement, ...]:
    return (d.c.custodian_agency_id.label("d_custodian"), d.c.issuing_agency_id.label("d_issuer"),
            d.c.outcomes.label("d_outcomes"))


def overview(reader, actor: Actor, now: datetime | None = None, limit: int = 200) -> ClocksView:
    actor.require("read", "submit", "officer", "auditor")
    now = now or reader.now
    conn = reader.connection
    d, b, n, j = rm.detainers, rm.bookings, rm.notices, schema.jobs
    m, dl = schema.messages, schema.deliveries

    warn = sa.select(j.c.subject, j.c.due_at, j.c.state).where(j.c.kind == schema.WARNING,
                                                               j.c.source_seq == d.c.decision_seq,
                                                               j.c.subject == d.c.request_id).subquery()
    q = (sa.select(d, warn.c.due_at.label("warn_at"), warn.c.state.label("warn_state"), *_detainer_cols(d))
         .outerjoin(warn, warn.c.subject == d.c.request_id)
         .where(d.c.state == "holding", d.c.hold_until.is_not(None)).order_by(d.c.hold_until, d.c.request_id))
    if (w := _tenant(actor, d.c.custodian_agency_id, d.c.issuing_agency_id)) is not None:
        q = q.where(w)
    else:
        q = q.limit(limit)
    holds = [HoldClock(request_id=r.request_id, booking_id=r.booking_id, custodian_agency_id=r.custodian_agency_id,
                       issuing_agency_id=r.issuing_agency_id, hold_until=moment(r.hold_until),
                       remaining_seconds=(moment(r.hold_until) - now).total_seconds(), warning_at=moment(r.warn_at),
                       warned=r.warn_state == schema.DONE) for r in _visible(actor, conn.execute(q), limit)]

    q = (sa.select(d.c.request_id, d.c.booking_id, d.c.custodian_agency_id, d.c.hold_until, d.c.closed_seq,
                   *_detainer_cols(d))
         .join(b, b.c.booking_id == d.c.booking_id).where(d.c.state == "expired", b.c.state == "in_custody")
         .order_by(d.c.hold_until, d.c.request_id))
    if (w := _tenant(actor, d.c.custodian_agency_id, d.c.issuing_agency_id)) is not None:
        q = q.where(w)
    else:
        q = q.limit(limit)
    expired = [ExpiredHold(request_id=r.request_id, booking_id=r.booking_id, custodian_agency_id=r.custodian_agency_id,
                           hold_until=moment(r.hold_until), expired_seq=r.closed_seq) for r in _visible(actor, conn.execute(q), limit)]

    letter = sa.select(m.c.notice_id, m.c.state).where(m.c.channel == schema.LETTER).subquery()
    about = sa.and_(n.c.about == "detainer", d.c.request_id == n.c.about_request_id)
    q = (sa.select(n, letter.c.state.label("letter_state"), *_detainer_cols(d))
         .outerjoin(letter, letter.c.notice_id == n.c.notice_id).outerjoin(d, about)
         .where(n.c.state == "owed").order_by(n.c.due_by, n.c.notice_id))
    if (w := _tenant(actor, n.c.owed_by_agency_id, n.c.requester_agency_id)) is not None:
        q = q.where(w)
    else:
        q = q.limit(limit)
    notices = []
    for r in _visible(actor, conn.execute(q), limit):
        due = moment(r.due_by)
        notices.append(NoticeClock(
            notice_id=r.notice_id, kind=r.kind, recipient=r.recipient, about_request_id=r.about_request_id,
            owed_by_agency_id=r.owed_by_agency_id, due_by=due, remaining_seconds=(due - now).total_seconds(),
            overdue=due < now, citation=r.citation,
            letter=None if r.letter_state is None else {schema.READY: "ready", schema.FAILED: "failed"}.get(r.letter_state, "pending")))

    q = (sa.select(m.c.message_id, m.c.type, m.c.agency_id, dl.c.endpoint_id, dl.c.attempts, dl.c.last_error,
                   dl.c.first_attempt_at, dl.c.last_attempt_at)
         .join(dl, dl.c.message_id == m.c.message_id).where(dl.c.state == schema.FAILED)
         .order_by(dl.c.last_attempt_at.desc(), m.c.message_id).limit(limit))
    if (w := _tenant(actor, m.c.agency_id, m.c.owner_agency_id)) is not None:
        q = q.where(w)
    failed = [FailedDelivery(message_id=r.message_id, type=r.type, agency_id=r.agency_id, endpoint_id=r.endpoint_id,
                             attempts=r.attempts, reason=r.last_error or "failed", first_attempt_at=moment(r.first_attempt_at),
                             last_attempt_at=moment(r.last_attempt_at)) for r in conn.execute(q)]
    q = (sa.select(m.c.message_id, m.c.type, m.c.agency_id, m.c.created_at).where(m.c.state == schema.NO_ENDPOINT)
         .where(~m.c.type.startswith("alert.")).order_by(m.c.created_at.desc()).limit(limit))
    if (w := _tenant(actor, m.c.agency_id, m.c.owner_agency_id)) is not None:
        q = q.where(w)
    failed += [FailedDelivery(message_id=r.message_id, type=r.type, agency_id=r.agency_id, endpoint_id=None, attempts=0,
                              reason=f"not sent: {r.agency_id} has registered no webhook endpoint for {r.type}",
                              first_attempt_at=None, last_attempt_at=None) for r in conn.execute(q)]

    q = sa.select(sa.func.count()).select_from(dl.join(m, m.c.message_id == dl.c.message_id)).where(dl.c.state == schema.PENDING)
    if (w := _tenant(actor, m.c.agency_id, m.c.owner_agency_id)) is not None:
        q = q.where(w)
    pending = int(conn.execute(q).scalar() or 0)
    nxt = conn.execute(sa.select(sa.func.min(j.c.due_at)).where(j.c.state == schema.SCHEDULED)).scalar()
    return ClocksView(now=now, holds=holds, expired_in_custody=expired, notices=notices, failed=failed,
                      pending_deliveries=pending, next_job_at=moment(nxt) if actor.sees_all else None)


def letter(reader, actor: Actor, notice_id: str) -> str:
    """The letter of ``notice_id`` as it was rendered for handing over (rendered now if not yet)."""
    actor.require("read", "submit", "officer", "auditor")
    row = reader.row(rm.notices, notice_id)
    if row is None or not actor.may_see(row["owed_by_agency_id"]):
        raise NotFoundError(f"no notice {notice_id}", field="notice_id")
    got = stored(reader, notice_id)
    if got is not None:
        return got["html"]
    if row["recipient"] not in ("subject", "subject_attorney_or_designee"):
        raise NotFoundError(f"notice {notice_id} goes to the {row['recipient'].replace('_', ' ')}, not to the person: it has no letter",
                            field="notice_id")
    from .letters import render

    return render(reader, notice_id, reader.now)


class MessageAbout(_View):
    """A message the outbox owes or sent about one request (the console's "notifications" of a detainer)."""

    type: str
    agency_id: str
    channel: str
    state: str = Field(description="pending | sent | no_endpoint | ready (a letter) | failed")
    created_at: datetime | None


def messages_about(reader, actor: Actor, subject: str, limit: int = 100) -> list[MessageAbout]:
    """The outbox's messages about ``subject`` (a request id) that ``actor`` may see, oldest first."""
    actor.require("read", "submit", "officer", "auditor")
    m = schema.messages
    q = sa.select(m.c.type, m.c.agency_id, m.c.channel, m.c.state, m.c.created_at).where(m.c.subject == subject)
    if (w := _tenant(actor, m.c.agency_id, m.c.owner_agency_id)) is not None:
        q = q.where(w)
    q = q.order_by(m.c.event_seq, m.c.message_id).limit(limit)
    return [MessageAbout(type=r.type, agency_id=r.agency_id, channel=r.channel, state=r.state,
                         created_at=moment(r.created_at)) for r in reader.connection.execute(q)]


__all__ = ["overview", "letter", "messages_about", "ClocksView", "stamp"]
