"""The officers' queue: open detainers a custodian holds, soonest deadline first (a read use case).

What the console's queue page lists: one row per open detainer, from the read model only (no
ledger read per row), so the page stays fast with thousands open. An officer sees only the
detainers its own custodian agency holds (not the ones its agency issued elsewhere); an auditor
sees every custodian's. ``action`` keeps the detainers whose latest decision permits (allows or
requires) that action: ``hold_past_release``, ``notify_release`` or ``transfer_at_release``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from accord.errors import InputError

from . import schema
from .actors import Actor
from .lifecycle import HOLD, NOTIFY, OPEN, PERMITTED, TRANSFER

ACTIONS = (HOLD, NOTIFY, TRANSFER)
OPEN_STATES = tuple(sorted(s.value for s in OPEN))
#: Sorts after every deadline (same fixed-width text), so detainers without one come last.
_NO_DEADLINE = "9999-12-31T23:59:59.999999Z"


@dataclass(frozen=True)
class QueueRow:
    request_id: str
    booking_id: str
    person_id: str
    custodian_agency_id: str | None
    issuing_agency_id: str
    form: str
    state: str
    deadline: datetime | None
    hold_until: datetime | None
    pack_id: str | None
    permitted: tuple[str, ...]  # the actions the decision allows or requires


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def _visible(actor: Actor) -> Any:
    t = schema.detainers
    return None if actor.sees_all else (t.c.custodian_agency_id == actor.agency_id)


def open_queue(reader: Any, actor: Actor, *, state: str | None = None, action: str | None = None,
               booking_id: str | None = None, limit: int = 100, after: str | None = None) -> list[QueueRow]:
    """Open detainers the actor's custodian holds (an auditor: all), by deadline then id."""
    actor.require("read", "submit", "officer", "auditor")
    if state is not None and state not in OPEN_STATES:
        raise InputError(f"state must be one of {', '.join(OPEN_STATES)}", field="state")
    if action is not None and action not in ACTIONS:
        raise InputError(f"action must be one of {', '.join(ACTIONS)}", field="action")
    t = schema.detainers
    key = sa.func.coalesce(t.c.deadline, _NO_DEADLINE)
    q = sa.select(t.c.request_id, t.c.booking_id, t.c.person_id, t.c.custodian_agency_id, t.c.issuing_agency_id,
                  t.c.form, t.c.state, t.c.deadline, t.c.hold_until, t.c.pack_id, t.c.outcomes)
    if (w := _visible(actor)) is not None:
        q = q.where(w)
    q = q.where(t.c.state == state) if state else q.where(t.c.state.in_(OPEN_STATES))
    if action is not None:  # outcomes is json.dumps(..., sort_keys=True): '"action": "allow"'
        q = q.where(sa.or_(*(t.c.outcomes.contains(f'"{action}": "{o}"', autoescape=True) for o in sorted(PERMITTED))))
    if booking_id:
        q = q.where(t.c.booking_id == booking_id.strip())
    if after is not None:
        cursor = reader.row(t, after)
        if cursor is None or not (actor.sees_all or cursor["custodian_agency_id"] == actor.agency_id):
            raise InputError(f"no detainer {after} to page after", field="after")
        k = cursor["deadline"] or _NO_DEADLINE
        q = q.where(sa.or_(key > k, sa.and_(key == k, t.c.request_id > after)))
    q = q.order_by(key, t.c.request_id).limit(limit)
    out = []
    for r in reader.connection.execute(q):
        outcomes = json.loads(r.outcomes or "{}")
        out.append(QueueRow(r.request_id, r.booking_id, r.person_id, r.custodian_agency_id, r.issuing_agency_id,
                            r.form, r.state, _dt(r.deadline), _dt(r.hold_until), r.pack_id,
                            tuple(a for a in ACTIONS if outcomes.get(a) in PERMITTED)))
    return out


def count_open(reader: Any, actor: Actor) -> int:
    t = schema.detainers
    q = sa.select(sa.func.count()).select_from(t).where(t.c.state.in_(OPEN_STATES))
    if (w := _visible(actor)) is not None:
        q = q.where(w)
    return int(reader.connection.execute(q).scalar() or 0)
