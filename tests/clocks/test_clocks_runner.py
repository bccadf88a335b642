"""The runner as a server component: started with the server, fires holds while it runs, stopped with it."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from accord.clocks.runner import in_server
from accord.service.store import Store
from helpers.service_world import world

from .test_clocks_restart import _holds


def test_the_clocks_run_for_the_life_of_the_server(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.settings import get_settings

    monkeypatch.setenv("ACCORD_CLOCKS_POLL_SECONDS", "0.1")
    monkeypatch.setenv("ACCORD_HOLD_WARNING_LEAD_SECONDS", "0")
    get_settings.cache_clear()
    with Store.open(sqlite_url) as store:
        world(store)
        end = datetime.now(timezone.utc) + timedelta(seconds=2)
        _holds(store, [end])
        app = SimpleNamespace(state=SimpleNamespace(store=store))

        async def serve() -> list[str]:
            async with in_server(app) as runner:
                assert runner is not None and all(t.is_alive() for t in runner.threads)
                while time.time() < end.timestamp() + 10 and not list(store.ledger.events(kind="hold.limit_reached")):
                    await asyncio.sleep(0.1)
            assert not any(t.is_alive() for t in runner.threads)  # stopped with the server
            return [e.kind for e in store.ledger.events(kind="hold.limit_reached")]

        assert asyncio.run(serve()) == ["hold.limit_reached"]
        monkeypatch.setenv("ACCORD_CLOCKS_IN_SERVE", "false")
        get_settings.cache_clear()

        async def off() -> object:
            async with in_server(app) as runner:
                return runner

        assert asyncio.run(off()) is None


def test_a_ledger_no_longer_written_to_still_gets_its_tail_checkpointed_by_the_runner(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # After the last append nothing triggers the append-time checkpoint; the runner's timer takes it.
    from accord.clocks.runner import Runner

    monkeypatch.setenv("ACCORD_CHECKPOINT_EVERY_EVENTS", "0")
    monkeypatch.setenv("ACCORD_CHECKPOINT_EVERY_MINUTES", "0.01")  # 0.6 s
    with Store.open(sqlite_url) as store:
        store.ledger.checkpoint()  # the key exists (`accord init` makes it); the runner never makes one
        world(store)
        size = store.ledger.size
        assert max(cp.size for cp in store.ledger.checkpoints()) < size  # the tail is not yet witnessed
        with Runner(store, dispatch=False, checkpoint_look=0.2):
            deadline = time.time() + 15
            while time.time() < deadline and max(cp.size for cp in store.ledger.checkpoints()) < size:
                time.sleep(0.1)
        assert max(cp.size for cp in store.ledger.checkpoints()) == size
