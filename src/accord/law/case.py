"""The unit the law decides: one detainer with the custody, person and agency it concerns."""

from __future__ import annotations

from pydantic import model_validator

from accord.domain import Agency, CustodyRecord, DetainerRequest, Person
from accord.domain.base import DomainModel


class DetainerCase(DomainModel):
    """A detainer request plus everything the law reads to answer it.

    ``receiving_agency`` is the custodian (jail, police department) that holds the
    person; its agreements (e.g. Cook County's cost-reimbursement condition) are facts.
    """

    detainer: DetainerRequest
    custody: CustodyRecord
    person: Person
    receiving_agency: Agency

    @model_validator(mode="after")
    def _same_person_and_booking(self) -> "DetainerCase":
        if self.detainer.person_id != self.person.person_id or self.custody.person_id != self.person.person_id:
            raise ValueError("detainer.person_id, custody.person_id and person.person_id must be the same person")
        if self.detainer.booking_id != self.custody.booking_id:
            raise ValueError("detainer.booking_id must be the custody record's booking_id")
        if self.custody.agency_id != self.receiving_agency.agency_id:
            raise ValueError("custody.agency_id must be the receiving_agency's agency_id")
        return self
