"""Use cases of custody and detainers: a booking, a detainer (decided at once), a release, a lift.

Each function takes the :class:`~accord.service.store.UnitOfWork` it runs in and the
:class:`~accord.service.actors.Actor` acting, validates the step against the read model and the
lifecycle, decides through ``accord.law`` where the law has something to say, and appends the
events. Nothing is appended when a check fails; the whole step commits with the unit of work.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from accord.domain import Agency, CustodyRecord, DetainerLifted, DetainerRequest, Person, Release
from accord.domain.events import EventKind
from accord.errors import ConflictError, InputError, NotFoundError
from accord.ledger import NewEvent

from . import schema
from .actors import Actor
from .detainer_events import record_decision_in
from .lifecycle import DetainerState, check_open, check_release
from .store import UnitOfWork
from .views import BookingView, DetainerView, Recorded, booking_view, detainer_view

_IMMIGRATION = "transferred_to_immigration"


def _payload(uow: UnitOfWork, seq: int | None, model: Any) -> Any:
    ev = uow.event(seq) if seq is not None else None
    return None if ev is None else model.model_validate_json(ev.payload_json)


def submit_custody(uow: UnitOfWork, actor: Actor, record: CustodyRecord, person: Person | None = None) -> BookingView:
    """A jail's booking (and, when given, the person it holds): ``custody.booked`` (+ ``person.registered``)."""
    actor.require("submit")
    actor.acts_for(record.agency_id, "custodian agency", "agency_id")
    if uow.row(schema.agencies, record.agency_id) is None:
        raise InputError(f"agency {record.agency_id} is not registered; register it with `accord agencies add`",
                         field="agency_id")
    if uow.row(schema.bookings, record.booking_id) is not None:
        raise ConflictError(f"booking {record.booking_id} is already recorded", field="booking_id")
    if person is not None and person.person_id != record.person_id:
        raise InputError("person.person_id must be the custody record's person_id", field="person.person_id")
    events = []
    if person is not None:
        events.append(NewEvent(EventKind.PERSON_REGISTERED.value, person))
    events.append(NewEvent(EventKind.CUSTODY_BOOKED.value, record))
    uow.append(events)
    return booking_view(uow.row(schema.bookings, record.booking_id))


def _case_for(uow: UnitOfWork, detainer: DetainerRequest) -> tuple[Any, str]:
    """The DetainerCase the law decides, assembled from the read model and the recorded events."""
    from accord.law.case import DetainerCase

    booking = uow.row(schema.bookings, detainer.booking_id)
    if booking is None:
        raise InputError(f"no custody record for booking {detainer.booking_id}: the person is not in custody here; "
                         "submit the booking first", field="booking_id")
    if booking["person_id"] != detainer.person_id:
        raise InputError(f"booking {detainer.booking_id} holds another person", field="person_id")
    if booking["state"] != "in_custody":
        raise ConflictError(f"booking {detainer.booking_id} was released at {booking['released_at']}: "
                            "the person is no longer in custody", field="booking_id")
    custodian = uow.row(schema.agencies, booking["custodian_agency_id"])
    if custodian is None or not custodian["law_pack"]:
        raise ConflictError(f"custodian {booking['custodian_agency_id']} has no law pack configured; "
                            "set one with `accord agencies add ... --law-pack PACK`", field="booking_id")
    custody = _payload(uow, booking["booked_seq"], CustodyRecord)
    person_row = uow.row(schema.persons, detainer.person_id)
    person = _payload(uow, person_row["registered_seq"], Person) if person_row else Person(person_id=detainer.person_id)
    agency = _payload(uow, custodian["registered_seq"], Agency)
    return DetainerCase(detainer=detainer, custody=custody, person=person, receiving_agency=agency), custodian["law_pack"]


