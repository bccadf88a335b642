"""A SQLite file's engine keeps a connection for each thread a server reads on, so none is opened per request."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from accord.ledger.db import make_engine, read_connection


def test_forty_threads_reading_at_once_reuse_their_connections(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'accord.db'}")
    opened = []
    sa.event.listen(engine, "connect", lambda *_: opened.append(1))
    barrier = threading.Barrier(40)

    def read(_: int) -> int:
        with read_connection(engine) as conn:
            barrier.wait(timeout=30)  # all forty hold a connection at the same moment
            return conn.exec_driver_sql("SELECT 1").scalar()

    try:
        with ThreadPoolExecutor(40) as pool:  # anyio's default thread limit: what a server reads on at most
            for _ in range(3):
                assert list(pool.map(read, range(40))) == [1] * 40
        assert len(opened) == 40  # one per thread, kept: the second and third rounds opened none
    finally:
        engine.dispose()


def test_sqlite_in_memory_takes_sqlalchemys_own_pool() -> None:
    engine = make_engine("sqlite://")
    try:
        with read_connection(engine) as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()
