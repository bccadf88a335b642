"""Rebuilding the read model (``accord projections rebuild``) or the schedule (``accord schedule rebuild``)
from the ledger gives back the schedule and outbox the service kept in step, job for job.

A rebuild applies every event again, in order, while the rows of the clocks written by later events
are still there (``projections rebuild`` keeps the jobs; both keep the messages). A re-decided hold
or a notice owed a second time is where that went wrong: applying the first decision again
cancelled the second decision's waiting limit, so after a rebuild the hold the law allowed would
never have been ended by the clock. Here a generated history — holds, some re-decided, notices,
some owed again, some sent, releases, the clocks firing at drawn moments — is kept live, then
rebuilt both ways, and everything the clocks hold must come out as it was, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.clocks import schema as clocks
from accord.clocks.schedule_admin import rebuild as rebuild_schedule
from accord.clocks.scheduler import Scheduler
from accord.domain import Release
from accord.law.engine import decide
from accord.law.pack import load_pack
from accord.ledger import NewEvent
from accord.service import schema as rm
from accord.service.detainer_events import record_decision_in
from accord.service.detainers import _case_for, record_release, submit_custody, submit_detainer
from accord.service.projector import stamp
from accord.service.store import Store
from helpers.service_world import ICE, JAIL, agency_actor, model, world
from helpers.stores import clocks_snapshot, fresh_database, rows

from .test_clocks_restart import _hold

UTC = timezone.utc
T0 = datetime(2024, 11, 4, 15, 0, tzinfo=UTC)

#: holds (end in minutes after T0, release minute or None, re-decision minutes), notices (hold
#: index, recipient, due minute, minutes it is owed again, sent minute or None), firing minutes.
histories = st.fixed_dictionaries({
    "holds": st.lists(st.tuples(st.integers(250, 420), st.one_of(st.none(), st.integers(1, 480)),
                                st.lists(st.integers(1, 480), max_size=2)), min_size=1, max_size=4),
    "notices": st.lists(st.tuples(st.integers(0, 3), st.sampled_from(("subject", "requesting_agency", "custodian")),
                                  st.integers(1, 480), st.lists(st.integers(1, 480), max_size=2),
                                  st.one_of(st.none(), st.integers(1, 480))), max_size=4),
    "fires": st.lists(st.integers(1, 500), max_size=4),
})


def _live(store: Store, plan: dict, traveller) -> None:  # type: ignore[no-untyped-def]
    """Play ``plan`` through the application layer and the scheduler, as a running service would."""
    world(store)
    detainers, decisions = [], []
    for n, (end, _, _) in enumerate(plan["holds"], 1):
        rec, person, det = _hold(n, T0 + timedelta(minutes=end))
        with store.transaction() as uow:
            submit_custody(uow, agency_actor(JAIL), rec, person)
            decisions.append(submit_detainer(uow, agency_actor(ICE), det).decision.decision_seq)
        detainers.append(det)
    steps = [(m, "fire", 0, None) for m in plan["fires"]]
    for n, (_, release, again) in enumerate(plan["holds"]):
        steps += [(m, "decide", n, None) for m in again]
        steps += [(release, "release", n, None)] if release is not None else []
    for i, (hold, recipient, due, again, sent) in enumerate(plan["notices"]):
        hold %= len(decisions)
        steps += [(0, "owe", i, (hold, recipient, due))] + [(m, "owe", i, (hold, recipient, m + 30)) for m in again]
        steps += [(sent, "sent", i, None)] if sent is not None else []
    for minute, what, which, more in sorted(steps, key=lambda s: (s[0], s[1], s[2])):
        at = T0 + timedelta(minutes=minute)
        traveller.move_to(at)
        with store.transaction() as uow:
            if what == "fire":
                pass
            elif what == "decide":
                booking = uow.row(rm.bookings, f"bk-{which + 1}")
                if booking["state"] == "in_custody":
                    case, pack = _case_for(uow, detainers[which])
                    record_decision_in(uow, case, decide(case, load_pack(pack)))
            elif what == "release":
                record_release(uow, agency_actor(JAIL, "submit", "officer"), model(Release, {
                    "booking_id": f"bk-{which + 1}", "person_id": f"p-{which + 1}", "released_at": at.isoformat(),
                    "reason": "bail_posted"}))
            elif what == "owe":
                hold, recipient, due = more
                uow.append([NewEvent("notice.due", {
                    "notice_id": f"n-{which}", "kind": "subject_held_on_detainer", "recipient": recipient,
                    "person_id": f"p-{hold + 1}", "about_request_id": f"det-{hold + 1}",
                    "due_by": (T0 + timedelta(minutes=due)).isoformat(), "citation": "test"},
                    None, uow.row(rm.detainers, f"det-{hold + 1}")["decision_seq"])])
            else:
                notice = uow.row(rm.notices, f"n-{which}")
                if notice is not None and notice["state"] == "owed":
                    uow.append([NewEvent("notice.sent", {"notice_id": f"n-{which}", "channel": "mail",
                                                         "recorded_by": "t", "sent_at": stamp(at)},
                                         None, notice["due_seq"])])
        Scheduler(store).fire_due()


def _kept(store: Store) -> dict:
    with store.engine.connect() as conn:
        read_model = {t.name: sorted(tuple(r.values()) for r in rows(conn, t)) for t in (rm.detainers, rm.notices, rm.bookings)}
        return {**clocks_snapshot(conn), "read_model": read_model, "size": store.ledger.size}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_rebuild_gives_back_the_schedule_and_outbox_kept_in_step(backend: str) -> None:
    if backend == "postgresql" and not os.environ.get("ACCORD_TEST_DATABASE_URL"):
        pytest.skip("ACCORD_TEST_DATABASE_URL is not set")

    @settings(max_examples=6 if backend == "postgresql" else 12, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(plan=histories)
    def check(plan: dict) -> None:
        with fresh_database(backend) as url, time_machine.travel(T0, tick=False) as traveller, Store.open(url) as store:
            _live(store, plan, traveller)
            kept = _kept(store)
            store.rebuild()
            assert _kept(store) == kept, "accord projections rebuild changed the clocks"
            rebuild_schedule(store)
            assert _kept(store) == kept, "accord schedule rebuild changed the clocks"

    check()


def test_a_re_decided_hold_keeps_its_limit_through_a_projections_rebuild(db_url: str) -> None:
    """The case that was wrong: the hold's second decision's limit is still waiting after the rebuild."""
    with time_machine.travel(T0, tick=False) as traveller, Store.open(db_url) as store:
        _live(store, {"holds": [(300, None, [10])], "notices": [(0, "requesting_agency", 400, [20], None)],
                      "fires": []}, traveller)
        with store.engine.connect() as conn:
            waiting = sorted((j["kind"], j["source_seq"]) for j in rows(conn, clocks.jobs) if j["state"] == "scheduled")
        assert [kind for kind, _ in waiting] == ["hold.limit_reached", "hold.warning", "notice.overdue"]
        store.rebuild()
        with store.engine.connect() as conn:
            after = sorted((j["kind"], j["source_seq"]) for j in rows(conn, clocks.jobs) if j["state"] == "scheduled")
        assert after == waiting
