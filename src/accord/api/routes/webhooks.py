"""Webhook endpoints of the caller's agency (Standard Webhooks): register (the secret shown once), list, remove, and
see the deliveries that failed.

Each handler parses and calls :mod:`accord.clocks.webhooks`; the URL is checked there (https, public
addresses only; http://127.0.0.1 only with ``ACCORD_WEBHOOK_ALLOW_LOOPBACK_HTTP``), and another
agency's endpoint is "not found" (404), never 403.
"""

from __future__ import annotations

from typing import Any, Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from accord.clocks import webhooks
from accord.clocks.webhooks import DeliveryView, EndpointCreated, EndpointView
from accord.domain.base import DomainModel

from .. import idempotency
from ..deps import PathId, Reading, StoreDep, SubmitPost, Submitting

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class EndpointBody(DomainModel):
    url: str = Field(min_length=1, max_length=2000,
                     description="https:// URL with a public host (http://127.0.0.1 only where the server allows it)")
    event_types: list[str] | None = Field(default=None, description="Types to send (a trailing .* matches a family); "
                                                                    "omit for all")
    description: str | None = Field(default=None, max_length=200)
    agency_id: str | None = Field(default=None, max_length=128,
                                  description="The agency the endpoint is for: yours (the default)")


@router.post("", status_code=201, response_model=EndpointCreated,
             summary="Register an endpoint for your agency's messages; the signing secret is in this response only")
async def register_endpoint(request: Request, posted: SubmitPost[EndpointBody]) -> Response:
    actor, body, post = posted.actor, posted.body, posted.post
    allow = request.app.state.settings.webhook_allow_loopback_http
    return await idempotency.run(post, lambda uow: webhooks.register(
        uow, actor, body.url, agency_id=body.agency_id, event_types=body.event_types, description=body.description,
        allow_loopback=allow), kept_as=_without_secret)


#: what a replay of the registration (same Idempotency-Key) shows instead of the secret, which is not kept there
SECRET_NOT_REPEATED = "(shown once, in the first response to this request; remove the endpoint and register it again for a new one)"


def _without_secret(view: Any) -> Any:
    return view.model_copy(update={"secret": SECRET_NOT_REPEATED})


@router.get("", response_model=list[EndpointView], summary="Your agency's endpoints (every one for an auditor); never a secret")
def list_endpoints(actor: Reading, store: StoreDep) -> list[EndpointView]:
    with store.reading() as r:
        return webhooks.list_endpoints(r, actor)


@router.get("/{endpoint_id}", response_model=EndpointView, summary="One endpoint (never its secret)")
def get_endpoint(endpoint_id: PathId, actor: Reading, store: StoreDep) -> EndpointView:
    with store.reading() as r:
        return webhooks.get_endpoint(r, actor, endpoint_id)


@router.delete("/{endpoint_id}", response_model=EndpointView,
               summary="Stop sending to an endpoint (it stays listed, disabled; its pending deliveries are given up)")
def remove_endpoint(endpoint_id: PathId, actor: Submitting, store: StoreDep) -> EndpointView:
    with store.transaction() as uow:
        return webhooks.remove(uow, actor, endpoint_id)


@router.get("/{endpoint_id}/deliveries", response_model=list[DeliveryView],
            summary="Deliveries to an endpoint, latest first: by default the failed ones (dead letters) with their reason")
def list_deliveries(endpoint_id: PathId, actor: Reading, store: StoreDep,
                    state: Literal["failed", "pending", "delivered", "all"] = "failed",
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[DeliveryView]:
    with store.reading() as r:
        return webhooks.list_deliveries(r, actor, endpoint_id, state=None if state == "all" else state, limit=limit)
