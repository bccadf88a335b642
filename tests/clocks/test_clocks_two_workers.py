"""Two workers on one PostgreSQL database at once: each job fires once, each message is sent once.

Both run the scheduler and the dispatcher over the same queue; the jobs come due while both are
running. The ledger holds one firing per job (counted), the two workers' own counts add up to it
and both did some of the work; the receiver got every message exactly once (no crash here, so no
lease ran out — it is two minutes here: a second delivery would mean two dispatchers claimed the same one).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from accord.clocks import schema
from accord.clocks.webhooks import register
from accord.service.store import Store
from helpers.receiver import Receiver
from helpers.service_world import ICE, JAIL, agency_actor, world
from helpers.workers import Worker

from .test_clocks_restart import _holds


@pytest.mark.postgres
def test_two_workers_fire_each_job_once_and_send_each_message_once(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.settings import get_settings

    monkeypatch.setenv("ACCORD_HOLD_WARNING_LEAD_SECONDS", "1")
    get_settings.cache_clear()
    holds = 24
    with Receiver() as rx, Store.open(postgres_url) as store:
        world(store)
        with store.transaction() as uow:
            for agency in (ICE, JAIL):
                register(uow, agency_actor(agency), f"{rx.url}/{agency}")
        workers = [Worker(postgres_url, env={"ACCORD_CLOCKS_BATCH": "2", "ACCORD_WEBHOOK_LEASE_SECONDS": "120",
                                                  "ACCORD_WEBHOOK_TIMEOUT_SECONDS": "60"}) for _ in range(2)]
        try:
            for w in workers:
                w.wait_ready()
            start = datetime.now(timezone.utc) + timedelta(seconds=4)  # both are up: the holds end while both run
            _holds(store, [start + timedelta(seconds=4 * i / holds) for i in range(holds)])
            _wait(store, start)
        finally:
            outs = [w.stop() for w in workers]
        fired = [int(re.search(r"(\d+) jobs fired", o).group(1)) for o in outs]
        events = Counter((e.kind, e.payload["request_id"]) for e in store.ledger.events()
                         if e.kind in ("hold.warning", "hold.limit_reached"))
        assert len(events) == 2 * holds and set(events.values()) == {1}  # each job's event once
        assert sum(fired) == 2 * holds and min(fired) > 0, fired  # both fired, none twice
        with store.engine.connect() as conn:
            attempts = dict(conn.execute(sa.select(schema.deliveries.c.message_id, schema.deliveries.c.attempts)).all())
            states = {r[0] for r in conn.execute(sa.select(schema.deliveries.c.state))}
        assert states == {"delivered"}
        seen = Counter(g.id for g in rx.got)
        assert seen == Counter(attempts) and set(attempts.values()) == {1}  # one claim, one request, each


def _wait(store: Store, start: datetime) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            left = conn.execute(sa.select(sa.func.count()).select_from(schema.jobs).where(schema.jobs.c.state == "scheduled")).scalar()
            pending = conn.execute(sa.select(sa.func.count()).select_from(schema.deliveries)
                                   .where(schema.deliveries.c.state == "pending")).scalar()
        if not left and not pending and time.time() > start.timestamp() + 6:
            return
        time.sleep(0.3)
