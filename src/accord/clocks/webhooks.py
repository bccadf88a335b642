"""Use cases of webhook endpoints: an agency registers where it wants its messages, lists, removes.

The secret is made here and returned once (``EndpointCreated.secret``); listings never show it, and
the table holds it sealed (``sealing.py``).
A URL is checked when it is registered (``addresses.check_url``) and again, address by address,
every time a delivery connects.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from accord.errors import InputError, NotFoundError
from accord.service import schema as rm
from accord.service.actors import Actor

from . import schema
from .addresses import Resolver, check_url, system_resolver
from .sealing import seal
from .signing import new_secret
from .sql import moment, stamp

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?$")
e_t = schema.endpoints


class EndpointView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    endpoint_id: str
    agency_id: str
    url: str
    event_types: list[str] | None = Field(description="Types sent to it (a trailing .* matches a family); null: all")
    description: str | None
    state: str = Field(description="active | disabled")
    disabled_reason: str | None
    created_at: datetime
    disabled_at: datetime | None


class EndpointCreated(EndpointView):
    secret: str = Field(description="whsec_...: shown this once; verify webhook-signature with it")


def _view(row: Any) -> EndpointView:
    return EndpointView(endpoint_id=row.endpoint_id, agency_id=row.agency_id, url=row.url,
                        event_types=json.loads(row.event_types) if row.event_types else None,
                        description=row.description, state=row.state, disabled_reason=row.disabled_reason,
                        created_at=moment(row.created_at), disabled_at=moment(row.disabled_at))


def _allow_loopback() -> bool:
    from accord.settings import get_settings

    return get_settings().webhook_allow_loopback_http


def register(uow: Any, actor: Actor, url: str, *, agency_id: str | None = None, event_types: list[str] | None = None,
             description: str | None = None, resolver: Resolver = system_resolver,
             allow_loopback: bool | None = None) -> EndpointCreated:
    """Register an endpoint for the actor's agency (an admin or the operator names the agency)."""
    actor.require("submit", "admin")
    agency = agency_id or actor.agency_id
    if agency is None:
        raise InputError("name the agency the endpoint is for", field="agency_id")
    actor.acts_for(agency, f"agency {agency}", "agency_id")
    if uow.row(rm.agencies, agency) is None:
        raise InputError(f"agency {agency} is not registered", field="agency_id")
    if event_types is not None:
        if not event_types or len(event_types) > 50:
            raise InputError("give 1 to 50 event types, or none for all", field="event_types")
        for i, t in enumerate(event_types):
            if not isinstance(t, str) or len(t) > 80 or not TYPE_PATTERN.fullmatch(t):
                raise InputError("must be dotted lowercase words, optionally ending in .*", field=f"event_types[{i}]")
    if description is not None and len(description) > 200:
        raise InputError("at most 200 characters", field="description")
    check_url(url, allow_loopback=_allow_loopback() if allow_loopback is None else allow_loopback, resolver=resolver)
    endpoint_id, secret = "ep_" + secrets.token_hex(12), new_secret()
    row = {"endpoint_id": endpoint_id, "agency_id": agency, "url": url,
           "secret": seal(uow.store.engine, endpoint_id, secret), "event_types": json.dumps(event_types) if event_types else None,
           "description": description, "state": schema.ACTIVE, "created_at": stamp(uow.now), "created_by": actor.id}
    uow.connection.execute(e_t.insert().values(**row))
    got = uow.connection.execute(sa.select(e_t).where(e_t.c.endpoint_id == row["endpoint_id"])).one()
    return EndpointCreated(**_view(got).model_dump(), secret=secret)


def list_endpoints(reader: Any, actor: Actor) -> list[EndpointView]:
    actor.require("read", "submit", "admin", "auditor")
    q = sa.select(e_t).order_by(e_t.c.agency_id, e_t.c.created_at, e_t.c.endpoint_id)
    if not actor.sees_all:
        q = q.where(e_t.c.agency_id == actor.agency_id)
    return [_view(r) for r in reader.connection.execute(q)]


