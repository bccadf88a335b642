"""Write decisions to the ledger: record.requested, then access.decided and its notice.due events.

A request is recorded first (it happened, whatever is decided), then the decision and the notices
it owes go in one transaction with ``caused_by`` pointing at the request's event, so a decision is
never half-written. The ledger gives a seq only once an event is appended, which is why these are
two transactions; a request left without a decision (a crash in between) shows up as undecided.
Allowed and denied requests take exactly the same path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Sequence

from accord.domain import Notice
from accord.domain.events import EventKind
from accord.ledger import Ledger, NewEvent

from .model import AccessDecision, AccessRequest


@dataclass(frozen=True)
class Recorded:
    requested_seq: int
    decided_seq: int
    notice_seqs: tuple[int, ...]


def record_stream(request_id: str) -> str:
    return f"record/{request_id}"


def notice_id(request_id: str, kind: str) -> str:
    """A stable id for the notice a request owes (at most 128 characters).

    >>> notice_id("R-1", "subject_record_request")
    'R-1.subject_record_request'
    """
    nid = f"{request_id}.{kind}"
    if len(nid) <= 128:
        return nid
    return f"{request_id[:80]}.{hashlib.sha256(nid.encode()).hexdigest()[:16]}.{kind}"[:128]


def notices_for(decision: AccessDecision) -> list[Notice]:
    return [
        Notice(notice_id=notice_id(decision.request_id, o.kind.value), kind=o.kind, recipient=o.recipient,
               person_id=o.person_id, about_request_id=decision.request_id, due_by=o.due_by,
               citation=o.citation, business_days=o.business_days)
        for o in decision.notices()
    ]


def _decision_events(decision: AccessDecision, requested_seq: int) -> list[NewEvent]:
    out = [NewEvent(EventKind.ACCESS_DECIDED.value, decision.ledger_payload(), record_stream(decision.request_id),
                    requested_seq)]
    out += [NewEvent(EventKind.NOTICE_DUE.value, n, None, requested_seq) for n in notices_for(decision)]
    return out


def find_requested(ledger: Ledger, request_id: str) -> int | None:
    """The seq of this request's record.requested event, if it is already in the ledger."""
    for ev in ledger.events(kind=EventKind.RECORD_REQUESTED.value, stream=record_stream(request_id), limit=1):
        return ev.seq
    return None


def record_decision(ledger: Ledger, areq: AccessRequest, decision: AccessDecision,
                    requested_seq: int | None = None) -> Recorded:
    """Append one decided request (reusing its record.requested event when given or found)."""
    return record_decisions(ledger, [(areq, decision)], [requested_seq])[0]


def record_decisions(ledger: Ledger, pairs: Sequence[tuple[AccessRequest, AccessDecision]],
                     requested_seqs: Iterable[int | None] | None = None) -> list[Recorded]:
    """Append many decided requests with two commits in all (the batched path)."""
    seqs = list(requested_seqs) if requested_seqs is not None else [None] * len(pairs)
    for i, (areq, _) in enumerate(pairs):
        if seqs[i] is None and requested_seqs is not None:
            seqs[i] = find_requested(ledger, areq.request.request_id)
    missing = [i for i, s in enumerate(seqs) if s is None]
    if missing:
        stored = ledger.append_many(
            NewEvent(EventKind.RECORD_REQUESTED.value, pairs[i][0].request, record_stream(pairs[i][0].request.request_id))
            for i in missing)
        for i, ev in zip(missing, stored):
            seqs[i] = ev.seq
    events: list[NewEvent] = []
    sizes: list[int] = []
    for (_, decision), seq in zip(pairs, seqs):
        evs = _decision_events(decision, seq)  # type: ignore[arg-type]
        events.extend(evs)
        sizes.append(len(evs))
    stored = ledger.append_many(events)
    out, k = [], 0
    for seq, n in zip(seqs, sizes):
        out.append(Recorded(seq, stored[k].seq, tuple(e.seq for e in stored[k + 1:k + n])))  # type: ignore[arg-type]
        k += n
    return out
