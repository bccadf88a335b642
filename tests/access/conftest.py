"""Fixtures shared by the access tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import accord.access.gateway as gateway_module


@pytest.fixture
def drop_purpose_from_contexts(monkeypatch) -> Callable[[], None]:
    """Call it to make the gateway build every later request context without ``purpose``, an
    attribute the policies read: the schema check is what must catch such a request."""
    real = gateway_module.request_context

    def without_purpose(areq, tz):
        ctx = real(areq, tz)
        del ctx["purpose"]
        return ctx

    return lambda: monkeypatch.setattr(gateway_module, "request_context", without_purpose)
