"""Firing in batches writes exactly what firing one job at a time writes.

The scheduler decides a batch of due jobs with one query per table and writes the followers' rows
(jobs done, messages, deliveries) in a few ``executemany`` statements (``accord.clocks.batch``).
Here a generated schedule — holds ending at drawn times, some people released before or after
their limit, notices to the person, to the requesting agency and to the custodian, some sent
before they go overdue, webhook endpoints for some message types only — is played on two stores at
the same frozen moments: one fired by :class:`~accord.clocks.scheduler.Scheduler` (a drawn batch
size), the other by the one-job-per-transaction path the scheduler had before (``fire.event_for``,
every follower writing its own rows). The ledgers, the schedules, the outboxes and the read models
come out equal, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.clocks import schema
from accord.clocks.fire import event_for
from accord.clocks.scheduler import Scheduler
from accord.clocks.webhooks import register
from accord.domain import Release
from accord.ledger import NewEvent
from accord.service import schema as rm
from accord.service.detainers import record_release, submit_custody, submit_detainer
from accord.service.projector import stamp
from accord.service.store import Store
from helpers.stores import clocks_snapshot, fresh_database, rows
from helpers.service_world import ICE, JAIL, agency_actor, model, world

from .test_clocks_restart import _hold

UTC = timezone.utc
T0 = datetime(2024, 11, 4, 15, 0, tzinfo=UTC)
RECIPIENTS = ("subject", "requesting_agency", "custodian")

#: A schedule: holds (end in minutes after T0, release in minutes after T0 or None), notices
#: (hold index, recipient, due in minutes, sent in minutes or None), moments the clocks run, batch size.
schedules = st.fixed_dictionaries({
    "holds": st.lists(st.tuples(st.integers(250, 420), st.one_of(st.none(), st.integers(1, 480))), min_size=1, max_size=7),
    "notices": st.lists(st.tuples(st.integers(0, 6), st.sampled_from(RECIPIENTS), st.integers(1, 480),
                                  st.one_of(st.none(), st.integers(1, 480))), max_size=5),
    "fires": st.lists(st.integers(1, 500), min_size=1, max_size=6),
    "batch": st.sampled_from([1, 2, 3, 500]),
    "ice_types": st.sampled_from([None, ["detainer.*"], ["notice.*", "detainer.expired"]]),
})


def _one_by_one(store: Store, at: datetime) -> None:
    """The reference: each due job in its own transaction, decided and written on its own (no batch)."""
    t = schema.jobs
    while True:
        with store.transaction() as uow:
            job = uow.connection.execute(
                sa.select(t).where(t.c.state == schema.SCHEDULED, t.c.due_at <= stamp(at))
                .order_by(t.c.due_at, t.c.job_id).limit(1)).mappings().first()
            if job is None:
                return
            got = event_for(uow, dict(job), at)
            if isinstance(got, str):
                uow.connection.execute(t.update().where(t.c.job_id == job["job_id"]).values(
                    state=schema.CANCELLED, finished_at=stamp(at), reason=got[:200]))
            else:
                uow.append([got])


def _play(store: Store, plan: dict, traveller, fire) -> None:  # type: ignore[no-untyped-def]
    world(store)
    with store.transaction() as uow:
        register(uow, agency_actor(ICE), "http://127.0.0.1:9/ice", event_types=plan["ice_types"])
        register(uow, agency_actor(JAIL), "http://127.0.0.1:9/jail", event_types=["alert.hold_warning"])
    decisions = []
    for n, (end, _) in enumerate(plan["holds"], 1):
        rec, person, det = _hold(n, T0 + timedelta(minutes=end))
        with store.transaction() as uow:
            submit_custody(uow, agency_actor(JAIL), rec, person)
            decisions.append(submit_detainer(uow, agency_actor(ICE), det).decision.decision_seq)
    with store.transaction() as uow:
        due = []
        for i, (hold, recipient, due_in, _) in enumerate(plan["notices"]):
            hold %= len(decisions)
            due.append(NewEvent("notice.due", {
                "notice_id": f"n-{i}", "kind": "subject_held_on_detainer", "recipient": recipient,
                "person_id": f"p-{hold + 1}", "about_request_id": f"det-{hold + 1}",
                "due_by": (T0 + timedelta(minutes=due_in)).isoformat(), "citation": "test"}, None, decisions[hold]))
        due_seqs = [e.seq for e in uow.append(due)]
    steps = [(m, "fire", None) for m in plan["fires"]] + [(m, "fire", None) for m in (520, 600)]
    steps += [(r, "release", n) for n, (_, r) in enumerate(plan["holds"], 1) if r is not None]
    steps += [(s, "sent", i) for i, (*_, s) in enumerate(plan["notices"]) if s is not None]
    for minute, what, which in sorted(steps, key=lambda s: (s[0], s[1], s[2] or 0)):
        traveller.move_to(T0 + timedelta(minutes=minute))
        if what == "fire":
            fire(store, T0 + timedelta(minutes=minute))
        elif what == "release":
            rel = model(Release, {"booking_id": f"bk-{which}", "person_id": f"p-{which}",
                                  "released_at": (T0 + timedelta(minutes=minute)).isoformat(), "reason": "bail_posted"})
            with store.transaction() as uow:
                record_release(uow, agency_actor(JAIL, "submit", "officer"), rel)
        else:
            with store.transaction() as uow:
                if uow.row(rm.notices, f"n-{which}")["state"] == "owed":
                    uow.append([NewEvent("notice.sent", {"notice_id": f"n-{which}", "channel": "mail", "recorded_by": "t",
                                                         "sent_at": stamp(T0 + timedelta(minutes=minute))},
                                         None, due_seqs[which])])


def _snapshot(store: Store) -> dict:
    """Everything the clocks wrote, with the ids that differ between two stores (the ledger's id is
    in a message's id; endpoint ids are random) replaced by what they stand for."""
    events = [(e.seq, e.kind, e.stream, e.caused_by, e.recorded_at, e.payload) for e in store.ledger.events()]
    with store.engine.connect() as conn:
        read_model = {t.name: sorted(tuple(r.values()) for r in rows(conn, t)) for t in (rm.detainers, rm.notices, rm.bookings)}
        return {"events": events, **clocks_snapshot(conn), "read_model": read_model}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_batched_firing_writes_what_one_by_one_firing_writes(backend: str) -> None:
    if backend == "postgresql" and not os.environ.get("ACCORD_TEST_DATABASE_URL"):
        pytest.skip("ACCORD_TEST_DATABASE_URL is not set")

    @settings(max_examples=6 if backend == "postgresql" else 10, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(plan=schedules)
    def check(plan: dict) -> None:
        got = {}
        for way in ("batched", "one_by_one"):
            with fresh_database(backend) as url, time_machine.travel(T0, tick=False) as traveller, Store.open(url) as store:
                scheduler = Scheduler(store, batch=plan["batch"])
                fire = (lambda s, at: scheduler.fire_due()) if way == "batched" else _one_by_one
                _play(store, plan, traveller, fire)
                got[way] = _snapshot(store)
        batched, reference = got["batched"], got["one_by_one"]
        assert reference["jobs"] and all(j[4] != schema.SCHEDULED for j in reference["jobs"])  # every job ran out
        for part in reference:
            assert batched[part] == reference[part], part

    check()
