"""Synthetic requests for DMV records (the NY Green Light stream, DOMAIN.md §2, §10).

Who asks, for what and why are assumptions (no published breakdown was found): mostly
police investigating crimes, some other states' DMVs and federal agencies, a few from
agencies that primarily enforce immigration law, and a few from a foreign government
(DOMAIN.md §10 reports sharing with Canadian law enforcement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

from accord.domain import Agency, Agreement, Certification, LegalProcess, RecordRequest
from accord.domain.enums import AgencyKind, JudgeKind, LegalProcessKind, RecordAction, RecordKind, RequestPurpose

from .draw import US_PER_DAY, US_PER_HOUR, to_us
from .objects import ts
from .profile import Profile

K, P = AgencyKind, RequestPurpose
_NO_IMMIGRATION_USE = "ny_vtl_201_12_b_no_immigration_use"


def _certified(signed: date, *also: str) -> tuple[Certification, ...]:
    """VTL §201(12)(b) certification signed on ``signed`` (dates are assumptions: some sign late)."""
    return tuple(Certification(kind=k, signed_on=signed) for k in (_NO_IMMIGRATION_USE, *also))


@dataclass(frozen=True)
class Requester:
    agency: Agency
    share: float
    purposes: tuple[tuple[RequestPurpose, float], ...]
    legal_process_rate: float = 0.0


DMV = Agency(agency_id="ny-dmv", name="New York State Department of Motor Vehicles", kind=K.DMV, jurisdiction="US-NY")

REQUESTERS: tuple[Requester, ...] = (
    Requester(Agency(agency_id="nypd", name="New York City Police Department", kind=K.POLICE, jurisdiction="US-NY-NYC",
                     certifications=_certified(date(2020, 1, 10), "law_enforcement_use")), 0.40,
              ((P.CRIMINAL_INVESTIGATION, 0.85), (P.TRAFFIC_SAFETY, 0.15)), 0.05),
    Requester(Agency(agency_id="nysp", name="New York State Police", kind=K.POLICE, jurisdiction="US-NY",
                     certifications=_certified(date(2019, 12, 20), "law_enforcement_use")), 0.14,
              ((P.CRIMINAL_INVESTIGATION, 0.8), (P.TRAFFIC_SAFETY, 0.2)), 0.05),
    Requester(Agency(agency_id="ny-courts", name="New York State Unified Court System", kind=K.COURTS, jurisdiction="US-NY",
                     certifications=_certified(date(2019, 12, 16))), 0.05,
              ((P.OTHER, 1.0),)),
    Requester(Agency(agency_id="nj-mvc", name="New Jersey Motor Vehicle Commission", kind=K.DMV, jurisdiction="US-NJ",
                     certifications=_certified(date(2020, 2, 1))), 0.10,
              ((P.TRAFFIC_SAFETY, 0.7), (P.NATIONAL_DRIVER_REGISTER, 0.3))),
    Requester(Agency(agency_id="fbi-nyfo", name="FBI New York Field Office", kind=K.FEDERAL_OTHER, jurisdiction="US",
                     certifications=_certified(date(2020, 1, 6), "law_enforcement_use")), 0.06,
              ((P.CRIMINAL_INVESTIGATION, 1.0),), 0.3),
    Requester(Agency(agency_id="cbp-nyc", name="U.S. Customs and Border Protection, New York Field Office",
                     kind=K.IMMIGRATION_ENFORCEMENT, jurisdiction="US", primarily_enforces_immigration=True), 0.09,
              ((P.TRUSTED_TRAVELER_VETTING, 0.6), (P.VEHICLE_IMPORT_EXPORT, 0.2), (P.CIVIL_IMMIGRATION_ENFORCEMENT, 0.2)), 0.05),
    Requester(Agency(agency_id="ice-ero-nyc", name="ICE Enforcement and Removal Operations, New York Field Office",
                     kind=K.IMMIGRATION_ENFORCEMENT, jurisdiction="US", primarily_enforces_immigration=True), 0.06,
              ((P.CIVIL_IMMIGRATION_ENFORCEMENT, 0.8), (P.CRIMINAL_IMMIGRATION_ENFORCEMENT, 0.2)), 0.2),
    Requester(Agency(agency_id="rcmp", name="Royal Canadian Mounted Police", kind=K.FOREIGN_GOVERNMENT, jurisdiction="CA",
                     certifications=_certified(date(2019, 12, 30), "law_enforcement_use"),
                     agreements=(Agreement(kind="data_sharing", partner_agency_id="ny-dmv", effective_from=date(2015, 1, 1)),)), 0.02,
              ((P.CRIMINAL_INVESTIGATION, 1.0),)),
    Requester(Agency(agency_id="nhtsa-ndr", name="NHTSA National Driver Register", kind=K.FEDERAL_OTHER, jurisdiction="US",
                     certifications=_certified(date(2019, 12, 14))), 0.08,
              ((P.NATIONAL_DRIVER_REGISTER, 1.0),)),
)
RECORD_KINDS = (
    (RecordKind.DMV_STANDARD_LICENSE, 0.55), (RecordKind.DMV_REAL_ID, 0.12), (RecordKind.DMV_PHOTO, 0.10),
    (RecordKind.DMV_NON_DRIVER_ID, 0.07), (RecordKind.DMV_ENHANCED, 0.05), (RecordKind.DMV_COMMERCIAL, 0.05),
    (RecordKind.DMV_ORIGINAL_DOCUMENTS, 0.03), (RecordKind.DMV_FEDERAL_STANDARD_FLAG, 0.03),
)
ACTIONS = ((RecordAction.READ, 0.93), (RecordAction.PHOTO_MATCH, 0.05), (RecordAction.BULK_READ, 0.02))


def _pick(rng: np.random.Generator, n: int, weights: list[float]) -> np.ndarray:
    cum = np.cumsum(weights)
    return np.searchsorted(cum / cum[-1], rng.random(n), side="right").clip(max=len(weights) - 1)


@dataclass
class RecordDraws:
    first_index: int
    requester: np.ndarray
    purpose: np.ndarray  # index into the requester's purposes
    record_kind: np.ndarray
    action: np.ndarray
    process: np.ndarray  # 0 none, 1 judicial warrant, 2 court order, 3 subpoena
    requested_us: np.ndarray
    subject: np.ndarray  # person number the request is about


def draw_requests(rng: np.random.Generator, n: int, profile: Profile, first_index: int = 0, people: int = 1) -> RecordDraws:
    start, end = to_us(profile.period_start), to_us(profile.period_end)
    req = _pick(rng, n, [r.share for r in REQUESTERS])
    u = rng.random(n)
    purpose = np.zeros(n, dtype=np.int64)
    process = np.zeros(n, dtype=np.int64)
    for k, r in enumerate(REQUESTERS):
        sel = req == k
        purpose[sel] = _pick(rng, int(sel.sum()), [w for _, w in r.purposes])
        has = sel & (u < r.legal_process_rate)
        process[has] = 1 + _pick(rng, int(has.sum()), [0.4, 0.3, 0.3])
    day = rng.integers(start // US_PER_DAY, max(start // US_PER_DAY + 1, end // US_PER_DAY), size=n)
    when = np.clip(day * US_PER_DAY + (rng.uniform(6, 22, size=n) * US_PER_HOUR).astype(np.int64), start, end - 1)
    return RecordDraws(
        first_index=first_index, requester=req, purpose=purpose, record_kind=_pick(rng, n, [w for _, w in RECORD_KINDS]),
        action=_pick(rng, n, [w for _, w in ACTIONS]), process=process, requested_us=when,
        subject=rng.integers(0, max(1, people), size=n),
    )


_PROCESS = (None, LegalProcessKind.JUDICIAL_WARRANT, LegalProcessKind.COURT_ORDER, LegalProcessKind.SUBPOENA)


def requests(d: RecordDraws, id_prefix: str) -> list[RecordRequest]:
    """Domain objects for the drawn requests."""
    out = []
    for i in range(len(d.requester)):
        r = REQUESTERS[int(d.requester[i])]
        at: datetime = ts(d.requested_us[i])
        kind = _PROCESS[int(d.process[i])]
        judicial = kind in (LegalProcessKind.JUDICIAL_WARRANT, LegalProcessKind.COURT_ORDER)
        judge = (JudgeKind.ARTICLE_III if i % 2 else JudgeKind.FEDERAL_MAGISTRATE) if judicial else JudgeKind.NONE
        action = ACTIONS[int(d.action[i])][0]
        out.append(RecordRequest(
            request_id=f"{id_prefix}R{d.first_index + i}", requester_agency_id=r.agency.agency_id,
            custodian_agency_id=DMV.agency_id, record_kind=RECORD_KINDS[int(d.record_kind[i])][0], action=action,
            subject_person_id=None if action is RecordAction.BULK_READ else f"{id_prefix}P{int(d.subject[i])}",
            purpose=r.purposes[int(d.purpose[i])][0],
            legal_process=LegalProcess(
                kind=kind, judge_kind=judge,
                court="U.S. District Court for the Eastern District of New York" if judicial else None, issued_on=at,
            ) if kind else None,
            requested_at=at, requester_reference=f"case-{d.first_index + i}",
        ))
    return out


def requests_frame(d: RecordDraws, id_prefix: str) -> pl.DataFrame:
    """RECORD_REQUESTS rows (``accord.reports.schema``) before the gateway decides: outcome null."""
    from accord.reports.schema import RECORD_REQUESTS

    reqs = [REQUESTERS[k] for k in range(len(REQUESTERS))]
    n = len(d.requester)
    purposes = pl.Series([p.value for r in reqs for p, _ in r.purposes])
    offset = np.cumsum([0] + [len(r.purposes) for r in reqs])[:-1]
    frame = pl.DataFrame({
        "request_id": pl.Series(np.arange(d.first_index, d.first_index + n)).cast(pl.String),
        "requester_agency_id": pl.Series([r.agency.agency_id for r in reqs]).gather(d.requester),
        "requester_kind": pl.Series([r.agency.kind.value for r in reqs]).gather(d.requester),
        "requester_primarily_enforces_immigration": pl.Series([r.agency.primarily_enforces_immigration for r in reqs]).gather(d.requester),
        "custodian_agency_id": pl.repeat(DMV.agency_id, n, eager=True),
        "jurisdiction": pl.repeat(DMV.jurisdiction, n, eager=True),
        "record_kind": pl.Series([k.value for k, _ in RECORD_KINDS]).gather(d.record_kind),
        "action": pl.Series([a.value for a, _ in ACTIONS]).gather(d.action),
        "purpose": purposes.gather(offset[d.requester] + d.purpose),
        "legal_process_kind": pl.Series([None, *(k.value for k in _PROCESS[1:])], dtype=pl.String).gather(d.process),
        "requested_at": pl.Series(d.requested_us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "outcome": pl.repeat(None, n, dtype=pl.String, eager=True),
        "policy_ids": pl.repeat(None, n, dtype=pl.List(pl.String), eager=True),
        "notice_owed": pl.repeat(None, n, dtype=pl.Boolean, eager=True),
    })
    frame = frame.with_columns((pl.lit(f"{id_prefix}R") + pl.col("request_id")).alias("request_id"))
    return frame.select([pl.col(c).cast(t) for c, t in RECORD_REQUESTS.items()])


def decide_frame(d: RecordDraws, id_prefix: str, pack: str = "ny_dmv") -> pl.DataFrame:
    """RECORD_REQUESTS rows decided by the records gateway (``accord.access``): outcome, policies, notices owed."""
    from accord.access.gateway import Gateway
    from accord.access.model import AccessRequest

    frame = requests_frame(d, id_prefix)
    by_id = {r.agency.agency_id: r.agency for r in REQUESTERS}
    reqs = requests(d, id_prefix)
    decisions = Gateway(pack).check_many([AccessRequest(request=r, requester=by_id[r.requester_agency_id]) for r in reqs])
    return frame.with_columns(
        pl.Series("outcome", [x.outcome for x in decisions], dtype=pl.String),
        pl.Series("policy_ids", [[p.id for p in x.deciding] for x in decisions], dtype=pl.List(pl.String)),
        pl.Series("notice_owed", [bool(x.notices()) for x in decisions], dtype=pl.Boolean),
    )
