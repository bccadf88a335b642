"""A person known to the system by a pseudonymous id; identifying fields are marked personal."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from .base import DomainModel, Identifier, personal, Day, NO_NUL
from .enums import StatusProofKind


class StatusProof(DomainModel):
    """Proof of US citizenship or lawful status the person presented (Tex. CCP art. 2.251(b))."""

    kind: StatusProofKind
    presented_on: Day
    verified: bool = False


class Person(DomainModel):
    person_id: Identifier = Field(description="Pseudonymous; never a name, SSN or A-number.")
    name: str | None = personal(pattern=NO_NUL, default=None, max_length=200)
    birth_date: Day | None = personal(default=None)
    country_of_citizenship: str | None = personal(pattern=NO_NUL, default=None, max_length=64)
    claims_us_citizenship: bool = False
    status_proofs: tuple[StatusProof, ...] = ()
    # Facts read by specific laws (DOMAIN.md §1.2 N3b/N12, §3.1 C-e(4)).
    terrorist_screening_possible_match: bool | None = None
    previously_removed_and_reentered: bool | None = None
    ca_sex_or_arson_registrant: bool | None = None
