"""The scheduler and the dispatcher running together: in ``accord worker``, or inside ``accord serve``.

Each runs in a thread of its own (the dispatcher with its own asyncio loop), so a server's event
loop is never blocked by them and a worker needs nothing else. Several runners on one PostgreSQL
database are safe: the scheduler fires each job once (ledger lock + ``SKIP LOCKED``) and
dispatchers claim deliveries with ``SKIP LOCKED``. On SQLite they take turns at the write lock.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from accord.service.store import Store

from .dispatcher import Config, Dispatcher
from .scheduler import Scheduler

log = logging.getLogger("accord.clocks")
#: how often a runner looks whether the ledger's automatic checkpoint is due (ACCORD_CHECKPOINT_EVERY_MINUTES)
CHECKPOINT_LOOK_SECONDS = 30.0


@dataclass
class Runner:
    store: Store
    schedule: bool = True
    dispatch: bool = True
    poll: float | None = None
    config: Config | None = None
    batch: int | None = None
    checkpoint_look: float = CHECKPOINT_LOOK_SECONDS
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        from accord.settings import get_settings

        s = get_settings()
        self.poll = self.poll or s.clocks_poll_seconds
        self.scheduler = Scheduler(self.store, batch=self.batch or s.clocks_batch)
        self.dispatcher = Dispatcher(self.store, self.config)

    def start(self) -> Runner:
        if self.schedule:
            self._thread("accord-scheduler", lambda: self.scheduler.run(self.stop_event, self.poll))
        if self.dispatch:
            self._thread("accord-dispatcher", lambda: asyncio.run(self.dispatcher.run(self.stop_event, self.poll)))
        if self.schedule:
            self._thread("accord-checkpointer", self._checkpoints)
        return self

    def _checkpoints(self) -> None:
        """The ledger checkpoints itself after appends; this takes the time-based one when nothing is appended."""
        while not self.stop_event.wait(self.checkpoint_look):
            try:
                self.store.ledger.checkpoint_if_due()
            except Exception:  # noqa: BLE001 - a failed checkpoint is retried next look; the clocks go on
                log.exception("automatic checkpoint failed")

    def _thread(self, name: str, target) -> None:  # type: ignore[no-untyped-def]
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout)

    def __enter__(self) -> Runner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@asynccontextmanager
async def in_server(app: Any) -> AsyncIterator[Runner | None]:
    """The clocks for the life of a server: ``accord.api.app.COMPONENTS`` takes this as it is.

    Runs the scheduler and the dispatcher over ``app.state.store`` unless ``ACCORD_CLOCKS_IN_SERVE``
    is false (then an ``accord worker`` elsewhere does it). Every server process may run one: on
    PostgreSQL they share the queue safely, on SQLite they take turns.
    """
    from accord.settings import get_settings

    if not get_settings().clocks_in_serve:
        yield None
        return
    runner = Runner(app.state.store).start()
    try:
        yield runner
    finally:
        await asyncio.to_thread(runner.stop)
