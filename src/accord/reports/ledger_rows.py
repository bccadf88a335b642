"""Ledger -> history rows (``accord.reports.schema``): recompute every row from recorded events.

Facts are rebuilt from the recorded person, booking and detainer with the law's own
``facts_from_case``; outcomes come from the recorded ``decision.made`` and
``access.decided`` events; what happened (lifted, released, transferred) from the
custody and detainer events. Nothing is read from the generator, so figures computed on
this export are figures computed from the ledger.

Any ledger the project's commands write is read, whatever it lacks. ``accord decide --record``
records a detainer and its decision but no booking or person; ``accord access check`` a
request and its decision but no agencies; ``accord ingest`` whatever the file held. A fact the
ledger does not hold is null (counted as unknown in the report), never guessed: a missing
booking leaves the custody facts null (but the facts the recorded decision read are the facts
the law saw, so they are taken from the decision), a missing requester leaves its kind null.
The jurisdiction of a detainer without a booking is that of the pack that decided it (a
recorded decision is made under the law of the jurisdiction holding the person), of a record
request without its custodian's registration that of the access pack that decided it.

One function per event kind folds it into the state (:data:`FOLDS`); a kind without one
(a future service or importer event, a ``correction``) is skipped and counted, and so is an
event whose payload this version cannot read: ``LedgerRows.skipped`` and ``.gaps`` say what
the history does not cover, and the report prints them. A new kind is mapped by adding one
function with ``@folds("kind")``.

It reads only the public ``Ledger.events`` API; ``accord.reports.export`` cuts the ledger at a
signed checkpoint first, so a report names exactly what it counted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

import polars as pl
from pydantic import ValidationError

from accord.domain import Agency, CustodyRecord, DetainerRequest, Person
from accord.domain.enums import AgencyKind, Disposition, OffenseCategory
from accord.law.case import DetainerCase
from accord.law.facts import FACT_NAMES, FACT_SCHEMA, facts_from_case

from .schema import DECISION_ACTIONS, DETAINERS, NOTICES, RECORD_REQUESTS

_ALLOWED = ("allow", "require")
_CATEGORY_ORDER = {c.value: i for i, c in enumerate(OffenseCategory)}
ENCOUNTERS = {"encounter_id": pl.String(), "person_id": pl.String(), "booking_id": pl.String(), "encountered_at": pl.Datetime("us", "UTC")}

#: FACTS read from the detainer alone; the rest need the person, the booking or the custodian.
DETAINER_FACTS = frozenset({
    "form", "issued_on", "form_in_use_on_issue", "issuing_component", "requests_hold", "requests_notify", "requests_transfer",
    "received_at",
    "judicial_warrant_judge_kind", "judicial_warrant_basis", "judicial_pc_determination_only",
    "administrative_warrant_form", "served_on_subject", "outstanding_federal_felony_warrant",
})
PERSON_FACTS = frozenset({"terrorist_screening_match", "previously_removed_and_reentered", "status_proof_presented",
                          "ca_sex_or_arson_registrant"})
AGENCY_FACTS = frozenset({"reimbursement_agreement_in_force"})
CUSTODY_FACTS = frozenset(FACT_NAMES) - DETAINER_FACTS - PERSON_FACTS - AGENCY_FACTS


def _ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@dataclass
class LedgerState:
    """What the events said so far, keyed by id; payloads kept as text until a row needs them."""

    agency: dict[str, Agency] = field(default_factory=dict)
    person: dict[str, str] = field(default_factory=dict)
    booking: dict[str, str] = field(default_factory=dict)
    detainer: dict[str, str] = field(default_factory=dict)
    decision: dict[str, dict[str, Any]] = field(default_factory=dict)
    lift: dict[str, datetime | None] = field(default_factory=dict)
    release: dict[str, dict[str, Any]] = field(default_factory=dict)
    record: dict[str, dict[str, Any]] = field(default_factory=dict)
    access: dict[str, dict[str, Any]] = field(default_factory=dict)
    due: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: dict[str, datetime | None] = field(default_factory=dict)
    encounters: list[dict[str, Any]] = field(default_factory=list)
    #: events not counted, by kind (``"<kind> (unreadable)"`` for a payload this version cannot read)
    skipped: Counter[str] = field(default_factory=Counter)
    #: imported public data (``accord.ddp``): (stream, payload text) of each detainer, each release manifest
    imported: list[Any] = field(default_factory=list)
    releases: list[tuple[str, str]] = field(default_factory=list)
    imported_rejected: Counter[str] = field(default_factory=Counter)


Fold = Callable[[LedgerState, str], None]
#: event kind -> the function that folds one such event's payload text into the state
FOLDS: dict[str, Fold] = {}


def folds(kind: str) -> Callable[[Fold], Fold]:
    """Register the function that folds events of ``kind`` (one per kind)."""
    def register(fn: Fold) -> Fold:
        if kind in FOLDS:
            raise ValueError(f"event kind {kind!r} already has a fold")
        FOLDS[kind] = fn
        return fn
    return register


@folds("agency.registered")
def _agency(s: LedgerState, raw: str) -> None:
    a = Agency.model_validate_json(raw)
    s.agency[a.agency_id] = a


@folds("agency.configured")
def _configured(s: LedgerState, raw: str) -> None:
    """Which packs decide for an agency: the decisions themselves name their pack, so nothing to count."""


@folds("person.registered")
def _person(s: LedgerState, raw: str) -> None:
    s.person[json.loads(raw)["person_id"]] = raw


@folds("custody.booked")
def _booked(s: LedgerState, raw: str) -> None:
    s.booking[json.loads(raw)["booking_id"]] = raw


@folds("detainer.received")
def _detainer(s: LedgerState, raw: str) -> None:
    s.detainer[json.loads(raw)["request_id"]] = raw


@folds("decision.made")
def _decision(s: LedgerState, raw: str) -> None:
    p = json.loads(raw)
    s.decision[p["request_id"]] = p


@folds("detainer.lifted")
def _lifted(s: LedgerState, raw: str) -> None:
    p = json.loads(raw)
    s.lift[p["request_id"]] = _ts(p["lifted_at"])


@folds("custody.released")
def _released(s: LedgerState, raw: str) -> None:
    p = json.loads(raw)
    s.release[p["booking_id"]] = p


@folds("encounter.post_release")
def _encounter(s: LedgerState, raw: str) -> None:
    p = json.loads(raw)
    s.encounters.append({"encounter_id": p["encounter_id"], "person_id": p["person_id"], "booking_id": p.get("booking_id"),
                         "encountered_at": _ts(p["encountered_at"])})


@folds("record.requested")
def _requested(s: LedgerState, raw: str) -> None:
    p = json.loads(raw)
    s.record[p["request_id"]] = p


@folds("access.decided")
def _access(s: LedgerState, raw: str) -> None:
    p = json.loads(raw)
    s.access[p["request_id"]] = p


@folds("notice.due")
def _due(s: LedgerState, raw: str) -> None:
    p = json.loads(raw)
    s.due[p["notice_id"]] = p


@folds("notice.sent")
def _sent(s: LedgerState, raw: str) -> None:
    p = json.loads(raw)
    s.sent[p["notice_id"]] = _ts(p["sent_at"])


@dataclass
class LedgerRows:
    """The history tables built from a ledger, its encounters, and what the ledger did not say."""

    tables: dict[str, pl.DataFrame]
    encounters: pl.DataFrame
    events: int
    skipped: Counter[str]
    #: ``(what is unknown, how many rows)``, e.g. ("detainers with no booking recorded", 1)
    gaps: list[tuple[str, int]]
    #: the manifests (``import.ddp.release`` payloads, with their ``stream``) of the imported releases, in ledger order
    releases: list[dict[str, Any]] = field(default_factory=list)


def read_ledger(led: Any, on_event: Callable[[int], None] | None = None, *, include_duplicates: bool = False) -> LedgerRows:
    """Fold every event of ``led`` (a ``Ledger`` or anything with its ``events()``) into history rows.

    Imported public rows flagged as likely duplicates count once per group unless ``include_duplicates``."""
    s = LedgerState()
    n = 0
    for ev in led.events():
        n += 1
        if on_event is not None and n % 5000 == 0:
            on_event(5000)
        if ev.kind in _IMPORTED:
            _imported(s, ev)
            continue
        fold = FOLDS.get(ev.kind)
        if fold is None:
            s.skipped[ev.kind] += 1
            continue
        try:
            fold(s, ev.payload_json)
        except (ValidationError, KeyError, TypeError, ValueError):
            s.skipped[f"{ev.kind} (unreadable)"] += 1
    gaps: Counter[str] = Counter()
    tables = {"detainers": _detainers(s, gaps), "notices": _notices(s, gaps), "record_requests": _records(s, gaps)}
    if s.imported:
        tables["detainers"] = pl.concat([tables["detainers"], _imported_rows(s, gaps, include_duplicates)], how="vertical")
    orphans = sum(1 for b, r in s.release.items() if not r.get("detainer_request_id") and b not in _detained(s))
    if orphans:
        gaps["releases with no detainer (nothing to count)"] += orphans
    releases = [{**json.loads(raw), "stream": stream} for stream, raw in s.releases]
    return LedgerRows(tables=tables, encounters=pl.DataFrame(s.encounters, schema=ENCOUNTERS), events=n,
                      skipped=s.skipped, gaps=sorted(gaps.items()), releases=releases)


#: imported public data (accord.ddp.events): folded with their stream, which names the file
_IMPORTED = frozenset({"import.ddp.release", "import.ddp.detainer", "import.ddp.rejected"})


@dataclass(frozen=True)
class _Imported:
    stream: str
    payload_json: str


def _imported(s: LedgerState, ev: Any) -> None:
    if ev.kind == "import.ddp.detainer":
        s.imported.append(_Imported(ev.stream, ev.payload_json))
    elif ev.kind == "import.ddp.release":
        s.releases.append((ev.stream, ev.payload_json))
    else:  # a rejected row: counted by its release's manifest and shown in the release section
        s.imported_rejected[ev.stream] += 1


def _imported_rows(s: LedgerState, gaps: Counter[str], include_duplicates: bool = False) -> pl.DataFrame:
    """Imported detainers as history rows (``accord.ddp.history``), each likely-duplicate group counted once.

    Every fact the release does not hold stays null, and the decision columns are null: nothing was
    decided by a custodian in Accord (a replay under a pack decides them, ``accord simulate``)."""
    from accord.ddp.history import detainer_rows, without_repeats

    try:
        rows = detainer_rows(s.imported)
    except pl.exceptions.PolarsError:
        s.skipped["import.ddp.detainer (unreadable)"] += len(s.imported)
        return pl.DataFrame(schema={**DETAINERS, **{k: v for k, v in FACT_SCHEMA.items() if k not in DETAINERS}})
    kept = rows if include_duplicates else without_repeats(rows)
    if include_duplicates and "ddp_repeat" in rows.columns:
        repeats = int(rows["ddp_repeat"].fill_null(False).sum())
        if repeats:
            gaps["imported rows kept although they are likely duplicates of another row (asked for: --include-duplicates)"] += repeats
    # as for a recorded detainer with no end recorded: the release names no outcome (or one not recognised)
    unsaid = int(kept["disposition"].is_null().sum())
    if unsaid:
        gaps["imported detainers whose outcome the release does not say or Accord does not recognise (counted pending)"] += unsaid
        kept = kept.with_columns(pl.col("disposition").fill_null("pending"))
    if kept.height < rows.height:
        gaps["imported rows left out as likely duplicates of another row (same person key and prepare date)"] += (
            rows.height - kept.height)
    return kept.select(list(DETAINERS) + [c for c in FACT_NAMES if c not in DETAINERS])


def history_from_ledger(led: Any, on_event: Callable[[int], None] | None = None, *,
                        include_duplicates: bool = False) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """(``{"detainers", "notices", "record_requests"}`` frames, encounters frame) from every event."""
    rows = read_ledger(led, on_event, include_duplicates=include_duplicates)
    return rows.tables, rows.encounters


def _detained(s: LedgerState) -> set[str]:
    return {json.loads(raw)["booking_id"] for raw in s.detainer.values()}


@cache
def _pack_jurisdiction(pack_id: str, access: bool = False) -> str | None:
    """The jurisdiction a shipped law (or access) pack applies in; None for an unknown pack."""
    try:
        if access:
            from accord.access.packs import load_pack as load_access_pack

            return load_access_pack(pack_id).jurisdiction
        from accord.law import load_pack

        return load_pack(pack_id).jurisdiction
    except Exception:  # an unknown or retired pack: the jurisdiction stays unknown
        return None


def _typed_fact(name: str, value: Any) -> Any:
    """A fact as the decision recorded it (JSON) in its FACT_SCHEMA type."""
    if value is None:
        return None
    dtype = FACT_SCHEMA[name]
    if dtype == pl.Date:
        return date.fromisoformat(value)
    if isinstance(dtype, pl.Datetime):
        return _ts(value)
    return value


def _facts(s: LedgerState, det: DetainerRequest, custody: CustodyRecord | None, law_date: date,
           decision: dict[str, Any] | None) -> dict[str, Any]:
    """FACTS of one detainer: the law's ``facts_from_case`` on what the ledger holds, unknown (null) for the
    rest, and the facts the recorded decision read where the ledger holds no source for them."""
    person_raw = s.person.get(det.person_id)
    person = Person.model_validate_json(person_raw) if person_raw else Person(person_id=det.person_id)
    agency = s.agency.get(custody.agency_id) if custody else None
    stand_in = custody or CustodyRecord(booking_id=det.booking_id, person_id=det.person_id, jurisdiction="US",
                                        agency_id="unknown", facility="unknown", booked_at=det.received_at)
    receiving = agency or Agency(agency_id=stand_in.agency_id, name="unknown", kind=AgencyKind.CORRECTIONS,
                                 jurisdiction=stand_in.jurisdiction)
    facts = facts_from_case(DetainerCase(detainer=det, custody=stand_in, person=person, receiving_agency=receiving), law_date)
    unknown = (PERSON_FACTS if person_raw is None else frozenset()) | (AGENCY_FACTS if agency is None else frozenset()) \
        | (CUSTODY_FACTS if custody is None else frozenset())
    read = (decision or {}).get("facts") or {}
    for name in unknown:
        facts[name] = _typed_fact(name, read.get(name)) if name in FACT_SCHEMA else None
    return facts


def _detainers(s: LedgerState, gaps: Counter[str]) -> pl.DataFrame:
    rows = []
    for rid, raw in s.detainer.items():
        det = DetainerRequest.model_validate_json(raw)
        booking = s.booking.get(det.booking_id)
        custody = CustodyRecord.model_validate_json(booking) if booking else None
        decision = s.decision.get(rid)
        if custody is None:
            gaps["detainers with no booking recorded (custody facts, agency and release unknown)"] += 1
        elif custody.agency_id not in s.agency:
            gaps["detainers whose custodian agency is not registered"] += 1
        if det.person_id not in s.person:
            gaps["detainers whose person is not registered (person facts unknown)"] += 1
        if decision is None:
            gaps["detainers with no decision recorded"] += 1
        law_date = date.fromisoformat(decision["law_date"]) if decision and decision.get("law_date") else det.received_at.date()
        facts = _facts(s, det, custody, law_date, decision)
        counted = [c for c in custody.convictions if c.disposition is Disposition.CONVICTION and c.convicted_on <= law_date] if custody else []
        cats = sorted({cat.value for c in counted for cat in c.categories}, key=_CATEGORY_ORDER.__getitem__) if custody else None
        outcome = {d["action"]: d["outcome"] for d in decision["decisions"]} if decision else {}
        release = s.release.get(det.booking_id)
        released_at = _ts(release["released_at"]) if release else None
        lifted_at = s.lift.get(rid)
        held = bool(facts["requests_hold"]) and outcome.get("hold_past_release") in _ALLOWED
        eligible = facts["release_eligible_at"]
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
        pack_id = decision.get("pack_id") if decision else None
        jurisdiction = custody.jurisdiction if custody else (_pack_jurisdiction(pack_id) if pack_id else None)
        rows.append({
            **facts,
            "detainer_id": rid, "person_id": det.person_id, "booking_id": det.booking_id, "jurisdiction": jurisdiction,
            "receiving_agency_id": custody.agency_id if custody else None, "facility": custody.facility if custody else None,
            "issuing_office": det.issuing_office,
            "offense_categories": cats, "has_criminal_history": bool(counted) if custody else None,
            **{f"decision_{a}": outcome.get(a) for a in DECISION_ACTIONS},
            "decision_rules": list(dict.fromkeys(d["rule_id"] for d in decision["decisions"] if d.get("rule_id"))) if decision else [],
            "decision_citations": list(decision.get("citations", [])) if decision else [],
            "pack_id": pack_id, "pack_version": decision.get("pack_version") if decision else None,
            "disposition": disposition, "released_at": released_at,
            "hold_deadline": _ts(decision["hold_until"]) if decision and decision.get("hold_until") else None,
            "hold_hours": hours,
        })
    schema = {**DETAINERS, **{k: v for k, v in FACT_SCHEMA.items() if k not in DETAINERS}}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.select(list(DETAINERS) + [c for c in FACT_NAMES if c not in DETAINERS])


def _detainer_jurisdiction(s: LedgerState, request_id: str) -> str | None:
    raw = s.detainer.get(request_id)
    if raw is None:
        return None
    booking = s.booking.get(json.loads(raw)["booking_id"])
    if booking is not None:
        return json.loads(booking)["jurisdiction"]
    decision = s.decision.get(request_id)
    return _pack_jurisdiction(decision["pack_id"]) if decision and decision.get("pack_id") else None


def _record_jurisdiction(s: LedgerState, request_id: str) -> str | None:
    p = s.record.get(request_id)
    custodian = s.agency.get(p["custodian_agency_id"]) if p else None
    if custodian is not None:
        return custodian.jurisdiction
    dec = s.access.get(request_id)
    return _pack_jurisdiction(dec["pack"], access=True) if dec and dec.get("pack") else None


def _notices(s: LedgerState, gaps: Counter[str]) -> pl.DataFrame:
    rows = []
    for nid, p in s.due.items():
        about = p["about_request_id"]
        jurisdiction = _record_jurisdiction(s, about) if about in s.record else _detainer_jurisdiction(s, about)
        if jurisdiction is None:
            gaps["notices whose jurisdiction is unknown"] += 1
        rows.append({"notice_id": nid, "kind": p["kind"], "recipient": p["recipient"], "about_request_id": about,
                     "jurisdiction": jurisdiction, "citation": p["citation"], "due_by": _ts(p["due_by"]),
                     "sent_at": s.sent.get(nid), "business_days": p.get("business_days", False)})
    return pl.DataFrame(rows, schema=NOTICES)


def _records(s: LedgerState, gaps: Counter[str]) -> pl.DataFrame:
    rows = []
    for rid, p in s.record.items():
        requester = s.agency.get(p["requester_agency_id"])
        dec = s.access.get(rid)
        if requester is None:
            gaps["record requests whose requesting agency is not registered (its kind unknown)"] += 1
        if dec is None:
            gaps["record requests with no decision recorded"] += 1
        lp = p.get("legal_process")
        rows.append({
            "request_id": rid, "requester_agency_id": p["requester_agency_id"],
            "requester_kind": requester.kind.value if requester else None,
            "requester_primarily_enforces_immigration": requester.primarily_enforces_immigration if requester else None,
            "custodian_agency_id": p["custodian_agency_id"],
            "jurisdiction": _record_jurisdiction(s, rid),
            "record_kind": p["record_kind"], "action": p.get("action", "read"), "purpose": p["purpose"],
            "legal_process_kind": lp["kind"] if lp else None, "requested_at": _ts(p["requested_at"]),
            "outcome": dec["outcome"] if dec else None,
            "policy_ids": [d["id"] for d in dec["deciding"]] if dec else None,
            "notice_owed": any(not o.get("fulfilled_by_record", False) for o in dec["obligations"]) if dec else None,
        })
    return pl.DataFrame(rows, schema=RECORD_REQUESTS)
