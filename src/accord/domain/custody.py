"""Custody: who is held, where, on what, and when they would otherwise be released."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, model_validator

from .base import DomainModel, Identifier, JurisdictionCode, Moment, NO_NUL
from .criminal import Charge, Conviction
from .enums import ReleaseReason


class CustodyRecord(DomainModel):
    booking_id: Identifier
    person_id: Identifier
    jurisdiction: JurisdictionCode
    agency_id: Identifier
    facility: str = Field(pattern=NO_NUL, min_length=1, max_length=200)
    booked_at: Moment
    charges: tuple[Charge, ...] = ()
    convictions: tuple[Conviction, ...] = Field(default=(), description="Criminal history known at booking")
    # The moment the person would otherwise be released (bail posted, sentence served, case
    # dismissed): the 48-hour clock starts here (8 CFR 287.7(d); Miranda-Olivares).
    release_eligible_at: Moment | None = None

    @model_validator(mode="after")
    def _eligible_after_booking(self) -> "CustodyRecord":
        if self.release_eligible_at is not None and self.release_eligible_at < self.booked_at:
            raise ValueError("release_eligible_at must not be before booked_at")
        return self


class Release(DomainModel):
    booking_id: Identifier
    person_id: Identifier
    released_at: Moment
    reason: ReleaseReason
    to_agency_id: Identifier | None = None
    detainer_request_id: Identifier | None = None
    recorded_by: str | None = Field(pattern=NO_NUL, default=None, max_length=200, description="Who recorded it (token or user id)")


class PostReleaseEncounter(DomainModel):
    """An immigration arrest of someone the jurisdiction released (DOMAIN.md §10: '112 in three weeks')."""

    encounter_id: Identifier
    person_id: Identifier
    booking_id: Identifier | None = None
    agency_id: Identifier
    encountered_at: Moment
