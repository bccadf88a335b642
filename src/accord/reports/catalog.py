"""The tables a report publishes: title, meaning, legal basis, which sums add up."""

from __future__ import annotations

from . import queries as q
from .schema import DISPOSITIONS
from .table import TableSpec

DISPOSITION_LABELS = {
    "received": "Received",
    "transferred": "Transferred to immigration custody",
    "notified_only": "Release date notified (no hold)",
    "declined": "Declined",
    "lifted": "Lifted by issuer",
    "expired": "Held to the limit, not picked up",
    "released_before_decision": "Released before a decision",
    "pending": "Pending",
    "held": "Held past release (any length)",
}
OUTCOME_COUNTS = ("detainers", "held", "transferred", "notified_only", "declined")
OUTCOME_LABELS = {**DISPOSITION_LABELS, "detainers": "Detainers"}

RECORD_COUNTS = ("requests", "allowed", "denied", "no_decision")
RECORD_LABELS = {"requests": "Requests", "allowed": "Allowed", "denied": "Denied", "no_decision": "No decision recorded"}

#: what each count column of the detainer tables restricts (``TableSpec.measures``)
DETAINER_MEASURES = {**{d: ("disposition", d) for d in DISPOSITIONS}, "held": ("held",), "detainers": ()}
RECORD_MEASURES = {"allowed": ("outcome", "allow"), "denied": ("outcome", "deny"), "no_decision": ("outcome", "none")}

_BY = dict(
    counts=("received", *DISPOSITIONS, "held"),
    labels=DISPOSITION_LABELS,
    total_col="received",
    partition_cols=DISPOSITIONS,
    chart="stacked",
    population="detainers",
    measures=DETAINER_MEASURES,
)

