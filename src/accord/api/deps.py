"""What routes declare they need, as ``Annotated`` aliases: the store, the caller with a scope, a POST's body and key.

``Reading`` and ``Submitting`` are the calling :class:`~accord.service.actors.Actor` once its
token is checked and holds a scope the route needs. ``SubmitPost[Model]`` and ``OfficerPost[Model]``
are all an idempotent POST needs in one :class:`Posted`: the actor, the body parsed with
``Model.model_validate_json`` (the domain models are strict: dates and enums are read from JSON
text, never coerced; unknown fields are refused) and its :class:`~.idempotency.PostContext`; the
OpenAPI document shows ``Model`` as the request body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Path, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError

from accord.domain.base import IDENTIFIER_PATTERN
from accord.service.actors import Actor
from accord.service.store import Store

from .auth import Principal, authenticate, bearer, require_scope
from .idempotency import PostContext, post_context

READ = ("read", "submit", "officer", "auditor")
SUBMIT = ("submit",)
OFFICER = ("submit", "officer")


async def get_store(request: Request) -> Store:  # async: no thread hop for what needs no I/O
    return request.app.state.store


Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def get_principal(request: Request, credentials: Credentials) -> Principal:
    # On a SQLite file the token's row is one statement on a connection the event loop's thread keeps
    # (``tokens.Lookup``, microseconds, never waiting on a writer in WAL mode): no thread hop for it.
    # Elsewhere (PostgreSQL: a round trip) it runs in the thread pool, as a plain ``def`` would.
    if request.app.state.token_lookup.local:
        return authenticate(request, credentials)
    return await run_in_threadpool(authenticate, request, credentials)


StoreDep = Annotated[Store, Depends(get_store)]
Caller = Annotated[Principal, Depends(get_principal)]


def _scoped(scopes: tuple[str, ...]) -> Any:
    async def actor(principal: Caller) -> Actor:  # async: a scope check needs no thread of the pool
        return require_scope(principal, scopes)

    actor.__name__ = f"needs_{'_or_'.join(scopes)}"
    return actor


Reading = Annotated[Actor, Depends(_scoped(READ))]
Submitting = Annotated[Actor, Depends(_scoped(SUBMIT))]

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=300,
    description='A key of the client\'s choosing (an RFC 8941 string, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324"): '
                "a retry with the same key and body returns the first response and records nothing new; "
                "the same key with another body is a 422.")]

#: An id Accord made, in a path (``/v1/webhooks/{endpoint_id}``): letters, digits and ``._:-``, so junk is a 422 naming it.
PathId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]
#: An id an agency chose, in a path (``/v1/detainers/{request_id}``): the domain's identifier shape, "/" included.
#: Its route template says ``{request_id:path}``, so ``det/1`` and ``det%2F1`` (the server decodes it) both reach it.
PathRef = Annotated[str, Path(min_length=1, max_length=128, pattern=IDENTIFIER_PATTERN)]

M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in
                                      exc.errors(include_input=False, include_url=False)]) from None


@dataclass(frozen=True)
class Posted(Generic[M]):
    """What an idempotent POST's route gets: the caller with its scope checked, the parsed body, the key."""

    actor: Actor
    body: M
    post: PostContext


def _posted(scopes: tuple[str, ...], model: type[M]) -> Any:
    """One dependency for all a POST needs, in the order the answers must come: 401 for the token, 403 for
    its scope (before the body is read), 422 for the body. The work of a scoped actor, a JSON body and a
    post context as separate dependencies, but FastAPI resolves one dependency rather than five on the
    path every submission takes (a small gain in ``bench/api_load.py``, within its noise on one worker)."""

    async def posted(request: Request, credentials: Credentials, key: IdempotencyKey = None) -> Posted[M]:
        principal = await get_principal(request, credentials)
        actor = require_scope(principal, scopes)
        raw = await request.body()
        body = _parse(model, raw)
        return Posted(actor, body, post_context(request.app.state.store, request.method, request.url.path, raw,
                                                principal.token_id, key))

    posted.__accord_body__ = model  # type: ignore[attr-defined]  # read by app.openapi()
    posted.__name__ = f"post_{model.__name__}_as_{'_or_'.join(scopes)}"
    return posted


class _PostedAs:
    scopes: tuple[str, ...] = ()

    def __class_getitem__(cls, model: type[M]) -> Any:
        return Annotated[Posted[model], Depends(_posted(cls.scopes, model))]  # type: ignore[valid-type]


class SubmitPost(_PostedAs):
    """``SubmitPost[Model]``: an idempotent POST of ``Model`` by a token with the ``submit`` scope."""

    scopes = SUBMIT


class OfficerPost(_PostedAs):
    """``OfficerPost[Model]``: an idempotent POST of ``Model`` by a token with the ``submit`` or ``officer`` scope."""

    scopes = OFFICER
