"""Notices the law owes (to the person, to the requester): list them, and record that one went out."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from accord.domain.base import DomainModel
from accord.service import notices
from accord.service.views import NoticeView

from .. import idempotency
from ..deps import OfficerPost, PathRef, Reading, StoreDep

router = APIRouter(prefix="/v1/notices", tags=["notices"])


class NoticePage(BaseModel):
    items: list[NoticeView]
    next: str | None


class SentBody(DomainModel):
    sent_at: AwareDatetime
    channel: str = Field(default="mail", min_length=1, max_length=50)


@router.get("", response_model=NoticePage, summary="Notices owed by you or about your requests, soonest due first")
def list_notices(actor: Reading, store: StoreDep, state: Literal["owed", "sent", "discharged", "all"] = "owed",
                 overdue: bool = False, about_request_id: Annotated[str | None, Query(max_length=128)] = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 after: Annotated[str | None, Query(max_length=128)] = None) -> NoticePage:
    with store.reading() as r:
        items = notices.list_notices(r, actor, state=None if state == "all" else state,
                                     overdue_at=r.now if overdue else None, about_request_id=about_request_id,
                                     limit=limit, after=after)
    return NoticePage(items=items, next=items[-1].notice_id if len(items) == limit else None)


@router.get("/{notice_id:path}", response_model=NoticeView, summary="One notice")
def get_notice(notice_id: PathRef, actor: Reading, store: StoreDep) -> NoticeView:
    with store.reading() as r:
        return notices.get_notice(r, actor, notice_id)


@router.post("/{notice_id:path}/sent", response_model=NoticeView, summary="Record that a notice went out (once)")
async def mark_sent(notice_id: PathRef, posted: OfficerPost[SentBody]) -> Response:
    actor, body, post = posted.actor, posted.body, posted.post
    return await idempotency.run(post, lambda uow: notices.mark_sent(uow, actor, notice_id, body.sent_at, body.channel), 200)
