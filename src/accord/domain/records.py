"""Requests to read protected records (DMV, custody) and the notices the law owes."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from .base import DomainModel, Identifier, Moment, NO_NUL
from .enums import JudgeKind, LegalProcessKind, NoticeKind, Recipient, RecordAction, RecordKind, RequestPurpose


class LegalProcess(DomainModel):
    kind: LegalProcessKind
    judge_kind: JudgeKind = JudgeKind.NONE
    court: str | None = Field(pattern=NO_NUL, default=None, max_length=200)
    issued_on: Moment | None = None
    specific_records_only: bool = True


class RecordRequest(DomainModel):
    request_id: Identifier
    requester_agency_id: Identifier
    custodian_agency_id: Identifier
    record_kind: RecordKind
    action: RecordAction = RecordAction.READ
    subject_person_id: Identifier | None = Field(default=None, description="None for a bulk read")
    purpose: RequestPurpose
    legal_process: LegalProcess | None = None
    requested_at: Moment
    requester_reference: str | None = Field(pattern=NO_NUL, default=None, max_length=200, description="Officer badge or case number")


class Notice(DomainModel):
    """A notice the law requires: who is owed what, by when, and under which clause."""

    notice_id: Identifier
    kind: NoticeKind
    recipient: Recipient
    person_id: Identifier | None = None
    about_request_id: Identifier
    due_by: Moment
    citation: str = Field(pattern=NO_NUL, min_length=1, max_length=300)
    business_days: bool = False


class NoticeSent(DomainModel):
    notice_id: Identifier
    sent_at: Moment
    channel: str = Field(pattern=NO_NUL, default="mail", max_length=50)
    recorded_by: str | None = Field(pattern=NO_NUL, default=None, max_length=200, description="Who recorded it (token or user id)")
