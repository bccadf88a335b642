"""Turn domain models into Cedar entities and request context.

Only facts the schema names go to Cedar. Dates become ``datetime`` values at local midnight in
the pack's time zone, so "signed on 5 Jan" means from the start of 5 Jan where the custodian is.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from accord.domain import Agency, Certification
from accord.domain.enums import AgencyKind, RecordKind

from .model import AccessRequest, utc_iso

#: Certification kinds with a slot in the schema's ``Certifications`` record.
CERTIFICATION_SLOTS = ("ny_vtl_201_12_b_no_immigration_use", "law_enforcement_use")

_DMV = {"type": "Accord::RecordClass", "id": "dmv"}
_CUSTODY = {"type": "Accord::RecordClass", "id": "custody"}


def _record(kind: RecordKind, **flags: bool) -> dict[str, Any]:
    attrs = {"kind": kind.value, "photo": False, "federal_standard": False, "federal_standard_flag": False,
             "commercial": False, "original_documents": False, **flags}
    parent = _CUSTODY if kind is RecordKind.CUSTODY_RECORD else _DMV
    return {"uid": {"type": "Accord::Record", "id": kind.value}, "attrs": attrs, "parents": [parent]}


#: One entity per record kind: the law turns on the class of record, not on whose it is.
RECORD_ENTITIES: list[dict[str, Any]] = [
    {"uid": _DMV, "attrs": {}, "parents": []},
    {"uid": _CUSTODY, "attrs": {}, "parents": []},
    _record(RecordKind.DMV_STANDARD_LICENSE),
    _record(RecordKind.DMV_REAL_ID, federal_standard=True),
    _record(RecordKind.DMV_ENHANCED, federal_standard=True),
    _record(RecordKind.DMV_COMMERCIAL, commercial=True),
    _record(RecordKind.DMV_NON_DRIVER_ID),
    _record(RecordKind.DMV_PHOTO, photo=True),
    _record(RecordKind.DMV_ORIGINAL_DOCUMENTS, original_documents=True),
    _record(RecordKind.DMV_FEDERAL_STANDARD_FLAG, federal_standard_flag=True),
    _record(RecordKind.CUSTODY_RECORD),
]


def cedar_datetime(moment: datetime) -> dict[str, Any]:
    return {"__extn": {"fn": "datetime", "arg": utc_iso(moment)}}


def local_midnight(day: date, tz: ZoneInfo) -> dict[str, Any]:
    return cedar_datetime(datetime.combine(day, time(), tz))


def jurisdiction_chain(code: str) -> list[str]:
    """A jurisdiction and those containing it.

    >>> jurisdiction_chain("US-NY-NYC")
    ['US-NY-NYC', 'US-NY', 'US']
    """
    parts = code.split("-")
    return ["-".join(parts[:i]) for i in range(len(parts), 0, -1)]


def chosen_certifications(agency: Agency, on: date) -> tuple[int | None, ...]:
    """Per schema slot, the index of the latest certificate of that kind signed on or before ``on``."""
    picks: list[int | None] = []
    for slot in CERTIFICATION_SLOTS:
        best: int | None = None
        for i, cert in enumerate(agency.certifications):
            if cert.kind == slot and cert.signed_on <= on:
                if best is None or cert.signed_on >= agency.certifications[best].signed_on:
                    best = i
        picks.append(best)
    return tuple(picks)


def _certificate(cert: Certification, tz: ZoneInfo) -> dict[str, Any]:
    out = {"signed_on": local_midnight(cert.signed_on, tz)}
    if cert.expires_on is not None:
        out["expires_on"] = local_midnight(cert.expires_on, tz)
    return out


def entity_key(agency: Agency, picks: tuple[int | None, ...]) -> tuple:
    """Exactly the values :func:`agency_entities` reads: equal keys give equal entities.

    A cache key of plain values is much cheaper to hash and compare than the ``Agency`` model
    (name, parent and agreements never reach the entities). Keep it in step with
    ``agency_entities``; a test varies every field to check.
    """
    certs = agency.certifications
    return (agency.agency_id, agency.kind, agency.jurisdiction, agency.primarily_enforces_immigration,
            *[None if i is None else (certs[i].signed_on, certs[i].expires_on) for i in picks])


def agency_entities(agency: Agency, picks: tuple[int | None, ...], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The requester and its jurisdictions, as Cedar JSON entities."""
    certs = {slot: _certificate(agency.certifications[i], tz)
             for slot, i in zip(CERTIFICATION_SLOTS, picks) if i is not None}
    chain = jurisdiction_chain(agency.jurisdiction)
    out = [{
        "uid": {"type": "Accord::Agency", "id": agency.agency_id},
        "attrs": {
            "kind": agency.kind.value,
            "jurisdiction": agency.jurisdiction,
            "primarily_enforces_immigration": agency.primarily_enforces_immigration,
            "foreign_government": agency.kind is AgencyKind.FOREIGN_GOVERNMENT,
            "certifications": certs,
        },
        "parents": [{"type": "Accord::Jurisdiction", "id": chain[0]}],
    }]
    for inner, outer in zip(chain, chain[1:] + [None]):
        parents = [] if outer is None else [{"type": "Accord::Jurisdiction", "id": outer}]
        out.append({"uid": {"type": "Accord::Jurisdiction", "id": inner}, "attrs": {}, "parents": parents})
    return out


def request_context(areq: AccessRequest, tz: ZoneInfo) -> dict[str, Any]:
    req = areq.request
    # ``_value_``: the member's value without the ``.value`` descriptor (a Python-level call per access)
    ctx: dict[str, Any] = {
        "requested_action": req.action._value_,
        "purpose": req.purpose._value_,
        "request_time": cedar_datetime(req.requested_at),
        "has_subject": req.subject_person_id is not None,
        "notice_would_impede_investigation": areq.notice_would_impede_investigation,
    }
    if req.legal_process is not None:
        lp = req.legal_process
        ctx["legal_process"] = {"kind": lp.kind._value_, "judge_kind": lp.judge_kind._value_,
                                "specific_records_only": lp.specific_records_only}
    agreement = None
    if areq.requester.agreements:  # most requesters have none: skip the local-date conversion
        agreement = _agreement_with(areq.requester, req.custodian_agency_id, req.requested_at.astimezone(tz).date())
    if agreement is not None:
        terms = {"kind": agreement.kind, "effective_from": local_midnight(agreement.effective_from, tz)}
        if agreement.effective_to is not None:
            terms["effective_to"] = local_midnight(agreement.effective_to, tz)
        ctx["agreement"] = terms
    return ctx


def _agreement_with(agency: Agency, custodian_id: str, on: date):
    """The requester's latest data-sharing agreement with the custodian begun on or before ``on``."""
    found = None
    for a in agency.agreements:
        if a.partner_agency_id == custodian_id and a.kind == "data_sharing" and a.effective_from <= on:
            if found is None or a.effective_from >= found.effective_from:
                found = a
    return found
