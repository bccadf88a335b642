"""Engines for the ledger: one code path for SQLite and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged append
survives power loss) and write transactions open with ``BEGIN IMMEDIATE`` so
two writers never both read the same head. PostgreSQL writers lock the head
row (``SELECT ... FOR UPDATE``) for the same effect.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from accord.errors import InputError

DEFAULT_URL = "sqlite:///./accord.db"
URL_ENV = "ACCORD_DATABASE_URL"
BUSY_TIMEOUT_S = 120.0


def resolve_url(url: str | None) -> str:
    """``None`` -> ``$ACCORD_DATABASE_URL`` or ``sqlite:///./accord.db``; a bare path means a SQLite file."""
    url = url or os.environ.get(URL_ENV) or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def make_engine(url: str) -> Engine:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise InputError(f"'{url}' is not a database URL", field="db") from None
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S})
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_pre_ping=True)
    raise InputError(f"unsupported database '{parsed.get_backend_name()}' (use sqlite:/// or postgresql+psycopg://)", field="db")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("accord_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock on SQLite from its first statement; commits on exit."""
    with engine.connect().execution_options(accord_write=True) as conn:
        with conn.begin():
            yield conn


@contextmanager
def raw_write_transaction(engine: Engine) -> Iterator[Any]:
    """The append hot path: a pooled DBAPI connection, ``BEGIN IMMEDIATE`` on SQLite, commit on exit.

    Skips SQLAlchemy's per-transaction machinery (about a third of a single
    append's CPU time); yields a DBAPI cursor.
    """
    pooled = engine.raw_connection()
    try:
        dbapi = pooled.driver_connection
        cur = dbapi.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            dbapi.rollback()
            raise
        dbapi.commit()
    finally:
        pooled.close()


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        with conn.begin():
            yield conn
