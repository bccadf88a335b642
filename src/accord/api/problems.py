"""Every error as RFC 9457 problem JSON (``application/problem+json``), naming each field and problem.

One shape for all of them — validation, a missing token, a conflict with the law, an unknown
route, a body too large, a crash — so a client parses errors one way. ``errors`` lists each
field with its problem; messages never carry the values sent (they may be personal data).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.errors import AccordError, ConflictError, InputError, NotFoundError
from accord.service.actors import Forbidden

from .logs import current_request_id
from .tokens import TokenRejected

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("accord.api")


class FieldProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="Dotted path of the field (e.g. custody.booked_at), or the header or parameter name")
    location: str = Field(description="body | query | path | header")
    problem: str


class Problem(BaseModel):
    """RFC 9457 problem details, with ``errors`` naming each field and ``request_id`` for support."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field("about:blank", description="A URI naming the kind of problem")
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] = Field(default_factory=list)
    request_id: str | None = None


class ProblemError(Exception):
    """An HTTP-level refusal (size limits, idempotency, rate limit) raised outside the application layer."""

    def __init__(self, status: int, detail: str, *, kind: str | None = None, field: str | None = None,
                 location: str = "body", headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.kind, self.headers = status, detail, kind, headers or {}
        self.errors = [FieldProblem(field=field, location=location, problem=detail)] if field else []


def problem_type(kind: str | None) -> str:
    return f"urn:accord:problem:{kind}" if kind else "about:blank"


def problem_response(status: int, detail: str, *, kind: str | None = None, errors: list[FieldProblem] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    body = Problem(type=problem_type(kind), title=HTTPStatus(status).phrase, status=status, detail=detail,
                   errors=errors or [], request_id=current_request_id())
    return Response(body.model_dump_json(), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field_of(exc: Any, request: Request | None = None) -> list[FieldProblem]:
    field = getattr(exc, "field", None)
    location = "body"
    if request is not None and field in request.path_params:
        location = "path"
    elif request is not None and field in request.query_params:
        location = "query"
    message = str(exc).split(": ", 1)[1] if field and str(exc).startswith(f"field '{field}': ") else str(exc)
    return [FieldProblem(field=field, location=location, problem=message)] if field else []


def _message(exc: Any) -> str:
    return str(exc)


def validation_problems(errors: list[dict[str, Any]]) -> list[FieldProblem]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        location = loc[0] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else "body"
        rest = loc[1:] if loc and loc[0] == location else loc
        if e.get("type") == "json_invalid":
            problem = f"not valid JSON ({e.get('ctx', {}).get('error', 'parse error')})"
            out.append(FieldProblem(field="body", location="body", problem=problem))
            continue
        field = ".".join(p for p in rest if p) or location
        out.append(FieldProblem(field=field, location=location, problem=e.get("msg", "invalid")))
    return out


async def _on_validation(_: Request, exc: RequestValidationError) -> Response:
    errors = validation_problems(list(exc.errors()))
    malformed = any(e.field == "body" and e.problem.startswith("not valid JSON") for e in errors)
    status = 400 if malformed else 422
    detail = "the body is not valid JSON" if malformed else \
        "; ".join(f"{e.field}: {e.problem}" for e in errors[:5]) or "the request does not conform"
    return problem_response(status, detail, kind="malformed-json" if malformed else "validation", errors=errors)


async def _on_model(_: Request, exc: ValidationError) -> Response:
    errors = validation_problems([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)])
    return problem_response(422, "; ".join(f"{e.field}: {e.problem}" for e in errors[:5]), kind="validation", errors=errors)


async def _on_input(request: Request, exc: InputError) -> Response:
    return problem_response(422, _message(exc), kind="validation", errors=_field_of(exc, request))


async def _on_not_found(request: Request, exc: NotFoundError) -> Response:
    return problem_response(404, _message(exc), kind="not-found", errors=_field_of(exc, request))


async def _on_conflict(request: Request, exc: ConflictError) -> Response:
    return problem_response(409, _message(exc), kind="conflict", errors=_field_of(exc, request))


async def _on_forbidden(_: Request, exc: Forbidden) -> Response:
    return problem_response(403, str(exc), kind="missing-scope")


async def _on_token(_: Request, exc: TokenRejected) -> Response:
    return problem_response(401, f"a valid API token is required ({exc})", kind="unauthenticated",
                            headers={"WWW-Authenticate": 'Bearer realm="accord"'})


async def _on_problem(_: Request, exc: ProblemError) -> Response:
    return problem_response(exc.status, exc.detail, kind=exc.kind, errors=exc.errors, headers=exc.headers)


async def _on_accord(request: Request, exc: AccordError) -> Response:
    return problem_response(422, _message(exc), kind="validation", errors=_field_of(exc, request))


async def _on_http(_: Request, exc: StarletteHTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = "no such resource"
    return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def _on_crash(_: Request, exc: Exception) -> Response:
    log.error("unhandled error", extra={"error": type(exc).__name__})
    return problem_response(500, "internal error; the request id names it in the server's log", kind="internal")


def install(app: FastAPI) -> None:
    """Route every kind of failure to its problem response."""
    from accord.ledger.store import StoreUnavailable

    async def _on_unavailable(_: Request, exc: StoreUnavailable) -> Response:
        return problem_response(503, "the store is unavailable; try again later", kind="unavailable",
                                headers={"Retry-After": "5"})

    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ValidationError, _on_model)
    app.add_exception_handler(InputError, _on_input)
    app.add_exception_handler(NotFoundError, _on_not_found)
    app.add_exception_handler(ConflictError, _on_conflict)
    app.add_exception_handler(Forbidden, _on_forbidden)
    app.add_exception_handler(TokenRejected, _on_token)
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StoreUnavailable, _on_unavailable)
    app.add_exception_handler(AccordError, _on_accord)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_crash)

