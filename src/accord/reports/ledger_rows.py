"""Ledger -> history rows (``accord.reports.schema``): recompute every row from recorded events.

Facts are rebuilt from the recorded person, booking and detainer with the law's own
``facts_from_case``; outcomes come from the recorded ``decision.made`` and
``access.decided`` events; what happened (lifted, released, transferred) from the
custody and detainer events. Nothing is read from the generator, so figures computed on
this export are figures computed from the ledger.

It reads only the public ``Ledger.events`` API; ``accord.reports.export`` cuts the ledger at a
signed checkpoint first, so a report names exactly what it counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import polars as pl

from accord.domain import Agency, CustodyRecord, DetainerRequest, Person
from accord.domain.enums import Disposition, OffenseCategory
from accord.law.case import DetainerCase
from accord.law.facts import FACT_NAMES, FACT_SCHEMA, facts_from_case
from accord.ledger import Ledger
from .schema import DECISION_ACTIONS, DETAINERS, NOTICES, RECORD_REQUESTS

_ALLOWED = ("allow", "require")
_CATEGORY_ORDER = {c.value: i for i, c in enumerate(OffenseCategory)}
ENCOUNTERS = {"encounter_id": pl.String(), "person_id": pl.String(), "booking_id": pl.String(), "encountered_at": pl.Datetime("us", "UTC")}


def _ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def history_from_ledger(led: Ledger, on_event: Callable[[int], None] | None = None) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """(``{"detainers", "notices", "record_requests"}`` frames, encounters frame) from every event."""
    by: dict[str, dict[str, Any]] = {k: {} for k in ("agency", "person", "booking", "detainer", "decision", "lift", "release",
                                                    "record", "access", "due", "sent")}
    encounters = []
    n = 0
    for ev in led.events():
        n += 1
        if on_event is not None and n % 5000 == 0:
            on_event(5000)
        k, raw = ev.kind, ev.payload_json
        if k == "agency.registered":
            a = Agency.model_validate_json(raw)
            by["agency"][a.agency_id] = a
        elif k == "person.registered":
            by["person"][json.loads(raw)["person_id"]] = raw
        elif k == "custody.booked":
            by["booking"][json.loads(raw)["booking_id"]] = raw
        elif k == "detainer.received":
            by["detainer"][json.loads(raw)["request_id"]] = raw
        elif k == "decision.made":
            p = json.loads(raw)
            by["decision"][p["request_id"]] = p
        elif k == "detainer.lifted":
            p = json.loads(raw)
            by["lift"][p["request_id"]] = _ts(p["lifted_at"])
        elif k == "custody.released":
            p = json.loads(raw)
            by["release"][p["booking_id"]] = p
        elif k == "encounter.post_release":
            p = json.loads(raw)
            encounters.append({"encounter_id": p["encounter_id"], "person_id": p["person_id"], "booking_id": p.get("booking_id"),
                               "encountered_at": _ts(p["encountered_at"])})
        elif k == "record.requested":
            p = json.loads(raw)
            by["record"][p["request_id"]] = p
        elif k == "access.decided":
            p = json.loads(raw)
            by["access"][p["request_id"]] = p
        elif k == "notice.due":
            p = json.loads(raw)
            by["due"][p["notice_id"]] = p
        elif k == "notice.sent":
            p = json.loads(raw)
            by["sent"][p["notice_id"]] = _ts(p["sent_at"])
    detainers = _detainers(by)
    tables = {"detainers": detainers, "notices": _notices(by), "record_requests": _records(by)}
    return tables, pl.DataFrame(encounters, schema=ENCOUNTERS)


def _detainers(by: dict[str, dict[str, Any]]) -> pl.DataFrame:
    rows = []
    for rid, raw in by["detainer"].items():
        det = DetainerRequest.model_validate_json(raw)
        custody = CustodyRecord.model_validate_json(by["booking"][det.booking_id])
        person = Person.model_validate_json(by["person"][det.person_id])
        agency = by["agency"][custody.agency_id]
        decision = by["decision"].get(rid)
        law_date = date.fromisoformat(decision["law_date"]) if decision else det.received_at.date()
        facts = facts_from_case(DetainerCase(detainer=det, custody=custody, person=person, receiving_agency=agency), law_date)
        counted = [c for c in custody.convictions if c.disposition is Disposition.CONVICTION and c.convicted_on <= law_date]
        cats = sorted({cat.value for c in counted for cat in c.categories}, key=_CATEGORY_ORDER.__getitem__)
        outcome = {d["action"]: d["outcome"] for d in decision["decisions"]} if decision else {}
        release = by["release"].get(det.booking_id)
        released_at = _ts(release["released_at"]) if release else None
        lifted_at = by["lift"].get(rid)
        held = facts["requests_hold"] and outcome.get("hold_past_release") in _ALLOWED
        eligible = custody.release_eligible_at
        if lifted_at is not None and (released_at is None or lifted_at < released_at):
            disposition = "lifted"
        elif released_at is None:
            disposition = "pending"
        elif released_at < det.received_at:
            disposition = "released_before_decision"
        elif release["reason"] == "transferred_to_immigration":
            disposition = "transferred"
        elif held and eligible is not None and released_at > eligible:
            disposition = "expired"
        elif facts["requests_notify"] and outcome.get("notify_release") in _ALLOWED:
            disposition = "notified_only"
        else:
            disposition = "declined"
        hours = (released_at - eligible).total_seconds() / 3600 if held and released_at and eligible and released_at > eligible else None
        rows.append({
            **facts,
            "detainer_id": rid, "person_id": det.person_id, "booking_id": det.booking_id, "jurisdiction": custody.jurisdiction,
            "receiving_agency_id": custody.agency_id, "facility": custody.facility, "issuing_office": det.issuing_office,
            "offense_categories": cats, "has_criminal_history": bool(counted),
            **{f"decision_{a}": outcome.get(a) for a in DECISION_ACTIONS},
            "decision_rules": list(dict.fromkeys(d["rule_id"] for d in decision["decisions"] if d["rule_id"])) if decision else [],
            "decision_citations": list(decision["citations"]) if decision else [],
            "pack_id": decision["pack_id"] if decision else None, "pack_version": decision["pack_version"] if decision else None,
            "disposition": disposition, "released_at": released_at,
            "hold_deadline": _ts(decision["hold_until"]) if decision and decision.get("hold_until") else None,
            "hold_hours": hours,
        })
    schema = {**DETAINERS, **{k: v for k, v in FACT_SCHEMA.items() if k not in DETAINERS}}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.select(list(DETAINERS) + [c for c in FACT_NAMES if c not in DETAINERS])


def _notices(by: dict[str, dict[str, Any]]) -> pl.DataFrame:
    rows = []
    for nid, p in by["due"].items():
        about = p["about_request_id"]
        if about in by["record"]:
            jurisdiction = by["agency"][by["record"][about]["custodian_agency_id"]].jurisdiction
        else:
            det = by["detainer"].get(about)
            jurisdiction = CustodyRecord.model_validate_json(by["booking"][json.loads(det)["booking_id"]]).jurisdiction if det else None
        rows.append({"notice_id": nid, "kind": p["kind"], "recipient": p["recipient"], "about_request_id": about,
                     "jurisdiction": jurisdiction, "citation": p["citation"], "due_by": _ts(p["due_by"]),
                     "sent_at": by["sent"].get(nid), "business_days": p.get("business_days", False)})
    return pl.DataFrame(rows, schema=NOTICES)


def _records(by: dict[str, dict[str, Any]]) -> pl.DataFrame:
    rows = []
    for rid, p in by["record"].items():
        requester = by["agency"].get(p["requester_agency_id"])
        dec = by["access"].get(rid)
        lp = p.get("legal_process")
        rows.append({
            "request_id": rid, "requester_agency_id": p["requester_agency_id"],
            "requester_kind": requester.kind.value if requester else None,
            "requester_primarily_enforces_immigration": requester.primarily_enforces_immigration if requester else None,
            "custodian_agency_id": p["custodian_agency_id"],
            "jurisdiction": by["agency"][p["custodian_agency_id"]].jurisdiction if p["custodian_agency_id"] in by["agency"] else None,
            "record_kind": p["record_kind"], "action": p["action"], "purpose": p["purpose"],
            "legal_process_kind": lp["kind"] if lp else None, "requested_at": _ts(p["requested_at"]),
            "outcome": dec["outcome"] if dec else None,
            "policy_ids": [d["id"] for d in dec["deciding"]] if dec else None,
            "notice_owed": any(not o.get("fulfilled_by_record", False) for o in dec["obligations"]) if dec else None,
        })
    return pl.DataFrame(rows, schema=RECORD_REQUESTS)
