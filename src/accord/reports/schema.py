"""The history tables reports read: a ledger export and a synthetic history both produce these.

Reports and what-if never read the service's private tables (DESIGN.md). One row per
detainer in ``detainers``; the law's flat fact columns (``accord.law.facts.FACTS``)
are appended to it so a history can be re-decided under another pack.
"""

from __future__ import annotations

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")

#: Per action decided by a pack: one column ``decision_<action>`` holding an ``Outcome``
#: value, or null when the detainer did not request that action.
DECISION_ACTIONS = (
    "hold_past_release",
    "notify_release",
    "transfer_at_release",
    "allow_interview",
    "share_info",
    "serve_copy_on_subject",
)

#: What actually happened to the detainer, whatever the law allowed.
DISPOSITIONS = (
    "transferred",  # handed to immigration custody at or after release (honored)
    "notified_only",  # release date communicated, no hold (honored as a notification)
    "declined",  # not honored
    "lifted",  # cancelled by the issuing agency
    "expired",  # held to the legal limit, not picked up, released
    "released_before_decision",
    "pending",
)

DETAINERS: dict[str, pl.DataType] = {
    "detainer_id": pl.String(),
    "person_id": pl.String(),
    "booking_id": pl.String(),
    "jurisdiction": pl.String(),
    "receiving_agency_id": pl.String(),
    "facility": pl.String(),
    "issuing_office": pl.String(),
    "issuing_component": pl.String(),
    "form": pl.String(),
    "received_at": UTC_TS,
    "offense_categories": pl.List(pl.String()),  # multi-valued (DOMAIN.md §10)
    "has_criminal_history": pl.Boolean(),
    **{f"decision_{a}": pl.String() for a in DECISION_ACTIONS},
    "decision_rules": pl.List(pl.String()),  # rule ids that fired
    "decision_citations": pl.List(pl.String()),
    "pack_id": pl.String(),
    "pack_version": pl.String(),
    "disposition": pl.String(),  # one of DISPOSITIONS
    "release_eligible_at": UTC_TS,
    "released_at": UTC_TS,
    "hold_deadline": UTC_TS,
    "hold_hours": pl.Float64(),  # hours held past release eligibility; null when not held
}

NOTICES: dict[str, pl.DataType] = {
    "notice_id": pl.String(),
    "kind": pl.String(),
    "recipient": pl.String(),
    "about_request_id": pl.String(),
    "jurisdiction": pl.String(),
    "citation": pl.String(),
    "due_by": UTC_TS,
    "sent_at": UTC_TS,
    "business_days": pl.Boolean(),
}

RECORD_REQUESTS: dict[str, pl.DataType] = {
    "request_id": pl.String(),
    "requester_agency_id": pl.String(),
    "requester_kind": pl.String(),  # AgencyKind
    "requester_primarily_enforces_immigration": pl.Boolean(),
    "custodian_agency_id": pl.String(),
    "jurisdiction": pl.String(),
    "record_kind": pl.String(),
    "action": pl.String(),
    "purpose": pl.String(),
    "legal_process_kind": pl.String(),
    "requested_at": UTC_TS,
    "outcome": pl.String(),  # allow | deny
    "policy_ids": pl.List(pl.String()),
    "notice_owed": pl.Boolean(),
}

#: Optional grouping keys next to the list columns reports count by item: the list's items joined
#: with ``LIST_SEPARATOR`` (U+001F), null when the list is null or empty. Writers add them
#: (``accord.reports.layout.with_list_keys``, dictionary-encoded in Parquet) so a report groups
#: by one repeated string instead of building it for every row; histories without them still work.
LIST_SEPARATOR = "\x1f"  # ASCII unit separator; no item may contain it
LIST_KEYS = {"decision_rules": "decision_rules_key", "offense_categories": "offense_categories_key"}

TABLES = {"detainers": DETAINERS, "notices": NOTICES, "record_requests": RECORD_REQUESTS}
