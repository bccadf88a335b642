"""Every report table, written once as an Ibis expression over the history tables.

The same expressions run on DuckDB and on PySpark: nothing here names a backend.
Each query returns the table's key columns and raw counts; ``accord.reports.table``
adds totals and suppression. Periods are calendar periods in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import polars as pl
from ibis import _

from .schema import DISPOSITIONS

PERIODS = ("month", "quarter", "year")
HONORED = ("transferred", "notified_only")


@dataclass(frozen=True)
class QueryParams:
    period: str = "month"


def period_label(ts: Any, period: str) -> Any:
    """``2020``, ``2020-Q1`` or ``2020-01`` for a UTC timestamp column."""
    year = ts.year().cast("string")
    if period == "year":
        return year
    if period == "quarter":
        return year + "-Q" + ts.quarter().cast("string")
    return year + "-" + ts.month().cast("string").lpad(2, "0")


def _disposition_counts() -> dict[str, Any]:
    return {d: (_.disposition == d).sum() for d in DISPOSITIONS}


def detainers_by(d: Any, key: str, key_expr: Any) -> Any:
    """Received, each disposition (they partition received), and held past release, by ``key``."""
    return (
        d.mutate(**{key: key_expr})
        .group_by(key)
        .aggregate(received=_.count(), **_disposition_counts(), held=_.hold_hours.notnull().sum())
    )


def detainers_by_period(h: dict[str, Any], p: QueryParams) -> Any:
    d = h["detainers"]
    return detainers_by(d, "period", period_label(d.received_at, p.period))


def detainers_by_office(h: dict[str, Any], p: QueryParams) -> Any:
    d = h["detainers"]
    return detainers_by(d, "issuing_office", d.issuing_office)


def _outcome_counts() -> dict[str, Any]:
    return {
        "detainers": _.count(),
        "held": _.hold_hours.notnull().sum(),
        "transferred": (_.disposition == "transferred").sum(),
        "notified_only": (_.disposition == "notified_only").sum(),
        "declined": (_.disposition == "declined").sum(),
    }


def detainers_by_reason(h: dict[str, Any], p: QueryParams) -> Any:
    """Detainers by each rule that fired, per law pack (a detainer counts once per distinct rule)."""
    d = h["detainers"]
    return (
        d.mutate(rule_id=d.decision_rules.unique().unnest())
        .group_by(["pack_id", "rule_id"])
        .aggregate(**_outcome_counts())
    )


def rule_citations(raw: pl.DataFrame) -> pl.DataFrame:
    """Add each rule's citation from its law pack (the history lists rule ids; the pack says what they cite)."""
    cites: dict[tuple[str, str], str] = {}
    for pack_id in raw["pack_id"].drop_nulls().unique().to_list():
        try:
            from accord.law import load_pack

            pack = load_pack(pack_id)
        except Exception:  # an unknown or retired pack: show the rule id alone
            continue
        cites.update({(pack_id, r.id): r.citation for r in pack.rules})
    return raw.with_columns(
        citation=pl.Series([cites.get((p, r), "(not in a shipped pack)") for p, r in zip(raw["pack_id"], raw["rule_id"], strict=True)], dtype=pl.String)
    )


def detainers_by_offence(h: dict[str, Any], p: QueryParams) -> Any:
    """Detainers by offence category of the subject's history (multi-valued: one person, several rows)."""
    d = h["detainers"]
    return (
        d.mutate(offence_category=d.offense_categories.unique().unnest())
        .group_by("offence_category")
        .aggregate(**_outcome_counts())
    )


HOLD_BUCKETS = ((12, "0-12 h"), (24, "12-24 h"), (36, "24-36 h"), (48, "36-48 h"), (72, "48-72 h"))


def hold_durations(h: dict[str, Any], p: QueryParams) -> Any:
    """Holds past release by length, and how many ran past the legal deadline the pack set."""
    d = h["detainers"].filter(_.hold_hours.notnull())
    bucket = ibis.cases(*((d.hold_hours < hi, label) for hi, label in HOLD_BUCKETS), else_="72 h or more")
    return (
        d.mutate(hold_length=bucket)
        .group_by("hold_length")
        .aggregate(
            held=_.count(),
            past_legal_limit=(_.released_at > _.hold_deadline).sum(),
            no_deadline_recorded=_.hold_deadline.isnull().sum(),
        )
    )


