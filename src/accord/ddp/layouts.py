"""The two known header layouts of the ICE detainer releases and the columns Accord reads from them.

Sources (DOMAIN.md §7): the Oct 2025 release's names are the ones the Deportation Data Project's
earlier cleaning code reads [D9] and its field descriptions use [D10]; the latest release's names
are those of DDP's current cleaning code (public repository ``deportationdata/ice``, file
``code/detainers-latest.R``) [D15], which renames them to the Oct 2025 names. Both spellings
occur in files people hold, so every column is found by its header text, in either spelling,
wherever it stands: the FY2023 and FY2024 files lack ``Birth Date`` (64 columns, not 65).

Header text is compared after :func:`normal_header` (case, spacing and punctuation ignored), so
``Most Serious Conviction (MSC) Charge`` and ``most serious conviction msc charge`` are one name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The Oct 2025 release, 65 columns in order [D9, D10].
OCT_2025: tuple[str, ...] = (
    "Detainer Prepare Date", "Facility State", "Facility AOR", "Port of Departure", "Departure Country",
    "Departed Date", "Case Status", "Detainer Prepared Criminality", "Detention Facility",
    "Detention Facility Code", "Facility City", "Detainer Prep Threat Level", "Gender", "Citizenship Country",
    "Birth Country", "Birth Date", "Birth Year", "Entry Status", "Most Serious Conviction (MSC) Charge",
    "MSC Sentence Days", "MSC Sentence Months", "MSC Sentence Years", "MSC Charge Code", "MSC Charge Date",
    "MSC Conviction Date", "Felon", "Processing Disposition", "Case Category", "Final Program",
    "Time of Apprehension Case Category", "Time of Apprehension Current Program", "Apprehension Method",
    "Case Final Order Yes No", "Final Order Date", "Apprehension Date", "Entry Date", "Prior Felony Yes No",
    "Multiple Prior MISD Yes No", "Violent Misdemeanor Yes No", "Illegal Entry Yes No", "Illegal Reentry Yes No",
    "Immigration Fraud Yes No", "Significant Risk Yes No", "Other Removal Reason Yes No", "Other Removal Reason",
    "Criminal Street Gang Yes No", "Aggravated Felony Yes No", "Deportation Ordered Yes No",
    "Order to Show Cause Served Yes No", "Order to Show Cause Served Date", "Biometric Match Yes No",
    "Statements Made Yes No", "Unlawful Attempt Yes No", "Unlawful Entry Yes No", "Visa Yes No",
    "Final Order Yes No", "Federal Interest Yes No", "Resume Custody Yes No", "Detainer Lift Reason",
    "Detainer Type", "Alien File Number", "EID Case ID", "EID Subject ID", "EID DTA ID", "Unique Identifier",
)

#: The latest release, 65 columns in order, as DDP's current cleaning code reads it [D15].
LATEST: tuple[str, ...] = (
    "Detainer Prepare Date", "Facility State", "Facility AOR", "Port of Departure", "Departure Country",
    "Departed Date", "Case Status", "Detainer Criminality", "Detainer Facility", "Detainer Facility Code",
    "Facility City", "Detainer Threat Level", "Gender", "Citizenship Country", "Birth Country", "Birth Date",
    "Birth Year", "Entry Status", "MSC Charge", "MSC Sentence Days", "MSC Sentence Months", "MSC Sentence Years",
    "MSC Charge Code", "MSC Charge Date", "MSC Conviction Date", "Aggravated Felon Yes No",
    "Processing Disposition", "Case Category", "TOA Case Category", "TOA Current Program", "Apprehension Method",
    "Final Order Yes No", "Final Order Date", "Apprehension Date", "Entry Date", "Prior Felony Yes No",
    "Multiple Prior MISD Yes No", "Violent Misdemeanor Yes No", "Illegal Entry Yes No", "Illegal Reentry Yes No",
    "Immigration Fraud Yes No", "Significant Risk Yes No", "Other Removal Reason Yes No", "Other Removal Reason",
    "Criminal Street Gang Yes No", "Aggravated Felony Yes No", "Deportation Ordered Yes No",
    "Order to Show Cause Served Yes No", "Order to Show Cause Served Date", "Biometric Match Yes No",
    "Statements Made Yes No", "Unlawful Attempt Yes No", "Unlawful Entry Yes No", "Visa Yes No",
    "Federal Register Notice Yes No", "Resume Custody Yes No", "Detainer Lift Reason", "Detainer Lift Reason Code",
    "Active Investigation Yes No", "Arrest Warrant Served Date", "Detainer Type", "Notify Release Request Yes No",
    "TOD Current Duty Site", "EID DTA ID", "Anonymized Identifier",
)

#: Columns the FY2023 and FY2024 files lack [D15].
OPTIONAL_COLUMNS = ("Birth Date",)


@dataclass(frozen=True)
class Field:
    """A column Accord maps: its own name, the header spellings it goes by, and what kind of value it holds."""

    name: str
    headers: tuple[str, ...]  # Oct 2025 spelling first, then the latest release's (DOMAIN.md §7)
    kind: str  # "date" | "text" | "number"


#: The columns read and mapped (DOMAIN.md §7 gives both spellings of the renamed ones). Everything
#: else in a file is listed as ignored in the import's manifest; personal fields (birth date and
#: year, gender, countries, the A-number) are never read at all.
FIELDS: tuple[Field, ...] = (
    Field("prepare_date", ("Detainer Prepare Date",), "date"),
    Field("facility_state", ("Facility State",), "text"),
    Field("facility_aor", ("Facility AOR",), "text"),
    Field("criminality", ("Detainer Prepared Criminality", "Detainer Criminality"), "text"),
    Field("facility", ("Detention Facility", "Detainer Facility"), "text"),
    Field("facility_code", ("Detention Facility Code", "Detainer Facility Code"), "text"),
    Field("facility_city", ("Facility City",), "text"),
    Field("msc_charge", ("Most Serious Conviction (MSC) Charge", "MSC Charge"), "text"),
    Field("msc_sentence_days", ("MSC Sentence Days",), "number"),
    Field("msc_sentence_months", ("MSC Sentence Months",), "number"),
    Field("msc_sentence_years", ("MSC Sentence Years",), "number"),
    Field("msc_charge_code", ("MSC Charge Code",), "text"),
    Field("msc_charge_date", ("MSC Charge Date",), "date"),
    Field("msc_conviction_date", ("MSC Conviction Date",), "date"),
    Field("lift_reason", ("Detainer Lift Reason",), "text"),
    Field("lift_reason_code", ("Detainer Lift Reason Code",), "text"),
    Field("detainer_type", ("Detainer Type",), "text"),
    Field("person_key", ("Unique Identifier", "Anonymized Identifier"), "text"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
REQUIRED = ("prepare_date",)

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normal_header(text: object) -> str:
    """Header text compared without case, spacing or punctuation.

    >>> normal_header("  Most Serious Conviction (MSC) Charge ")
    'most serious conviction msc charge'
    >>> normal_header("Detainer_Prepare_Date") == normal_header("detainer prepare date")
    True
    """
    return _NON_WORD.sub(" ", str(text).lower()).strip()


#: normalised header -> field name
HEADER_TO_FIELD: dict[str, str] = {normal_header(h): f.name for f in FIELDS for h in f.headers}
_OCT_ONLY = {normal_header(h) for h in OCT_2025} - {normal_header(h) for h in LATEST}
_LATEST_ONLY = {normal_header(h) for h in LATEST} - {normal_header(h) for h in OCT_2025}
_KNOWN = {normal_header(h) for h in OCT_2025 + LATEST}
#: A header row must name the prepare date and at least this many other known columns.
MIN_KNOWN_HEADERS = 5


def is_header_row(cells: list[object]) -> bool:
    """Does this row of cells look like a release's header row (by names, not by position)?"""
    names = {normal_header(c) for c in cells if c is not None and str(c).strip()}
    return normal_header("Detainer Prepare Date") in names and len(names & _KNOWN) >= MIN_KNOWN_HEADERS


