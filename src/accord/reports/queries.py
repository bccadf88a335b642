"""Every report table, written once as an Ibis expression over the history tables.

The same expressions run on DuckDB and on PySpark; the only backend-specific name (the
epoch function) lives in ``accord.reports.calendar``. Counting happens on the raw rows,
labels and list-unnesting on the small aggregated result.
Each query returns the table's key columns and raw counts; ``accord.reports.table``
adds totals and suppression. Periods are calendar periods in each jurisdiction's local time
(``accord.reports.calendar``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import polars as pl
from ibis import _

from .calendar import by_period, label_period, local_year_day, period_columns, zone_for
from .schema import DISPOSITIONS, LIST_KEYS, LIST_SEPARATOR

PERIODS = ("month", "quarter", "year")
HONORED = ("transferred", "notified_only")


@dataclass(frozen=True)
class QueryParams:
    period: str = "month"
    backend: str = "duckdb"  # only to name the epoch function (accord.reports.calendar)


def outcome_rows(t: Any) -> Any:
    """The history with a ``_held`` flag: counting by (keys, disposition, _held) then pivoting is cheaper
    than a conditional sum per disposition over every row."""
    return t.mutate(_held=t.hold_hours.notnull())


def pivot(g: Any, keys: list[str], cols: tuple[str, ...], **extra: Any) -> Any:
    """From counts ``n`` by (keys, disposition, _held) to one column per disposition (small input)."""
    def measure(c: str) -> Any:
        if c in ("received", "detainers"):
            return g.n.sum()
        if c == "held":
            return g.n.sum(where=g._held).coalesce(0)
        return g.n.sum(where=g.disposition == c).coalesce(0)

    return g.group_by(keys).aggregate(**{c: measure(c) for c in cols}, **extra)


BY_DISPOSITION = ("received", *DISPOSITIONS, "held")
OUTCOMES = ("detainers", "held", "transferred", "notified_only", "declined")


def detainers_by_period(h: dict[str, Any], p: QueryParams) -> Any:
    """Received, each disposition (they partition received), and held past release, by period."""
    d = outcome_rows(h["detainers"])
    g = by_period(d, d.received_at, p.period, p.backend, ["disposition", "_held"], n=_.count())
    return pivot(g, ["period"], BY_DISPOSITION)


def detainers_by_office(h: dict[str, Any], p: QueryParams) -> Any:
    g = outcome_rows(h["detainers"]).group_by(["issuing_office", "disposition", "_held"]).aggregate(n=_.count())
    return pivot(g, ["issuing_office"], BY_DISPOSITION)


#: Column a list query adds: true where an item held LIST_SEPARATOR (``build.compute_tables`` refuses it).
SEPARATOR_FLAG = "_separator_in_"


def _sum_after_unnest(t: Any, list_col: str, keys: list[str], out: str) -> Any:
    """Count by the whole list first (few distinct lists), then unnest the small result and pivot.

    Grouping 10 M rows by a list column is slow (DuckDB hashes and compares lists item by
    item); the items joined into one short string are a cheaper key and lose nothing when no
    item holds the separator. A history that carries the key (``schema.LIST_KEYS``, written
    dictionary-encoded; the writer refused separators) is grouped by it as stored; otherwise
    the key is built per row, with the list's length (which tells an empty list from one empty
    item), and an item holding the separator, which would split into more items than the list
    had, is flagged for the caller.
    """
    rows = outcome_rows(t)
    key = LIST_KEYS.get(list_col)
    if key in rows.columns:
        g = rows.mutate(_items=rows[key]).group_by([*keys, "_items", "disposition", "_held"]).aggregate(n=_.count())
        g = g.filter(g._items.notnull())
        g = g.mutate(_bad=ibis.literal(False), **{out: g._items.split(LIST_SEPARATOR).unique().unnest()})
    else:
        g = joined_items(rows, list_col).group_by([*keys, *ITEM_KEYS, "disposition", "_held"]).aggregate(n=_.count())
        g = unnest_items(g, out)
    return pivot(g, [*keys, out], OUTCOMES, **{SEPARATOR_FLAG + list_col: g._bad.any()})


ITEM_KEYS = ("_items", "_n_items")


def joined_items(t: Any, list_col: str) -> Any:
    """``t`` with ``list_col`` as a grouping key: its items joined into one string, and its length."""
    return t.mutate(_items=t[list_col].join(LIST_SEPARATOR), _n_items=t[list_col].length())


def unnest_items(g: Any, out: str) -> Any:
    """One row per distinct item of each grouped list (empty and null lists give none), flagged ``_bad``
    where the joined string splits into more items than the list had."""
    g = g.filter(g._n_items > 0)
    split = g._items.split(LIST_SEPARATOR)
    return g.mutate(_bad=split.length() > g._n_items, **{out: split.unique().unnest()})


def detainers_by_reason(h: dict[str, Any], p: QueryParams) -> Any:
    """Detainers by each rule that fired, per law pack (a detainer counts once per distinct rule)."""
    return _sum_after_unnest(h["detainers"], "decision_rules", ["pack_id"], "rule_id")


def rule_citations(raw: pl.DataFrame) -> pl.DataFrame:
    """Add each rule's summary and citation, and its law's name, from its law pack (the history lists rule
    ids; the pack says what they mean and cite)."""
    cites: dict[tuple[str, str], tuple[str, str]] = {}
    names: dict[str, str] = {}
    for pack_id in raw["pack_id"].drop_nulls().unique().to_list():
        try:
            from accord.law import load_pack

            pack = load_pack(pack_id)
        except Exception:  # an unknown or retired pack: show the rule id alone
            continue
        names[pack_id] = pack.name
        cites.update({(pack_id, r.id): (r.summary, r.citation) for r in pack.rules})
    pairs = list(zip(raw["pack_id"], raw["rule_id"], strict=True))
    unknown = ("(a rule not in a shipped pack)", "(not in a shipped pack)")
    return raw.with_columns(
        law=pl.Series([names.get(p, p) for p, _ in pairs], dtype=pl.String),
        rule=pl.Series([cites.get(pr, unknown)[0] for pr in pairs], dtype=pl.String),
        citation=pl.Series([cites.get(pr, unknown)[1] for pr in pairs], dtype=pl.String),
    )


def detainers_by_offence(h: dict[str, Any], p: QueryParams) -> Any:
    """Detainers by offence category of the subject's history (multi-valued: one person, several rows)."""
    return _sum_after_unnest(h["detainers"], "offense_categories", [], "offence_category")


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


