"""A decided synthetic year as ledger events, appended in time order with their causes linked.

Every event carries the key of the event that caused it (a decision is caused by its
detainer, an access decision by its request, a notice by the decision that owes it). Events
are appended a week at a time, causes before effects, so each ``caused_by`` is the stored
sequence number of an event already in the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel

from accord.domain import DetainerLifted, Notice, NoticeSent, PostReleaseEncounter, Release
from accord.domain.enums import ReleaseReason
from accord.ledger import Ledger, NewEvent

from .objects import ICE_AGENCY_ID, Case

US_PER_DAY = 86_400_000_000
_RELEASE_REASONS = (ReleaseReason.BAIL_POSTED, ReleaseReason.RELEASED_ON_RECOGNIZANCE, ReleaseReason.CHARGES_DISMISSED, ReleaseReason.SENTENCE_SERVED)


@dataclass(frozen=True, slots=True)
class Planned:
    at: datetime
    kind: str
    payload: BaseModel | dict[str, Any]
    stream: str | None
    key: str
    cause: str | None = None


def _us(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000)


def detainer_events(cases: list[Case], decisions: list[dict[str, Any]], settled: pl.DataFrame, seed: int) -> Iterable[Planned]:
    """person, booking, detainer, decision, notices, lift, release and post-release encounter events."""
    rng = np.random.default_rng([seed, 9])
    rows = settled.select("detainer_id", "disposition", "released_at", "_lifted_at", "_encountered_at").iter_rows()
    for case, decision, (rid, disposition, released_at, lifted_at, encountered_at) in zip(cases, decisions, rows, strict=True):
        d, c, p = case.detainer, case.custody, case.person
        assert rid == d.request_id
        yield Planned(c.booked_at, "person.registered", p, None, f"person/{p.person_id}")
        yield Planned(c.booked_at, "custody.booked", c, None, f"booking/{c.booking_id}", f"person/{p.person_id}")
        yield Planned(d.received_at, "detainer.received", d, None, f"detainer/{d.request_id}", f"booking/{c.booking_id}")
        yield Planned(d.received_at, "decision.made", decision, f"detainer/{d.request_id}", f"decision/{d.request_id}", f"detainer/{d.request_id}")
        for n in decision.get("notices", ()):
            notice = Notice.model_validate_json(_json(n))
            # caused by the detainer, as ``accord decide --record`` writes it (``accord explain`` follows it)
            yield Planned(d.received_at, "notice.due", notice, None, f"notice/{notice.notice_id}", f"detainer/{d.request_id}")
            if disposition in ("transferred", "expired") and notice.due_by.timestamp() * 1e6 <= _us(released_at) + US_PER_DAY:
                sent = min(notice.due_by, released_at) if disposition == "expired" else released_at
                yield Planned(sent, "notice.sent", NoticeSent(notice_id=notice.notice_id, sent_at=sent, channel="custody_system"),
                              None, f"notice-sent/{notice.notice_id}", f"notice/{notice.notice_id}")
        if disposition == "lifted" and lifted_at is not None:
            yield Planned(lifted_at, "detainer.lifted", DetainerLifted(request_id=d.request_id, lifted_at=lifted_at, reason="cancelled by ICE"),
                          None, f"lift/{d.request_id}", f"detainer/{d.request_id}")
        if released_at is not None:
            transferred = disposition == "transferred"
            reason = ReleaseReason.TRANSFERRED_TO_IMMIGRATION if transferred else _RELEASE_REASONS[int(rng.integers(len(_RELEASE_REASONS)))]
            release = Release(booking_id=c.booking_id, person_id=p.person_id, released_at=released_at, reason=reason,
                              to_agency_id=ICE_AGENCY_ID if transferred else None, detainer_request_id=d.request_id)
            yield Planned(released_at, "custody.released", release, None, f"release/{c.booking_id}", f"booking/{c.booking_id}")
        if encountered_at is not None:
            enc = PostReleaseEncounter(encounter_id=f"E{d.request_id}", person_id=p.person_id, booking_id=c.booking_id,
                                       agency_id=ICE_AGENCY_ID, encountered_at=encountered_at)
            yield Planned(encountered_at, "encounter.post_release", enc, None, f"encounter/{enc.encounter_id}")


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj)


def record_events(requests: list, decisions: list, period_end: datetime, seed: int) -> Iterable[Planned]:
    """record.requested, access.decided (caused by the request) and the notices the decision owes.

    Payloads and notice ids are the gateway's own (``accord.access.audit``), so the demo's ledger
    holds what ``accord access check`` / ``check-batch`` would have written for these requests.
    """
    from accord.access.owed import notices_for

    rng = np.random.default_rng([seed, 10])
    for req, dec in zip(requests, decisions, strict=True):
        yield Planned(req.requested_at, "record.requested", req, None, f"record/{req.request_id}")
        yield Planned(req.requested_at, "access.decided", dec.ledger_payload(), f"record/{req.request_id}",
                      f"access/{req.request_id}", f"record/{req.request_id}")
        for notice in notices_for(dec):
            nid = notice.notice_id
            yield Planned(req.requested_at, "notice.due", notice, None, f"notice/{nid}", f"record/{req.request_id}")
            # Most notices go out in time; a few late (assumption, so the timeliness table has both).
            late = rng.random() < 0.06
            due = notice.due_by
            sent = due + timedelta(hours=float(rng.uniform(2, 72))) if late else req.requested_at + (due - req.requested_at) * float(rng.uniform(0.1, 0.9))
            if sent < period_end:
                yield Planned(sent, "notice.sent", NoticeSent(notice_id=nid, sent_at=sent, channel="mail"), None,
                              f"notice-sent/{nid}", f"notice/{nid}")


def append_in_order(led: Ledger, planned: list[Planned], on_progress: Callable[[int], None] | None = None,
                    window_days: int = 7) -> dict[str, int]:
    """Append ``planned`` a window of days at a time (one transaction per window and causal depth).

    Within a window, events with no cause go first, then those they caused, and so on, each
    group in time order; so every ``caused_by`` names a stored event. Returns key -> seq.
    """
    depth: dict[str, int] = {}
    for p in sorted(planned, key=lambda p: p.at):
        depth[p.key] = depth.get(p.cause, -1) + 1 if p.cause else 0
    groups: dict[tuple[int, int], list[Planned]] = defaultdict(list)
    for p in planned:
        groups[(_us(p.at) // (US_PER_DAY * window_days), depth[p.key])].append(p)
    seqs: dict[str, int] = {}
    for key in sorted(groups):
        batch = sorted(groups[key], key=lambda p: p.at)
        stored = led.append_many(
            NewEvent(p.kind, p.payload, p.stream, seqs[p.cause] if p.cause in seqs else None) for p in batch
        )
        for p, ev in zip(batch, stored, strict=True):
            seqs[p.key] = ev.seq
        if on_progress is not None:
            on_progress(len(batch))
    return seqs
