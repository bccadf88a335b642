"""Synthetic instances of every ingestable domain model, and helpers for ledger tests."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from accord.domain import (
    PAYLOAD_MODELS, AdministrativeWarrant, Agency, AgencyConfig, Agreement, Certification, Charge, Conviction, CustodyRecord,
    DetainerLifted, DetainerRequest, EventKind, JudicialWarrant, LegalProcess, Notice, NoticeSent, Person,
    PostReleaseEncounter, RecordRequest, Reduction, Release, StatusProof,
)
from accord.domain.enums import (
    AdministrativeWarrantForm, AgencyKind, DetainerForm, Disposition, JudgeKind, LegalProcessKind, NoticeKind,
    OffenseCategory, OffenseLevel, PriorityBasis, ProbableCauseBasis, Recipient, RecordKind, ReductionKind,
    ReleaseReason, RequestPurpose, SentenceType, StatusProofKind, WarrantBasis,
)

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def make_samples(i: int = 0) -> dict[EventKind, BaseModel]:
    """One fully populated, synthetic instance per ingestable kind (nested models and sets included)."""
    t = T0 + timedelta(hours=i)
    charge = Charge(
        charge_id=f"C-{i}", offense_code="NY PL 120.05", offense_text="Assault 2", level=OffenseLevel.FELONY,
        arrested_at=t - timedelta(hours=3), magistrate_probable_cause_found=True, serious_or_violent_felony=True,
        categories=frozenset({OffenseCategory.ASSAULT, OffenseCategory.WEAPONS, OffenseCategory.OTHER}),
    )
    conviction = Conviction(
        conviction_id=f"CV-{i}", offense_code="CA PC 459", offense_text="Burglary", jurisdiction="US-CA",
        level=OffenseLevel.FELONY, felony_class="E", wobbler=True, disposition=Disposition.CONVICTION,
        convicted_on=date(2015, 6, 1), sentence_type=SentenceType.JAIL, incarceration_end=date(2016, 1, 1),
        reductions=(Reduction(kind=ReductionKind.PROP_47, on=date(2016, 5, 1), new_level=OffenseLevel.MISDEMEANOR),),
        categories=frozenset({OffenseCategory.THEFT}), ca_list_code="B",
    )
    return {
        EventKind.AGENCY_REGISTERED: Agency(
            agency_id=f"AG-{i}", name="Synthetic County Sheriff", kind=AgencyKind.SHERIFF, jurisdiction="US-NY-NYC",
            certifications=(Certification(kind="ny_vtl_201_12_b_no_immigration_use", signed_on=date(2025, 1, 1)),),
            agreements=(Agreement(kind="data_sharing", partner_agency_id="AG-X", effective_from=date(2024, 1, 1)),),
        ),
        EventKind.AGENCY_CONFIGURED: AgencyConfig(agency_id=f"AG-{i}", law_pack="nyc_doc", access_pack=None,
                                                  recorded_by="cli"),
        EventKind.PERSON_REGISTERED: Person(
            person_id=f"P-{i}", name="Synthetic Person", birth_date=date(1990, 1, 1), country_of_citizenship="ZZ",
            status_proofs=(StatusProof(kind=StatusProofKind.US_PASSPORT, presented_on=date(2026, 1, 1), verified=True),),
        ),
        EventKind.CUSTODY_BOOKED: CustodyRecord(
            booking_id=f"B-{i}", person_id=f"P-{i}", jurisdiction="US-NY-NYC", agency_id=f"AG-{i}",
            facility="Synthetic Detention Center \u00e9\u4e2d", booked_at=t, charges=(charge,), convictions=(conviction,),
            release_eligible_at=t + timedelta(days=2),
        ),
        EventKind.DETAINER_RECEIVED: DetainerRequest(
            request_id=f"D-{i}", person_id=f"P-{i}", booking_id=f"B-{i}", form=DetainerForm.I_247A,
            issuing_agency_id="ICE-ERO", issuing_office="Synthetic Field Office", issued_at=t, received_at=t + timedelta(hours=1),
            box1_hold_and_notify=True,
            probable_cause_bases=frozenset({ProbableCauseBasis.FINAL_ORDER_OF_REMOVAL, ProbableCauseBasis.BIOMETRIC_AND_RECORDS_CHECK}),
            priority_bases=frozenset({PriorityBasis.FELONY, PriorityBasis.GANG}),
            administrative_warrant=AdministrativeWarrant(form=AdministrativeWarrantForm.I_200, signed_by_title="SDDO", signed_on=date(2026, 3, 1)),
            judicial_warrant=JudicialWarrant(judge_kind=JudgeKind.ARTICLE_III, court="S.D.N.Y.", basis=WarrantBasis.FEDERAL_CRIMINAL_IMMIGRATION,
                                             issued_on=date(2026, 3, 1)),
            served_on_subject=True, served_at=t + timedelta(hours=2),
        ),
        EventKind.DETAINER_LIFTED: DetainerLifted(request_id=f"D-{i}", lifted_at=t + timedelta(days=1), reason="cancelled"),
        EventKind.CUSTODY_RELEASED: Release(
            booking_id=f"B-{i}", person_id=f"P-{i}", released_at=t + timedelta(days=2), reason=ReleaseReason.BAIL_POSTED,
            to_agency_id="ICE-ERO", detainer_request_id=f"D-{i}",
        ),
        EventKind.ENCOUNTER_POST_RELEASE: PostReleaseEncounter(
            encounter_id=f"E-{i}", person_id=f"P-{i}", booking_id=f"B-{i}", agency_id="ICE-ERO", encountered_at=t + timedelta(days=3),
        ),
        EventKind.RECORD_REQUESTED: RecordRequest(
            request_id=f"R-{i}", requester_agency_id="ICE-HSI", custodian_agency_id="NY-DMV", record_kind=RecordKind.DMV_PHOTO,
            subject_person_id=f"P-{i}", purpose=list(RequestPurpose)[0],
            legal_process=LegalProcess(kind=list(LegalProcessKind)[0], judge_kind=JudgeKind.STATE, court="Kings County", issued_on=t),
            requested_at=t, requester_reference="case 42",
        ),
        EventKind.NOTICE_DUE: Notice(
            notice_id=f"N-{i}", kind=list(NoticeKind)[0], recipient=list(Recipient)[0], person_id=f"P-{i}",
            about_request_id=f"R-{i}", due_by=t + timedelta(days=3), citation="N.Y. VTL §201(12)(c)", business_days=True,
        ),
        EventKind.NOTICE_SENT: NoticeSent(notice_id=f"N-{i}", sent_at=t + timedelta(days=1), channel="mail"),
    }


@pytest.fixture
def samples() -> dict[EventKind, BaseModel]:
    got = make_samples()
    assert set(got) == set(PAYLOAD_MODELS), "a new ingestable kind needs a sample here"
    return got


def run_accord(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (as a person would)."""
    return subprocess.run([sys.executable, "-c", "from accord.cli import main; main()", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=Path(__file__).parent)


@pytest.fixture
def sample_factory():
    """``make_samples(i)``: the i-th synthetic set (distinct ids per i)."""
    return make_samples


@pytest.fixture
def accord_cli():
    """``accord_cli(*args, env=...)``: run the real CLI in a subprocess."""
    return run_accord
