"""Imported rows -> the ``detainers`` history table reports read, one row per ``import.ddp.detainer`` event.

For ``accord.reports.ledger_rows`` to call on the events of kind :data:`~accord.ddp.events.DETAINER`
(``detainer_rows(events)``, each with ``.stream`` and ``.payload_json``, as ``Ledger.events``
yields them). The payloads are decoded in one Polars pass, not one pydantic call a row.

What a row can say (docs/contracts.md: Imported public data):

* ``jurisdiction`` US-<state>; ``received_at`` the prepare date at 12:00 UTC (the release has no
  time; noon UTC is that calendar date in every US zone, UTC-11 to UTC+10); ``facility``,
  ``receiving_agency_id`` (the facility code), ``issuing_office`` (the AOR); ``issuing_component`` ICE.
* ``form``: I-247A for a prepare date on or after 2 Apr 2017, since when it is the only detainer form
  ICE issues (DOMAIN.md §6.2 [F3, F5]); null before (a legacy form may have been used).
* ``requests_*`` from ``Detainer Type`` where recognised: a hold asks for all three (I-247A box 1,
  DOMAIN.md §6.2); a notification asks to be notified and not to hold, and whether it asks for custody
  at release (box 2) is unknown; an unrecognised type leaves all three unknown.
* criminality "pending charges" or "other immigration violator" means no conviction ICE knew of
  [D10]: every ``*_ever`` conviction fact is false and their look-back dates null. A convicted row's
  conviction facts are unknown: the release gives one conviction (the MSC) as NCIC-style text, which
  no pack's classification (NYC's violent-or-serious list, California's §7282.5 list) can be read from.
* ``offense_categories`` from the MSC's text where recognisable (:func:`values.msc_categories`): at
  most the categories of one conviction, so a lower bound of the person's history.
* ``disposition`` from the lift reason where recognised (booked into ICE -> ``transferred``,
  declined -> ``declined``); otherwise null: the release does not say.
* every other FACT column is null: the release does not hold it (judicial or administrative warrant,
  service on the subject, release eligibility, the current arrest, status proof, registries, screening
  flags, agreements). Decisions are null until a pack is replayed over the rows (``accord.synth.replay``,
  ``accord simulate``, ``accord report build --replay``).

Extra columns (``ddp_*``) keep the source row, the duplicate marks and the raw values; a total that
excludes likely duplicates keeps rows whose ``ddp_repeat`` is false (:func:`without_repeats`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

import polars as pl

from accord.law.facts import FACT_SCHEMA
from accord.reports.schema import DETAINERS

from .events import STREAM_PREFIX
from .mapping import by_unique
from .values import Criminality, DetainerType, LiftOutcome, msc_categories

#: Only the I-247A has been issued since this day (ICE Policy 10074.2; DOMAIN.md §6.2).
I_247A_ONLY_FROM = date(2017, 4, 2)
_SOURCE = pl.Struct({"row": pl.Int64, "sheet": pl.String, "sheet_no": pl.Int64})
_CODED = pl.Struct({"code": pl.String, "raw": pl.String})
#: The part of the ``import.ddp.detainer`` payload the history reads (json_decode ignores the rest).
PAYLOAD = pl.Struct({
    "source": _SOURCE,
    "person_key": pl.String,
    "prepared_on": pl.Date,
    "custodian": pl.Struct({"city": pl.String, "code": pl.String, "jurisdiction": pl.String, "name": pl.String,
                            "state": pl.String}),
    "issuing_office": pl.String,
    "criminality": _CODED,
    "msc": pl.Struct({"charge": pl.String, "charge_code": pl.String, "charge_date": pl.Date,
                      "conviction_date": pl.Date}),
    "detainer_type": _CODED,
    "lift_reason": _CODED,
    "likely_duplicate": pl.Boolean,
    "duplicate_of": _SOURCE,
})
EXTRA: dict[str, pl.DataType] = {
    "ddp_stream": pl.String(), "ddp_sheet": pl.String(), "ddp_row": pl.Int64(),
    "ddp_likely_duplicate": pl.Boolean(), "ddp_repeat": pl.Boolean(),
    "ddp_criminality": pl.String(), "ddp_detainer_type": pl.String(), "ddp_lift_reason": pl.String(),
    "ddp_msc_charge": pl.String(), "ddp_msc_conviction_date": pl.Date(),
}
#: Conviction facts: false when ICE knew of no conviction, else unknown.
CONVICTION_FLAGS = ("felony_conviction_ever", "nyc_violent_or_serious_ever", "nyc_covered_crime_ever",
                    "nyc_covered_misdemeanor_ever", "ca_serious_or_violent_felony_ever", "ca_state_prison_felony_ever",
                    "ca_list_felony_ever", "ca_list_wobbler_misdemeanor_ever", "ca_prop47_reduced",
                    "federal_aggravated_felony_ever")


class _Event(Protocol):
    stream: str
    payload_json: str


def schema() -> dict[str, pl.DataType]:
    """The columns :func:`detainer_rows` returns: ``DETAINERS``, then the FACT columns it lacks, then ``EXTRA``."""
    return {**DETAINERS, **{k: v for k, v in FACT_SCHEMA.items() if k not in DETAINERS}, **EXTRA}


def detainer_rows(events: Iterable[_Event]) -> pl.DataFrame:
    """One history row per imported detainer event (see the module docstring for what each column holds)."""
    streams, texts = [], []
    for ev in events:
        streams.append(ev.stream)
        texts.append(ev.payload_json)
    if not texts:
        return pl.DataFrame(schema=schema())
    p = pl.DataFrame({"ddp_stream": streams}).with_columns(
        pl.Series(texts).str.json_decode(PAYLOAD).alias("p")).unnest("p")
    cats = by_unique(p["msc"].struct.field("charge"), lambda u: pl.Series([list(msc_categories(x)) for x in u],
                                                                           dtype=pl.List(pl.String)), pl.List(pl.String))
    crim = pl.col("criminality").struct.field("code")
    kind = pl.col("detainer_type").struct.field("code")
    lift = pl.col("lift_reason").struct.field("code")
    no_conviction = crim.is_in([Criminality.PENDING_CHARGES.value, Criminality.OTHER_IMMIGRATION_VIOLATOR.value])
    known = crim.is_not_null()
    hold, notify = kind == DetainerType.HOLD.value, kind == DetainerType.NOTIFICATION.value
    received = pl.col("prepared_on").cast(pl.Datetime("us")).dt.offset_by("12h").dt.replace_time_zone("UTC")
    out: dict[str, Any] = {
        "detainer_id": pl.format("ddp-{}-{}-{}", pl.col("ddp_stream").str.strip_prefix(STREAM_PREFIX),
                                 pl.col("source").struct.field("sheet_no"), pl.col("source").struct.field("row")),
        "person_id": pl.col("person_key"),
        "jurisdiction": pl.col("custodian").struct.field("jurisdiction"),
        "receiving_agency_id": pl.col("custodian").struct.field("code"),
        "facility": pl.col("custodian").struct.field("name"),
        "issuing_office": pl.col("issuing_office"),
        "issuing_component": pl.lit("ICE"),
        "form": pl.when(pl.col("prepared_on") >= I_247A_ONLY_FROM).then(pl.lit("I-247A")),
        # the prepare date is the date issued (DOMAIN.md §7); from 2 Apr 2017 the form is an I-247A, in use
        "issued_on": pl.col("prepared_on"),
        "form_in_use_on_issue": pl.when(pl.col("prepared_on") >= I_247A_ONLY_FROM).then(True),
        "received_at": received,
        "offense_categories": pl.Series(cats).fill_null(pl.lit([], dtype=pl.List(pl.String))),
        "has_criminal_history": pl.when(known).then(crim == Criminality.CONVICTED.value),
        "decision_rules": pl.lit([], dtype=pl.List(pl.String)),
        "decision_citations": pl.lit([], dtype=pl.List(pl.String)),
        "disposition": pl.when(lift == LiftOutcome.BOOKED_INTO_ICE.value).then(pl.lit("transferred"))
        .when(lift == LiftOutcome.DECLINED.value).then(pl.lit("declined")),
        "requests_hold": pl.when(hold).then(True).when(notify).then(False),
        "requests_notify": pl.when(hold | notify).then(True),
        "requests_transfer": pl.when(hold).then(True),
        **{f: pl.when(no_conviction).then(False) for f in CONVICTION_FLAGS},
        "ddp_sheet": pl.col("source").struct.field("sheet"),
        "ddp_row": pl.col("source").struct.field("row"),
        "ddp_likely_duplicate": pl.col("likely_duplicate"),
        "ddp_repeat": pl.col("duplicate_of").is_not_null(),
        "ddp_criminality": crim,
        "ddp_detainer_type": pl.col("detainer_type").struct.field("raw"),
        "ddp_lift_reason": pl.col("lift_reason").struct.field("raw"),
        "ddp_msc_charge": pl.col("msc").struct.field("charge"),
        "ddp_msc_conviction_date": pl.col("msc").struct.field("conviction_date"),
    }
    cols = schema()
    exprs = []
    for name, dtype in cols.items():
        e = out.get(name, pl.col("ddp_stream") if name == "ddp_stream" else pl.lit(None))
        if isinstance(e, pl.Series):
            e = pl.lit(e)
        exprs.append(e.cast(dtype).alias(name))
    return p.select(exprs)


def without_repeats(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows a total counts when likely duplicates are excluded: each duplicate group once."""
    return frame.filter(~pl.col("ddp_repeat"))


__all__ = ["detainer_rows", "schema", "without_repeats"]
