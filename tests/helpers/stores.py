"""Fresh databases outside pytest's fixtures, and the clocks' rows in a form two stores can be compared in.

For Hypothesis tests that need a new store per example (a function-scoped fixture would give one
per test): the batched-versus-one-at-a-time equality tests of the clocks and the access path.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from accord.clocks import schema as clocks


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL schema (of ``ACCORD_TEST_DATABASE_URL``) dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/accord.db"
        return
    base = os.environ["ACCORD_TEST_DATABASE_URL"]
    name = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


def rows(conn: Any, table: sa.Table) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def clocks_snapshot(conn: Any) -> dict[str, list]:
    """The clocks' jobs, messages and deliveries, with the ids that differ between two stores (the
    ledger's id is in a message's id; endpoint ids are random) replaced by what they stand for."""
    urls = {e["endpoint_id"]: e["url"] for e in rows(conn, clocks.endpoints)}
    keys = {m["message_id"]: (m["event_seq"], m["type"], m["agency_id"], m["subject"]) for m in rows(conn, clocks.messages)}
    messages = sorted((keys[m["message_id"]], {k: v for k, v in m.items() if k != "message_id"})
                      for m in rows(conn, clocks.messages))
    deliveries = sorted((keys[d["message_id"]], urls[d["endpoint_id"]], d["state"], d["attempts"], d["next_attempt_at"])
                        for d in rows(conn, clocks.deliveries))
    jobs = sorted(tuple(j.values()) for j in rows(conn, clocks.jobs))
    return {"jobs": jobs, "messages": messages, "deliveries": deliveries}