def _answers() -> dict[str, Any]:
    """Requests and the gateway's answer; a request whose decision the history lacks is ``no_decision``."""
    return dict(requests=_.count(), allowed=(_.outcome == "allow").sum(), denied=(_.outcome == "deny").sum(),
                no_decision=_.outcome.isnull().sum())


def record_requests(h: dict[str, Any], p: QueryParams) -> Any:
    r = h["record_requests"]
    return r.group_by(["requester_kind", "purpose"]).aggregate(**_answers())


def record_requests_by_record(h: dict[str, Any], p: QueryParams) -> Any:
    r = h["record_requests"]
    return r.group_by(["record_kind", "action"]).aggregate(**_answers())


NYC = "US-NY-NYC"
CALIFORNIA = "US-CA"
NYC_ZONE, CA_ZONE = zone_for(NYC), zone_for(CALIFORNIA)


def nypd_14_154(h: dict[str, Any], p: QueryParams) -> Any:
    """NYC Admin. Code §14-154's four annual counts, per receiving agency (people counted once a year).

    People are counted only among detainers that were held, transferred or declined, so the
    costly per-person grouping skips the rest; detainers received are counted separately.
    """
    d = h["detainers"].filter(_.jurisdiction.startswith(NYC))
    received = by_period(d, d.received_at, "year", p.backend, ["receiving_agency_id"], name="year", zone=NYC_ZONE,
                         detainers_received=_.count())
    acted = d.filter(_.hold_hours.notnull() | _.disposition.isin(("transferred", "declined")))
    acted = acted.mutate(**period_columns(local_year_day(acted, acted.received_at, p.backend, NYC_ZONE), "year"))
    per_person = acted.group_by(["_year", "receiving_agency_id", "person_id"]).aggregate(
        held=_.hold_hours.notnull().any().cast("int64"),
        transferred=(_.disposition == "transferred").any().cast("int64"),
        declined=(_.disposition == "declined").any().cast("int64"),
    )
    people = label_period(
        per_person.group_by(["_year", "receiving_agency_id"]).aggregate(
            individuals_held=_.held.sum(),
            individuals_transferred=_.transferred.sum(),
            individuals_not_honored=_.declined.sum(),
        ),
        "year",
        "year",
    )
    joined = received.left_join(people, ["year", "receiving_agency_id"])
    return joined.select(
        "year", "receiving_agency_id", "detainers_received",
        *(joined[c].coalesce(0).name(c) for c in ("individuals_held", "individuals_transferred", "individuals_not_honored")),
    )


