"""A worker or server killed with SIGKILL mid-hold: every hold still ends on time, every notification arrives.

Real ``accord worker`` processes — or real ``accord serve`` processes, which run the scheduler and
the dispatcher in-process, and through whose HTTP API the agencies register their webhooks
(``POST /v1/webhooks``) and the holds are submitted — run the clocks; the test kills them at
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
from helpers.server import Server
from helpers.service_world import EXAMPLE, ICE, JAIL, agency_actor, booking, detainer, world
from helpers.workers import Worker

SLACK = 3.0  # seconds: the poll interval (0.1 s) and a shared, loaded two-core machine


def _hold(n: int, end: datetime):
    """The booking, person and detainer of a 48-hour hold (NYC DOC, clock hours) that ends at ``end``."""
    now = datetime.now(timezone.utc)
    eligible = end - timedelta(hours=48)
    arrested = eligible - timedelta(days=2)
    rec, person = booking(n, booked_at=arrested.isoformat(), release_eligible_at=eligible.isoformat(),
                          charges=[{"charge_id": "c", "offense_code": "NY PL 120.05", "level": "felony",
                                    "arrested_at": arrested.isoformat()}],
                          convictions=[{**EXAMPLE["custody"]["convictions"][0],  # recent enough for §9-131
                                        "incarceration_end": (arrested - timedelta(days=400)).date().isoformat()}])
    return rec, person, detainer(n, issued_at=now.isoformat(), received_at=now.isoformat(), served_at=now.isoformat())


def _holds(store: Store, ends: list[datetime]) -> None:
    """Detainers whose holds end at ``ends``, written through the application layer."""
    for n, end in enumerate(ends, 1):
        rec, person, det = _hold(n, end)
        with store.transaction() as uow:
            submit_custody(uow, agency_actor(JAIL), rec, person)
            submit_detainer(uow, agency_actor(ICE), det)


class _Http:
    """The agencies at the HTTP API of the ``accord serve`` under test (their tokens issued on the store)."""

    def __init__(self, store: Store) -> None:
        from accord.api import tokens

        tokens.ensure_tables(store.engine)
        now = datetime.now(timezone.utc)
        self.tokens = {ICE: tokens.issue(store.engine, ICE, {"submit", "read"}, now=now)[1],
                       JAIL: tokens.issue(store.engine, JAIL, {"submit", "read", "officer"}, now=now)[1]}

    def post(self, base: str, agency: str, path: str, body: str, key: str) -> dict:
        import httpx

        got = httpx.post(base + path, content=body, timeout=30, headers={
            "Authorization": f"Bearer {self.tokens[agency]}", "Content-Type": "application/json",
            "Idempotency-Key": f'"{key}"'})
        assert got.status_code == 201, got.text
        return got.json()

    def get(self, base: str, agency: str, path: str) -> dict:
        import httpx

        got = httpx.get(base + path, timeout=30, headers={"Authorization": f"Bearer {self.tokens[agency]}"})
        assert got.status_code == 200, got.text
        return got.json()

    def holds(self, base: str, ends: list[datetime]) -> None:
        import json

        for n, end in enumerate(ends, 1):
            rec, person, det = _hold(n, end)
            body = json.dumps({"custody": json.loads(rec.model_dump_json()), "person": json.loads(person.model_dump_json())})
            self.post(base, JAIL, "/v1/custody-records", body, f"bk-{n}")
            self.post(base, ICE, "/v1/detainers", det.model_dump_json(), f"det-{n}")


def _run(url: str, monkeypatch: pytest.MonkeyPatch, cycles: int, holds: int, serve: bool = False) -> None:
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
        span = max(6.0, cycles * 2.6)
        down: list[tuple[float, float]] = []  # [killed, ready again]
        if serve:  # the agencies register and submit through the server's API; the clocks run inside it
            http = _Http(store)
            worker = Server(url)
            down.append((time.time(), worker.wait_ready()))
            port, base = worker.port, worker.base
            for agency in (ICE, JAIL):
                secrets[agency] = http.post(base, agency, "/v1/webhooks", f'{{"url": "{rx.url}/{agency}"}}',
                                            f"hook-{agency}")["secret"]
            start = datetime.now(timezone.utc) + timedelta(seconds=3 + 0.25 * holds)  # after the POSTs below
            ends = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(holds))
            http.holds(base, ends)
            assert datetime.now(timezone.utc) < ends[0], "the holds were submitted too slowly for their ends"
            running = http.get(base, JAIL, "/v1/clocks")["holds"]
            assert sorted(h["request_id"] for h in running) == sorted(f"det-{n}" for n in range(1, holds + 1))
            assert all(h["remaining_seconds"] > 0 for h in running)

            def restart():
                return Server(url, port=port)
        else:
            with store.transaction() as uow:
                for agency in (ICE, JAIL):
                    secrets[agency] = register(uow, agency_actor(agency), f"{rx.url}/{agency}").secret
            start = datetime.now(timezone.utc) + timedelta(seconds=4)
            ends = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(holds))
            _holds(store, ends)

            def restart():
                return Worker(url)
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.jobs)).scalar() == 2 * holds

        if not serve:
            worker = restart()
        try:
            if not serve:
                down.append((time.time(), worker.wait_ready()))
            for _ in range(cycles):
                time.sleep(rng.uniform(0.5, 2.5))
                killed = worker.kill()
                worker = restart()
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
            if serve:  # what the jail sees at the end: no hold running, nothing failed, nothing waiting
                shown = http.get(base, JAIL, "/v1/clocks")
                assert shown["holds"] == [] and shown["failed"] == [] and shown["pending_deliveries"] == 0, shown
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


def test_a_server_killed_mid_hold_loses_nothing(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(db_url, monkeypatch, cycles=2, holds=6, serve=True)


@pytest.mark.slow
def test_twenty_server_kills_lose_nothing_and_fire_every_hold_on_time(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(db_url, monkeypatch, cycles=20, holds=40, serve=True)
