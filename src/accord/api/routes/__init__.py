"""The API's resources, one module each; :func:`include` is the one place routers are registered."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute

from . import agencies, audit, bookings, clocks, detainers, health, notices, records, webhooks

#: Order is the order in the OpenAPI document. Add a resource's router here (webhooks, clocks, ...).
ROUTERS = (health.router, bookings.router, detainers.router, records.router, notices.router, agencies.router,
           webhooks.router, clocks.router, audit.router)


def include(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)


def api_routes() -> Iterator[APIRoute]:
    """Every operation of the registered routers (their paths carry the routers' prefixes)."""
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route