IMMIGRATION_PURPOSES = ("civil_immigration_enforcement", "criminal_immigration_enforcement")
_LOG = ["quarter", "request", "requester"]
#: what became of a request neither complied with nor declined, one column each (small columns are cheaper
#: complements than one large "other")
LOG_OTHER = ("lifted", "expired", "released_before_decision", "pending")
LOG_COUNTS = ("requests", "complied", "declined", *LOG_OTHER, "no_decision")


def nyc_10_178(h: dict[str, Any], p: QueryParams) -> Any:
    """§10-178(d) quarterly, anonymised: immigration-enforcement requests and the city's responses."""
    both = nyc_log_detainers(h, p).union(nyc_log_records(h, p))
    return nyc_log_total(both)


def nyc_log_total(both: Any) -> Any:
    """The detainer and record-request rows of the §10-178 log added up by (quarter, request, requester)."""
    both = both.group_by(_LOG).aggregate(**{c: _[c].sum() for c in LOG_COUNTS})
    return both.select(*_LOG, *(both[c].cast("int64").name(c) for c in LOG_COUNTS))


def nyc_log_detainers(h: dict[str, Any], p: QueryParams) -> Any:
    """The §10-178 log's detainer rows: every NYC detainer, by quarter, form and issuing component."""
    d = h["detainers"].filter(_.jurisdiction.startswith(NYC))
    det = by_period(
        d, d.received_at, "quarter", p.backend, ["form", "issuing_component"], name="quarter", zone=NYC_ZONE,
        requests=_.count(), complied=_.disposition.isin(HONORED).sum(), declined=(_.disposition == "declined").sum(),
        **{c: (_.disposition == c).sum() for c in LOG_OTHER},
    )
    return det.mutate(request=ibis.literal("detainer ") + det.form, requester=det.issuing_component,
                      no_decision=ibis.literal(0, type="int64")).select(*_LOG, *LOG_COUNTS)


def nyc_log_records(h: dict[str, Any], p: QueryParams) -> Any:
    """The §10-178 log's record-request rows: NYC requests made for immigration enforcement or by an agency
    that primarily enforces immigration law."""
    r = h["record_requests"].filter(
        _.jurisdiction.startswith(NYC)
        & (_.purpose.isin(IMMIGRATION_PURPOSES) | _.requester_primarily_enforces_immigration)
    )
    rec = by_period(
        r, r.requested_at, "quarter", p.backend, ["record_kind", "requester_kind"], name="quarter", zone=NYC_ZONE,
        requests=_.count(), complied=(_.outcome == "allow").sum(), declined=(_.outcome == "deny").sum(),
        no_decision=_.outcome.isnull().sum(),
    )
    return rec.mutate(request=ibis.literal("record ") + rec.record_kind, requester=rec.requester_kind,
                      **{c: ibis.literal(0, type="int64") for c in LOG_OTHER}).select(*_LOG, *LOG_COUNTS)


def ca_7284_6_c2(h: dict[str, Any], p: QueryParams) -> Any:
    """Cal. Gov. Code §7284.6(c)(2): transfers a year, and the offence (category) behind each."""
    d = h["detainers"].filter(_.jurisdiction.startswith(CALIFORNIA) & (_.disposition == "transferred"))
    lists = by_period(d, d.received_at, "year", p.backend, ["offense_categories"], name="year", zone=CA_ZONE,
                      transfers=_.count())
    by_offence = lists.mutate(offence=lists.offense_categories.unique().unnest()).group_by(["year", "offence"]).aggregate(
        transfers=_.transfers.sum()
    )
    every = lists.group_by("year").aggregate(offence=ibis.literal("(all transfers)"), transfers=_.transfers.sum())
    return by_offence.union(every.select("year", "offence", "transfers"))


def truth_act_forum(h: dict[str, Any], p: QueryParams) -> Any:
    """Cal. Gov. Code §7283.1(d) forum data: the 'ICE access' each agency gave in a year."""
    d = h["detainers"].filter(_.jurisdiction.startswith(CALIFORNIA))
    gave = ("allow", "require")
    return by_period(
        d, d.received_at, "year", p.backend, ["receiving_agency_id"], name="year", zone=CA_ZONE,
        requests_received=_.count(),
        release_notified=_.disposition.isin(HONORED).sum(),
        transferred=(_.disposition == "transferred").sum(),
        interview_allowed=_.decision_allow_interview.isin(gave).sum(),
        info_shared=_.decision_share_info.isin(gave).sum(),
    )
