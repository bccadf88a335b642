"""Custody records (a jail's bookings, with the person when given) and releases, from the jail's system."""

from __future__ import annotations

from fastapi import APIRouter, Response

from accord.domain import CustodyRecord, Person, Release
from accord.domain.base import DomainModel
from accord.service import detainers
from accord.service.views import BookingView

from .. import idempotency
from ..deps import OfficerPost, PathRef, Reading, StoreDep, SubmitPost

router = APIRouter(prefix="/v1", tags=["custody"])


class CustodyBody(DomainModel):
    """A booking and, when the jail knows it, the person it holds (personal fields never leave the ledger)."""

    custody: CustodyRecord
    person: Person | None = None


@router.post("/custody-records", status_code=201, response_model=BookingView, summary="Record a booking")
async def submit_custody(posted: SubmitPost[CustodyBody]) -> Response:
    actor, body, post = posted.actor, posted.body, posted.post
    return await idempotency.run(post, lambda uow: detainers.submit_custody(uow, actor, body.custody, body.person))


@router.get("/custody-records/{booking_id:path}", response_model=BookingView, summary="A booking and its state")
def get_custody(booking_id: PathRef, actor: Reading, store: StoreDep) -> BookingView:
    with store.reading() as r:
        return detainers.get_booking(r, actor, booking_id)


@router.post("/releases", status_code=201, response_model=BookingView,
             summary="Record a release (to immigration only where the decision allows a transfer)")
async def record_release(posted: OfficerPost[Release]) -> Response:
    actor, body, post = posted.actor, posted.body, posted.post
    return await idempotency.run(post, lambda uow: detainers.record_release(uow, actor, body))
