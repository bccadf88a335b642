"""The ``api`` fixture: the real app over a fresh store (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.api_world import Api, make_api



@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    yield from make_api(db_url)
