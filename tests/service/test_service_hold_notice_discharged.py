"""A hold-expiry notice is discharged when its detainer closes, instead of turning overdue about nobody.

The notice (8 C.F.R. §287.7(d): release when the 48 hours run out) is the custodian's reminder
about keeping a person on a detainer. Once the person is released or handed over, or the detainer
lifted or cancelled, it is no longer owed: it must not be counted, listed as overdue, or marked
sent. Notices owed to anyone else are untouched, and a hold that ran out with the person still
inside stays overdue until the release is recorded.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from accord.domain import DetainerLifted
from accord.errors import ConflictError
from accord.ledger import NewEvent
from accord.service import schema
from accord.service.actors import Actor
from accord.service.detainers import lift_detainer
from accord.service.notices import count_notices, list_notices, mark_sent
from accord.service.store import Store
from helpers.service_world import ICE, JAIL, agency_actor, at, world

from .test_service_lifecycle import _book, _detain, _release

me = Actor.operator()
LATER = datetime(2030, 1, 1, tzinfo=timezone.utc)  # long after every hold in these cases has ended


@pytest.fixture
def store(db_url: str):
    with Store.open(db_url) as s:
        world(s)
        yield s


def _notice(store: Store, n: int = 1) -> dict:
    with store.reading() as r:
        return r.row(schema.notices, f"det-{n}.hold_expiry")


def _held(store: Store, n: int = 1) -> None:
    _book(store, n)
    assert _detain(store, n).state == "holding"
    assert _notice(store, n)["state"] == "owed"


def test_a_release_discharges_the_hold_notice_and_it_is_neither_overdue_nor_counted(store: Store) -> None:
    _held(store, 1)
    _held(store, 2)
    _release(store, 1)
    assert _notice(store, 1)["state"] == "discharged" and _notice(store, 2)["state"] == "owed"
    with store.reading() as r:
        assert [n.notice_id for n in list_notices(r, me, overdue_at=LATER)] == ["det-2.hold_expiry"]
        assert count_notices(r, me, LATER) == {"owed": 1, "overdue": 1, "sent": 0, "discharged": 1}
        (gone,) = list_notices(r, me, state="discharged")
        assert gone.notice_id == "det-1.hold_expiry" and not gone.overdue


def test_a_handover_a_lift_and_a_cancellation_discharge_it_too(store: Store) -> None:
    for n in (1, 2, 3):
        _held(store, n)
    _release(store, 1, reason="transferred_to_immigration", to_agency_id=ICE, detainer_request_id="det-1")
    with store.transaction() as uow:
        lift_detainer(uow, agency_actor(ICE), DetainerLifted(request_id="det-2", lifted_at=at(5)))
        lift_detainer(uow, agency_actor(ICE), DetainerLifted(request_id="det-3", lifted_at=at(5), cancelled=True))
    assert [_notice(store, n)["state"] for n in (1, 2, 3)] == ["discharged"] * 3


def test_a_discharged_notice_cannot_be_marked_sent_and_a_sent_one_stays_sent(store: Store) -> None:
    _held(store, 1)
    _held(store, 2)
    with store.transaction() as uow:
        mark_sent(uow, me, "det-2.hold_expiry", at(50))
    _release(store, 1)
    _release(store, 2)
    assert _notice(store, 2)["state"] == "sent"
    size = store.ledger.size
    with pytest.raises(ConflictError, match="no longer owed"), store.transaction() as uow:
        mark_sent(uow, me, "det-1.hold_expiry", at(120))
    assert store.ledger.size == size


def test_notices_owed_to_others_about_the_same_detainer_stay_owed(store: Store) -> None:
    _held(store, 1)
    with store.transaction() as uow:
        decision_seq = uow.row(schema.detainers, "det-1")["decision_seq"]
        uow.append([NewEvent("notice.due", {
            "notice_id": "det-1.tell_the_person", "kind": "subject_held_on_detainer", "recipient": "subject",
            "person_id": "p-1", "about_request_id": "det-1", "due_by": at(30).isoformat(), "citation": "test"},
            None, decision_seq)])
    _release(store, 1)
    assert _notice(store, 1)["state"] == "discharged"
    with store.reading() as r:
        assert r.row(schema.notices, "det-1.tell_the_person")["state"] == "owed"


def test_discharge_is_what_a_rebuild_and_a_batched_catch_up_derive(store: Store) -> None:
    for n in range(1, 12):  # more than a projector batch (BATCH_FROM) of events, so the batch path runs
        _held(store, n)
    for n in range(1, 12, 2):
        _release(store, n)
    with store.engine.connect() as conn:
        kept = sorted((dict(r) for r in conn.execute(schema.notices.select()).mappings()), key=lambda n: n["notice_id"])
    store.rebuild()
    with store.engine.connect() as conn:
        assert sorted((dict(r) for r in conn.execute(schema.notices.select()).mappings()), key=lambda n: n["notice_id"]) == kept
    assert [n["state"] for n in kept].count("discharged") == 6
