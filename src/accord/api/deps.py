"""What routes declare they need, as ``Annotated`` aliases: the store, the caller with a scope, a JSON body.

``Reading``, ``Submitting`` and ``Officiating`` are the calling :class:`~accord.service.actors.Actor`
once its token is checked and holds a scope the route needs. ``JsonBody[Model]`` parses the body
with ``Model.model_validate_json`` (the domain models are strict: dates and enums are read from
JSON text, never coerced), refusing unknown fields; the OpenAPI document shows ``Model`` as the
request body. ``Posting`` carries what an idempotent POST needs (see :mod:`.idempotency`).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

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


async def get_principal(request: Request,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> Principal:
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
Officiating = Annotated[Actor, Depends(_scoped(OFFICER))]

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


def json_body(model: type[M]) -> Any:
    """A dependency that reads the body as ``model`` from its JSON text."""

    async def parse(request: Request) -> M:
        raw = await request.body()
        try:
            return model.model_validate_json(raw or b"")
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in
                                          exc.errors(include_input=False, include_url=False)]) from None

    parse.__accord_body__ = model  # type: ignore[attr-defined]  # read by app.openapi()
    parse.__name__ = f"body_{model.__name__}"
    return parse


class _JsonBody:
    def __class_getitem__(cls, model: type[M]) -> Any:
        return Annotated[model, Depends(json_body(model))]


JsonBody = _JsonBody


async def _posting(request: Request, principal: Caller, key: IdempotencyKey = None) -> PostContext:
    return post_context(request.app.state.store, request.method, request.url.path, await request.body(),
                        principal.token_id, key)


Posting = Annotated[PostContext, Depends(_posting)]
