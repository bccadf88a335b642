"""``GET /health``: the server is up and its store answers (unauthenticated, for load balancers)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ..deps import StoreDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    ledger_size: int


@router.get("/health", response_model=Health, summary="Liveness and the ledger's size")
def health(store: StoreDep) -> Health:
    return Health(status="ok", ledger_size=store.ledger.size)
