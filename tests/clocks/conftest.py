"""Clocks tests: webhooks may go to 127.0.0.1 over http (the receiver runs here), settings re-read per test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def loopback_webhooks(monkeypatch: pytest.MonkeyPatch):
    from accord.settings import get_settings

    monkeypatch.setenv("ACCORD_WEBHOOK_ALLOW_LOOPBACK_HTTP", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
