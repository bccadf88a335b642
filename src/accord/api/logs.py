"""Structured JSON logs: one line per request with its id, the token's id and the event seqs, nothing else.

A line holds only the fields named in :data:`FIELDS` (what a log formatter is given beyond them is
dropped), so a person's name, a date of birth or a token cannot reach a log line by accident: the
token is named by its public id, an object by the route's template (``/v1/detainers/{request_id}``),
never by the values sent. :class:`RequestContext` gives each request an id (a client's own
``X-Request-Id`` when it is a plain token, else a new one), writes the line when the response is
done, and turns a crash into a 500 problem.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Any

FIELDS = ("request_id", "token_id", "seqs", "method", "route", "status", "duration_ms", "error")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("accord_request_id", default=None)
#: What this request's log line will say beyond method, route and status (token id, seqs).
_holder: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("accord_log_holder", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("accord.api.access")


class _RequestIds:
    """Request ids: 16 random hex digits drawn once per process, then a counter (32 hex digits, like a uuid4's).

    A uuid4 per request read the kernel's random source each time, and on a busy server that syscall
    let the writer thread take the interpreter from the event loop for a while: a counter costs nothing.
    The ids name a request in the logs (they are not secrets); the random part keeps processes and
    restarts apart, and a forked child draws its own.
    """

    def __init__(self) -> None:
        self._draw()
        os.register_at_fork(after_in_child=self._draw)

    def _draw(self) -> None:
        self._prefix = uuid.uuid4().hex[:16]
        self._count = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._count):016x}"


new_request_id = _RequestIds()


def current_request_id() -> str | None:
    return _request_id.get()


def note_token(token_id: str) -> None:
    holder = _holder.get()
    if holder is not None:
        holder["token_id"] = token_id


def note_seqs(seqs: list[int]) -> None:
    holder = _holder.get()
    if holder is not None:
        holder["seqs"] = list(seqs)


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", <FIELDS present>}``, one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                                "level": record.levelname.lower(), "logger": record.name, "msg": record.msg
                                if isinstance(record.msg, str) else "log"}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if "request_id" not in line and _request_id.get():
            line["request_id"] = _request_id.get()
        return json.dumps(line, separators=(",", ":"))


JsonFormatter.converter = time.gmtime  # type: ignore[assignment]


def configure(level: str = "info", stream: Any = None) -> None:
    """Send ``accord.*`` and the server's own logs as JSON lines to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("accord", "uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level.upper())
        lg.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # it logs full paths and client addresses: ours replaces it


class RequestContext:
    """ASGI middleware: request id, one log line per request, and a 500 problem instead of a crash."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = given if given and _SAFE_ID.match(given) else new_request_id()
        rid_token = _request_id.set(rid)
        holder: dict[str, Any] = {}
        holder_token = _holder.set(holder)
        started = time.perf_counter()
        state = {"status": None}

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        error = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: answer 500, log the type only
            error = type(exc).__name__
            if state["status"] is None and error != "ClientDisconnect":
                from .problems import problem_response

                response = problem_response(500, "internal error; the request id names it in the server's log",
                                            kind="internal")
                await response(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            log.info("request", extra={
                "request_id": rid, "token_id": holder.get("token_id"), "seqs": holder.get("seqs"),
                "method": scope.get("method"), "route": getattr(route, "path", None) or "unmatched",
                "status": state["status"], "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "error": error})
            _holder.reset(holder_token)
            _request_id.reset(rid_token)