CATALOG: tuple[TableSpec, ...] = (
    TableSpec(
        name="detainers_by_period",
        title="Detainers by period and what became of them",
        description="Every detainer counted once, in the period it was received (the receiving jurisdiction's local time), by its final disposition. "
        "The dispositions add up to Received; 'Held past release' overlaps them.",
        keys=("period",),
        dims={"period": "local period"},
        query=q.detainers_by_period,
        headline=("received", "transferred", "declined", "held"),  # the figures disputed in 2020 (ICE vs NYC)
        **_BY,  # type: ignore[arg-type]
    ),
    TableSpec(
        name="detainers_by_office",
        title="Detainers by issuing office",
        description="Every detainer counted once, under the immigration office that issued it.",
        keys=("issuing_office",),
        dims={"issuing_office": "issuing office"},
        labels={**DISPOSITION_LABELS, "issuing_office": "Issuing office"},
        query=q.detainers_by_office,
        **{k: v for k, v in _BY.items() if k != "labels"},  # type: ignore[arg-type]
    ),
    TableSpec(
        name="detainers_by_reason",
        title="Detainers by the rule that decided them",
        description="Each rule of the law that fired, in its own words, with the clause it applies. A detainer "
        "counts once under every rule that fired for it, so rows do not add up to the number of detainers.",
        keys=("pack_id", "law", "rule_id", "rule", "citation"),
        counts=OUTCOME_COUNTS,
        labels={**OUTCOME_LABELS, "pack_id": "Law pack id", "law": "Law", "rule_id": "Rule id", "rule": "Rule",
                "citation": "Citation"},
        rows_additive=False,
        query=q.detainers_by_reason,
        post=q.rule_citations,
        chart_keys=("rule",),
        hover={"law": "pack_id", "rule": "rule_id"},
    ),
    TableSpec(
        name="detainers_by_offence",
        title="Detainers by offence category in the subject's history",
        description="Offence categories overlap: a person whose history includes an assault and a DUI counts in "
        "both rows, so rows do not add up to the number of detainers.",
        keys=("offence_category",),
        counts=OUTCOME_COUNTS,
        labels={**OUTCOME_LABELS, "offence_category": "Offence category"},
        rows_additive=False,
        query=q.detainers_by_offence,
    ),
    TableSpec(
        name="hold_durations",
        title="How long people were held past release",
        description="Hours held past the moment of release eligibility, against the legal limit the law pack set "
        "for that detainer (e.g. 48 hours, 8 CFR 287.7(d)).",
        keys=("hold_length",),
        counts=("held", "past_legal_limit", "no_deadline_recorded"),
        labels={
            "hold_length": "Time held past release",
            "held": "People held",
            "past_legal_limit": "Released after the legal limit",
            "no_deadline_recorded": "No legal limit recorded",
        },
        query=q.hold_durations,
        legal_basis="8 CFR 287.7(d)",
        population="detainers",
        dims={"hold_length": "hold length"},
        measures={"held": ("held",), "past_legal_limit": ("held past the limit",), "no_deadline_recorded": ("held, no limit",)},
    ),
    TableSpec(
        name="notices_timeliness",
        title="Notices owed and sent on time",
        description="Notices the law required (to the person, their attorney, an oversight body), by kind and "
        "clause. Not sent includes notices not yet due when the history was taken.",
        keys=("kind", "citation"),
        counts=("owed", "sent_on_time", "sent_late", "not_sent"),
        labels={"kind": "Notice", "citation": "Citation", "owed": "Owed", "sent_on_time": "Sent on time",
                "sent_late": "Sent late", "not_sent": "Not sent"},
        total_col="owed",
        partition_cols=("sent_on_time", "sent_late", "not_sent"),
        chart="stacked",
        population="notices",
        dims={"kind": "notice kind", "citation": "notice citation"},
        measures={"sent_on_time": ("sent", "on time"), "sent_late": ("sent", "late"), "not_sent": ("sent", "no")},
        query=q.notices_timeliness,
    ),
    TableSpec(
        name="record_requests",
        title="Record requests by requesting agency and purpose",
        description="Requests to read protected records (DMV, custody) and the gateway's answer.",
        keys=("requester_kind", "purpose"),
        population="record_requests",
        dims={"requester_kind": "requester kind", "purpose": "purpose"},
        measures=RECORD_MEASURES,
        counts=RECORD_COUNTS,
        labels={"requester_kind": "Requesting agency", "purpose": "Purpose", **RECORD_LABELS},
        total_col="requests",
        partition_cols=RECORD_COUNTS[1:],
        chart="stacked",
        query=q.record_requests,
    ),
    TableSpec(
        name="record_requests_by_record",
        title="Record requests by kind of record",
        description="The same requests, by the record asked for and how (single read, bulk, photo match).",
        keys=("record_kind", "action"),
        population="record_requests",
        dims={"record_kind": "record kind", "action": "access"},
        measures=RECORD_MEASURES,
        counts=RECORD_COUNTS,
        labels={"record_kind": "Record", "action": "Access", **RECORD_LABELS},
        total_col="requests",
        partition_cols=RECORD_COUNTS[1:],
        chart="stacked",
        query=q.record_requests_by_record,
    ),
    TableSpec(
        name="nypd_14_154",
        title="NYC Admin. Code §14-154 annual report (four counts)",
        description="Detainers received; individuals held beyond release; individuals transferred to immigration "
        "custody pursuant to detainers; individuals whose detainers were not honored. New York City only.",
        keys=("year", "receiving_agency_id"),
        counts=("detainers_received", "individuals_held", "individuals_transferred", "individuals_not_honored"),
        labels={"year": "Year", "receiving_agency_id": "Agency"},
        rows_additive=False,  # a person can appear under two agencies in one year
        legal_basis="NYC Admin. Code §14-154 (NYPD); §9-131 (DOC)",
        legal_note="The four counts are those NYPD publishes under §14-154 on its 'Civil Immigration Detainers' "
        "report page. That DOC's §9-131 report has the same fields is not verified; it is shown per receiving agency.",
        query=q.nypd_14_154,
        only_if_rows="New York City",
    ),
    TableSpec(
        name="nyc_10_178",
        title="NYC Admin. Code §10-178(d) quarterly log of immigration-enforcement requests (anonymised)",
        description="Requests from non-local law enforcement to assist immigration enforcement and the city's "
        "responses: every detainer, and every record request made for an immigration purpose or by an agency "
        "that primarily enforces immigration law. No person is named.",
        keys=("quarter", "request", "requester"),
        counts=q.LOG_COUNTS,
        labels={**DISPOSITION_LABELS, "quarter": "Quarter", "request": "Request", "requester": "From", "requests": "Requests",
                "complied": "Complied (transferred or notified)", "declined": "Declined",
                "no_decision": "Record request with no decision recorded"},
        total_col="requests",
        partition_cols=q.LOG_COUNTS[1:],
        chart="stacked",
        legal_basis="NYC Admin. Code §10-178(d)",
        legal_note="The statute's list of fields the compilation is 'disaggregated by' was cut off in the text of "
        "Local Law 228 of 2017 Accord's authors read; quarter, request type and requesting agency kind are Accord's choice.",
        query=q.nyc_10_178,
        only_if_rows="New York City",
    ),
    TableSpec(
        name="ca_7284_6_c2",
        title="Cal. Gov. Code §7284.6(c)(2) annual report: transfers and the offence behind each",
        description="Transfers to immigration custody in California, by year and by the offence category of "
        "the person's history. One transfer can list several categories; '(all transfers)' counts each once.",
        keys=("year", "offence"),
        counts=("transfers",),
        labels={"year": "Year", "offence": "Offence category", "transfers": "Transfers"},
        rows_additive=False,
        legal_basis="Cal. Gov. Code §7284.6(c)(2)",
        legal_note="The statute asks for 'the offense that allowed for the transfer' (a §7282.5(a)(3) offence); "
        "the history carries descriptive offence categories, not the qualifying conviction, so this groups by "
        "category. The rule that allowed each transfer is in 'Detainers by the rule that decided them'.",
        query=q.ca_7284_6_c2,
        only_if_rows="California",
    ),
    TableSpec(
        name="truth_act_forum",
        title="Cal. Gov. Code §7283.1(d) TRUTH Act forum data: ICE access given",
        description="Per California agency and year: detainer requests received, release dates notified, "
        "transfers, interviews and information sharing the law pack allowed or required.",
        keys=("year", "receiving_agency_id"),
        counts=("requests_received", "release_notified", "transferred", "interview_allowed", "info_shared"),
        labels={"year": "Year", "receiving_agency_id": "Agency"},
        legal_basis="Cal. Gov. Code §§7283(d), 7283.1(d)",
        legal_note="Interviews and information sharing are counted where the pack's decision allowed or "
        "required them; whether they then happened is not in the history.",
        query=q.truth_act_forum,
        only_if_rows="California",
    ),
)

BY_NAME = {spec.name: spec for spec in CATALOG}
MAIN_TABLE = "detainers_by_period"
