"""A cohort as domain objects: what the embedded ledger records, one event per thing that happened.

Built from the same :class:`~accord.synth.draw.Cohort` as the flat rows, so the facts the
law reads from these objects equal the flat FACTS row for the same detainer (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from accord.domain import (
    AdministrativeWarrant,
    Agency,
    Charge,
    Conviction,
    CustodyRecord,
    DetainerRequest,
    JudicialWarrant,
    Person,
    StatusProof,
)
from accord.domain.enums import (
    AdministrativeWarrantForm,
    AgencyKind,
    DetainerForm,
    Disposition,
    IssuingComponent,
    JudgeKind,
    OffenseLevel,
    ProbableCauseBasis,
    SentenceType,
    StatusProofKind,
    WarrantBasis,
)

from .catalogue import OFFENCES
from .draw import CONVICTION_JURISDICTIONS, FORMS, JUDGE_KINDS, PC_BASES, SENTENCE_TYPES, Cohort
from .flat import _SEX_FELONY, covered_crime
from .profile import Profile

ICE_AGENCY_ID = "ice-ero-nyc"
_EPOCH = date(1970, 1, 1)


def ts(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))


def day(d: int) -> date:
    return _EPOCH + timedelta(days=int(d))


@dataclass(frozen=True)
class Case:
    """One detainer and what it concerns, as domain objects."""

    person: Person
    custody: CustodyRecord
    detainer: DetainerRequest


def agencies(profile: Profile) -> tuple[Agency, Agency]:
    """The receiving custodian and the issuing immigration agency."""
    custodian = Agency(
        agency_id=profile.receiving_agency_id, name=profile.receiving_agency_name, kind=AgencyKind.CORRECTIONS,
        jurisdiction=profile.jurisdiction,
    )
    ice = Agency(
        agency_id=ICE_AGENCY_ID, name=f"ICE Enforcement and Removal Operations, {profile.issuing_office}",
        kind=AgencyKind.IMMIGRATION_ENFORCEMENT, jurisdiction="US", primarily_enforces_immigration=True,
    )
    return custodian, ice


def _conviction(c: Cohort, k: int, booking_id: str, n: int) -> Conviction:
    o = OFFENCES[int(c.conv_offence[k])]
    release = int(c.conv_release_day[k])
    felony = o.level is OffenseLevel.FELONY
    return Conviction(
        conviction_id=f"{booking_id}-C{n}", offense_code=o.code, offense_text=o.text,
        jurisdiction=CONVICTION_JURISDICTIONS[int(c.conv_jurisdiction[k])], level=o.level, felony_class=o.felony_class,
        disposition=Disposition.YOUTHFUL_OFFENDER if c.conv_yo[k] else Disposition.CONVICTION,
        convicted_on=day(c.conv_day[k]), sentence_type=SentenceType(SENTENCE_TYPES[int(c.conv_sentence[k])]),
        incarceration_end=day(release) if release >= 0 else None, categories=frozenset({o.category}),
        ca_serious_or_violent_felony=o.ca_serious_or_violent, ca_state_prison_felony=felony, ca_list_code=o.ca_list_code,
        federal_aggravated_felony=o.aggravated_felony, nyc_violent_or_serious=o.nyc_violent_or_serious,
        nyc_covered_crime=covered_crime(int(c.conv_offence[k])),
    )


def _charge(c: Cohort, k: int, booking_id: str, n: int, arrested: datetime) -> Charge:
    o = OFFENCES[int(c.charge_offence[k])]
    return Charge(
        charge_id=f"{booking_id}-K{n}", offense_code=o.code, offense_text=o.text, level=o.level, arrested_at=arrested,
        magistrate_probable_cause_found=bool(c.charge_pc_found[k]), serious_or_violent_felony=o.ca_serious_or_violent,
        ca_state_prison_felony=o.level is OffenseLevel.FELONY, categories=frozenset({o.category}),
    )


def cases(c: Cohort, profile: Profile, id_prefix: str) -> list[Case]:
    """Domain objects for every detainer of the cohort, in row order."""
    n = len(c)
    conv_start = np.searchsorted(c.conv_row, np.arange(n + 1))
    charge_start = np.searchsorted(c.charge_row, np.arange(n + 1))
    in_ca = profile.jurisdiction.startswith("US-CA")  # California Sex and Arson Registry
    out: list[Case] = []
    for i in range(n):
        g = c.first_index + i
        person_id, booking_id, request_id = f"{id_prefix}P{g}", f"{id_prefix}B{g}", f"{id_prefix}D{g}"
        booked = ts(c.booked_us[i])
        proofs = (StatusProof(kind=StatusProofKind.US_PASSPORT, presented_on=booked.date(), verified=True),) if c.claims_citizen[i] else ()
        person = Person(
            person_id=person_id, claims_us_citizenship=bool(c.claims_citizen[i]), status_proofs=proofs,
            terrorist_screening_possible_match=bool(c.tsdb[i]), previously_removed_and_reentered=bool(c.reentered[i]),
            ca_sex_or_arson_registrant=in_ca and any(
                not c.conv_yo[k] and _SEX_FELONY[c.conv_offence[k]] for k in range(conv_start[i], conv_start[i + 1])
            ),
        )
        convictions = tuple(_conviction(c, k, booking_id, j) for j, k in enumerate(range(conv_start[i], conv_start[i + 1])))
        charges = tuple(_charge(c, k, booking_id, j, booked) for j, k in enumerate(range(charge_start[i], charge_start[i + 1])))
        custody = CustodyRecord(
            booking_id=booking_id, person_id=person_id, jurisdiction=profile.jurisdiction, agency_id=profile.receiving_agency_id,
            facility=profile.facilities[int(c.facility[i])], booked_at=booked, charges=charges, convictions=convictions,
            release_eligible_at=ts(c.eligible_us[i]),
        )
        form = DetainerForm(FORMS[int(c.form[i])])
        received = ts(c.received_us[i])
        judge = JUDGE_KINDS[int(c.judge[i])]
        detainer = DetainerRequest(
            request_id=request_id, person_id=person_id, booking_id=booking_id, form=form, issuing_agency_id=ICE_AGENCY_ID,
            issuing_component=IssuingComponent.ICE, issuing_office=profile.issuing_office, issued_at=ts(c.issued_us[i]),
            received_at=received, box1_hold_and_notify=bool(c.box1[i]), box2_notify_to_resume_custody=bool(c.box2[i]),
            probable_cause_bases=frozenset(ProbableCauseBasis(b) for bit, b in enumerate(PC_BASES) if int(c.pc_bases[i]) >> bit & 1),
            administrative_warrant=(
                AdministrativeWarrant(
                    form=AdministrativeWarrantForm.I_205 if c.admin_warrant[i] == 2 else AdministrativeWarrantForm.I_200,
                    signed_by_title="Supervisory Detention and Deportation Officer", signed_on=ts(c.issued_us[i]).date(),
                )
                if form is DetainerForm.I_247A else None
            ),
            judicial_warrant=(
                JudicialWarrant(
                    judge_kind=JudgeKind(judge), court="U.S. District Court for the Southern District of New York",
                    basis=WarrantBasis.FEDERAL_CRIMINAL_IMMIGRATION, issued_on=ts(c.issued_us[i]).date(),
                )
                if judge else None
            ),
            served_on_subject=bool(c.served[i]), served_at=received if c.served[i] else None,
            outstanding_federal_felony_warrant=bool(c.judge[i] > 0),
        )
        out.append(Case(person=person, custody=custody, detainer=detainer))
    return out