def submit_detainer(uow: UnitOfWork, actor: Actor, detainer: DetainerRequest) -> DetainerView:
    """A detainer from the issuing agency: recorded with the custodian's law's decision and the notices owed."""
    from accord.law.engine import decide
    from accord.law.pack import load_pack

    actor.require("submit")
    actor.acts_for(detainer.issuing_agency_id, "issuing agency", "issuing_agency_id")
    if uow.row(schema.detainers, detainer.request_id) is not None:
        raise ConflictError(f"detainer {detainer.request_id} is already recorded", field="request_id")
    case, pack_id = _case_for(uow, detainer)
    decision = decide(case, load_pack(pack_id))
    record_decision_in(uow, case, decision)
    return detainer_view(uow, uow.row(schema.detainers, detainer.request_id), actor)


def _booking_for_write(uow: UnitOfWork, actor: Actor, booking_id: str) -> dict[str, Any]:
    booking = uow.row(schema.bookings, booking_id)
    if booking is None or not actor.may_see(booking["custodian_agency_id"]):
        raise NotFoundError(f"no booking {booking_id}", field="booking_id")
    actor.acts_for(booking["custodian_agency_id"], f"booking {booking_id}", "booking_id")
    return booking


def record_release(uow: UnitOfWork, actor: Actor, release: Release) -> BookingView:
    """The person leaves custody; to the immigration agency only where the decision allows a transfer."""
    actor.require("submit", "officer")
    booking = _booking_for_write(uow, actor, release.booking_id)
    if booking["state"] != "in_custody":
        raise ConflictError(f"booking {release.booking_id} was already released at {booking['released_at']}",
                            field="booking_id")
    if release.person_id != booking["person_id"]:
        raise InputError(f"booking {release.booking_id} holds another person", field="person_id")
    if _before(release.released_at, booking["booked_at"]):
        raise InputError("released_at is before the booking", field="released_at")
    open_ = [d for d in uow.proj.detainers_of_booking(release.booking_id) if DetainerState(d["state"]) not in
             (DetainerState.TRANSFERRED, DetainerState.RELEASED, DetainerState.EXPIRED, DetainerState.LIFTED,
              DetainerState.CANCELLED)]
    to_immigration = release.reason.value == _IMMIGRATION
    if release.detainer_request_id is not None and release.detainer_request_id not in {d["request_id"] for d in open_}:
        raise ConflictError(f"detainer {release.detainer_request_id} is not open on booking {release.booking_id}",
                            field="detainer_request_id")
    if to_immigration:
        targets = [d for d in open_ if d["request_id"] == release.detainer_request_id] if release.detainer_request_id else open_
        if not targets:
            raise ConflictError(f"no open detainer on booking {release.booking_id} to transfer on", field="reason")
        if len(targets) > 1:
            raise InputError("several detainers are open on this booking: name the one the transfer answers",
                             field="detainer_request_id")
        d = targets[0]
        check_release(d["request_id"], DetainerState(d["state"]), json.loads(d["outcomes"] or "{}"), True,
                      _transfer_citation(uow, d))
    payload = release.model_copy(update={"recorded_by": actor.id}) if release.recorded_by is None else release
    uow.append([NewEvent(EventKind.CUSTODY_RELEASED.value, payload)])
    return booking_view(uow.row(schema.bookings, release.booking_id))


def _before(moment: Any, stamp: str) -> bool:
    from .projector import stamp as to_stamp

    return to_stamp(moment) < stamp


def _transfer_citation(uow: UnitOfWork, detainer_row: dict[str, Any]) -> str | None:
    ev = uow.event(detainer_row["decision_seq"]) if detainer_row["decision_seq"] else None
    if ev is None:
        return None
    for d in ev.payload["decisions"]:
        if d["action"] == "transfer_at_release":
            return d["citation"]
    return None


def _detainer_for(reader: Any, actor: Actor, request_id: str) -> dict[str, Any]:
    row = reader.row(schema.detainers, request_id)
    if row is None or not actor.may_see(row["custodian_agency_id"], row["issuing_agency_id"]):
        raise NotFoundError(f"no detainer {request_id}", field="request_id")
    return row


