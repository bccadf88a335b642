"""How long idempotency keys are kept, and their purge.

The IETF httpapi idempotency-key draft lets a server expire keys and asks it to say when; ours
are kept ``ACCORD_IDEMPOTENCY_RETENTION_HOURS`` (default 7 days) and then deleted, by the server
every hour (:func:`in_server`) or by ``accord tokens purge-keys``. Until it is purged an older
key still replays. Expiry cannot make a late retry record twice: every POST names what it records
(a booking id, a request id), which the use cases refuse to record again (409), so a retry after
the key is gone is refused rather than replayed. Deleting in batches of short transactions keeps
the ledger's writers from waiting behind a large purge.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from accord.ledger.db import write_transaction

from . import schema

log = logging.getLogger("accord.api")

#: Keys deleted per transaction.
BATCH = 5000
#: How often the server purges.
EVERY_SECONDS = 3600.0


def cutoff(now: datetime, hours: float) -> str:
    """The ``created_at`` stamp before which keys are purged."""
    from accord.service.projector import stamp

    return stamp(now - timedelta(hours=hours))  # type: ignore[return-value]


def purge(store: Any, now: datetime, hours: float, batch: int = BATCH) -> int:
    """Delete the keys (and kept responses) created more than ``hours`` before ``now``; returns how many."""
    t = schema.idempotency
    before = cutoff(now, hours)
    oldest = (sa.select(t.c.token_id, t.c.key).where(t.c.created_at < before)
              .order_by(t.c.created_at).limit(batch))
    delete = t.delete().where(sa.tuple_(t.c.token_id, t.c.key).in_(oldest))
    done = 0
    while True:
        with store._turns, write_transaction(store.engine) as conn:  # take our turn as the ledger's writers do
            n = conn.execute(delete).rowcount
        done += n
        if n < batch:
            return done


def _purge_now(store: Any) -> None:
    from accord.settings import get_settings

    n = purge(store, store.clock(), get_settings().idempotency_retention_hours)
    if n:
        log.info("idempotency keys purged", extra={"purged": n})


@asynccontextmanager
async def in_server(app: Any) -> AsyncIterator[None]:
    """For the life of a server (``accord.api.app.COMPONENTS``): purge at start-up, then every hour."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                _purge_now(app.state.store)
            except Exception:  # noqa: BLE001 - a failed purge is tried again next hour; the server goes on
                log.exception("idempotency key purge failed")
            if stop.wait(EVERY_SECONDS):
                return

    thread = threading.Thread(target=loop, name="accord-key-retention", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 30)
