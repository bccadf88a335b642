"""The hold clock runs itself: a hold's warning and limit fire at the exact second, as ledger events.

The limits are the law's (``accord.law.clock``, NYPD's 48 hours excluding weekends and holidays,
US-NY calendar); the scheduler only has to fire them on time across a weekend, a federal holiday
and a change of daylight-saving time, and never when the hold has already ended.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from accord.clocks import schema
from accord.clocks.schedule_admin import rebuild
from accord.clocks.scheduler import Scheduler
from accord.domain import Release
from accord.service.detainers import get_detainer, record_release, submit_custody, submit_detainer
from accord.service.store import Store
from helpers.service_world import ICE, POLICE, agency_actor, booking, detainer, model, world

police, ice = agency_actor(POLICE), agency_actor(ICE)
UTC = timezone.utc


def _hold(store: Store, n: int, *, received: str, eligible: str) -> object:
    rec, person = booking(n, agency_id=POLICE, booked_at="2024-10-30T10:00:00Z", release_eligible_at=eligible,
                          charges=[{"charge_id": "c", "offense_code": "NY PL 120.05", "level": "felony",
                                    "arrested_at": "2024-10-30T08:00:00Z"}])
    with store.transaction() as uow:
        submit_custody(uow, police, rec, person)
    with store.transaction() as uow:
        return submit_detainer(uow, ice, detainer(n, issued_at=received, received_at=received, served_at=received))


def _kinds(store: Store, after: int) -> list[str]:
    return [e.kind for e in store.ledger.events(after_seq=after) if e.kind.startswith("hold.")]


CASES = {
    # Fri 8 Nov 2024 09:00 EST: Fri 15 h, weekend, Mon 11 Nov Veterans Day (federal), Tue 24 h, Wed 9 h;
    # decided on 1 Nov, before daylight-saving time ended (3 Nov): the scheduler holds the limit across it.
    "weekend+federal holiday, decided before DST ended": (
        "2024-11-01T16:00:00Z", "2024-11-08T14:00:00Z", datetime(2024, 11, 13, 14, 0, tzinfo=UTC)),
    # Fri 1 Nov 2024 20:00 EDT: Fri 4 h, weekend with the DST change (Sun 3 Nov), Mon 24 h,
    # Tue 5 Nov Election Day (a New York holiday), Wed 20 h EST: the hold itself spans all three.
    "weekend+DST change+holiday inside the hold": (
        "2024-10-31T16:00:00Z", "2024-11-02T00:00:00Z", datetime(2024, 11, 7, 1, 0, tzinfo=UTC)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_limit_fires_at_hold_until_to_the_second_with_the_warning_before(db_url: str, case: str) -> None:
    received, eligible, expected = CASES[case]
    with time_machine.travel(datetime.fromisoformat(received.replace("Z", "+00:00")), tick=False) as traveller:
        with Store.open(db_url) as store:
            world(store)
            view = _hold(store, 1, received=received, eligible=eligible)
            assert view.state == "holding"
            assert view.hold_until == expected  # the law's clock (cited, DST-correct), not the scheduler's
            scheduler = Scheduler(store)
            warn_at = expected - timedelta(hours=4)  # ACCORD_HOLD_WARNING_LEAD's default
            seq = store.ledger.size
            for moment, fired in ((warn_at - timedelta(seconds=1), []), (warn_at, ["hold.warning"]),
                                  (expected - timedelta(seconds=1), []), (expected, ["hold.limit_reached"]),
                                  (expected + timedelta(hours=1), [])):
                traveller.move_to(moment)
                got = scheduler.fire_due()
                assert [e.kind for e in got] == fired, moment
                for e in got:
                    assert datetime.fromisoformat(e.payload["fired_at"].replace("Z", "+00:00")) == moment
            assert _kinds(store, seq) == ["hold.warning", "hold.limit_reached"]
            warning, limit = [e for e in store.ledger.events(after_seq=seq) if e.kind.startswith("hold.")]
            assert warning.payload["lead_seconds"] == 4 * 3600 and limit.caused_by == view.decision.decision_seq
            assert limit.stream == "detainer/det-1" and limit.payload["citation"].startswith("NYC Admin Code §14-154")
            with store.reading() as r:
                assert get_detainer(r, ice, "det-1").state == "expired"


def test_a_release_before_the_limit_cancels_the_clock_and_nothing_fires(db_url: str) -> None:
    now = [datetime(2024, 11, 1, 16, tzinfo=UTC)]
    with Store.open(db_url, clock=lambda: now[0]) as store:
        world(store)
        view = _hold(store, 1, received="2024-11-01T16:00:00Z", eligible="2024-11-08T14:00:00Z")
        rel = model(Release, {"booking_id": "bk-1", "person_id": "p-1", "released_at": "2024-11-09T10:00:00Z",
                              "reason": "bail_posted"})
        with store.transaction() as uow:
            record_release(uow, police, rel)
        now[0] = view.hold_until + timedelta(days=1)
        assert Scheduler(store).fire_due() == []
        with store.engine.connect() as conn:
            states = dict(conn.execute(sa.select(schema.jobs.c.kind, schema.jobs.c.state)).all())
        assert states == {"hold.warning": "cancelled", "hold.limit_reached": "cancelled"}


def test_the_schedule_rebuilt_from_the_ledger_equals_the_one_kept_in_step(db_url: str) -> None:
    now = [datetime(2024, 11, 1, 16, tzinfo=UTC)]
    with Store.open(db_url, clock=lambda: now[0]) as store:
        world(store)
        views = [_hold(store, n, received="2024-11-01T16:00:00Z", eligible=eligible)
                 for n, eligible in ((1, "2024-11-04T14:00:00Z"), (2, "2024-11-12T14:00:00Z"), (3, "2024-11-04T14:00:00Z"))]
        rel = model(Release, {"booking_id": "bk-3", "person_id": "p-3", "released_at": "2024-11-05T10:00:00Z",
                              "reason": "bail_posted"})
        with store.transaction() as uow:
            record_release(uow, police, rel)
        now[0] = views[0].hold_until + timedelta(minutes=1)  # the first has run out, the second waits
        Scheduler(store).fire_due()

        def snapshot() -> list[tuple]:
            with store.engine.connect() as conn:
                return sorted(tuple(r) for r in conn.execute(sa.select(
                    schema.jobs.c.job_id, schema.jobs.c.due_at, schema.jobs.c.state, schema.jobs.c.fired_seq)))

        kept = snapshot()
        assert {s for _, _, s, _ in kept} == {"done", "scheduled", "cancelled"}
        assert rebuild(store) == len(kept)
        assert snapshot() == kept
        with store.engine.connect() as conn:
            messages = conn.execute(sa.select(sa.func.count()).select_from(schema.messages)).scalar()
        rebuild(store)
        with store.engine.connect() as conn:  # a rebuild owes no message twice
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.messages)).scalar() == messages
