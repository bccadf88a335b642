"""Detainer requests and the warrants that may accompany them (DOMAIN.md §6.2)."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator, model_validator

from .base import DomainModel, Identifier, Day, Moment, NO_NUL
from .enums import (
    Action,
    AdministrativeWarrantForm,
    DetainerForm,
    IssuingComponent,
    JudgeKind,
    PriorityBasis,
    ProbableCauseBasis,
    WarrantBasis,
)
from .forms import form_spec, issue_day


class AdministrativeWarrant(DomainModel):
    """I-200 or I-205: signed by an immigration officer, not a judge (ICE Policy 10074.2, F5)."""

    form: AdministrativeWarrantForm
    signed_by_title: str = Field(pattern=NO_NUL, default="", max_length=200)
    signed_on: Day


class JudicialWarrant(DomainModel):
    """A warrant or probable-cause determination signed by a judge; the judge's kind decides its force."""

    judge_kind: JudgeKind
    court: str = Field(pattern=NO_NUL, min_length=1, max_length=200)
    judge_name: str | None = Field(pattern=NO_NUL, default=None, max_length=200)
    basis: WarrantBasis
    issued_on: Day
    probable_cause_determination_only: bool = False  # CA §7284.4(i): a finding, not a warrant


class DetainerRequest(DomainModel):
    request_id: Identifier
    person_id: Identifier
    booking_id: Identifier
    form: DetainerForm
    issuing_agency_id: Identifier
    issuing_component: IssuingComponent = IssuingComponent.ICE
    issuing_office: str = Field(pattern=NO_NUL, min_length=1, max_length=200, description="e.g. 'New York Field Office (AOR NYC)'")
    issued_at: Moment
    received_at: Moment
    # I-247A boxes (F3): box 1 = notify before release and hold up to 48 h; box 2 = notify to resume custody.
    box1_hold_and_notify: bool = False
    box2_notify_to_resume_custody: bool = False
    probable_cause_bases: frozenset[ProbableCauseBasis] = frozenset()
    priority_bases: frozenset[PriorityBasis] = frozenset()
    administrative_warrant: AdministrativeWarrant | None = None
    judicial_warrant: JudicialWarrant | None = None
    served_on_subject: bool = False
    served_at: Moment | None = None
    # CA Gov. Code §7282.5(a)(5): ICE identifies the person as subject of an outstanding federal
    # felony arrest warrant. None = not stated.
    outstanding_federal_felony_warrant: bool | None = None

    @field_validator("received_at")
    @classmethod
    def _not_before_issue(cls, v: AwareDatetime, info: ValidationInfo) -> AwareDatetime:
        issued = info.data.get("issued_at")
        if issued is not None and v < issued:
            raise ValueError(f"the detainer cannot be received ({v.isoformat()}) before it was issued (issued_at {issued.isoformat()}); "
                             "check both dates")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "DetainerRequest":
        if self.form is DetainerForm.I_247A and not (self.box1_hold_and_notify or self.box2_notify_to_resume_custody):
            raise ValueError("an I-247A must check box 1 or box 2")
        if self.form is not DetainerForm.I_247A and (self.box1_hold_and_notify or self.box2_notify_to_resume_custody):
            raise ValueError(f"boxes 1 and 2 belong to the I-247A, not the {self.form.value}")
        if self.served_at is not None and not self.served_on_subject:
            raise ValueError("served_at given but served_on_subject is false")
        return self

    @property
    def issued_on(self) -> date:
        """The day the detainer was issued (Eastern time, :data:`accord.domain.forms.ISSUE_DAY_ZONE`)."""
        return issue_day(self.issued_at)

    @property
    def form_in_use_on_issue(self) -> bool:
        """Was the form still being issued on that day (catalogue :mod:`accord.domain.forms`, DOMAIN.md §6.2)?"""
        return form_spec(self.form).in_use(self.issued_on)

    @property
    def requested_actions(self) -> frozenset[Action]:
        """What the form asks the custodian to do; each is decided separately."""
        hold = {Action.HOLD_PAST_RELEASE, Action.NOTIFY_RELEASE, Action.TRANSFER_AT_RELEASE}
        match self.form:
            case DetainerForm.I_247A:
                acts: set[Action] = set()
                if self.box1_hold_and_notify:
                    acts |= hold
                if self.box2_notify_to_resume_custody:
                    acts |= {Action.NOTIFY_RELEASE, Action.TRANSFER_AT_RELEASE}
                return frozenset(acts)
            case DetainerForm.I_247 | DetainerForm.I_247D:
                return frozenset(hold)
            case DetainerForm.I_247N:
                return frozenset({Action.NOTIFY_RELEASE})
            case DetainerForm.I_247X:
                return frozenset({Action.TRANSFER_AT_RELEASE})
        raise AssertionError(self.form)  # pragma: no cover


class DetainerLifted(DomainModel):
    """The issuing agency lifted (no longer needed) or cancelled (issued in error) a detainer."""

    request_id: Identifier
    lifted_at: Moment
    reason: str = Field(pattern=NO_NUL, default="", max_length=200)
    cancelled: bool = False
    recorded_by: str | None = Field(pattern=NO_NUL, default=None, max_length=200, description="Who recorded it (token or user id)")
