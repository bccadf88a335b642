"""Write decisions to the ledger: record.requested, then access.decided and its notice.due events.

A request, its decision and the notices it owes go in ONE transaction: the decision and notices
point at the request's event with ``caused_by`` (a :class:`~accord.ledger.BatchRef` when the request
is appended in the same call), so a crash leaves either all of them or none, never a request without
its decision. A request already in the ledger (recorded by an earlier call) is reused, not repeated.
Allowed and denied requests take exactly the same path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from accord.access.model import AccessDecision, AccessRequest
from accord.access.owed import notices_for
from accord.domain import Notice
from accord.domain.events import EventKind
from accord.errors import InputError
from accord.ledger import BatchRef, Ledger, NewEvent, Prepared, prepare
from accord.ledger.canonical import canonical_payload
from accord.ledger.streams import STREAM_PATTERN
from accord.ledger.writer import gc_paused

import orjson

from .store import Store, UnitOfWork


@dataclass(frozen=True)
class Recorded:
    requested_seq: int
    decided_seq: int
    notice_seqs: tuple[int, ...]


def record_stream(request_id: str) -> str:
    return f"record/{request_id}"


_REQUESTED, _DECIDED, _DUE = (EventKind.RECORD_REQUESTED.value, EventKind.ACCESS_DECIDED.value,
                              EventKind.NOTICE_DUE.value)


def find_requested(reader: Any, request_id: str) -> int | None:
    """The seq of this request's record.requested event, if it is already in the ledger (or this transaction)."""
    for ev in reader.events(kind=EventKind.RECORD_REQUESTED.value, stream=record_stream(request_id), limit=1):
        return ev.seq
    return None


def record_decision(store: Store | Ledger, areq: AccessRequest, decision: AccessDecision,
                    requested_seq: int | None = None) -> Recorded:
    """Append one decided request (reusing its record.requested event when given or found)."""
    return record_decisions(store, [(areq, decision)], [requested_seq])[0]


def record_decisions(store: Store | Ledger, pairs: Sequence[tuple[AccessRequest, AccessDecision]],
                     requested_seqs: Iterable[int | None] | None = None) -> list[Recorded]:
    """Append many decided requests in one transaction: all of them, or (on any failure) none.

    ``requested_seqs`` gives, per pair, the seq of its record.requested event; ``None`` there
    looks it up (and appends it if absent). Without ``requested_seqs`` every request is new.
    """
    with Store.of(store).transaction() as uow:
        return record_decisions_in(uow, pairs, requested_seqs)


