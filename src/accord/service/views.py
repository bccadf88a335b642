"""What the use cases answer: plain pydantic shapes, built from the read model and the ledger.

The same shapes are the HTTP API's response bodies (their JSON Schema is in the OpenAPI document)
and what the console renders, so every reader sees one account of a detainer. They carry
pseudonymous ids and legal reasons, never a person's name or date of birth.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.ledger import StoredEvent

from . import schema
from .lifecycle import CLOSED, PERMITTED, DetainerState, issuer_may_learn_release, issuer_state


class View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionView(View):
    action: str
    outcome: str = Field(description="require | allow | deny | insufficient_facts")
    rule_id: str | None
    summary: str | None = Field(description="The deciding rule in plain words")
    citation: str | None
    fired: list[str]
    missing: list[str] = Field(description="Unknown facts that could change this outcome")


class DecisionView(View):
    decision_seq: int
    pack_id: str
    pack_version: str
    law_date: str
    actions: list[ActionView]
    facts: dict[str, Any] = Field(description="The facts the rules read, with their values (null: unknown)")
    citations: list[str]
    hold_until: datetime | None


class BookingView(View):
    booking_id: str
    person_id: str
    custodian_agency_id: str
    jurisdiction: str
    state: str = Field(description="in_custody | released")
    booked_at: datetime
    release_eligible_at: datetime | None
    released_at: datetime | None
    release_reason: str | None
    booked_seq: int
    released_seq: int | None


class DetainerView(View):
    request_id: str
    booking_id: str
    person_id: str
    custodian_agency_id: str | None
    issuing_agency_id: str
    issuing_office: str
    form: str
    received_at: datetime
    state: DetainerState
    hold_until: datetime | None
    deadline: datetime | None = Field(description="The next time something is due on this detainer")
    decision: DecisionView | None
    steps: list[str] = Field(description="What may be recorded next: release, transfer, lift, cancel")
    detainer_seq: int
    closed_seq: int | None


class NoticeView(View):
    notice_id: str
    kind: str
    recipient: str
    about: str = Field(description="detainer | record")
    about_request_id: str
    owed_by_agency_id: str | None
    due_by: datetime
    citation: str
    state: str = Field(description="owed | sent | discharged (a hold-expiry notice whose detainer closed: nothing left to do)")
    overdue: bool
    due_seq: int
    sent_seq: int | None
    sent_at: datetime | None


class RecordRequestView(View):
    request_id: str
    requester_agency_id: str
    custodian_agency_id: str
    record_kind: str
    purpose: str
    requested_at: datetime
    outcome: str | None = Field(description="allow | deny")
    pack: str | None
    deciding: list[dict[str, str]] = Field(description="The policies that decided: id, effect, citation")
    requested_seq: int
    decided_seq: int | None
    notices: list[NoticeView] = Field(default_factory=list, description="The notices the decision owes")


class AgencyView(View):
    agency_id: str
    name: str
    kind: str
    jurisdiction: str
    law_pack: str | None
    access_pack: str | None
    registered_seq: int


class CheckpointView(View):
    """A signed tree head: the ledger had ``size`` events with Merkle root ``root_hash`` (hex)."""

    origin: str
    size: int
    root_hash: str
    created_at: str
    key_id: str
    public_key: str = Field(description="Ed25519 public key, hex")
    signature: str = Field(description="Ed25519 signature of `note`, hex")
    note: str = Field(description="The signed text (C2SP checkpoint style)")
    signed_note: str = Field("", description="The checkpoint as a C2SP signed note (tlog-checkpoint), "
                                             "as `accord audit checkpoint --publish` writes it for witnesses")


class InclusionProofView(View):
    """RFC 6962 inclusion proof of event ``seq`` (leaf ``seq - 1``) in the tree of ``size`` events."""

    seq: int
    size: int
    leaf_hash: str
    root_hash: str
    path: list[str]
    checkpoint: CheckpointView | None = Field(description="The signed checkpoint whose root this proof reaches")


class Recorded(View):
    """Which ledger events a call appended (their inclusion proofs are at ``/v1/audit/proof/{seq}``)."""

    seqs: list[int]


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def booking_view(row: dict[str, Any]) -> BookingView:
    return BookingView(booking_id=row["booking_id"], person_id=row["person_id"],
                       custodian_agency_id=row["custodian_agency_id"], jurisdiction=row["jurisdiction"],
                       state=row["state"], booked_at=_dt(row["booked_at"]), release_eligible_at=_dt(row["release_eligible_at"]),
                       released_at=_dt(row["released_at"]), release_reason=row["release_reason"],
                       booked_seq=row["booked_seq"], released_seq=row["released_seq"])


def decision_view(ev: StoredEvent) -> DecisionView:
    p = ev.payload
    summaries = p.get("rule_summaries", {})
    return DecisionView(
        decision_seq=ev.seq, pack_id=p["pack_id"], pack_version=p["pack_version"], law_date=p["law_date"],
        actions=[ActionView(action=d["action"], outcome=d["outcome"], rule_id=d["rule_id"],
                            summary=summaries.get(d["rule_id"]) if d["rule_id"] else None, citation=d["citation"],
                            fired=d["fired"], missing=d["missing"]) for d in p["decisions"]],
        facts=p["facts"], citations=p["citations"], hold_until=_dt(p.get("hold_until")))


def steps_for(state: DetainerState, outcomes: dict[str, str], booking_state: str | None) -> list[str]:
    """The steps the law and the state allow next (the console shows only these as buttons)."""
    if state in CLOSED:
        return []
    steps = ["lift", "cancel"]
    if booking_state == "in_custody":
        steps.insert(0, "release")
        if outcomes.get("transfer_at_release") in PERMITTED:
            steps.insert(1, "transfer")
    return steps


#: Facts of the custodian's decision that tell when the person leaves custody: not for an issuer that
#: the law does not let the custodian notify of the release.
RELEASE_FACTS = frozenset({"release_eligible_at"})


def as_issuer(actor: Any, row: dict[str, Any]) -> bool:
    """Is ``actor`` looking at ``row`` only as the agency that issued it (not its custodian, not an auditor)?"""
    return (actor is not None and not actor.sees_all and actor.agency_id == row["issuing_agency_id"]
            and actor.agency_id != row["custodian_agency_id"])


def detainer_view(reader: Any, row: dict[str, Any], actor: Any = None) -> DetainerView:
    """The detainer as ``actor`` may see it: in full for its custodian and auditors; for the issuing
    agency, custody status and release timing only where the decision lets the custodian notify it."""
    decision = None
    if row["decision_seq"] is not None:
        ev = reader.event(row["decision_seq"])
        decision = decision_view(ev) if ev is not None else None
    outcomes = json.loads(row["outcomes"] or "{}")
    booking = reader.row(schema.bookings, row["booking_id"])
    state = DetainerState(row["state"])
    hold_until, deadline, closed_seq = _dt(row["hold_until"]), _dt(row["deadline"]), row["closed_seq"]
    steps = steps_for(state, outcomes, booking["state"] if booking else None)
    if as_issuer(actor, row) and not issuer_may_learn_release(outcomes):
        state = issuer_state(state, outcomes)
        hold_until = deadline = None
        closed_seq = closed_seq if state in (DetainerState.LIFTED, DetainerState.CANCELLED) else None
        steps = [] if state in CLOSED else ["lift", "cancel"]
        if decision is not None:
            decision = decision.model_copy(update={
                "facts": {k: v for k, v in decision.facts.items() if k not in RELEASE_FACTS}, "hold_until": None})
    elif as_issuer(actor, row):
        steps = [] if state in CLOSED else ["lift", "cancel"]
    return DetainerView(
        request_id=row["request_id"], booking_id=row["booking_id"], person_id=row["person_id"],
        custodian_agency_id=row["custodian_agency_id"], issuing_agency_id=row["issuing_agency_id"],
        issuing_office=row["issuing_office"], form=row["form"], received_at=_dt(row["received_at"]), state=state,
        hold_until=hold_until, deadline=deadline, decision=decision, steps=steps,
        detainer_seq=row["detainer_seq"], closed_seq=closed_seq)


def notice_view(row: dict[str, Any], now: datetime) -> NoticeView:
    due = _dt(row["due_by"])
    return NoticeView(notice_id=row["notice_id"], kind=row["kind"], recipient=row["recipient"], about=row["about"],
                      about_request_id=row["about_request_id"], owed_by_agency_id=row["owed_by_agency_id"],
                      due_by=due, citation=row["citation"], state=row["state"],
                      overdue=row["state"] == "owed" and due is not None and due < now,
                      due_seq=row["due_seq"], sent_seq=row["sent_seq"], sent_at=_dt(row["sent_at"]))


def record_request_view(row: dict[str, Any], notices: list[NoticeView] | None = None) -> RecordRequestView:
    return RecordRequestView(request_id=row["request_id"], requester_agency_id=row["requester_agency_id"],
                             custodian_agency_id=row["custodian_agency_id"], record_kind=row["record_kind"],
                             purpose=row["purpose"], requested_at=_dt(row["requested_at"]), outcome=row["outcome"],
                             pack=row["pack"], deciding=json.loads(row["deciding"] or "[]"),
                             requested_seq=row["requested_seq"], decided_seq=row["decided_seq"],
                             notices=notices or [])


def agency_view(row: dict[str, Any]) -> AgencyView:
    return AgencyView(agency_id=row["agency_id"], name=row["name"], kind=row["kind"], jurisdiction=row["jurisdiction"],
                      law_pack=row["law_pack"], access_pack=row["access_pack"], registered_seq=row["registered_seq"])