def lift_detainer(uow: UnitOfWork, actor: Actor, lifted: DetainerLifted) -> DetainerView:
    """The issuing agency lifts or cancels its detainer (the custodian may record one it was told of)."""
    actor.require("submit", "officer")
    row = _detainer_for(uow, actor, lifted.request_id)
    if actor.agency_id is not None and "admin" not in actor.scopes and \
            actor.agency_id not in (row["issuing_agency_id"], row["custodian_agency_id"]):
        raise NotFoundError(f"no detainer {lifted.request_id}", field="request_id")
    check_open(lifted.request_id, DetainerState(row["state"]), "cancelled" if lifted.cancelled else "lifted")
    payload = lifted.model_copy(update={"recorded_by": actor.id}) if lifted.recorded_by is None else lifted
    uow.append([NewEvent(EventKind.DETAINER_LIFTED.value, payload)])
    return detainer_view(uow, uow.row(schema.detainers, lifted.request_id), actor)


def get_detainer(reader: Any, actor: Actor, request_id: str) -> DetainerView:
    """A detainer's state, decision (rules, citations, facts read) and next steps, if the actor may see it."""
    actor.require("read", "submit", "officer", "auditor")
    return detainer_view(reader, _detainer_for(reader, actor, request_id), actor)


def get_booking(reader: Any, actor: Actor, booking_id: str) -> BookingView:
    row = reader.row(schema.bookings, booking_id)
    if row is None or not actor.may_see(row["custodian_agency_id"]):
        raise NotFoundError(f"no booking {booking_id}", field="booking_id")
    return booking_view(row)


def list_detainers(reader: Any, actor: Actor, *, state: str | None = None, booking_id: str | None = None,
                   open_only: bool = False, limit: int = 100, after: str | None = None) -> list[DetainerView]:
    """Detainers the actor may see, by deadline (soonest first, none last), then id.

    ``after`` is the last request id of the previous page: the page goes on from that detainer's
    place in this order (an unknown or unseen id is an InputError naming ``after``). An agency
    looking at detainers it issued filters and orders by what it may be told (``issuer_state``; no
    deadline, which would tell a release date), as :func:`~accord.service.views.detainer_view` shows.
    """
    actor.require("read", "submit", "officer", "auditor")
    t = schema.detainers
    q = sa.select(t)
    mine = t.c.custodian_agency_id == actor.agency_id
    state_col: Any = t.c.state
    key: Any = sa.func.coalesce(t.c.deadline, _NO_DEADLINE)
    if not actor.sees_all:
        q = q.where(sa.or_(mine, t.c.issuing_agency_id == actor.agency_id))
        state_col = sa.case((mine, t.c.state), else_=sa.func.coalesce(t.c.issuer_state, t.c.state))
        key = sa.case((mine, key), else_=_NO_DEADLINE)
    if state is not None:
        q = q.where(state_col == state)
    if open_only:
        q = q.where(state_col.in_(["received", "decided", "holding", "notify_pending", "declined"]))
    if booking_id is not None:
        q = q.where(t.c.booking_id == booking_id)
    if after is not None:  # keyset: the rows after the cursor's (deadline, id) in that same order
        cursor = reader.row(t, after)
        if cursor is None or not actor.may_see(cursor["custodian_agency_id"], cursor["issuing_agency_id"]):
            raise InputError(f"no detainer {after} to page after", field="after")
        sees_deadline = actor.sees_all or cursor["custodian_agency_id"] == actor.agency_id
        k = (cursor["deadline"] if sees_deadline else None) or _NO_DEADLINE
        q = q.where(sa.or_(key > k, sa.and_(key == k, t.c.request_id > after)))
    q = q.order_by(key, t.c.request_id).limit(limit)
    return [detainer_view(reader, dict(r), actor) for r in reader.connection.execute(q).mappings()]


#: Sorts after every deadline (same fixed-width text), so detainers without one come last.
_NO_DEADLINE = "9999-12-31T23:59:59.999999Z"


def recorded(events: list[Any]) -> Recorded:
    return Recorded(seqs=[e.seq for e in events])