def record_decisions_in(uow: UnitOfWork, pairs: Sequence[tuple[AccessRequest, AccessDecision]],
                        requested_seqs: Iterable[int | None] | None = None) -> list[Recorded]:
    """:func:`record_decisions` inside a unit of work that is already open."""
    seqs = list(requested_seqs) if requested_seqs is not None else [None] * len(pairs)
    if len(seqs) != len(pairs):
        raise ValueError("requested_seqs must give one entry per pair")
    if requested_seqs is not None:
        for i, (areq, _) in enumerate(pairs):
            if seqs[i] is None:
                seqs[i] = find_requested(uow.tx, areq.request.request_id)
    if not pairs:
        return []
    with collector_paused():
        fast = prepare_decisions(pairs) if all(seq is None for seq in seqs) else None  # all new: one pass
        if fast is not None:
            prepared, spots = fast
            stored = uow.append_prepared(prepared)
        else:
            events, spots = decision_events(pairs, seqs)
            stored = uow.append(events)
        return placed(stored[0].seq, spots)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off while a chunk is recorded: the events, payload dicts, notices and rows
    built here hold no reference cycles, so its generation scans over them are pure overhead.

    The ledger's ``gc_paused`` without its promotion of the young objects on the way out: finding
    out whether it may (``gc.get_freeze_count()``) walks every frozen object (18 ms with 20,000
    requests frozen, as a bulk run's or a forked server's are), more than the scan it saves. The
    ledger's own pauses inside this one see the collector off and leave it alone.
    """
    with gc_paused(promote_young=False):
        yield


def decision_events(pairs: Sequence[tuple[AccessRequest, AccessDecision]],
                    seqs: Sequence[int | None] | None = None) -> tuple[list[NewEvent], list[tuple[int, int, int]]]:
    """The events that record ``pairs`` (pure: no ledger needed, so a worker process can build them).

    Per pair: its record.requested event unless ``seqs`` gives the seq of one already stored, then
    access.decided and one notice.due per notice owed, each ``caused_by`` the request. Also returns,
    per pair, where its events land: (request seq, or ``-1 - position`` when appended here;
    position of access.decided; number of notices).
    """
    events: list[NewEvent] = []
    add = events.append
    spots: list[tuple[int, int, int]] = []
    for i, (areq, decision) in enumerate(pairs):
        seq = None if seqs is None else seqs[i]
        if seq is None:
            pos = len(events)
            add(NewEvent(_REQUESTED, areq.request, record_stream(areq.request.request_id)))
            cause: int | BatchRef = BatchRef(pos)
            seq = -1 - pos
        else:
            cause = seq
        decided = len(events)
        add(NewEvent(_DECIDED, decision.ledger_payload(), record_stream(decision.request_id), cause))
        notices = notices_for(decision)
        for n in notices:
            add(NewEvent(_DUE, n, None, cause))
        spots.append((seq, decided, len(notices)))
    return events, spots


def prepare_decisions(pairs: Sequence[tuple[AccessRequest, AccessDecision]]
                      ) -> tuple[list[Prepared], list[tuple[int, int, int]]] | None:
    """``prepare(decision_events(pairs))``, events and spots, in one pass: each event's
    ``(kind, stream, caused_by, canonical payload)`` built straight from its request and decision.

    The general path makes a ``NewEvent`` per event, then ``prepare`` looks up its kind, the type of its
    payload and the rule for its stream, and checks its cause, which here are known: a request's
    record.requested, its access.decided and notice.due events caused by it (a ``BatchRef``, kept as
    ``-(position + 1)``). The payloads' text is the ledger's own ``canonical_payload`` (the decision's:
    :func:`_decided_text`). Anything this path does not expect (a stream the ledger would refuse, a
    payload it cannot write) gives None: the caller takes the general path, which raises the error it
    always raised. A test compares both on generated decisions.
    """
    out: list[Prepared] = []
    add = out.append
    spots: list[tuple[int, int, int]] = []
    valid = STREAM_PATTERN.fullmatch
    try:
        for areq, decision in pairs:
            req = areq.request
            pos = len(out)
            cause = -(pos + 1)
            stream = f"record/{req.request_id}"
            # one object for both streams when they are equal (as they are): pickled once to the writer
            decided_stream = stream if decision.request_id == req.request_id else f"record/{decision.request_id}"
            if valid(stream) is None or valid(decided_stream) is None:
                raise _Unexpected
            add((_REQUESTED, stream, None, canonical_payload(req)))
            text = _plain_decision_text(decision)
            if text is None:
                payload = decision.ledger_payload()
                text = _decided_text(payload) or canonical_payload(payload)
            add((_DECIDED, decided_stream, cause, text))
            notices = notices_for(decision)
            for n in notices:
                if type(n) is not Notice:
                    raise _Unexpected
                nid = n.notice_id
                notice_stream = f"notice/{nid}"
                if type(nid) is not str or not nid or valid(notice_stream) is None:
                    raise _Unexpected
                add((_DUE, notice_stream, cause, canonical_payload(n)))
            spots.append((-1 - pos, pos + 1, len(notices)))
    except (_Unexpected, InputError):
        return None
    return out, spots


class _Unexpected(Exception):
    """A decision :func:`prepare_decisions` leaves to the general path."""


def prepare_decision_events(events: Sequence[NewEvent], source: str = "request") -> list[Prepared]:
    """``prepare(events)`` for :func:`decision_events`' events, each access.decided payload's canonical
    text written by ``orjson`` with sorted keys directly (what a bulk worker sends the writer).

    That payload is built by :meth:`AccessDecision.ledger_payload` from fixed ASCII keys and text,
    booleans, nulls and small integers (days), for which sorted ``orjson`` output *is* RFC 8785; the
    ledger's general path would walk the nested value to find that out (a fifth of preparing a
    decision). Anything else — an integer beyond 2**53, text orjson refuses — goes the general way.
    A test compares both on generated decisions.
    """
    texts: dict[int, str] = {}
    stubs: list[NewEvent] = []
    for i, ev in enumerate(events):
        if ev.kind == _DECIDED and type(ev.payload) is dict:
            text = _decided_text(ev.payload)
            if text is not None:
                texts[i] = text
                ev = NewEvent(ev.kind, {}, ev.stream, ev.caused_by)  # checked and numbered as it is, text below
        stubs.append(ev)
    out = prepare(stubs, source=source)
    for i, text in texts.items():
        kind, stream, cause, _ = out[i]
        out[i] = (kind, stream, cause, text)
    return out


_DECIDED_KEYS = frozenset(("request_id", "requester_agency_id", "custodian_agency_id", "record_kind", "action",
                           "outcome", "pack", "pack_version", "as_of", "law_in_force_from", "law_in_force_to",
                           "deciding", "obligations", "errors"))
_MAX_INT = 2**53 - 1


def _decided_text(payload: dict[str, Any]) -> str | None:
    """Canonical text of an access.decided payload as ``ledger_payload`` builds it, or None (not that shape)."""
    if payload.keys() != _DECIDED_KEYS:
        return None
    for o in payload["obligations"]:
        if type(o) is not dict or type(o.get("days")) is not int or not -_MAX_INT <= o["days"] <= _MAX_INT:
            return None
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, ValueError):  # e.g. a lone surrogate in an error message: the general path decides
        return None


#: The access.decided payload's canonical text, keys in order; ``%s`` are values' JSON text.
_DECIDED_TEXT = ('{"action":%s,"as_of":"%s","custodian_agency_id":%s,"deciding":%s,"errors":[],'
                 '"law_in_force_from":%s,"law_in_force_to":%s,"obligations":[],"outcome":%s,"pack":%s,'
                 '"pack_version":%s,"record_kind":%s,"request_id":%s,"requester_agency_id":%s}')
#: Per decided law (id of the ``deciding`` tuple, dates in force, outcome, pack): the JSON text of those
#: values, with the tuple itself (its id stands for it only while it is alive, and it is kept here).
_VERDICT_TEXTS: dict[tuple, tuple[Any, tuple[str, ...]]] = {}


def _plain_decision_text(d: AccessDecision) -> str | None:
    """The canonical text of ``d.ledger_payload()`` (what :func:`_decided_text` writes) for a decision
    without obligations or errors — most of them — written from its fields without building the
    payload. The values that depend only on the law that decided (the deciding policies, the dates
    in force, the outcome, the pack) are serialised once per distinct law and kept: the gateway shares
    one ``deciding`` tuple between the decisions of one verdict. None for any other decision (or text
    orjson refuses): the caller takes the general path. A test compares both."""
    if d.obligations or d.errors:
        return None
    deciding = d.deciding
    key = (id(deciding), d.law_in_force_from, d.law_in_force_to, d.outcome, d.pack, d.pack_version)
    dumps = orjson.dumps
    try:
        kept = _VERDICT_TEXTS.get(key)
        if kept is None or kept[0] is not deciding:
            if len(_VERDICT_TEXTS) >= 4096:
                _VERDICT_TEXTS.clear()
            start, end = d.law_in_force_from, d.law_in_force_to
            kept = _VERDICT_TEXTS[key] = (deciding, (
                dumps([{"id": p.id, "effect": p.effect, "citation": p.citation} for p in deciding],
                      option=orjson.OPT_SORT_KEYS).decode(),
                "null" if start is None else f'"{start.isoformat()}"', "null" if end is None else f'"{end.isoformat()}"',
                dumps(d.outcome).decode(), dumps(d.pack).decode(), dumps(d.pack_version).decode()))
        deciding_text, start_text, end_text, outcome, pack, version = kept[1]
        return _DECIDED_TEXT % (dumps(d.action).decode(), d.as_of.isoformat(), dumps(d.custodian_agency_id).decode(),
                                deciding_text, start_text, end_text, outcome, pack, version,
                                dumps(d.record_kind).decode(), dumps(d.request_id).decode(),
                                dumps(d.requester_agency_id).decode())
    except (TypeError, ValueError):  # e.g. a lone surrogate: the general path decides
        return None


def placed(first: int, spots: Sequence[tuple[int, int, int]]) -> list[Recorded]:
    """Where each pair's events landed, given the seq of the call's first event."""
    return [Recorded(seq if seq > 0 else first - 1 - seq, first + d,
                     tuple(range(first + d + 1, first + d + 1 + k))) for seq, d, k in spots]

