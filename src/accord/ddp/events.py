"""The ledger events an imported release becomes (docs/contracts.md: Imported public data).

One file is one stream, ``import/ddp/<first 16 hex digits of its SHA-256>``:

1. ``import.ddp.release`` — the manifest: which file (name, SHA-256, size, format), the release's
   name, every sheet with its header row, layout and the columns used, ignored and missing, and the
   counts of the run (rows, imported, rejected, likely duplicates, unknown and unreadable values,
   filled and redacted cells per column). Everything phase 2's "what this release can and cannot
   tell" needs, without re-reading the file.
2. then, in file order, one ``import.ddp.detainer`` per imported row and one ``import.ddp.rejected``
   per row that could not be mapped, each ``caused_by`` the manifest and naming its sheet and row.

A detainer event holds what the row says in Accord's words and nothing more: the facility that
received it (custodian), the ICE field office (issuing office), the prepare date, ICE's criminality
class, the most serious conviction, and the detainer type and lift reason as written plus the code
recognised from them (:mod:`accord.ddp.values`; null when not recognised). The anonymised identifier
is kept as the person key (the release holds no names). Birth date and year, gender, countries and
the A-number are never read: no fact any pack reads needs them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from accord.domain.base import DomainModel, JurisdictionCode
from accord.domain.events import EventKind

from .values import Criminality, DetainerType, LiftOutcome

RELEASE = EventKind.IMPORT_DDP_RELEASE.value
DETAINER = EventKind.IMPORT_DDP_DETAINER.value
REJECTED = EventKind.IMPORT_DDP_REJECTED.value
KINDS = (RELEASE, DETAINER, REJECTED)
STREAM_PREFIX = "import/ddp/"
IMPORTER = "accord.ddp/1"
#: Longest text a cell may hold to be imported (a longer one is a rejected row, not a truncated value).
MAX_TEXT = 500
MAX_KEY = 128

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def stream_for(sha256: str) -> str:
    """>>> stream_for("ab" * 32)
    'import/ddp/abababababababab'
    """
    return STREAM_PREFIX + sha256[:16]


class SourceRow(DomainModel):
    """Where a row is in the file: the sheet (and its place among the sheets) and the row a spreadsheet shows."""

    sheet: Text
    sheet_no: int = Field(ge=1)
    row: int = Field(ge=1)


class Custodian(DomainModel):
    """The jail or prison that received the detainer (``Detention Facility`` and its code, city and state)."""

    name: Text | None = None
    code: Text | None = None  # DETLOC [D10]
    city: Text | None = None
    state: Text | None = None  # as written
    jurisdiction: JurisdictionCode | None = None  # US-<state>, when the state was recognised


class Coded(DomainModel):
    """A category cell: the text as written and what it was recognised as (null: not recognised)."""

    raw: Text


class CriminalityValue(Coded):
    code: Criminality | None = None


class DetainerTypeValue(Coded):
    code: DetainerType | None = None


class LiftReasonValue(Coded):
    code: LiftOutcome | None = None


class MostSeriousConviction(DomainModel):
    """The one conviction a row carries (``MSC ...``); the release holds no other [D10]."""

    charge: Text | None = None  # NCIC-style text [D10]
    charge_code: Text | None = None
    charge_date: date | None = None
    conviction_date: date | None = None
    sentence_days: int | None = Field(default=None, ge=0)
    sentence_months: int | None = Field(default=None, ge=0)
    sentence_years: int | None = Field(default=None, ge=0)


class ImportedDetainer(DomainModel):
    """``import.ddp.detainer``: one row of a release, as far as it can be read."""

    source: SourceRow
    person_key: Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY)] | None = None
    prepared_on: date  # Detainer Prepare Date: issued/sent to the receiving jail [D10]
    custodian: Custodian
    issuing_office: Text | None = None  # Facility AOR: the ICE field office [D10]
    criminality: CriminalityValue | None = None
    msc: MostSeriousConviction | None = None
    detainer_type: DetainerTypeValue | None = None
    lift_reason: LiftReasonValue | None = None
    lift_reason_code: Text | None = None  # ``Detainer Lift Reason Code`` (latest layout only), as written
    #: DDP's flag [D15]: another imported row has the same person key and prepare date.
    likely_duplicate: bool = False
    #: The first row (file order) of this row's duplicate group; null for that first row and for rows in none.
    #: Counting rows whose ``duplicate_of`` is null counts each group once.
    duplicate_of: SourceRow | None = None
    redacted_fields: tuple[str, ...] = ()  # mapped fields whose cell was a redaction marker
    unreadable_fields: tuple[str, ...] = ()  # mapped fields whose cell could not be read (kept as null)


class RejectedRow(DomainModel):
    """``import.ddp.rejected``: a row that could not be mapped, and why (no personal values in the reason)."""

    source: SourceRow
    field: Text | None = None  # the column header at fault
    reason: Text


class SheetManifest(DomainModel):
    name: Text
    sheet_no: int = Field(ge=1)
    header_row: int | None = Field(default=None, ge=1)
    layout: Literal["oct_2025", "latest", "mixed", "unknown"]
    columns: int = Field(ge=0)
    used: tuple[str, ...]
    ignored: tuple[str, ...]
    missing: tuple[str, ...]  # mapped fields the sheet lacks (unknown for its rows)
    rows: int = Field(ge=0)


class ImportedRelease(DomainModel):
    """``import.ddp.release``: the manifest of one imported file."""

    importer: Literal["accord.ddp/1"] = IMPORTER
    release: Text
    file_name: Text
    file_format: Literal["xlsx", "csv", "parquet"]
    sha256: Sha256
    size_bytes: int = Field(ge=0)
    sheets: tuple[SheetManifest, ...]
    rows: int = Field(ge=0)
    imported: int = Field(ge=0)
    rejected: int = Field(ge=0)
    likely_duplicates: int = Field(ge=0)
    duplicate_groups: int = Field(ge=0)
    prepared_from: date | None = None
    prepared_to: date | None = None
    unknown_values: dict[str, int]  # per column header: category cells not recognised
    unknown_examples: dict[str, dict[str, int]]  # per column header: the most frequent such values
    unreadable: dict[str, int]  # per column header: date and number cells that could not be read
    filled_cells: dict[str, int]  # per column header (every column of the file): cells holding a value
    redacted_cells: dict[str, int]  # per column header (every column of the file): cells redacted
    notes: tuple[str, ...] = ()  # what the mapping assumes, with its sources
