"""What the clocks record: a hold's warning and its limit, a notice gone overdue, a delivery given up.

Each is written by the scheduler or the dispatcher (``accord.clocks``) when a deadline the law set
comes, so the ledger shows not only when something was due but when the system acted on it
(``fired_at``; its lateness is ``fired_at - due``). They carry pseudonymous ids only.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from .base import DomainModel, Identifier


class HoldWarning(DomainModel):
    """A hold is about to reach its limit: officers are told ``lead_seconds`` before ``hold_until``."""

    request_id: Identifier
    decision_seq: int = Field(ge=1, description="The decision.made whose hold this is")
    hold_until: AwareDatetime
    warn_at: AwareDatetime
    lead_seconds: int = Field(ge=0)
    fired_at: AwareDatetime


class HoldLimitReached(DomainModel):
    """The hold the decision allowed has run out: the detainer no longer justifies keeping the person."""

    request_id: Identifier
    decision_seq: int = Field(ge=1)
    hold_until: AwareDatetime
    citation: str | None = Field(default=None, max_length=300, description="The clause that allowed the hold")
    fired_at: AwareDatetime


class NoticeOverdue(DomainModel):
    """A notice the law requires was not recorded as sent by its due time."""

    notice_id: Identifier
    about_request_id: Identifier
    kind: str = Field(max_length=64)
    due_by: AwareDatetime
    citation: str = Field(max_length=300)
    fired_at: AwareDatetime


class DeliveryFailed(DomainModel):
    """A message to an agency was retried for the whole retry window (or refused) and given up."""

    message_id: str = Field(max_length=64)
    type: str = Field(max_length=80)
    agency_id: Identifier
    endpoint_id: str = Field(max_length=64)
    attempts: int = Field(ge=0)
    reason: str = Field(max_length=300)
    first_attempt_at: AwareDatetime | None = None
    failed_at: AwareDatetime