def notices_timeliness(h: dict[str, Any], p: QueryParams) -> Any:
    """Notices the law owed, by kind and clause: sent on time, sent late, not sent."""
    n = h["notices"]
    return n.group_by(["kind", "citation"]).aggregate(
        owed=_.count(),
        sent_on_time=(_.sent_at.notnull() & (_.sent_at <= _.due_by)).sum(),
        sent_late=(_.sent_at > _.due_by).sum(),
        not_sent=_.sent_at.isnull().sum(),
    )


def record_requests(h: dict[str, Any], p: QueryParams) -> Any:
    r = h["record_requests"]
    return r.group_by(["requester_kind", "purpose"]).aggregate(
        requests=_.count(), allowed=(_.outcome == "allow").sum(), denied=(_.outcome == "deny").sum()
    )


def record_requests_by_record(h: dict[str, Any], p: QueryParams) -> Any:
    r = h["record_requests"]
    return r.group_by(["record_kind", "action"]).aggregate(
        requests=_.count(), allowed=(_.outcome == "allow").sum(), denied=(_.outcome == "deny").sum()
    )


NYC = "US-NY-NYC"
CALIFORNIA = "US-CA"


def nypd_14_154(h: dict[str, Any], p: QueryParams) -> Any:
    """NYC Admin Code §14-154's four annual counts, per receiving agency (people counted once a year)."""
    d = h["detainers"].filter(_.jurisdiction.startswith(NYC))
    return (
        d.mutate(year=d.received_at.year().cast("string"))
        .group_by(["year", "receiving_agency_id"])
        .aggregate(
            detainers_received=_.count(),
            individuals_held=_.person_id.nunique(where=_.hold_hours.notnull()),
            individuals_transferred=_.person_id.nunique(where=_.disposition == "transferred"),
            individuals_not_honored=_.person_id.nunique(where=_.disposition == "declined"),
        )
    )


IMMIGRATION_PURPOSES = ("civil_immigration_enforcement", "criminal_immigration_enforcement")


def nyc_10_178(h: dict[str, Any], p: QueryParams) -> Any:
    """§10-178(d) quarterly, anonymised: immigration-enforcement requests and the city's responses."""
    d = h["detainers"].filter(_.jurisdiction.startswith(NYC))
    det = d.select(
        quarter=period_label(d.received_at, "quarter"),
        request=ibis.literal("detainer ") + d.form,
        requester=d.issuing_component,
        complied=d.disposition.isin(HONORED).cast("int64"),
        declined=(d.disposition == "declined").cast("int64"),
    )
    r = h["record_requests"].filter(
        _.jurisdiction.startswith(NYC)
        & (_.purpose.isin(IMMIGRATION_PURPOSES) | _.requester_primarily_enforces_immigration)
    )
    rec = r.select(
        quarter=period_label(r.requested_at, "quarter"),
        request=ibis.literal("record ") + r.record_kind,
        requester=r.requester_kind,
        complied=(r.outcome == "allow").cast("int64"),
        declined=(r.outcome == "deny").cast("int64"),
    )
    return (
        det.union(rec)
        .group_by(["quarter", "request", "requester"])
        .aggregate(requests=_.count(), complied=_.complied.sum(), declined=_.declined.sum())
        .mutate(other=_.requests - _.complied - _.declined)
    )


def ca_7284_6_c2(h: dict[str, Any], p: QueryParams) -> Any:
    """Cal. Gov. Code §7284.6(c)(2): transfers a year, and the offence (category) behind each."""
    d = h["detainers"].filter(_.jurisdiction.startswith(CALIFORNIA) & (_.disposition == "transferred"))
    year = d.received_at.year().cast("string")
    by_offence = d.mutate(year=year, offence=d.offense_categories.unique().unnest())
    by_offence = by_offence.group_by(["year", "offence"]).aggregate(transfers=_.count())
    every = d.mutate(year=year).group_by("year").aggregate(offence=ibis.literal("(all transfers)"), transfers=_.count())
    return by_offence.union(every.select("year", "offence", "transfers"))


def truth_act_forum(h: dict[str, Any], p: QueryParams) -> Any:
    """Cal. Gov. Code §7283.1(d) forum data: the 'ICE access' each agency gave in a year."""
    d = h["detainers"].filter(_.jurisdiction.startswith(CALIFORNIA))
    gave = ("allow", "require")
    return (
        d.mutate(year=d.received_at.year().cast("string"))
        .group_by(["year", "receiving_agency_id"])
        .aggregate(
            requests_received=_.count(),
            release_notified=_.disposition.isin(HONORED).sum(),
            transferred=(_.disposition == "transferred").sum(),
            interview_allowed=_.decision_allow_interview.isin(gave).sum(),
            info_shared=_.decision_share_info.isin(gave).sum(),
        )
    )
