"""Use cases of record requests: one decided through the Cedar gateway and recorded, read back, listed.

The requester's profile (its kind, certifications, agreements) is the registry's
(``agencies.agency_profile``), never what the request says of itself, and the request is decided
under the custodian's ``access_pack`` (or the bundled pack of that custodian). The request, the
decision and the notices it owes are appended in the caller's unit of work.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from accord.domain import RecordRequest
from accord.errors import ConflictError, InputError, NotFoundError

from . import schema
from .access_events import record_decisions_in
from .actors import Actor
from .agencies import agency_profile
from .store import UnitOfWork
from .views import RecordRequestView, notice_view, record_request_view

READ_SCOPES = ("read", "submit", "officer", "auditor")


def _pack_of(custodian: dict[str, Any]) -> Any:
    from accord.access.errors import PolicyError
    from accord.access.packs import load_pack, pack_for_custodian

    try:
        return load_pack(custodian["access_pack"]) if custodian["access_pack"] else pack_for_custodian(custodian["agency_id"])
    except PolicyError:
        raise ConflictError(f"custodian {custodian['agency_id']} has no access pack configured; set one with "
                            "`accord agencies add ... --access-pack PACK`", field="custodian_agency_id") from None


def submit_record_request(uow: UnitOfWork, actor: Actor, request: RecordRequest,
                          notice_would_impede_investigation: bool = False) -> RecordRequestView:
    """Decide a request for records under the custodian's law and record it with the notices it owes.

    The requester submits it (or the custodian, relaying one it received); only the custodian may
    find that telling the person would impede an investigation (940 CMR 37.04 makes that the
    custodian's finding, see ``accord.access.model``).
    """
    from accord.access.gateway import gateway_for
    from accord.access.model import AccessRequest

    actor.require("submit")
    own = actor.agency_id is None or "admin" in actor.scopes
    if not own and actor.agency_id not in (request.requester_agency_id, request.custodian_agency_id):
        raise NotFoundError("requester agency not found", field="requester_agency_id")
    if notice_would_impede_investigation and not own and actor.agency_id != request.custodian_agency_id:
        raise InputError("only the custodian may find that a notice would impede an investigation",
                         field="notice_would_impede_investigation")
    if uow.row(schema.record_requests, request.request_id) is not None:
        raise ConflictError(f"record request {request.request_id} is already recorded", field="request_id")
    requester = agency_profile(uow, request.requester_agency_id, field="requester_agency_id")
    custodian = uow.row(schema.agencies, request.custodian_agency_id)
    if custodian is None:
        raise InputError(f"agency {request.custodian_agency_id} is not registered", field="custodian_agency_id")
    areq = AccessRequest(request=request, requester=requester,
                         notice_would_impede_investigation=notice_would_impede_investigation)
    decision = gateway_for(_pack_of(custodian)).check(areq)
    record_decisions_in(uow, [(areq, decision)])
    return _view(uow, uow.row(schema.record_requests, request.request_id))


def _view(reader: Any, row: dict[str, Any]) -> RecordRequestView:
    if isinstance(reader, UnitOfWork):
        reader.proj.flush()  # the notices this unit of work projected, visible to the query below
    t = schema.notices
    rows = reader.connection.execute(sa.select(t).where(t.c.about_request_id == row["request_id"], t.c.about == "record")
                                     .order_by(t.c.due_by, t.c.notice_id)).mappings()
    return record_request_view(row, [notice_view(dict(n), reader.now) for n in rows])


def _visible(reader: Any, actor: Actor, request_id: str) -> dict[str, Any]:
    row = reader.row(schema.record_requests, request_id)
    if row is None or not actor.may_see(row["requester_agency_id"], row["custodian_agency_id"]):
        raise NotFoundError(f"no record request {request_id}", field="request_id")
    return row


def get_record_request(reader: Any, actor: Actor, request_id: str) -> RecordRequestView:
    """A record request with its decision and notices, to its requester, its custodian or an auditor."""
    actor.require(*READ_SCOPES)
    return _view(reader, _visible(reader, actor, request_id))


def list_record_requests(reader: Any, actor: Actor, *, outcome: str | None = None, limit: int = 100,
                         after: str | None = None) -> list[RecordRequestView]:
    """Record requests the actor made or was asked, by id (``after``: the last id of the previous page)."""
    actor.require(*READ_SCOPES)
    t = schema.record_requests
    q = sa.select(t)
    if not actor.sees_all:
        q = q.where(sa.or_(t.c.requester_agency_id == actor.agency_id, t.c.custodian_agency_id == actor.agency_id))
    if outcome is not None:
        q = q.where(t.c.outcome == outcome)
    if after is not None:
        q = q.where(t.c.request_id > after)
    q = q.order_by(t.c.request_id).limit(limit)
    return [_view(reader, dict(r)) for r in reader.connection.execute(q).mappings()]
