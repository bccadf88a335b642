"""The detainer lifecycle through the application layer: each step an event, each refused step named."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from accord.domain import DetainerLifted, Release
from accord.errors import ConflictError, InputError, NotFoundError
from accord.service import schema
from accord.service.actors import Actor, Forbidden
from accord.service.detainers import (
    get_detainer, lift_detainer, list_detainers, record_release, submit_custody, submit_detainer,
)
from accord.service.store import Store
from helpers.service_world import ICE, JAIL, POLICE, agency_actor, at, booking, detainer, model, world

jail, ice, police = agency_actor(JAIL), agency_actor(ICE), agency_actor(POLICE)


@pytest.fixture
def store(db_url: str):
    with Store.open(db_url) as s:
        world(s)
        yield s


def _book(store: Store, n: int = 1, **kw) -> None:
    with store.transaction() as uow:
        submit_custody(uow, jail, *booking(n, **kw))


def _detain(store: Store, n: int = 1, **kw):
    with store.transaction() as uow:
        return submit_detainer(uow, ice, detainer(n, **kw))


def _release(store: Store, n: int = 1, reason: str = "bail_posted", actor: Actor = jail, **kw):
    rel = model(Release, {"booking_id": f"bk-{n}", "person_id": f"p-{n}", "released_at": at(100).isoformat(),
                          "reason": reason, **kw})
    with store.transaction() as uow:
        return record_release(uow, actor, rel)


def test_a_detainer_with_a_judicial_warrant_and_a_serious_conviction_is_held(store: Store) -> None:
    _book(store)
    view = _detain(store)
    assert view.state == "holding"
    outcomes = {a.action: (a.outcome, a.citation) for a in view.decision.actions}
    assert outcomes["hold_past_release"] == ("allow", "NYC Admin Code §9-131(b)")
    assert view.hold_until is not None and view.hold_until > view.received_at
    assert view.decision.facts["judicial_warrant_judge_kind"] == "federal_magistrate"
    assert view.steps == ["lift", "cancel"]  # what the issuing agency may do
    with store.reading() as r:
        assert get_detainer(r, jail, "det-1").steps == ["release", "transfer", "lift", "cancel"]
    received, decided = store.ledger.events(stream="detainer/det-1")
    assert (received.kind, decided.kind, decided.caused_by) == ("detainer.received", "decision.made", received.seq)
    assert view.decision.decision_seq == decided.seq and view.detainer_seq == received.seq
    owed = [e.payload["kind"] for e in store.ledger.events(kind="notice.due") if e.caused_by == received.seq]
    assert owed == [n["kind"] for n in decided.payload["notices"]] and owed


def test_without_a_judicial_warrant_nyc_declines_and_a_transfer_is_refused(store: Store) -> None:
    _book(store)
    view = _detain(store, warrant=False)
    assert view.state == "declined" and "transfer" not in view.steps
    size = store.ledger.size
    with pytest.raises(ConflictError, match="does not allow a transfer") as exc:
        _release(store, reason="transferred_to_immigration")
    assert exc.value.field == "reason" and "§9-131(b)" in str(exc.value)
    assert store.ledger.size == size  # nothing half-written
    _release(store)
    with store.reading() as r:
        assert get_detainer(r, jail, "det-1").state == "released"


def test_an_allowed_transfer_closes_the_detainer_as_transferred(store: Store) -> None:
    _book(store)
    _detain(store)
    booking_view = _release(store, reason="transferred_to_immigration", to_agency_id=ICE)
    assert booking_view.state == "released"
    with store.reading() as r:
        view = get_detainer(r, ice, "det-1")
    assert view.state == "transferred" and view.steps == [] and view.closed_seq is not None


def test_lift_and_cancel_close_it_and_a_second_lift_is_a_conflict(store: Store) -> None:
    _book(store)
    _book(store, 2)
    _detain(store)
    _detain(store, 2)
    with store.transaction() as uow:
        assert lift_detainer(uow, ice, DetainerLifted(request_id="det-1", lifted_at=at(5))).state == "lifted"
        assert lift_detainer(uow, ice, DetainerLifted(request_id="det-2", lifted_at=at(5), cancelled=True)).state == "cancelled"
    with pytest.raises(ConflictError, match="already lifted"):
        with store.transaction() as uow:
            lift_detainer(uow, ice, DetainerLifted(request_id="det-1", lifted_at=at(6)))
    recorded = [e.payload for e in store.ledger.events(kind="detainer.lifted")]
    assert [p["recorded_by"] for p in recorded] == ["agency:ice", "agency:ice"]


def test_bad_steps_name_the_field(store: Store) -> None:
    with pytest.raises(InputError, match="not in custody") as exc:
        _detain(store, 9)
    assert exc.value.field == "booking_id"
    with pytest.raises(NotFoundError) as nf:
        _release(store, 9)
    assert nf.value.field == "booking_id"
    _book(store)
    with pytest.raises(ConflictError, match="already recorded"):
        _book(store)
    _release(store)
    with pytest.raises(ConflictError, match="released"):
        _detain(store)  # the person left custody
    with pytest.raises(ConflictError, match="already released"):
        _release(store)
    with pytest.raises(InputError, match="not registered"):
        with store.transaction() as uow:
            submit_custody(uow, Actor.operator(), *booking(5, agency_id="nowhere"))


def test_tenancy_another_agency_sees_nothing_and_an_auditor_writes_nothing(store: Store) -> None:
    _book(store)
    _detain(store)
    with store.reading() as r:
        with pytest.raises(NotFoundError):
            get_detainer(r, police, "det-1")
        assert list_detainers(r, police) == []
        assert [d.request_id for d in list_detainers(r, jail)] == ["det-1"]
        auditor = Actor("user:aud", None, frozenset({"auditor"}))
        assert [d.request_id for d in list_detainers(r, auditor)] == ["det-1"]
    with pytest.raises(NotFoundError):  # the police cannot release the jail's prisoner, nor learn it exists
        _release(store, actor=police)
    with pytest.raises(Forbidden):
        _release(store, actor=Actor("user:aud", None, frozenset({"auditor"})))
    with pytest.raises(NotFoundError):  # ICE cannot book people into the jail
        with store.transaction() as uow:
            submit_custody(uow, ice, *booking(3))


def test_the_read_model_rebuilt_from_the_ledger_equals_the_one_kept_in_step(store: Store) -> None:
    for n in (1, 2, 3):
        _book(store, n)
        _detain(store, n, warrant=n != 2)
    _release(store, 1, reason="transferred_to_immigration")
    _release(store, 2)
    with store.transaction() as uow:
        lift_detainer(uow, ice, DetainerLifted(request_id="det-3", lifted_at=at(7)))

    def snapshot() -> dict:
        with store.engine.connect() as conn:
            return {t.name: sorted(map(tuple, conn.execute(sa.select(t)).all())) for t in schema.PROJECTION_TABLES}

    kept = snapshot()
    assert store.rebuild() == store.ledger.size
    assert snapshot() == kept
    states = {r[0]: r[8] for r in kept["proj_detainers"]}
    assert states == {"det-1": "transferred", "det-2": "released", "det-3": "lifted"}


def test_events_written_by_another_path_are_caught_up_under_the_lock(store: Store) -> None:
    """A booking ingested straight into the ledger is seen by the next use case."""
    record, person = booking(7)
    store.ledger.append("custody.booked", record)
    with store.transaction() as uow:
        view = submit_detainer(uow, ice, detainer(7))
    assert view.custodian_agency_id == JAIL and view.state == "holding"
    assert store.position() == store.ledger.size


def test_the_issuer_learns_of_a_release_only_where_the_law_lets_the_custodian_notify_it(store: Store) -> None:
    """NYC Admin Code §9-131 limits telling ICE release dates and custody status: under nyc_doc a declined
    detainer (no judicial warrant) stays 'declined' to ICE after the release; the jail sees 'released'."""
    _book(store, 1)
    _book(store, 2)
    _detain(store, 1, warrant=False)  # notify denied
    _detain(store, 2)  # judicial warrant and a serious conviction: notify allowed
    _release(store, 1)
    _release(store, 2)
    with store.reading() as r:
        declined = get_detainer(r, ice, "det-1")
        assert declined.state == "declined" and declined.closed_seq is None and declined.hold_until is None
        assert "release_eligible_at" not in declined.decision.facts and declined.steps == ["lift", "cancel"]
        assert get_detainer(r, jail, "det-1").state == "released"
        assert get_detainer(r, ice, "det-2").state == "released"  # the law lets the jail tell ICE
        assert [d.request_id for d in list_detainers(r, ice, state="released")] == ["det-2"]
        assert [d.request_id for d in list_detainers(r, ice, state="declined")] == ["det-1"]
        assert {d.request_id for d in list_detainers(r, ice, open_only=True)} == {"det-1"}
        assert [d.request_id for d in list_detainers(r, jail, state="released")] == ["det-1", "det-2"]
