"""``Idempotency-Key`` on every POST (IETF httpapi idempotency-key draft), kept per token in the events' transaction.

The first POST with a key runs the use case and stores the response (status and body) under
(token, key) on the unit of work's connection, so the events and the key commit together or not
at all. A retry with the same key and the same request (method, path and body, compared as RFC
8785 canonical JSON) gets that response again (``Idempotent-Replayed: true``) and nothing is
recorded; the same key with another request is a 422 problem. The key is looked up inside the
write transaction, which holds the ledger's lock: two identical POSTs at once queue on the lock
and the second finds the first's key, so they record one set of events. A request that fails
(4xx) commits nothing, key included, so a corrected retry can reuse its key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi.responses import Response
from pydantic import BaseModel

from accord.service.driver import fetch
from accord.service.store import Store, UnitOfWork

from . import schema
from .logs import note_seqs
from .problems import ProblemError

MAX_KEY = 255
_SF_STRING = re.compile(r'^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$')
_BARE = re.compile(r"^[\x21\x23-\x7e]+$")


def parse_key(raw: str) -> str:
    """The key of an ``Idempotency-Key`` header: an RFC 8941 sf-string, or (leniently) a bare token.

    >>> parse_key('"8e03978e-40d5"'), parse_key("8e03978e-40d5")
    ('8e03978e-40d5', '8e03978e-40d5')
    """
    text = raw.strip()
    m = _SF_STRING.match(text)
    key = re.sub(r'\\(["\\])', r"\1", m.group(1)) if m else (text if _BARE.match(text) else None)
    if not key or len(key) > MAX_KEY:
        raise ProblemError(400, f"Idempotency-Key must be a string of 1 to {MAX_KEY} visible ASCII characters, "
                                'e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324"', kind="bad-idempotency-key",
                           field="Idempotency-Key", location="header")
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the request: method, path and the body as canonical JSON (its raw bytes if not JSON)."""
    try:
        import orjson

        from accord.ledger.canonical import canonical_bytes  # RFC 8785, byte for byte as the rfc8785 package

        canonical = canonical_bytes(orjson.loads(body))
    except Exception:  # noqa: BLE001 - not JSON (the use case refuses it anyway): compare the bytes
        canonical = body
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), canonical])).hexdigest()


@dataclass(frozen=True)
class PostContext:
    store: Store
    token_id: str
    key: str | None
    fingerprint: str


def post_context(store: Store, method: str, path: str, body: bytes, token_id: str, key: str | None) -> PostContext:
    return PostContext(store, token_id, None if key is None else parse_key(key), fingerprint(method, path, body))


#: Built once: building a statement costs more than running it; ``fetch`` sends them to the driver as rendered once.
_KEPT = sa.select(schema.idempotency.c.fingerprint, schema.idempotency.c.status, schema.idempotency.c.body).where(
    schema.idempotency.c.token_id == sa.bindparam("token_id"), schema.idempotency.c.key == sa.bindparam("key"))
_KEEP = schema.idempotency.insert()


async def run(ctx: PostContext, action: Callable[[UnitOfWork], BaseModel], status: int = 201,
              kept_as: Callable[[BaseModel], BaseModel] | None = None) -> Response:
    """Run ``action`` in one unit of work, once per (token, key): a replay returns the first response.

    The unit of work is committed with those of the requests that arrive meanwhile (group commit,
    ``accord.service.group``): the response is sent once that transaction is durable, and a unit
    that fails is rolled back alone. The route awaits it on the event loop: the unit runs on the
    group's writer thread, so the request takes no thread of the pool. ``kept_as`` turns the
    response into what is stored for replays, when the first one holds a secret that must be shown
    once only (a webhook's signing secret): a replay returns that version."""

    def work(uow: UnitOfWork) -> tuple[Response | None, str, list[int]]:
        if ctx.key is not None:
            kept = fetch(uow.connection, _KEPT, {"token_id": ctx.token_id, "key": ctx.key})
            if kept:
                fingerprint_, status_, body_ = kept[0]
                if fingerprint_ != ctx.fingerprint:
                    raise ProblemError(422, "this Idempotency-Key was used with another request; use a new key",
                                       kind="idempotency-key-reused", field="Idempotency-Key", location="header")
                return Response(body_, status_code=status_, media_type="application/json",
                                headers={"Idempotent-Replayed": "true"}), "", []
        view = action(uow)
        body = view.model_dump_json()
        if ctx.key is not None:
            from accord.service.projector import stamp

            kept_body = body if kept_as is None else kept_as(view).model_dump_json()
            fetch(uow.connection, _KEEP, {"token_id": ctx.token_id, "key": ctx.key, "fingerprint": ctx.fingerprint,
                                          "status": status, "body": kept_body, "created_at": stamp(uow.now)})
        return None, body, list(range(uow.tx.size_at_start + 1, uow.tx.size + 1))

    replay, body, seqs = await ctx.store.submit_async(work)
    if replay is not None:
        return replay
    note_seqs(seqs)
    return Response(body, status_code=status, media_type="application/json")