def _own(conn: Any, actor: Actor, endpoint_id: str) -> Any:
    row = conn.execute(sa.select(e_t).where(e_t.c.endpoint_id == endpoint_id)).first()
    if row is None or not actor.may_see(row.agency_id):
        raise NotFoundError(f"no webhook endpoint {endpoint_id}", field="endpoint_id")
    actor.acts_for(row.agency_id, f"webhook endpoint {endpoint_id}", "endpoint_id")
    return row


def get_endpoint(reader: Any, actor: Actor, endpoint_id: str) -> EndpointView:
    actor.require("read", "submit", "admin", "auditor")
    row = reader.connection.execute(sa.select(e_t).where(e_t.c.endpoint_id == endpoint_id)).first()
    if row is None or not actor.may_see(row.agency_id):
        raise NotFoundError(f"no webhook endpoint {endpoint_id}", field="endpoint_id")
    return _view(row)


def remove(uow: Any, actor: Actor, endpoint_id: str) -> EndpointView:
    """Stop sending to an endpoint (deliveries still waiting for it are given up when next claimed).

    Removing an endpoint already disabled changes nothing (its first reason stays)."""
    actor.require("submit", "admin")
    _own(uow.connection, actor, endpoint_id)
    uow.connection.execute(e_t.update().where(e_t.c.endpoint_id == endpoint_id, e_t.c.state == schema.ACTIVE).values(
        state=schema.DISABLED, disabled_reason="removed by its agency", disabled_at=stamp(uow.now)))
    return _view(uow.connection.execute(sa.select(e_t).where(e_t.c.endpoint_id == endpoint_id)).one())


class DeliveryView(BaseModel):
    """One message's delivery to one endpoint: retried until delivered, or dead-lettered (``failed``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    message_id: str = Field(description="The webhook-id the receiver de-duplicates on")
    endpoint_id: str
    type: str
    subject: str = Field(description="The request or notice the message is about")
    state: str = Field(description="pending | delivered | failed (dead letter: no more attempts)")
    attempts: int
    last_status: int | None = Field(description="The receiver's last HTTP status (null: no answer)")
    reason: str | None = Field(description="Why the last attempt failed")
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When it is tried next (null once settled)")
    delivered_at: datetime | None


DELIVERY_STATES = (schema.PENDING, schema.DELIVERED, schema.FAILED)


def list_deliveries(reader: Any, actor: Actor, endpoint_id: str, *, state: str | None = schema.FAILED,
                    limit: int = 100) -> list[DeliveryView]:
    """Deliveries to one of the actor's endpoints, latest attempt first (``state`` None: every state).

    The default shows the dead letters: deliveries given up after the retry window, or because the
    endpoint answered 410 or was removed, each with its reason."""
    actor.require("read", "submit", "admin", "auditor")
    get_endpoint(reader, actor, endpoint_id)
    if state is not None and state not in DELIVERY_STATES:
        raise InputError(f"must be one of {', '.join(DELIVERY_STATES)}", field="state")
    if not 1 <= limit <= 500:
        raise InputError("must be 1 to 500", field="limit")
    m, dl = schema.messages, schema.deliveries
    q = (sa.select(dl, m.c.type, m.c.subject).join(m, m.c.message_id == dl.c.message_id)
         .where(dl.c.endpoint_id == endpoint_id)
         .order_by(dl.c.last_attempt_at.desc().nulls_last(), dl.c.message_id).limit(limit))
    if state is not None:
        q = q.where(dl.c.state == state)
    return [DeliveryView(message_id=r.message_id, endpoint_id=r.endpoint_id, type=r.type, subject=r.subject,
                         state=r.state, attempts=r.attempts, last_status=r.last_status, reason=r.last_error,
                         first_attempt_at=moment(r.first_attempt_at), last_attempt_at=moment(r.last_attempt_at),
                         next_attempt_at=moment(r.next_attempt_at) if r.state == schema.PENDING else None,
                         delivered_at=moment(r.delivered_at)) for r in reader.connection.execute(q)]