def layout_of(headers: list[str]) -> str:
    """``"oct_2025"``, ``"latest"``, ``"mixed"`` (names of both) or ``"unknown"`` (names of neither only).

    >>> layout_of(list(LATEST)), layout_of(list(OCT_2025)), layout_of([h for h in LATEST if h != "Birth Date"])
    ('latest', 'oct_2025', 'latest')
    """
    names = {normal_header(h) for h in headers}
    oct_, latest = bool(names & _OCT_ONLY), bool(names & _LATEST_ONLY)
    if oct_ and latest:
        return "mixed"
    return "oct_2025" if oct_ else "latest" if latest else "unknown"


@dataclass(frozen=True)
class ColumnMap:
    """Where each mapped field is in one sheet's header, and which headers are left unread."""

    positions: dict[str, int]  # field name -> column index
    headers: tuple[str, ...]  # the sheet's header cells as written
    layout: str

    @property
    def used(self) -> tuple[str, ...]:
        return tuple(self.headers[i] for i in sorted(self.positions.values()))

    @property
    def ignored(self) -> tuple[str, ...]:
        taken = set(self.positions.values())
        return tuple(h for i, h in enumerate(self.headers) if i not in taken and h)

    @property
    def missing(self) -> tuple[str, ...]:
        """Mapped fields this sheet does not have (their facts are unknown for its rows)."""
        return tuple(f.name for f in FIELDS if f.name not in self.positions)


def map_columns(headers: list[object], where: str) -> ColumnMap:
    """Find every mapped field in a header row; the prepare date is required, a field named twice is an error."""
    from accord.errors import InputError

    texts = tuple("" if h is None else str(h).strip() for h in headers)
    positions: dict[str, int] = {}
    for i, text in enumerate(texts):
        name = HEADER_TO_FIELD.get(normal_header(text))
        if name is None:
            continue
        if name in positions:
            raise InputError(f"two columns hold {FIELD_BY_NAME[name].headers[0]!r}: "
                             f"{texts[positions[name]]!r} and {text!r}", source=where, field=text)
        positions[name] = i
    for name in REQUIRED:
        if name not in positions:
            raise InputError(f"no {FIELD_BY_NAME[name].headers[0]!r} column in the header row", source=where,
                             field=FIELD_BY_NAME[name].headers[0])
    return ColumnMap(positions, texts, layout_of(list(texts)))
