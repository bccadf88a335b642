"""Engines for the ledger: one code path for SQLite and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged append
survives power loss) and write transactions open with ``BEGIN IMMEDIATE`` so
two writers never both read the same head. PostgreSQL writers lock the head
row (``SELECT ... FOR UPDATE``) for the same effect.
"""

from __future__ import annotations

import os
import threading
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


SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def resolve_url(url: str | None) -> str:
    """``None`` -> ``$ACCORD_DATABASE_URL`` or ``sqlite:///./accord.db``; a bare path must name a SQLite file.

    A path is taken only when it ends in ``.db``, ``.sqlite`` or ``.sqlite3``, so a mistyped option
    (``--db nonsense``) is an error rather than a new, empty ledger in a file called ``nonsense``.

    >>> resolve_url("data/accord.db")
    'sqlite:///data/accord.db'
    >>> resolve_url("nonsense")
    Traceback (most recent call last):
    ...
    accord.errors.InputError: field 'db': 'nonsense' is not a database URL (sqlite:///PATH or postgresql+psycopg://...) or a SQLite file path ending in .db, .sqlite or .sqlite3
    """
    url = url or os.environ.get(URL_ENV) or DEFAULT_URL
    if "://" not in url:
        if not url.lower().endswith(SQLITE_SUFFIXES):
            raise InputError(f"'{url}' is not a database URL (sqlite:///PATH or postgresql+psycopg://...) or a SQLite "
                             f"file path ending in {', '.join(SQLITE_SUFFIXES[:-1])} or {SQLITE_SUFFIXES[-1]}", field="db")
        url = f"sqlite:///{url}"
    return url


#: Connections a SQLite file's engine keeps. A server reads on up to 40 threads at once (anyio's default
#: thread limit) and a connection past the pool's size is opened and closed again for each use (opening
#: one runs the PRAGMAs below and maps the WAL index): with SQLAlchemy's default of 5 + 10 overflow,
#: 16 concurrent clients of ``/health`` spent a good part of each request opening connections.
SQLITE_POOL_SIZE = 48


def is_sqlite_file(database: str | None) -> bool:
    """Whether a SQLite URL's database is a file of its own (not memory, not a ``file:`` URI, which may be shared memory)."""
    return database not in (None, "", ":memory:") and not database.startswith("file:")


def make_engine(url: str) -> Engine:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise InputError(f"'{url}' is not a database URL", field="db") from None
    if parsed.get_backend_name() == "sqlite":
        pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 16} if is_sqlite_file(parsed.database) else {}
        engine = sa.create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S}, **pool)
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


class KeptConnections:
    """DBAPI connections detached from an engine's pool and kept open until :meth:`close`.

    A pool check-out and check-in cost more than a short statement, so hot paths keep connections
    of their own: one per thread (:meth:`own`, re-made in a forked child, which must not use its
    parent's) or handed out by the caller's own scheme (:meth:`open`). Each is closed by
    :meth:`close` (at shutdown) or at once by :meth:`discard` when it broke.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._kept: list[Any] = []
        self._lock = threading.Lock()

    def open(self) -> Any:
        """A new DBAPI connection of the engine's, detached from its pool and kept for :meth:`close`."""
        pooled = self.engine.raw_connection()
        dbapi = pooled.driver_connection  # read before detach, which forgets it
        pooled.detach()
        with self._lock:
            self._kept.append(dbapi)
        return dbapi

    def own(self) -> Any:
        """This thread's connection (opened on first use, and again in a forked child)."""
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():  # none yet, or inherited through fork
            held = self._local.held = (os.getpid(), self.open())
        return held[1]

    def drop_own(self) -> None:
        """Close this thread's connection (it broke); the next :meth:`own` opens another."""
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            self.discard(held[1])

    def discard(self, dbapi: Any) -> None:
        """Close one kept connection now and forget it."""
        with self._lock:
            if dbapi in self._kept:
                self._kept.remove(dbapi)
        try:
            dbapi.close()
        except Exception:  # noqa: BLE001 - already broken
            pass

    def close(self) -> None:
        with self._lock:
            kept, self._kept = self._kept, []
        for dbapi in kept:
            try:
                dbapi.close()
            except Exception:  # noqa: BLE001 - closing at shutdown (or from another thread)
                pass


class Writers:
    """DBAPI connections for the append hot path, with ``BEGIN IMMEDIATE`` on SQLite.

    On SQLite each thread keeps one connection of its own, detached from the
    pool: a pool check-out and check-in cost about a fifth of a single append's
    CPU time. PostgreSQL uses the pool (its ``pre_ping`` survives server restarts).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._connections = KeptConnections(engine)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Yield a DBAPI cursor inside a write transaction; commit on exit, roll back on error."""
        if not self.sqlite:
            pooled = self.engine.raw_connection()
            try:
                yield from self._run(pooled.driver_connection)
            finally:
                pooled.close()
            return
        try:
            yield from self._run(self._connections.own(), begin="BEGIN IMMEDIATE")
        except self.engine.dialect.loaded_dbapi.OperationalError:
            self._connections.drop_own()  # a broken connection is not reused
            raise

    @staticmethod
    def _run(dbapi: Any, begin: str | None = None) -> Iterator[Any]:
        cur = dbapi.cursor()
        if begin:
            cur.execute(begin)
        try:
            yield cur
        except BaseException:
            dbapi.rollback()
            raise
        dbapi.commit()

    def close(self) -> None:
        self._connections.close()


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        with conn.begin():
            yield conn


@contextmanager
def snapshot_connection(engine: Engine) -> Iterator[Connection]:
    """One read transaction that sees one consistent state of the store for as long as it lasts.

    PostgreSQL: ``REPEATABLE READ`` (a snapshot taken at the first statement). SQLite in WAL mode: a
    ``BEGIN DEFERRED`` transaction keeps the snapshot its first read took, whatever writers commit
    meanwhile. ``audit verify`` reads everything through one of these, so appends made while it runs
    are simply not seen (they are checked by the next run).
    """
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
