"""How events change the clocks: schedule and cancel jobs, owe messages — in the event's transaction.

Every handler here is registered with ``@projector.follows(kind)`` and runs after the read model's
own handler for the same event, with the :class:`~accord.service.projector.Projection` of the
transaction that appends (or, after another writer, catches up with) the event; so it sees the
read model as of that event, and its rows commit with it. Each is idempotent, because a rebuild
applies every event again.

Who is told what:

- ``decision.made``: a hold schedules its warning and its limit; the issuing agency gets the
  decision (``detainer.decided``), the same account the API gives it.
- ``custody.released``: the waiting clocks of the detainers it closed are cancelled; the issuing
  agency is told of the release (``detainer.released``) only where the decision allows
  ``notify_release``.
- ``notice.due``: its due time is scheduled (overdue firing), except ``hold_expiry``, which the
  hold's own limit job stands for; a notice to the person (or their attorney or designee) becomes
  a letter for the custodian to hand over; a notice to the requesting agency goes to it as a
  webhook, and its delivery records ``notice.sent``.
- ``hold.warning``, ``hold.limit_reached``, ``notice.overdue``, ``delivery.failed``: the job is
  done; the custodian's officers get an alert (``alert.*``); an expired hold is also reported to
  the issuing agency where ``notify_release`` is allowed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from accord.ledger import StoredEvent
from accord.service import schema as rm
from accord.service.lifecycle import NOTIFY, PERMITTED, DetainerState
from accord.service.projector import Projection, follows

from . import jobs, schema
from .outbox import owe
from .sql import moment, stamp

_HOLD_JOBS = (schema.WARNING, schema.LIMIT)
_MESSAGE = schema.messages.select().where(schema.messages.c.message_id == sa.bindparam("message_id"))
_TO_PERSON = ("subject", "subject_attorney_or_designee")


def _lead() -> timedelta:
    from accord.settings import get_settings

    return timedelta(seconds=get_settings().hold_warning_lead_seconds)


def _notify_allowed(d: dict[str, Any]) -> bool:
    return json.loads(d["outcomes"] or "{}").get(NOTIFY) in PERMITTED


def _request_of(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> str:
    return payload.get("request_id") or (p.stream_of(ev.caused_by) or "").removeprefix("detainer/")


@follows("decision.made")
def _decided(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    rid = _request_of(p, ev, payload)
    d = p.get(rm.detainers, rid)
    if d is None or d["decision_seq"] != ev.seq:
        return
    jobs.cancel(p.conn, rid, _HOLD_JOBS, f"replaced by the decision at event {ev.seq}", ev.recorded_at, ev.seq)
    hold_until = moment(d["hold_until"])
    if d["state"] == DetainerState.HOLDING and hold_until is not None:
        lead = _lead()
        if lead > timedelta(0):
            jobs.schedule(p.conn, schema.WARNING, rid, hold_until - lead, ev.seq)
        jobs.schedule(p.conn, schema.LIMIT, rid, hold_until, ev.seq)
    owe(p, ev, "detainer.decided", to=d["issuing_agency_id"], owner=d["custodian_agency_id"], subject=rid, data={
        "request_id": rid, "state": d["state"], "pack_id": payload["pack_id"], "law_date": payload["law_date"],
        "outcomes": {x["action"]: x["outcome"] for x in payload["decisions"]},
        "citations": payload["citations"], "hold_until": d["hold_until"], "decision_seq": ev.seq})


@follows("custody.released")
def _released(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    for d in p.detainers_of_booking(payload["booking_id"]):
        if d["closed_seq"] != ev.seq:
            continue
        jobs.cancel(p.conn, d["request_id"], _HOLD_JOBS, f"person released (event {ev.seq})", ev.recorded_at, ev.seq)
        if d["state"] == DetainerState.RELEASED and _notify_allowed(d):
            owe(p, ev, "detainer.released", to=d["issuing_agency_id"], owner=d["custodian_agency_id"],
                subject=d["request_id"], data={"request_id": d["request_id"], "booking_id": d["booking_id"],
                                               "released_at": stamp(payload["released_at"]), "event_seq": ev.seq})


@follows("detainer.lifted")
def _lifted(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    d = p.get(rm.detainers, payload["request_id"])
    if d is not None and d["closed_seq"] == ev.seq:
        jobs.cancel(p.conn, d["request_id"], _HOLD_JOBS, f"detainer {d['state']} (event {ev.seq})", ev.recorded_at, ev.seq)


@follows("notice.due")
def _notice_due(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    n = p.get(rm.notices, payload["notice_id"])
    if n is None or n["due_seq"] != ev.seq:
        return
    nid = n["notice_id"]
    if n["state"] == "owed" and n["kind"] != "hold_expiry":
        jobs.cancel(p.conn, nid, (schema.OVERDUE,), f"owed again at event {ev.seq}", ev.recorded_at, ev.seq)
        jobs.schedule(p.conn, schema.OVERDUE, nid, moment(n["due_by"]), ev.seq)
    data = {"notice_id": nid, "kind": n["kind"], "recipient": n["recipient"], "about": n["about"],
            "about_request_id": n["about_request_id"], "due_by": n["due_by"], "citation": n["citation"]}
    if n["recipient"] in _TO_PERSON:
        owe(p, ev, f"letter.{n['kind']}", to=n["owed_by_agency_id"], owner=n["owed_by_agency_id"], subject=nid,
            data=data, channel=schema.LETTER, notice_id=nid)
    elif n["recipient"] == "requesting_agency" and n["state"] == "owed":
        if n["about"] == "detainer":
            d = p.get(rm.detainers, n["about_request_id"])
            booking = p.get(rm.bookings, d["booking_id"]) if d else None
            data["release_eligible_at"] = booking["release_eligible_at"] if booking else None
        owe(p, ev, f"notice.{n['kind']}", to=n["requester_agency_id"], owner=n["owed_by_agency_id"], subject=nid,
            data=data, notice_id=nid)


@follows("notice.sent")
def _notice_sent(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    jobs.cancel(p.conn, payload["notice_id"], (schema.OVERDUE,), f"sent (event {ev.seq})", ev.recorded_at, ev.seq)


# -- the clocks' own events -------------------------------------------------------------------------

@follows("hold.warning", reads=(("proj_detainers", "request_id"),))
def _warned(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    rid = payload["request_id"]
    jobs.done(p.conn, schema.WARNING, rid, payload["decision_seq"], ev.seq, ev.recorded_at)
    d = p.get(rm.detainers, rid)
    if d is not None:
        owe(p, ev, "alert.hold_warning", to=d["custodian_agency_id"], owner=d["custodian_agency_id"], subject=rid,
            data={"request_id": rid, "booking_id": d["booking_id"], "hold_until": stamp(payload["hold_until"]),
                  "lead_seconds": payload["lead_seconds"], "event_seq": ev.seq})


@follows("hold.limit_reached", reads=(("proj_detainers", "request_id"),))
def _limit_reached(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    """holding -> expired (lifecycle): the hold the decision allowed is over."""
    rid = payload["request_id"]
    jobs.done(p.conn, schema.LIMIT, rid, payload["decision_seq"], ev.seq, ev.recorded_at)
    d = p.get(rm.detainers, rid)
    if d is None or d["state"] != DetainerState.HOLDING or d["decision_seq"] != payload["decision_seq"]:
        return
    p._put(rm.detainers, {**d, "state": DetainerState.EXPIRED.value, "deadline": None, "closed_seq": ev.seq,
                          "updated_seq": ev.seq})
    data = {"request_id": rid, "booking_id": d["booking_id"], "hold_until": stamp(payload["hold_until"]),
            "citation": payload.get("citation"), "event_seq": ev.seq}
    owe(p, ev, "alert.hold_limit_reached", to=d["custodian_agency_id"], owner=d["custodian_agency_id"], subject=rid,
        data=data)
    if _notify_allowed(d):
        owe(p, ev, "detainer.expired", to=d["issuing_agency_id"], owner=d["custodian_agency_id"], subject=rid,
            data={"request_id": rid, "hold_until": data["hold_until"], "event_seq": ev.seq})


@follows("notice.overdue", reads=(("proj_notices", "notice_id"),))
def _overdue(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    nid = payload["notice_id"]
    n = p.get(rm.notices, nid)
    if n is None:
        return
    jobs.done(p.conn, schema.OVERDUE, nid, n["due_seq"], ev.seq, ev.recorded_at)
    owe(p, ev, "alert.notice_overdue", to=n["owed_by_agency_id"], owner=n["owed_by_agency_id"], subject=nid,
        data={"notice_id": nid, "kind": n["kind"], "about_request_id": n["about_request_id"], "due_by": n["due_by"],
              "citation": n["citation"], "event_seq": ev.seq})


@follows("delivery.failed")
def _delivery_failed(p: Projection, ev: StoredEvent, payload: dict[str, Any]) -> None:
    if payload["type"].startswith("alert."):
        return  # an alert that could not be delivered is not alerted about again (it is listed as failed)
    m = p.conn.execute(_MESSAGE, {"message_id": payload["message_id"]}).first()
    owner = m.owner_agency_id if m is not None else None
    owe(p, ev, "alert.delivery_failed", to=owner, owner=owner, subject=payload["message_id"], data={
        "message_id": payload["message_id"], "type": payload["type"], "agency_id": payload["agency_id"],
        "endpoint_id": payload["endpoint_id"], "reason": payload["reason"], "event_seq": ev.seq})
