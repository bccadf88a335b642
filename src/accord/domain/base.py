"""Shared model configuration and the personal-data marker.

Every domain model is strict (no silent coercion), frozen (a recorded fact is
never edited; corrections are new events) and forbids unknown fields, so a typo
in an ingest file is an error that names the field rather than a silent drop.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

#: Marker placed in a field's JSON schema: the value identifies a person and must
#: never reach a log line, an error message or a published report.
PERSONAL = {"personal_data": True}

#: An id an agency or Accord chose (a booking number, a request id); "/" is allowed ("NYC/2024/0001"),
#: so the HTTP routes that name one use the ``path`` converter.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-/]*$"
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=IDENTIFIER_PATTERN)]
#: Jurisdiction code: ISO 3166-2 style, optionally followed by a locality, e.g.
#: ``US`` (federal), ``US-NY``, ``US-NY-NYC``, ``US-IL-COOK``, ``US-TX``, ``CA`` (Canada).
JurisdictionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3}(-[A-Z0-9]{1,12})?)?$")]

#: Dates and times a record may hold: a year 1 or 9999 is a typing error, and would overflow the
#: time-zone arithmetic the law does (checked in pydantic's core, so it costs nothing per field).
EARLIEST, LATEST = date(1850, 1, 1), date(2199, 12, 31)
Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
Moment = Annotated[AwareDatetime, Field(ge=datetime(1850, 1, 2, tzinfo=UTC), le=datetime(2199, 12, 31, tzinfo=UTC))]

#: Free text may hold any character but NUL, which no record needs and many tools cut text at.
NO_NUL = r"^[^\x00]*$"


def error_message(error: dict[str, Any]) -> str:
    """A pydantic error's message in words a person reads (NUL and date-range errors say what is wrong)."""
    ctx = error.get("ctx") or {}
    if error.get("type") == "string_pattern_mismatch" and ctx.get("pattern") == NO_NUL:
        return "must not contain NUL (\\u0000) characters"
    bound = str(ctx.get("ge", ctx.get("le", "")))[:10]
    if error.get("type") in ("greater_than_equal", "less_than_equal") and bound in (str(EARLIEST), "1850-01-02", str(LATEST)):
        return f"must be a date between {EARLIEST.year} and {LATEST.year}"
    return str(error["msg"])


class DomainModel(BaseModel):
    """Base for every Accord record: strict, immutable, no unknown fields."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", use_enum_values=False)

    @classmethod
    def personal_fields(cls) -> frozenset[str]:
        """Names of the fields marked as personal data (see :data:`PERSONAL`)."""
        return frozenset(
            name
            for name, info in cls.model_fields.items()
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("personal_data")
        )

    def redacted(self) -> dict[str, Any]:
        """A JSON-ready dict with personal fields replaced, safe for logs and errors."""
        data = self.model_dump(mode="json")
        for name in self.personal_fields():
            if data.get(name) is not None:
                data[name] = "<redacted>"
        return data


def personal(**kwargs: Any) -> Any:
    """A pydantic ``Field`` marked as personal data."""
    return Field(json_schema_extra=PERSONAL, **kwargs)
