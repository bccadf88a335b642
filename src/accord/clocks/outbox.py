"""The outbox: a message is owed in the same transaction as the event that owes it.

The followers (``follow.py``) call :func:`owe` while the event is projected, so a message exists
exactly when its event is committed; the dispatcher (``dispatcher.py``) delivers it afterwards, as
often as it takes. The body is fixed here, once — the exact bytes every retry sends and signs — and
the id is derived from the store and the event, so it is the same after a crash, a retry or a
rebuild: the ``webhook-id`` a receiver de-duplicates on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from accord.ledger import StoredEvent
from accord.ledger.canonical import canonical_payload
from accord.service.driver import fetch, insert_new

from . import batch, schema
from .sql import stamp

#: Per engine: (ledger id, first seq that owes messages). Neither changes for the life of a store
#: (clock_meta is written once, at attach), and a server runs a transaction per request, so they are
#: read once per engine, not once per transaction.
_STORES: weakref.WeakKeyDictionary[Any, tuple[str, int]] = weakref.WeakKeyDictionary()


def message_id(ledger_id: str, event_seq: int, type_: str, agency_id: str, subject: str) -> str:
    """``msg_`` + 26 base32 characters: stable, unique across stores, no ``.`` (the signature's delimiter).

    >>> message_id("L", 7, "detainer.decided", "ice", "det-1")
    'msg_...'
    >>> len(message_id("L", 7, "detainer.decided", "ice", "det-1"))
    30
    """
    digest = hashlib.sha256(f"{ledger_id}\x1f{event_seq}\x1f{type_}\x1f{agency_id}\x1f{subject}".encode()).digest()
    return "msg_" + base64.b32encode(digest).decode().lower()[:26]


def body(type_: str, timestamp: str, data: dict[str, Any]) -> str:
    """The Standard Webhooks payload: ``{"type", "timestamp", "data"}`` as canonical JSON.

    ``canonical_payload`` is ``canonical_json`` byte for byte; it decides by walking the value
    whether the fast path needs the number check, where ``canonical_json`` scans the bytes, and a
    stamp's ``:00.000000`` inside a string sent every body to the slow reference serializer.

    >>> body("t", "2024-11-13T14:00:00.000000Z", {"n": 1})
    '{"data":{"n":1},"timestamp":"2024-11-13T14:00:00.000000Z","type":"t"}'
    """
    return canonical_payload({"type": type_, "timestamp": timestamp, "data": data})


def matches(event_types: str | None, type_: str) -> bool:
    """Whether an endpoint subscribed to ``event_types`` (JSON list, null = all) gets ``type_``.

    >>> matches(None, "alert.hold_warning"), matches('["alert.*"]', "alert.hold_warning"), matches('["detainer.decided"]', "alert.x")
    (True, True, False)
    """
    if event_types is None:
        return True
    for pattern in json.loads(event_types):
        if pattern == type_ or (pattern.endswith(".*") and type_.startswith(pattern[:-1])):
            return True
    return False


def _store(projection: Any) -> tuple[str, int]:
    conn = projection.conn
    got = _STORES.get(conn.engine)
    if got is None:
        ledger_id = conn.execute(sa.text("SELECT ledger_id FROM ledger_head")).scalar() or ""
        since = conn.execute(sa.select(schema.meta.c.outbox_from_seq)).scalar() or 0
        got = _STORES[conn.engine] = (str(ledger_id), int(since))
    return got


def owe(projection: Any, ev: StoredEvent, type_: str, *, to: str | None, owner: str | None, subject: str,
        data: dict[str, Any], channel: str = schema.WEBHOOK, notice_id: str | None = None) -> str | None:
    """Record the message ``ev`` owes to agency ``to`` (and its deliveries); returns its id.

    Nothing is owed for events from before the clocks were installed, nor twice for one event.
    """
    if to is None:
        return None
    ledger_id, since = _store(projection)
    if ev.seq <= since:
        return None
    conn: Connection = projection.conn
    mid = message_id(ledger_id, ev.seq, type_, to, subject)
    created = stamp(ev.recorded_at)
    row = {"message_id": mid, "type": type_, "channel": channel, "agency_id": to, "owner_agency_id": owner,
           "subject": subject, "notice_id": notice_id, "event_seq": ev.seq, "body": body(type_, created, data),
           "state": schema.PENDING, "created_at": created}
    open_batch = batch.current(conn)
    targets = _targets(projection, conn, to, type_) if channel == schema.WEBHOOK else []
    if channel == schema.WEBHOOK and not targets:
        row["state"] = schema.NO_ENDPOINT  # written so at once (it was inserted pending, then updated)
    if open_batch is not None:  # the scheduler firing a batch: the same rows, written with the batch's others
        open_batch.message(row, _deliveries(mid, targets, created))
        return mid
    if insert_new(conn, schema.messages, row) and targets:  # not new (a rebuild): its deliveries are there
        insert_new(conn, schema.deliveries, _deliveries(mid, targets, created))
    return mid


def _targets(projection: Any, conn: Connection, agency_id: str, type_: str) -> list[str]:
    """The endpoints of ``agency_id`` that take ``type_`` (its endpoints read once per transaction)."""
    cache = projection.__dict__.setdefault("_clocks_endpoints", {})
    if agency_id not in cache:
        cache[agency_id] = _endpoints_of(conn, agency_id)
    return [ep for ep, types in cache[agency_id] if matches(types, type_)]


def _deliveries(message_id: str, endpoint_ids: list[str], created: str | None) -> list[dict[str, Any]]:
    return [{"message_id": message_id, "endpoint_id": ep, "state": schema.PENDING, "attempts": 0,
             "next_attempt_at": created} for ep in endpoint_ids]


def _endpoints_of(conn: Connection, agency_id: str) -> list[tuple[str, str | None]]:
    """The agency's active endpoints and the types each takes."""
    return [(endpoint_id, types) for endpoint_id, types in fetch(conn, _ENDPOINTS_OF, {"agency_id": agency_id})]


_e = schema.endpoints
#: Built once (building a statement costs more than running it): every message owed runs it.
_ENDPOINTS_OF = (sa.select(_e.c.endpoint_id, _e.c.event_types)
                 .where(_e.c.agency_id == sa.bindparam("agency_id"), _e.c.state == schema.ACTIVE)
                 .order_by(_e.c.endpoint_id))
