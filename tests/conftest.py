"""Shared fixtures: ``db_url`` runs a test once on SQLite and once on PostgreSQL.

PostgreSQL runs only when ``ACCORD_TEST_DATABASE_URL`` is set (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each test gets a fresh
schema, selected through the URL's ``search_path`` so that subprocesses given the
same URL see the same, isolated tables; the schema is dropped afterwards. With
``ACCORD_REQUIRE_POSTGRES=1`` a missing or unreachable PostgreSQL fails the test
instead of skipping it, so CI cannot pass silently on SQLite alone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

PG_ENV = "ACCORD_TEST_DATABASE_URL"
REQUIRE_ENV = "ACCORD_REQUIRE_POSTGRES"


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL required ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(reason)


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


def pytest_configure(config: pytest.Config) -> None:
    """Signing keys of PostgreSQL ledgers go under $XDG_CONFIG_HOME: the tests' (doctests, session
    fixtures and subprocesses included) go to a temporary folder, never the real home."""
    import tempfile

    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="accord-test-config-")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a fresh SQLite file in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'accord.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections land in a fresh PostgreSQL schema, dropped after the test."""
    base = os.environ.get(PG_ENV)
    if not base:
        _postgres_unavailable(f"{PG_ENV} is not set")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(base, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        _postgres_unavailable(f"cannot reach PostgreSQL at {PG_ENV}: {exc.orig.__class__.__name__}")
    try:
        yield _with_search_path(base, schema)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database URL: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Stop the servers and workers a test started and left running (it failed before stopping them),
    before its fixtures drop the databases those processes hold connections to."""
    from helpers.children import reap

    reap()
