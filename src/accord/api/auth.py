"""Who is calling: the bearer token, checked against its hash, as the application layer's ``Actor``.

Every route but ``/health`` and the OpenAPI document depends on :func:`authenticated`. A
missing, malformed, unknown, revoked or expired token is one 401 (the message does not say which
of them a stranger guessed); a token without the scope a route needs is a 403; tenancy (what an
agency may see) is the ``Actor``'s, in the application layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from accord.service.actors import Actor, Forbidden

from . import tokens
from .logs import note_token

bearer = HTTPBearer(auto_error=False, scheme_name="token", bearerFormat="acc_<id>_<secret>",
                    description="An API token from `accord tokens issue` (shown once).")


@dataclass(frozen=True)
class Principal:
    token_id: str
    actor: Actor


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise tokens.TokenRejected("no bearer token")
    state = request.app.state
    info = tokens.authenticate(state.store.engine, credentials.credentials, lookup=state.token_lookup)
    note_token(info.token_id)
    request.app.state.rate_limiter.hit(info.token_id)
    return Principal(info.token_id, Actor(f"token:{info.token_id}", info.agency_id, info.scopes))


def require_scope(principal: Principal, scopes: tuple[str, ...]) -> Actor:
    """The actor, if its token holds one of ``scopes`` (``admin`` holds them all), else 403."""
    principal.actor.require(*scopes)
    return principal.actor


__all__ = ["Forbidden", "Principal", "authenticate", "bearer", "require_scope"]
