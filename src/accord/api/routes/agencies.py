"""The agency registry as an agency sees it: itself; an auditor sees every agency."""

from __future__ import annotations

from fastapi import APIRouter

from accord.errors import NotFoundError
from accord.service import agencies
from accord.service.views import AgencyView

from ..deps import Reading, StoreDep

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])


@router.get("/self", response_model=AgencyView, summary="The agency this token acts for")
def get_self(actor: Reading, store: StoreDep) -> AgencyView:
    if actor.agency_id is None:
        raise NotFoundError("this token acts for no agency (an auditor's or an administrator's)")
    with store.reading() as r:
        return agencies.get_agency(r, actor, actor.agency_id)


@router.get("", response_model=list[AgencyView], summary="Registered agencies (yours; every one for an auditor)")
def list_agencies(actor: Reading, store: StoreDep) -> list[AgencyView]:
    with store.reading() as r:
        return agencies.list_agencies(r, actor)
