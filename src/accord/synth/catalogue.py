"""The offences a synthetic history draws from, with the classifications laws read.

Codes are real New York Penal Law / Vehicle and Traffic Law sections so the records
look like what a jail holds, but the *classifications* here (``nyc_violent_or_serious``,
``aggravated_felony``, the California flags) are the generator's stand-ins: the official
NYC §9-131 list was not obtained (DOMAIN.md §9 Q1), so where a law pack carries its own
list, the pack's list wins and these flags only describe the synthetic data.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.domain.enums import OffenseCategory, OffenseLevel

C = OffenseCategory
F, M, V = OffenseLevel.FELONY, OffenseLevel.MISDEMEANOR, OffenseLevel.VIOLATION


@dataclass(frozen=True)
class Offence:
    code: str
    text: str
    category: OffenseCategory
    level: OffenseLevel
    felony_class: str | None
    weight: float  # relative frequency within its category
    nyc_violent_or_serious: bool
    aggravated_felony: bool = False
    ca_serious_or_violent: bool = False
    ca_list_code: str | None = None


#: Offences by category; weights give the share of convictions in that category.
OFFENCES: tuple[Offence, ...] = (
    Offence("NY PL 120.00", "Assault in the third degree", C.ASSAULT, M, "A", 0.55, False),
    Offence("NY PL 120.05", "Assault in the second degree", C.ASSAULT, F, "D", 0.30, True, ca_serious_or_violent=True, ca_list_code="A"),
    Offence("NY PL 120.10", "Assault in the first degree", C.ASSAULT, F, "B", 0.10, True, True, True, "A"),
    Offence("NY PL 121.12", "Strangulation in the second degree", C.ASSAULT, F, "D", 0.05, True, ca_list_code="A"),
    Offence("NY VTL 1192.3", "Driving while intoxicated", C.DUI, M, None, 0.70, False, ca_list_code="Z"),
    Offence("NY VTL 1192.2-a", "Aggravated driving while intoxicated", C.DUI, M, None, 0.18, False, ca_list_code="Z"),
    Offence("NY VTL 1193.1(c)", "Felony driving while intoxicated", C.DUI, F, "E", 0.10, False, ca_list_code="Z"),
    Offence("NY PL 120.03", "Vehicular assault in the second degree", C.DUI, F, "E", 0.02, True, ca_list_code="Z"),
    Offence("NY PL 130.52", "Forcible touching", C.SEX_CRIME, M, "A", 0.45, False, ca_list_code="L"),
    Offence("NY PL 130.20", "Sexual misconduct", C.SEX_CRIME, M, "A", 0.25, False, ca_list_code="L"),
    Offence("NY PL 130.30", "Rape in the second degree", C.SEX_CRIME, F, "D", 0.15, True, True, True, "L"),
    Offence("NY PL 130.35", "Rape in the first degree", C.SEX_CRIME, F, "B", 0.15, True, True, True, "L"),
    Offence("NY PL 265.01", "Criminal possession of a weapon in the fourth degree", C.WEAPONS, M, "A", 0.55, False, ca_list_code="M"),
    Offence("NY PL 265.02", "Criminal possession of a weapon in the third degree", C.WEAPONS, F, "D", 0.25, True, True, False, "M"),
    Offence("NY PL 265.03", "Criminal possession of a weapon in the second degree", C.WEAPONS, F, "C", 0.20, True, True, True, "M"),
    Offence("NY PL 160.05", "Robbery in the third degree", C.ROBBERY, F, "D", 0.45, True, True, True, "A"),
    Offence("NY PL 160.10", "Robbery in the second degree", C.ROBBERY, F, "C", 0.35, True, True, True, "A"),
    Offence("NY PL 160.15", "Robbery in the first degree", C.ROBBERY, F, "B", 0.20, True, True, True, "A"),
    Offence("NY PL 125.15", "Manslaughter in the second degree", C.HOMICIDE, F, "C", 0.45, True, True, True, "A"),
    Offence("NY PL 125.20", "Manslaughter in the first degree", C.HOMICIDE, F, "B", 0.25, True, True, True, "A"),
    Offence("NY PL 125.25", "Murder in the second degree", C.HOMICIDE, F, "A-I", 0.30, True, True, True, "A"),
    Offence("NY PL 220.03", "Criminal possession of a controlled substance in the seventh degree", C.DRUGS, M, "A", 0.65, False),
    Offence("NY PL 220.39", "Criminal sale of a controlled substance in the third degree", C.DRUGS, F, "B", 0.35, False, True, False, "I"),
    Offence("NY PL 155.25", "Petit larceny", C.THEFT, M, "A", 0.75, False),
    Offence("NY PL 155.30", "Grand larceny in the fourth degree", C.THEFT, F, "E", 0.25, False),
    Offence("NY PL 140.20", "Burglary in the third degree", C.OTHER, F, "D", 0.20, False, ca_list_code="N"),
    Offence("NY PL 140.25", "Burglary in the second degree", C.OTHER, F, "C", 0.10, True, False, True, "N"),
    Offence("NY PL 240.20", "Disorderly conduct", C.OTHER, V, None, 0.35, False),
    Offence("NY PL 145.00", "Criminal mischief in the fourth degree", C.OTHER, M, "A", 0.25, False),
    Offence("8 USC 1326", "Reentry of removed alien", C.OTHER, F, None, 0.10, False, True),
)

#: The six categories of the 2020 NYC figures (DOMAIN.md §10), in the order published.
PUBLISHED_CATEGORIES: tuple[OffenseCategory, ...] = (C.ASSAULT, C.DUI, C.SEX_CRIME, C.WEAPONS, C.ROBBERY, C.HOMICIDE)
#: Every category, indexed by the bit it occupies in a history's category mask.
CATEGORIES: tuple[OffenseCategory, ...] = tuple(OffenseCategory)
CATEGORY_BIT = {c: i for i, c in enumerate(CATEGORIES)}


def offences_in(category: OffenseCategory) -> tuple[int, ...]:
    """Indices into :data:`OFFENCES` of the offences in ``category``."""
    return tuple(i for i, o in enumerate(OFFENCES) if o.category is category)
