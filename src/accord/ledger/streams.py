"""Which stream an event belongs to when the caller does not say (contracts.md: Streams)."""

from __future__ import annotations

import re
from typing import Any

from accord.domain.events import EventKind
from accord.errors import InputError

#: every event kind Accord defines, by its text (an ``EventKind`` member finds its text here too)
KNOWN_KINDS: dict[str, str] = {str(k): str(k) for k in EventKind}

STREAM_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-/]{0,255}")
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")

#: kind -> (stream prefix, payload field holding the id)
STREAM_OF_KIND: dict[str, tuple[str, str]] = {
    "agency.registered": ("agency", "agency_id"),
    "agency.configured": ("agency", "agency_id"),
    "person.registered": ("person", "person_id"),
    "custody.booked": ("booking", "booking_id"),
    "custody.released": ("booking", "booking_id"),
    "detainer.received": ("detainer", "request_id"),
    "detainer.lifted": ("detainer", "request_id"),
    "encounter.post_release": ("encounter", "encounter_id"),
    "record.requested": ("record", "request_id"),
    "notice.due": ("notice", "notice_id"),
    "notice.sent": ("notice", "notice_id"),
}

#: Kinds that must be the first event of their stream (so a stream holds one of them at most: one record
#: per request id). The store enforces it (migration 0002); ``Ledger.append``'s callers see a ConflictError.
OPENING_KINDS: frozenset[str] = frozenset({"record.requested"})


def default_stream(kind: str, payload: Any) -> str:
    """``booking/<booking_id>`` for custody events, ``detainer/<request_id>`` for detainers, and so on."""
    try:
        prefix, key = STREAM_OF_KIND[kind]
    except KeyError:
        raise InputError(f"events of kind '{kind}' need an explicit stream", field="stream") from None
    value = payload.get(key) if isinstance(payload, dict) else getattr(payload, key, None)
    if not isinstance(value, str) or not value:
        raise InputError(f"cannot derive the stream: payload has no '{key}'", field=key)
    return f"{prefix}/{value}"


def check_stream(stream: str) -> str:
    if not isinstance(stream, str) or STREAM_PATTERN.fullmatch(stream) is None:
        raise InputError("stream must be 1-256 characters of letters, digits and . _ : - /", field="stream")
    return stream


def check_kind(kind: str) -> str:
    kind = str(kind)
    if len(kind) > 64 or KIND_PATTERN.fullmatch(kind) is None:
        raise InputError(f"'{kind[:70]}' is not an event kind (lowercase dotted words)", field="kind")
    return kind
