"""A worker killed with SIGKILL mid-hold: every hold still ends on time, every notification arrives.

Real ``accord worker`` processes run the scheduler and the dispatcher; the test kills them at
random moments (holds running, deliveries in flight or waiting for their retry) and starts them
again. After the last one is done: each hold fired its warning and its limit exactly once, late by
no more than the restarts that covered it took (plus the poll interval: a worker killed before
it finished a round fired nothing, so the next one that stays up does); the receiver on 127.0.0.1
got every message, each verified with the Standard Webhooks reference library, and a message it
got twice came with the same id and the same body.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from accord.clocks import schema
from accord.clocks.webhooks import register
from accord.service.detainers import submit_custody, submit_detainer
from accord.service.store import Store
from helpers.receiver import Receiver
from helpers.service_world import EXAMPLE, ICE, JAIL, agency_actor, booking, detainer, world
from helpers.workers import Worker

SLACK = 3.0  # seconds: the poll interval (0.1 s) and a shared, loaded two-core machine


def _holds(store: Store, ends: list[datetime]) -> None:
    """Detainers whose 48-hour holds (NYC DOC, clock hours) end at ``ends``."""
    now = datetime.now(timezone.utc)
    for n, end in enumerate(ends, 1):
        eligible = end - timedelta(hours=48)
        arrested = eligible - timedelta(days=2)
        rec, person = booking(n, booked_at=arrested.isoformat(), release_eligible_at=eligible.isoformat(),
                              charges=[{"charge_id": "c", "offense_code": "NY PL 120.05", "level": "felony",
                                        "arrested_at": arrested.isoformat()}],
                              convictions=[{**EXAMPLE["custody"]["convictions"][0],  # recent enough for §9-131
                                            "incarceration_end": (arrested - timedelta(days=400)).date().isoformat()}])
        with store.transaction() as uow:
            submit_custody(uow, agency_actor(JAIL), rec, person)
            submit_detainer(uow, agency_actor(ICE), detainer(n, issued_at=now.isoformat(), received_at=now.isoformat(),
                                                             served_at=now.isoformat()))


def _run(url: str, monkeypatch: pytest.MonkeyPatch, cycles: int, holds: int) -> None:
    from accord.settings import get_settings

    monkeypatch.setenv("ACCORD_HOLD_WARNING_LEAD_SECONDS", "2")  # warnings 2 s before each limit (decided here)
    get_settings.cache_clear()
    rng = random.Random(cycles)
    flaky: dict[str, int] = defaultdict(int)

    def answer(path, headers, body):  # every message fails its first try: all are retried at least once
        flaky[headers["webhook-id"]] += 1
        time.sleep(0.02)
        return (500, {}) if flaky[headers["webhook-id"]] == 1 else (200, {})

    with Receiver(answer) as rx, Store.open(url) as store:
        world(store)
        secrets = {}
        with store.transaction() as uow:
            for agency in (ICE, JAIL):
                secrets[agency] = register(uow, agency_actor(agency), f"{rx.url}/{agency}").secret
        start = datetime.now(timezone.utc) + timedelta(seconds=4)
        span = max(6.0, cycles * 2.6)
        ends = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(holds))
        _holds(store, ends)
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.jobs)).scalar() == 2 * holds

        down: list[tuple[float, float]] = []  # [killed, ready again]
        worker = Worker(url)
        try:
            down.append((time.time(), worker.wait_ready()))
            for _ in range(cycles):
                time.sleep(rng.uniform(0.5, 2.5))
                killed = worker.kill()
                worker = Worker(url)
                down.append((killed, worker.wait_ready()))
            deadline = time.monotonic() + span + 60
            while time.monotonic() < deadline:
                with store.engine.connect() as conn:
                    waiting_jobs = conn.execute(sa.select(sa.func.count()).select_from(schema.jobs)
                                                .where(schema.jobs.c.state == "scheduled")).scalar()
                    waiting = conn.execute(sa.select(sa.func.count()).select_from(schema.deliveries)
                                           .where(schema.deliveries.c.state == "pending")).scalar()
                if not waiting_jobs and not waiting:
                    break
                time.sleep(0.3)
        finally:
            worker.stop()

        limits = [e for e in store.ledger.events(kind="hold.limit_reached")]
        warnings = [e for e in store.ledger.events(kind="hold.warning")]
        assert sorted(e.payload["request_id"] for e in limits) == sorted(f"det-{n}" for n in range(1, holds + 1))
        assert len(warnings) == holds  # each fired exactly once, across every kill
        late = []
        ups = [(ready, nxt[0]) for (_, ready), nxt in zip(down, down[1:] + [(float("inf"), None)])]
        for e in limits:
            due = datetime.fromisoformat(e.payload["hold_until"].replace("Z", "+00:00")).timestamp()
            fired = datetime.fromisoformat(e.payload["fired_at"].replace("Z", "+00:00")).timestamp()
            # the first stretch a worker was up for SLACK seconds at or after the due time: it fires then
            covered = next(max(0.0, start - due) for start, end in ups if end - max(start, due) >= SLACK)
            late.append((e.payload["request_id"], round(fired - due, 2), round(covered, 2)))
        t0 = down[0][0]
        assert all(0 <= lag <= covered + SLACK for _, lag, covered in late), (
            late, [(round(k - t0, 2), round(r - t0, 2)) for k, r in down])

        with store.engine.connect() as conn:
            owed = {r.message_id: r.body for r in conn.execute(
                sa.select(schema.messages.c.message_id, schema.messages.c.body).join(
                    schema.deliveries, schema.deliveries.c.message_id == schema.messages.c.message_id))}
            states = {r[0] for r in conn.execute(sa.select(schema.deliveries.c.state))}
        assert len(owed) == 4 * holds and states == {"delivered"}  # decided, warning, limit alert, expired
        by_id = defaultdict(set)
        for got in rx.got:
            Webhook(secrets[got.path.strip("/")]).verify(got.body, got.headers)
            by_id[got.id].add(got.body)
        assert set(by_id) == set(owed)  # none lost
        assert all(bodies == {owed[i]} for i, bodies in by_id.items())  # a duplicate is the same message


def test_a_worker_killed_mid_hold_loses_nothing(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(db_url, monkeypatch, cycles=2, holds=8)


@pytest.mark.slow
def test_twenty_kills_lose_nothing_and_fire_every_hold_on_time(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(db_url, monkeypatch, cycles=20, holds=40)
