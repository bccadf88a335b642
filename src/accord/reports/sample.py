"""A fast, seeded, *uncalibrated* history in the report schema, for tests and benchmarks.

Not a population model (that is ``accord.synth``): it only has to be shaped like a
history — several jurisdictions, overlapping offence categories, every disposition,
holds past the legal limit, notices sent late, record requests denied — and be
cheap to make at 10 million rows, chunk by chunk, with bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from accord.domain.enums import AgencyKind, NoticeKind, RecordKind, RequestPurpose

from .layout import write_history_parquet
from .schema import DECISION_ACTIONS, DETAINERS, DISPOSITIONS, NOTICES, RECORD_REQUESTS

START = datetime(2020, 1, 1, tzinfo=timezone.utc)
YEAR_US = 366 * 24 * 3600 * 10**6
HOUR_US = 3600 * 10**6

JURISDICTIONS = {"US-NY-NYC": ("nyc_doc", ["NYC-DOC", "NYPD"]), "US-CA-LAC": ("california", ["LASD", "LAPD"]),
                 "US-TX-HAR": ("texas", ["HCSO"])}
OFFICES = ["New York Field Office", "Los Angeles Field Office", "Houston Field Office", "Newark Field Office",
           "San Diego Field Office", "Buffalo Field Office", "Dallas Field Office", "Philadelphia Field Office"]
CATEGORIES = ["assault", "dui", "sex_crime", "weapons", "robbery", "homicide", "drugs", "theft", "other"]
CATEGORY_P = [0.46, 0.2, 0.13, 0.13, 0.07, 0.027, 0.15, 0.12, 0.1]
RULES = [(f"R{i:02d}", f"Sample Code §{100 + i}(a)") for i in range(12)]
DISPOSITION_P = [0.02, 0.08, 0.55, 0.1, 0.01, 0.2, 0.04]  # order of schema.DISPOSITIONS


def _cat(rng: np.random.Generator, options: list[str], n: int, p: list[float] | None = None) -> pl.Series:
    """Draw ``n`` strings from ``options`` quickly (gather by index, no Python loop over rows)."""
    idx = rng.choice(len(options), size=n, p=None if p is None else np.asarray(p) / np.sum(p))
    return pl.Series(options, dtype=pl.String).gather(idx)


def _ids(prefix: str, numbers: np.ndarray) -> pl.Series:
    return pl.select(pl.format(prefix + "{}", pl.lit(pl.Series(numbers)))).to_series()


def _list_of(rng: np.random.Generator, values: list[str], probs: list[float], n: int) -> pl.Expr:
    masks = rng.random((len(values), n)) < np.asarray(probs)[:, None]
    parts = [pl.when(pl.Series(m)).then(pl.lit(v)) for v, m in zip(values, masks, strict=True)]
    return pl.concat_list(parts).list.drop_nulls()


def detainers_chunk(n: int, seed: int = 0, offset: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    jur = _cat(rng, list(JURISDICTIONS), n, [0.5, 0.4, 0.1])
    received = (rng.integers(0, YEAR_US, n) + int(START.timestamp() * 10**6))
    disposition = _cat(rng, list(DISPOSITIONS), n, DISPOSITION_P)
    held_mask = disposition.is_in(["transferred", "expired"]).to_numpy() & (rng.random(n) < 0.7)
    eligible = received + rng.integers(1, 60 * 24, n) * HOUR_US
    hold_hours = np.where(held_mask, rng.gamma(2.0, 14.0, n), np.nan)
    released = eligible + np.nan_to_num(hold_hours * HOUR_US).astype(np.int64)
    rules = rng.choice(len(RULES), size=(3, n))
    rule_ids = [pl.Series([r for r, _ in RULES]).gather(rules[i]) for i in range(3)]
    cites = [pl.Series([c for _, c in RULES]).gather(rules[i]) for i in range(3)]
    nrules = rng.integers(1, 4, n)
    base = pl.DataFrame({
        "i": pl.int_range(offset, offset + n, eager=True),
        "jurisdiction": jur,
        "received_at": pl.Series(received).cast(pl.Datetime("us", "UTC")),
        "release_eligible_at": pl.Series(eligible).cast(pl.Datetime("us", "UTC")),
        "released_at": pl.Series(np.where(disposition.is_in(["pending"]).to_numpy(), -1, released)),
        "hold_hours": pl.Series(hold_hours).fill_nan(None),
        "disposition": disposition,
        "person_n": rng.integers(0, max(1, int(n * 0.85)), n) + offset,
        "agency_pick": rng.integers(0, 2, n),
        "nrules": nrules,
    })
    decide = {a: _cat(rng, ["allow", "deny", "require", None], n, [0.2, 0.6, 0.1, 0.1]) for a in DECISION_ACTIONS}  # type: ignore[list-item]
    out = base.with_columns(
        detainer_id=pl.format("D{}", "i"),
        person_id=pl.format("P{}", "person_n"),
        booking_id=pl.format("B{}", "i"),
        receiving_agency_id=pl.col("jurisdiction").replace_strict(
            {j: a[0] for j, (_, a) in JURISDICTIONS.items()}) + pl.col("agency_pick").cast(pl.String),
        facility=pl.lit("Facility ") + pl.col("agency_pick").cast(pl.String),
        issuing_office=_cat(rng, OFFICES, n, [0.3, 0.25, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05]),
        issuing_component=_cat(rng, ["ICE", "CBP"], n, [0.95, 0.05]),
        form=_cat(rng, ["I-247A", "I-247D", "I-247N"], n, [0.9, 0.07, 0.03]),
        offense_categories=_list_of(rng, CATEGORIES, CATEGORY_P, n),
        has_criminal_history=pl.Series(rng.random(n) < 0.9),
        **{f"decision_{a}": s for a, s in decide.items()},
        decision_rules=pl.concat_list([pl.when(pl.col("nrules") > i).then(rule_ids[i]) for i in range(3)]).list.drop_nulls(),
        decision_citations=pl.concat_list([pl.when(pl.col("nrules") > i).then(cites[i]) for i in range(3)]).list.drop_nulls(),
        pack_id=pl.col("jurisdiction").replace_strict({j: p for j, (p, _) in JURISDICTIONS.items()}),
        pack_version=pl.lit("2026.1"),
        hold_deadline=pl.when(pl.col("hold_hours").is_not_null()).then(pl.col("release_eligible_at") + pl.duration(hours=48)),
    ).with_columns(
        released_at=pl.when(pl.col("released_at") >= 0).then(pl.col("released_at").cast(pl.Datetime("us", "UTC"))),
    )
    return out.select(list(DETAINERS)).cast(DETAINERS)  # type: ignore[arg-type]


def notices_frame(n: int, seed: int = 1, n_detainers: int = 1000) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = [NoticeKind.SUBJECT_DETAINER_COPY, NoticeKind.SUBJECT_RELEASE_NOTIFICATION, NoticeKind.SUBJECT_RECORD_REQUEST]
    cites = {NoticeKind.SUBJECT_DETAINER_COPY.value: "Cal. Gov. Code §7283.1(b)",
             NoticeKind.SUBJECT_RELEASE_NOTIFICATION.value: "Cal. Gov. Code §7283.1(b)",
             NoticeKind.SUBJECT_RECORD_REQUEST.value: "N.Y. VTL §201(12)(a)"}
    due = rng.integers(0, YEAR_US, n) + int(START.timestamp() * 10**6)
    delay = rng.normal(-24, 40, n) * HOUR_US
    sent = np.where(rng.random(n) < 0.1, -1, due + delay.astype(np.int64))
    kind = _cat(rng, [k.value for k in kinds], n, [0.5, 0.3, 0.2])
    return pl.DataFrame({
        "notice_id": _ids("N", np.arange(n)),
        "kind": kind,
        "recipient": pl.Series(["subject"] * 1).gather(np.zeros(n, dtype=np.int64)),
        "about_request_id": _ids("D", rng.integers(0, max(1, n_detainers), n)),
        "jurisdiction": kind.replace_strict({k.value: ("US-NY" if k is NoticeKind.SUBJECT_RECORD_REQUEST else "US-CA-LAC") for k in kinds}),
        "citation": kind.replace_strict(cites),
        "due_by": pl.Series(due).cast(pl.Datetime("us", "UTC")),
        "sent_at": pl.Series(sent),
        "business_days": kind == NoticeKind.SUBJECT_RECORD_REQUEST.value,
    }).with_columns(sent_at=pl.when(pl.col("sent_at") >= 0).then(pl.col("sent_at").cast(pl.Datetime("us", "UTC")))).cast(NOTICES)  # type: ignore[arg-type]


def record_requests_frame(n: int, seed: int = 2) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = [AgencyKind.IMMIGRATION_ENFORCEMENT, AgencyKind.POLICE, AgencyKind.FEDERAL_OTHER, AgencyKind.FOREIGN_GOVERNMENT]
    purposes = [RequestPurpose.CIVIL_IMMIGRATION_ENFORCEMENT, RequestPurpose.CRIMINAL_INVESTIGATION,
                RequestPurpose.TRUSTED_TRAVELER_VETTING, RequestPurpose.TRAFFIC_SAFETY]
    kind = _cat(rng, [k.value for k in kinds], n, [0.2, 0.6, 0.15, 0.05])
    purpose = _cat(rng, [p.value for p in purposes], n, [0.2, 0.5, 0.1, 0.2])
    deny = (kind == "immigration_enforcement") | (purpose == "civil_immigration_enforcement") | pl.Series(rng.random(n) < 0.1)
    return pl.DataFrame({
        "request_id": _ids("Q", np.arange(n)),
        "requester_agency_id": kind + "-1",
        "requester_kind": kind,
        "requester_primarily_enforces_immigration": kind == "immigration_enforcement",
        "custodian_agency_id": pl.Series(["NYS-DMV"]).gather(np.zeros(n, dtype=np.int64)),
        "jurisdiction": _cat(rng, ["US-NY", "US-NY-NYC"], n, [0.7, 0.3]),
        "record_kind": _cat(rng, [RecordKind.DMV_STANDARD_LICENSE.value, RecordKind.DMV_PHOTO.value,
                                  RecordKind.CUSTODY_RECORD.value], n, [0.6, 0.2, 0.2]),
        "action": _cat(rng, ["read", "bulk_read", "photo_match"], n, [0.8, 0.1, 0.1]),
        "purpose": purpose,
        "legal_process_kind": _cat(rng, ["judicial_warrant", "subpoena", None], n, [0.1, 0.1, 0.8]),  # type: ignore[list-item]
        "requested_at": pl.Series(rng.integers(0, YEAR_US, n) + int(START.timestamp() * 10**6)).cast(pl.Datetime("us", "UTC")),
        "outcome": deny.replace_strict({True: "deny", False: "allow"}, return_dtype=pl.String),
        "policy_ids": pl.Series([["vtl_201_12"]]).gather(np.zeros(n, dtype=np.int64)),
        "notice_owed": purpose == "civil_immigration_enforcement",
    }).cast(RECORD_REQUESTS)  # type: ignore[arg-type]


def sample_history(n: int = 5000, seed: int = 0) -> dict[str, pl.DataFrame]:
    """An in-memory history of ``n`` detainers with proportionate notices and record requests."""
    return {
        "detainers": detainers_chunk(n, seed),
        "notices": notices_frame(max(1, n // 5), seed + 1, n),
        "record_requests": record_requests_frame(max(1, n // 5), seed + 2),
    }


def write_sample_parquet(root: Path, n: int, *, chunk: int = 1_000_000, seed: int = 0) -> Iterator[int]:
    """Write ``n`` detainers as ``root/detainers/part-*.parquet`` chunk by chunk; yields rows written so far."""
    (root / "detainers").mkdir(parents=True, exist_ok=True)
    done = 0
    part = 0
    while done < n:
        m = min(chunk, n - done)
        write_parquet(detainers_chunk(m, seed + part, offset=done), root / "detainers" / f"part-{part:05d}.parquet")
        done += m
        part += 1
        yield done
    write_parquet(notices_frame(max(1, n // 10), seed + 10_001, n), root / "notices.parquet")
    write_parquet(record_requests_frame(max(1, n // 10), seed + 10_002), root / "record_requests.parquet")


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """In the history layout (``accord.reports.layout``): sorted by jurisdiction then time, row groups
    of 122,880 rows, dictionary-encoded."""
    write_history_parquet(frame, path)
