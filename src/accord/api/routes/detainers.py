"""Detainers: submitted with their documents and decided at once; read with the decision; lifted or cancelled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from accord.domain import DetainerLifted, DetainerRequest
from accord.domain.base import DomainModel
from accord.service import detainers
from accord.service.lifecycle import DetainerState
from accord.service.views import DetainerView

from .. import idempotency
from ..deps import OfficerPost, PathRef, Reading, StoreDep, SubmitPost

router = APIRouter(prefix="/v1/detainers", tags=["detainers"])


class DetainerPage(BaseModel):
    items: list[DetainerView]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last page")


class LiftBody(DomainModel):
    lifted_at: AwareDatetime
    reason: str = Field(default="", max_length=200)


@router.post("", status_code=201, response_model=DetainerView,
             summary="Submit a detainer (I-247A boxes, I-200/I-205, judicial warrant): decided under the custodian's law")
async def submit_detainer(posted: SubmitPost[DetainerRequest]) -> Response:
    actor, body, post = posted.actor, posted.body, posted.post
    return await idempotency.run(post, lambda uow: detainers.submit_detainer(uow, actor, body))


@router.get("", response_model=DetainerPage, summary="Detainers you issued or hold, soonest deadline first")
def list_detainers(actor: Reading, store: StoreDep, state: DetainerState | None = None,
                   booking_id: Annotated[str | None, Query(max_length=128)] = None,
                   open_only: Annotated[bool, Query(alias="open")] = False,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100,
                   after: Annotated[str | None, Query(max_length=128)] = None) -> DetainerPage:
    with store.reading() as r:
        items = detainers.list_detainers(r, actor, state=state.value if state else None, booking_id=booking_id,
                                         open_only=open_only, limit=limit, after=after)
    return DetainerPage(items=items, next=items[-1].request_id if len(items) == limit else None)


@router.get("/{request_id:path}", response_model=DetainerView,
            summary="A detainer's state and decision: per action the outcome, rule, summary, citation and facts used")
def get_detainer(request_id: PathRef, actor: Reading, store: StoreDep) -> DetainerView:
    with store.reading() as r:
        return detainers.get_detainer(r, actor, request_id)


def _lift(request_id: str, body: LiftBody, cancelled: bool) -> DetainerLifted:
    return DetainerLifted(request_id=request_id, lifted_at=body.lifted_at, reason=body.reason, cancelled=cancelled)


@router.post("/{request_id:path}/lift", response_model=DetainerView, summary="The issuing agency lifts its detainer")
async def lift(request_id: PathRef, posted: OfficerPost[LiftBody]) -> Response:
    actor, body, post = posted.actor, posted.body, posted.post
    return await idempotency.run(post, lambda uow: detainers.lift_detainer(uow, actor, _lift(request_id, body, False)), 200)


@router.post("/{request_id:path}/cancel", response_model=DetainerView, summary="Cancel a detainer issued in error")
async def cancel(request_id: PathRef, posted: OfficerPost[LiftBody]) -> Response:
    actor, body, post = posted.actor, posted.body, posted.post
    return await idempotency.run(post, lambda uow: detainers.lift_detainer(uow, actor, _lift(request_id, body, True)), 200)
