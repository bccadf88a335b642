"""The ledger's latest signed checkpoint and RFC 6962 inclusion proofs: verify your request was recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from accord.service import audit
from accord.service.views import CheckpointView, InclusionProofView

from ..deps import Reading, StoreDep

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("/checkpoint", response_model=CheckpointView, summary="The latest signed checkpoint (tree size and root)")
def checkpoint(actor: Reading, store: StoreDep) -> CheckpointView:
    with store.reading() as r:
        return audit.latest_checkpoint(r, actor)


@router.get("/proof/{seq}", response_model=InclusionProofView,
            summary="Inclusion proof of one of your events (by default in the latest signed checkpoint)")
def proof(seq: Annotated[int, Path(ge=1, le=2**62)], actor: Reading, store: StoreDep,
          size: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> InclusionProofView:
    with store.reading() as r:
        return audit.prove(r, actor, seq, size)
