"""Record requests (a police department asks the DMV): decided through the Cedar gateway under the custodian's law."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from accord.domain import RecordRequest
from accord.domain.base import DomainModel
from accord.service import records
from accord.service.views import RecordRequestView

from .. import idempotency
from ..deps import PathRef, Reading, StoreDep, SubmitPost

router = APIRouter(prefix="/v1/record-requests", tags=["record requests"])


class RecordRequestBody(DomainModel):
    """The request; the requester's profile is the registry's, never the body's."""

    request: RecordRequest
    notice_would_impede_investigation: bool = Field(
        default=False, description="The custodian's own finding (940 CMR 37.04); only the custodian may give it")


class RecordRequestPage(BaseModel):
    items: list[RecordRequestView]
    next: str | None


@router.post("", status_code=201, response_model=RecordRequestView,
             summary="Ask for records: decided, recorded, and answered with the notices owed")
async def submit(posted: SubmitPost[RecordRequestBody]) -> Response:
    actor, body, post = posted.actor, posted.body, posted.post
    return await idempotency.run(post, lambda uow: records.submit_record_request(
        uow, actor, body.request, body.notice_would_impede_investigation))


@router.get("", response_model=RecordRequestPage, summary="Record requests you made or were asked")
def list_requests(actor: Reading, store: StoreDep, outcome: Literal["allow", "deny"] | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100,
                  after: Annotated[str | None, Query(max_length=128)] = None) -> RecordRequestPage:
    with store.reading() as r:
        items = records.list_record_requests(r, actor, outcome=outcome, limit=limit, after=after)
    return RecordRequestPage(items=items, next=items[-1].request_id if len(items) == limit else None)


@router.get("/{request_id:path}", response_model=RecordRequestView, summary="A record request and its decision")
def get_request(request_id: PathRef, actor: Reading, store: StoreDep) -> RecordRequestView:
    with store.reading() as r:
        return records.get_record_request(r, actor, request_id)
