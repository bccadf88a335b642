"""The law's clocks as ``accord clocks`` shows them: running holds with the time left, notices due and overdue,
failed deliveries — scoped to what the caller's agency may see (:func:`accord.clocks.views.overview`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from accord.clocks import views
from accord.clocks.views import ClocksView

from ..deps import Reading, StoreDep

router = APIRouter(prefix="/v1/clocks", tags=["clocks"])


@router.get("", response_model=ClocksView,
            summary="Running holds with time remaining, holds past their limit, notices owed, failed deliveries")
def get_clocks(actor: Reading, store: StoreDep, limit: Annotated[int, Query(ge=1, le=500)] = 200) -> ClocksView:
    with store.reading() as r:
        return views.overview(r, actor, limit=limit)
