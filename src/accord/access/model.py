"""The gateway's input and output shapes.

Input (``accord access check REQUEST.json``) is an :class:`AccessRequest`::

    {"request": {...RecordRequest...}, "requester": {...Agency...},
     "notice_would_impede_investigation": false}

``requester.agency_id`` must equal ``request.requester_agency_id``. The last field is the
custodian's own finding (940 CMR 37.04 lets it skip the notice when telling the person would
impede a criminal investigation); it defaults to false.

Output is an :class:`AccessDecision`: the ``access.decided`` event's payload.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from accord.domain import Agency, RecordRequest
from accord.domain.base import DomainModel
from accord.domain.enums import NoticeKind, Recipient


class AccessRequest(DomainModel):
    """A record request together with the agency that makes it."""

    request: RecordRequest
    requester: Agency
    notice_would_impede_investigation: bool = False

    @model_validator(mode="after")
    def _requester_matches(self) -> "AccessRequest":
        if self.requester.agency_id != self.request.requester_agency_id:
            raise ValueError("requester.agency_id must equal request.requester_agency_id")
        return self


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """``model_construct`` for values that name every field and were checked by their maker.

        Builds the same instance (a test pins it) without ``model_construct``'s per-field loop
        over aliases and defaults, which is the gateway's largest Python cost per decision.
        Anything but exactly the model's fields goes through ``model_construct`` itself.
        """
        if values.keys() != cls.__pydantic_fields__.keys():
            return cls.model_construct(**values)
        m = cls.__new__(cls)
        _set(m, "__dict__", values)
        _set(m, "__pydantic_fields_set__", set(values))
        _set(m, "__pydantic_extra__", None)
        _set(m, "__pydantic_private__", None)
        return m


_set = object.__setattr__


class PolicyRef(_Out):
    """A policy that decided (or a pseudo-policy: the pack's default deny, an evaluation error)."""

    id: str
    effect: Literal["permit", "forbid", "default_deny", "error"]
    citation: str
    explanation: str = ""  # not in the ledger payload (fixed by pack version + id)
    legal_note: str | None = None


class Obligation(_Out):
    """Something the custodian owes because of this request (a notice, a log entry)."""

    policy_id: str
    kind: NoticeKind
    recipient: Recipient
    person_id: str | None
    due_by: AwareDatetime
    days: int
    business_days: bool
    citation: str
    explanation: str = ""
    #: True when the ledger entry itself discharges it (the requester-identity log).
    fulfilled_by_record: bool = False


class AccessDecision(_Out):
    request_id: str
    requester_agency_id: str
    custodian_agency_id: str
    record_kind: str
    action: str
    outcome: Literal["allow", "deny"]
    pack: str
    pack_version: str
    as_of: date
    #: The dates between which the policy set that decided is in force (to is exclusive).
    law_in_force_from: date | None
    law_in_force_to: date | None
    deciding: tuple[PolicyRef, ...]
    obligations: tuple[Obligation, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"

    @property
    def citations(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.citation for p in self.deciding))

    def ledger_payload(self) -> dict:
        """The ``access.decided`` payload: everything but the policies' prose.

        Explanations and legal notes are fixed by ``pack``, ``pack_version`` and the policy id
        (``accord access policies`` prints them), so each event carries ids and citations only.
        """
        # Built by hand (the hot path of every audited decision); a test pins it to
        # ``model_dump(mode="json")`` minus the prose.
        return {
            "request_id": self.request_id, "requester_agency_id": self.requester_agency_id,
            "custodian_agency_id": self.custodian_agency_id, "record_kind": self.record_kind,
            "action": self.action, "outcome": self.outcome, "pack": self.pack, "pack_version": self.pack_version,
            "as_of": self.as_of.isoformat(),
            "law_in_force_from": None if self.law_in_force_from is None else self.law_in_force_from.isoformat(),
            "law_in_force_to": None if self.law_in_force_to is None else self.law_in_force_to.isoformat(),
            "deciding": [{"id": p.id, "effect": p.effect, "citation": p.citation} for p in self.deciding],
            "obligations": [o.model_dump(mode="json", exclude=_OBLIGATION_PROSE) for o in self.obligations],
            "errors": list(self.errors),
        }

    def notices(self) -> tuple[Obligation, ...]:
        """Obligations that are notices to send (not discharged by the record itself)."""
        return tuple(o for o in self.obligations if not o.fulfilled_by_record)


_OBLIGATION_PROSE = {"explanation"}


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, the form Cedar's ``datetime`` accepts.

    >>> from datetime import timezone, timedelta
    >>> utc_iso(datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))))
    '2020-01-02T08:04:05Z'
    """
    # isoformat, not strftime: several times faster, and the year is always four digits.
    return moment.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat() + "Z"
