"""Charges (the present arrest) and convictions (the history laws look back over)."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field, model_validator

from .base import DomainModel, Identifier, JurisdictionCode, Day, Moment, NO_NUL
from .enums import Disposition, OffenseCategory, OffenseLevel, ReductionKind, SentenceType


class Reduction(DomainModel):
    kind: ReductionKind
    on: Day
    new_level: OffenseLevel | None = None


class Charge(DomainModel):
    """A charge on the current booking."""

    charge_id: Identifier
    offense_code: str = Field(pattern=NO_NUL, min_length=1, max_length=64, description="Statute, e.g. 'NY PL 120.05' or 'CA PC 245'")
    offense_text: str = Field(pattern=NO_NUL, default="", max_length=300)
    level: OffenseLevel
    arrested_at: Moment
    # California §7282.5(b): a magistrate found probable cause under PC §872 on this charge.
    magistrate_probable_cause_found: bool | None = None
    serious_or_violent_felony: bool | None = None
    # California §7282.5(b): charged with a felony punishable by imprisonment in state prison.
    ca_state_prison_felony: bool | None = None
    categories: frozenset[OffenseCategory] = frozenset()
    disposition: Disposition = Disposition.PENDING


class Conviction(DomainModel):
    """A prior adjudication. YO/JD adjudications are recorded with that disposition (not convictions under NY law)."""

    conviction_id: Identifier
    offense_code: str = Field(pattern=NO_NUL, min_length=1, max_length=64)
    offense_text: str = Field(pattern=NO_NUL, default="", max_length=300)
    jurisdiction: JurisdictionCode
    level: OffenseLevel
    felony_class: str | None = Field(pattern=NO_NUL, default=None, max_length=8)
    wobbler: bool = False
    disposition: Disposition = Disposition.CONVICTION
    convicted_on: Day
    sentence_type: SentenceType = SentenceType.NONE
    incarceration_end: Day | None = None
    reductions: tuple[Reduction, ...] = ()
    categories: frozenset[OffenseCategory] = frozenset()
    # Classifications that some laws read and that need a lawyer's mapping for out-of-state offences.
    ca_serious_or_violent_felony: bool | None = None  # PC §1192.7(c) / §667.5(c)
    ca_state_prison_felony: bool | None = None
    ca_list_code: str | None = Field(pattern=NO_NUL, default=None, max_length=2, description="§7282.5(a)(3) list letter A-AE")
    federal_aggravated_felony: bool | None = None  # INA §101(a)(43)(A)-(P)
    nyc_violent_or_serious: bool | None = None  # NYC Admin Code §9-131 list (see DOMAIN.md §9 Q1)
    nyc_covered_crime: bool | None = None  # pre-2014 NYC model

    @model_validator(mode="after")
    def _dates_in_order(self) -> "Conviction":
        if self.incarceration_end is not None and self.incarceration_end < self.convicted_on:
            raise ValueError("incarceration_end must not be before convicted_on")
        return self

    def effective_level(self, on: date) -> OffenseLevel:
        """Level after any reduction in force on ``on`` (e.g. Prop 47)."""
        level = self.level
        for r in sorted(self.reductions, key=lambda r: r.on):
            if r.on <= on and r.new_level is not None:
                level = r.new_level
        return level


