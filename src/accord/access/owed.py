"""The notices a record-access decision owes, as domain ``Notice``s with stable ids (pure: no ledger)."""

from __future__ import annotations

import hashlib

from accord.domain import Notice

from .model import AccessDecision


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
