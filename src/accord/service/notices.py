"""Use cases of notices the law owes: list them (owed, due, overdue) and record that one went out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from accord.domain import NoticeSent
from accord.domain.events import EventKind
from accord.errors import ConflictError, InputError, NotFoundError
from accord.ledger import NewEvent

from . import schema
from .actors import Actor
from .lifecycle import hidden_from_issuer
from .projector import stamp
from .store import UnitOfWork
from .views import NoticeView, notice_view


def _visible(actor: Actor, row: dict[str, Any], reader: Any = None) -> bool:
    if not actor.may_see(row["owed_by_agency_id"], row["requester_agency_id"]):
        return False
    if reader is None or row["about"] != "detainer" or actor.sees_all or actor.agency_id == row["owed_by_agency_id"]:
        return True
    d = reader.row(schema.detainers, row["about_request_id"])
    return d is None or not hidden_from_issuer(actor, d["custodian_agency_id"], d["issuing_agency_id"], d["outcomes"])


def _with_detainer(q: Any) -> Any:
    """``q`` (a select of notices) with the columns of the detainer each is about, for ``hidden_from_issuer``."""
    t, d = schema.notices, schema.detainers
    join = t.outerjoin(d, sa.and_(t.c.about == "detainer", d.c.request_id == t.c.about_request_id))
    return q.add_columns(d.c.custodian_agency_id.label("d_custodian"), d.c.issuing_agency_id.label("d_issuer"),
                         d.c.outcomes.label("d_outcomes")).select_from(join)


def _shown(actor: Actor, r: Any) -> bool:
    return r.d_issuer is None or not hidden_from_issuer(actor, r.d_custodian, r.d_issuer, r.d_outcomes)


def list_notices(reader: Any, actor: Actor, *, state: str | None = "owed", overdue_at: datetime | None = None,
                 about_request_id: str | None = None, limit: int = 500, after: str | None = None) -> list[NoticeView]:
    """Notices the actor may see, soonest deadline first; ``overdue_at`` keeps those past due at that moment."""
    t = schema.notices
    q = sa.select(t)
    if not actor.sees_all:
        q = q.where(sa.or_(t.c.owed_by_agency_id == actor.agency_id, t.c.requester_agency_id == actor.agency_id))
    if state is not None:
        q = q.where(t.c.state == state)
    if overdue_at is not None:
        q = q.where(t.c.due_by < stamp(overdue_at), t.c.state == "owed")
    if about_request_id is not None:
        q = q.where(t.c.about_request_id == about_request_id)
    if after is not None:  # keyset on (due_by, notice_id), the list's order
        cursor = reader.row(t, after)
        if cursor is None or not _visible(actor, cursor, reader):
            raise InputError(f"no notice {after} to page after", field="after")
        q = q.where(sa.or_(t.c.due_by > cursor["due_by"], sa.and_(t.c.due_by == cursor["due_by"], t.c.notice_id > after)))
    q = q.order_by(t.c.due_by, t.c.notice_id)
    now = reader.now
    if actor.sees_all:
        return [notice_view(dict(r), now) for r in reader.connection.execute(q.limit(limit)).mappings()]
    # An issuer does not see the notices of a detainer whose decision keeps the release from it.
    out: list[NoticeView] = []
    for r in reader.connection.execute(_with_detainer(q)):
        if len(out) >= limit:
            break
        if _shown(actor, r):
            out.append(notice_view({c.name: r._mapping[c.name] for c in t.c}, now))
    return out


def count_notices(reader: Any, actor: Actor, now: datetime) -> dict[str, int]:
    """How many notices are owed, overdue and sent (what ``accord notices due`` prints under its table)."""
    t = schema.notices
    q = sa.select(t.c.state, (t.c.due_by < stamp(now)).label("past"), sa.func.count()).group_by(t.c.state, "past")
    if not actor.sees_all:
        q = q.where(sa.or_(t.c.owed_by_agency_id == actor.agency_id, t.c.requester_agency_id == actor.agency_id))
    out = {"owed": 0, "overdue": 0, "sent": 0, "discharged": 0}
    if actor.sees_all:
        counted = ((state, past, n) for state, past, n in reader.connection.execute(q))
    else:
        rows = sa.select(t.c.state, (t.c.due_by < stamp(now)).label("past"), t.c.owed_by_agency_id, t.c.requester_agency_id)
        rows = _with_detainer(rows.where(sa.or_(t.c.owed_by_agency_id == actor.agency_id,
                                                t.c.requester_agency_id == actor.agency_id)))
        counted = ((r.state, r.past, 1) for r in reader.connection.execute(rows) if _shown(actor, r))
    for state, past, n in counted:
        out[state] = out.get(state, 0) + n
        if state == "owed" and past:
            out["overdue"] += n
    return out


def get_notice(reader: Any, actor: Actor, notice_id: str) -> NoticeView:
    row = reader.row(schema.notices, notice_id)
    if row is None or not _visible(actor, row, reader):
        raise NotFoundError(f"no notice {notice_id}", field="notice_id")
    return notice_view(row, reader.now)


def mark_sent(uow: UnitOfWork, actor: Actor, notice_id: str, sent_at: datetime, channel: str = "mail") -> NoticeView:
    """Record that a notice went out (once: a second time is a conflict, not a second event)."""
    actor.require("officer", "submit")
    row = uow.row(schema.notices, notice_id)
    if row is None or not _visible(actor, row):
        raise NotFoundError(f"no notice.due event for notice '{notice_id}'", field="notice_id")
    actor.acts_for(row["owed_by_agency_id"], f"notice {notice_id}", "notice_id")
    if row["state"] == "sent":
        raise ConflictError(f"notice '{notice_id}' is already recorded as sent", field="notice_id")
    if row["state"] == "discharged":
        raise ConflictError(f"notice '{notice_id}' is no longer owed: the detainer it is about has closed",
                            field="notice_id")
    if sent_at.tzinfo is None:
        raise InputError("sent_at must name its time zone", field="sent_at")
    sent = NoticeSent(notice_id=notice_id, sent_at=sent_at, channel=channel, recorded_by=actor.id)
    uow.append([NewEvent(EventKind.NOTICE_SENT.value, sent, None, row["due_seq"])])
    return notice_view(uow.row(schema.notices, notice_id), uow.now)
