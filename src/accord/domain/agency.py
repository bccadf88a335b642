"""Agencies and the agreements and certifications that change what they may do."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from .base import DomainModel, Identifier, JurisdictionCode, Day, NO_NUL
from .enums import AgencyKind


class Certification(DomainModel):
    """A signed promise, e.g. NY VTL §201(12)(b): no use for immigration purposes."""

    kind: str = Field(pattern=NO_NUL, min_length=1, max_length=100, description="e.g. 'ny_vtl_201_12_b_no_immigration_use'")
    signed_on: Day
    expires_on: Day | None = None

    def in_force(self, on: date) -> bool:
        return self.signed_on <= on and (self.expires_on is None or on < self.expires_on)


class Agreement(DomainModel):
    """A written agreement with another agency (cost reimbursement, data sharing, 287(g) MOA)."""

    kind: str = Field(pattern=NO_NUL, min_length=1, max_length=100, description="e.g. 'cost_reimbursement', 'data_sharing', '287g_moa'")
    partner_agency_id: Identifier
    effective_from: Day
    effective_to: Day | None = None
    reimburses_all_costs: bool = False

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


class AgencyConfig(DomainModel):
    """Which law decides for an agency: the pack for detainers it receives, the pack for its records.

    Configuration, not a fact about the agency, but recorded in the ledger (``agency.configured``) so
    every decision can be traced to why that law applied, and the read model can be rebuilt.
    """

    agency_id: Identifier
    law_pack: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_]+$")
    access_pack: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_]+$")
    recorded_by: str | None = Field(pattern=NO_NUL, default=None, max_length=200)


class Agency(DomainModel):
    agency_id: Identifier
    name: str = Field(pattern=NO_NUL, min_length=1, max_length=200)
    kind: AgencyKind
    jurisdiction: JurisdictionCode
    primarily_enforces_immigration: bool = False
    parent_agency_id: Identifier | None = None
    certifications: tuple[Certification, ...] = ()
    agreements: tuple[Agreement, ...] = ()

    @model_validator(mode="after")
    def _immigration_kind_is_flagged(self) -> "Agency":
        if self.kind is AgencyKind.IMMIGRATION_ENFORCEMENT and not self.primarily_enforces_immigration:
            raise ValueError("primarily_enforces_immigration must be true for an immigration_enforcement agency")
        return self
