"""Notices to the person as letters: HTML the custodian prints and hands over (or posts).

The dispatcher renders each letter once, when its message comes up (``render_pending``), from the
ledger: the notice, the request it is about, the decision, the agencies' names. The rendered page is
kept (``clock_letters``, with its SHA-256), so what was handed over can be shown later as it was.
Templates are in ``templates/``, one per notice kind; each says in a comment which words are the
statute's and where DOMAIN.md gives only a summary of the duty (then the letter states the duty's
elements and no more). PDF is not made: the page prints from any browser (print styles included).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from accord.errors import NotFoundError
from accord.ledger.db import write_transaction
from accord.service import schema as rm

from . import schema
from .sql import moment, stamp

_TEMPLATES = Path(__file__).with_name("templates")
log = logging.getLogger("accord.clocks.letters")
#: What a detainer asks of the custodian, in plain words (the other actions a decision covers — an
#: interview, sharing information, serving the copy — are not what the request asks of it).
ACTION_WORDS = {
    "hold_past_release": "keeping you in custody past the time you would otherwise be released",
    "notify_release": "telling the requesting agency the date and time of your release",
    "transfer_at_release": "handing you over to the requesting agency when you are released",
}


@lru_cache(maxsize=1)
def _env():  # -> jinja2.Environment
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _payload(reader: Any, seq: int | None) -> dict[str, Any]:
    ev = reader.event(seq) if seq is not None else None
    return ev.payload if ev is not None else {}


def _zone(pack_id: str | None, about: str) -> ZoneInfo:
    if pack_id:
        try:
            if about == "record":
                from accord.access.packs import load_pack as load_access

                return load_access(pack_id).timezone
            from accord.law.pack import load_pack

            return load_pack(pack_id).tz
        except Exception:  # noqa: BLE001 - an unknown pack: the letter shows UTC rather than no letter
            pass
    return ZoneInfo("UTC")


def _local(text: str | None, tz: ZoneInfo) -> str | None:
    at = moment(text)
    return None if at is None else at.astimezone(tz).strftime("%A %d %B %Y, %H:%M %Z")


def letter_context(reader: Any, notice_id: str, now: datetime) -> dict[str, Any]:
    """Everything a letter shows, from the read model and the ledger (no personal data beyond the person's own)."""
    n = reader.row(rm.notices, notice_id)
    if n is None:
        raise NotFoundError(f"no notice {notice_id}", field="notice_id")
    agency = reader.row(rm.agencies, n["owed_by_agency_id"]) if n["owed_by_agency_id"] else None
    requester = reader.row(rm.agencies, n["requester_agency_id"]) if n["requester_agency_id"] else None
    person = reader.row(rm.persons, _person_id(reader, n)) if _person_id(reader, n) else None
    ctx: dict[str, Any] = {
        "notice": n, "custodian": agency["name"] if agency else n["owed_by_agency_id"],
        "requester": requester["name"] if requester else (n["requester_agency_id"] or "the requesting agency"),
        "person_id": _person_id(reader, n), "person_name": _payload(reader, person["registered_seq"]).get("name") if person else None,
        "to_attorney": n["recipient"] == "subject_attorney_or_designee",
    }
    if n["about"] == "record":
        r = reader.row(rm.record_requests, n["about_request_id"]) or {}
        req = _payload(reader, r.get("requested_seq"))
        tz = _zone(r.get("pack"), "record")
        ctx.update(record_kind=req.get("record_kind"), requested_on=_local(r.get("requested_at"), tz), booking_id=None)
    else:
        d = reader.row(rm.detainers, n["about_request_id"]) or {}
        det = _payload(reader, d.get("detainer_seq"))
        decision = _payload(reader, d.get("decision_seq"))
        booking = reader.row(rm.bookings, d["booking_id"]) if d.get("booking_id") else None
        tz = _zone(decision.get("pack_id"), "detainer")
        outcomes = {x["action"]: x["outcome"] for x in decision.get("decisions", [])}
        ctx.update(
            booking_id=d.get("booking_id"), form=d.get("form"), issuing_office=d.get("issuing_office"),
            issuing_component=det.get("issuing_component"), received_on=_local(d.get("received_at"), tz),
            release_at=_local(booking["release_eligible_at"] if booking else None, tz),
            comply=[w for a, w in ACTION_WORDS.items() if outcomes.get(a) in ("allow", "require")],
            decline=[w for a, w in ACTION_WORDS.items() if outcomes.get(a) == "deny"],
            undecided=[w for a, w in ACTION_WORDS.items() if outcomes.get(a) == "insufficient_facts"])
    ctx.update(due_by=_local(n["due_by"], tz), dated=now.astimezone(tz).strftime("%d %B %Y"))
    return ctx


def _person_id(reader: Any, n: dict[str, Any]) -> str | None:
    if n.get("person_id"):
        return n["person_id"]
    if n["about"] == "detainer":
        d = reader.row(rm.detainers, n["about_request_id"])
        return d["person_id"] if d else None
    return None


def render(reader: Any, notice_id: str, now: datetime) -> str:
    """The letter for ``notice_id`` as a printable HTML page."""
    ctx = letter_context(reader, notice_id, now)
    env = _env()
    name = f"{ctx['notice']['kind']}.html.j2"
    template = env.get_template(name if (_TEMPLATES / name).exists() else "generic.html.j2")
    return template.render(**ctx)


def render_pending(store: Any, limit: int = 200) -> int:
    """Render the letters still waiting (the dispatcher's letter channel); returns how many."""
    m = schema.messages
    with store.engine.connect() as conn:
        waiting = conn.execute(sa.select(m.c.message_id, m.c.notice_id).where(
            m.c.channel == schema.LETTER, m.c.state == schema.PENDING).order_by(m.c.created_at).limit(limit)).all()
    if not waiting:
        return 0
    now = store.clock()
    pages, broken = [], []
    with store.reading() as reader:
        for w in waiting:
            try:
                pages.append((w.message_id, w.notice_id, render(reader, w.notice_id, now)))
            except Exception:  # noqa: BLE001 - one letter that cannot be made must not stop the others
                log.exception("letter for notice %s could not be rendered", w.notice_id)
                broken.append(w.message_id)
    from accord.service.driver import insert_new

    with write_transaction(store.engine) as conn:
        insert_new(conn, schema.letters, [{"notice_id": nid, "message_id": mid, "html": html,
                                           "sha256": hashlib.sha256(html.encode()).hexdigest(),
                                           "rendered_at": stamp(now)} for mid, nid, html in pages])
        for ids, state in (([p[0] for p in pages], schema.READY), (broken, schema.FAILED)):
            if ids:
                conn.execute(m.update().where(m.c.message_id.in_(ids), m.c.state == schema.PENDING).values(state=state))
    return len(pages)


def stored(reader: Any, notice_id: str) -> dict[str, Any] | None:
    """The letter as rendered for handing over (None when it has not been rendered yet)."""
    got = reader.connection.execute(sa.select(schema.letters).where(schema.letters.c.notice_id == notice_id)).first()
    return dict(got._mapping) if got is not None else None


__all__ = ["render", "render_pending", "stored", "letter_context"]
