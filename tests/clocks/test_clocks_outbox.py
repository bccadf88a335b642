"""The outbox: who is told what, in the transaction of the event that owes it, and the letters to the person.

Release notifications go to the requesting agency only where the decision allows ``notify_release``;
a notice owed to the agency is discharged by its delivery (``notice.sent``); a notice owed to the
person becomes a printable letter with what the statute requires; an unsent notice goes overdue.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from accord.clocks import schema
from accord.clocks.dispatcher import Config, Dispatcher
from accord.clocks.letters import render_pending
from accord.clocks.scheduler import Scheduler
from accord.clocks.views import letter, overview
from accord.clocks.webhooks import register
from accord.domain import Agency, Release
from accord.service.actors import Actor
from accord.service.agencies import register_agency
from accord.service.detainers import record_release, submit_custody, submit_detainer
from accord.service.store import Store
from helpers.receiver import Receiver
from helpers.service_world import ICE, JAIL, agency_actor, booking, detainer, model, world

ice, jail = agency_actor(ICE), agency_actor(JAIL)
OPERATOR = Actor.operator()
CONFIG = Config(timeout=20.0, allow_loopback=True)  # generous: the test machine is shared and loaded
JAILS = {"texas": ("harris-jail", "Harris County Jail (synthetic)", "sheriff", "US-TX"),
         "california": ("sf-jail", "San Francisco County Jail (synthetic)", "sheriff", "US-CA"),
         "federal_baseline": ("fed-jail", "Full-cooperation County Jail (synthetic)", "sheriff", "US-FL")}


def _store(db_url: str) -> Store:
    store = Store.open(db_url, clock=lambda: datetime.now(timezone.utc))
    world(store)
    with store.transaction() as uow:
        for pack, (aid, name, kind, juris) in JAILS.items():
            register_agency(uow, OPERATOR, model(Agency, {"agency_id": aid, "name": name, "kind": kind,
                                                          "jurisdiction": juris}), law_pack=pack)
    return store


def _detain(store: Store, n: int, pack: str | None = None, **kw):
    agency = JAILS[pack][0] if pack else JAIL
    juris = JAILS[pack][3] if pack else "US-NY-NYC"
    with store.transaction() as uow:
        submit_custody(uow, agency_actor(agency), *booking(n, agency_id=agency, jurisdiction=juris))
    with store.transaction() as uow:
        return submit_detainer(uow, ice, detainer(n, **kw))


def _messages(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(schema.messages).order_by(schema.messages.c.event_seq))]


def _deliver(store: Store) -> None:
    asyncio.run(Dispatcher(store, CONFIG).deliver_due())


def _release(store: Store, n: int, agency: str = JAIL) -> None:
    rel = model(Release, {"booking_id": f"bk-{n}", "person_id": f"p-{n}", "released_at": "2024-03-09T10:00:00Z",
                          "reason": "bail_posted"})
    with store.transaction() as uow:
        record_release(uow, agency_actor(agency), rel)


def test_a_release_is_notified_to_the_issuing_agency_only_where_the_law_allows_it(db_url: str) -> None:
    with Receiver() as rx, _store(db_url) as store:
        with store.transaction() as uow:
            register(uow, ice, rx.url + "/ice", event_types=["detainer.released"])
        allowed = _detain(store, 1)  # judicial warrant + serious conviction: NYC DOC may notify
        refused = _detain(store, 2, warrant=False)  # no judicial warrant: NYC DOC may not tell ICE anything
        notify = {v.request_id: next(a.outcome for a in v.decision.actions if a.action == "notify_release")
                  for v in (allowed, refused)}
        assert notify == {"det-1": "allow", "det-2": "deny"}
        _release(store, 1)
        _release(store, 2)
        _deliver(store)
        assert [(g.payload["type"], g.payload["data"]["request_id"]) for g in rx.got] == [("detainer.released", "det-1")]
        released = [m for m in _messages(store) if m["type"] == "detainer.released"]
        assert [m["subject"] for m in released] == ["det-1"] and released[0]["state"] == "sent"
        assert json.loads(released[0]["body"])["data"]["released_at"] == "2024-03-09T10:00:00.000000Z"


def test_a_notice_owed_to_the_agency_is_delivered_and_that_records_it_sent(db_url: str) -> None:
    with Receiver() as rx, _store(db_url) as store:
        with store.transaction() as uow:
            register(uow, ice, rx.url + "/ice")
        _detain(store, 1, "federal_baseline")
        _deliver(store)
        types = sorted(g.payload["type"] for g in rx.got)
        assert types == ["detainer.decided", "notice.release_notification_to_agency"]
        got = next(g.payload for g in rx.got if g.payload["type"].startswith("notice."))
        assert got["data"]["release_eligible_at"] == "2024-03-08T21:00:00.000000Z"
        assert got["data"]["citation"] == "Form I-247A (02/17)"
        (sent,) = list(store.ledger.events(kind="notice.sent"))
        assert sent.payload["notice_id"] == "det-1.release_notification" and sent.payload["channel"] == "webhook"
        with store.engine.connect() as conn:
            state = conn.execute(sa.select(schema.jobs.c.state).where(schema.jobs.c.subject == "det-1.release_notification")).scalar()
        assert state == "cancelled"  # sent in time: it will not go overdue


def test_a_notice_not_sent_by_its_due_time_goes_overdue_and_officers_are_alerted(db_url: str) -> None:
    with _store(db_url) as store:
        _detain(store, 1, "texas")
        with store.reading() as r:
            (n,) = [x for x in overview(r, OPERATOR).notices if x.kind == "subject_held_on_detainer"]
        fired = Scheduler(store).fire_due(n.due_by - timedelta(seconds=1))
        assert "notice.overdue" not in [e.kind for e in fired]
        fired = Scheduler(store).fire_due(n.due_by)
        overdue = [e for e in fired if e.kind == "notice.overdue"]
        assert [e.payload["notice_id"] for e in overdue] == [n.notice_id]
        assert overdue[0].stream == f"notice/{n.notice_id}"
        alerts = [m for m in _messages(store) if m["type"] == "alert.notice_overdue"]
        assert [(m["agency_id"], m["subject"]) for m in alerts] == [("harris-jail", n.notice_id)]


@pytest.mark.parametrize("pack, kind, required", [
    ("texas", "subject_held_on_detainer",
     ["You are being held pursuant to an immigration detainer request issued by", "United States Immigration and Customs Enforcement",
      "Tex. Code Crim. Proc. art. 2.251(a)"]),
    ("california", "subject_detainer_copy",
     ["A copy of the request is attached to this letter", "intend to comply", "Cal. Gov. Code §7283.1(b)",
      "San Francisco County Jail (synthetic)"]),
])
def test_a_notice_to_the_person_is_a_printable_letter_with_what_the_statute_requires(db_url: str, pack: str, kind: str,
                                                                                      required: list[str]) -> None:
    with _store(db_url) as store:
        _detain(store, 1, pack)
        (msg,) = [m for m in _messages(store) if m["type"] == f"letter.{kind}"]
        assert msg["channel"] == "letter" and msg["state"] == "pending"
        assert render_pending(store) >= 1
        with store.reading() as r:
            html = letter(r, OPERATOR, msg["notice_id"])
            with pytest.raises(Exception, match="not found|no notice"):
                letter(r, agency_actor("nypd"), msg["notice_id"])  # another agency's prisoner
        for text in required:
            assert text in html, text
        assert "<script" not in html and "@media print" in html
        assert [m["state"] for m in _messages(store) if m["message_id"] == msg["message_id"]] == ["ready"]


def test_a_dmv_record_request_notice_names_the_agency_that_asked(db_url: str) -> None:
    from accord.access.gateway import Gateway
    from accord.access.model import AccessRequest
    from accord.service.access_events import record_decisions

    NY = "-05:00"
    doc = {"request": {"request_id": "R-1", "requester_agency_id": "ice-ero", "custodian_agency_id": "ny-dmv",
                       "record_kind": "dmv_standard_license", "purpose": "criminal_immigration_enforcement",
                       "subject_person_id": "person-3", "requested_at": f"2021-01-15T11:00:00{NY}"},
           "requester": {"agency_id": "ice-ero", "name": "ICE ERO (synthetic)", "kind": "immigration_enforcement",
                         "jurisdiction": "US", "primarily_enforces_immigration": True}}
    areq = AccessRequest.model_validate_json(json.dumps(doc))
    with _store(db_url) as store:
        with store.transaction() as uow:
            register_agency(uow, OPERATOR, model(Agency, {"agency_id": "ny-dmv", "name": "New York State DMV (synthetic)",
                                                          "kind": "dmv", "jurisdiction": "US-NY"}), access_pack="ny_dmv")
            register_agency(uow, OPERATOR, model(Agency, doc["requester"]))
        record_decisions(store, [(areq, Gateway("ny_dmv").check(areq))])
        render_pending(store)
        with store.reading() as r:
            html = letter(r, OPERATOR, "R-1.subject_record_request")
        for text in ("ICE ERO (synthetic)", "Friday 15 January 2021", "no later than three days",
                     "N.Y. VTL §201(12)(a)", "New York State DMV (synthetic)"):
            assert text in html, text
