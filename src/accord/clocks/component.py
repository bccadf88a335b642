"""The clocks as a component of the service: its tables, and its followers registered on import.

``accord.service.store.Store`` attaches every component when it opens (``accord.service.components``),
so any process that writes through the application layer — the API, the CLI, a bulk run — derives
the same schedule and outbox from the events it appends.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from accord.ledger.db import write_transaction
from accord.service.driver import insert_new
from accord.service.migrate import ensure

from . import follow, schema  # noqa: F401 - importing follow registers the followers
from .sealing import seal
from .signing import PREFIX

if TYPE_CHECKING:
    from accord.service.store import Store

_MIGRATIONS = Path(__file__).with_name("migrations") / "clocks"
_HEAD = "c0001"


def attach(store: Store) -> None:
    """Bring the clocks' tables to their head, seal any webhook secret kept in clear by an older version,
    and note where this store's history ends."""
    ensure(store.engine, "clocks", _MIGRATIONS, _HEAD, schema.metadata)
    _seal_clear_secrets(store)
    with store.engine.connect() as conn:
        if conn.execute(sa.select(schema.meta.c.id)).first() is not None:
            return
    with write_transaction(store.engine) as conn:
        if conn.execute(sa.select(schema.meta.c.id)).first() is None:
            size = conn.execute(sa.text("SELECT size FROM ledger_head")).scalar() or 0
            # insert-unless-present: on PostgreSQL this transaction takes no lock, so two processes
            # opening a fresh store at once can both get here; the first one's row stands.
            insert_new(conn, schema.meta, {"id": 1, "outbox_from_seq": int(size)})


_CLEAR = sa.select(schema.endpoints.c.endpoint_id, schema.endpoints.c.secret).where(
    schema.endpoints.c.secret.like(f"{PREFIX}%"))


def _seal_clear_secrets(store: Store) -> None:
    """Endpoints registered before secrets were sealed: their secrets sealed in place (same secret)."""
    with store.engine.connect() as conn:
        if conn.execute(_CLEAR.limit(1)).first() is None:
            return
    e = schema.endpoints
    with write_transaction(store.engine) as conn:
        for endpoint_id, secret in conn.execute(_CLEAR).all():
            conn.execute(e.update().where(e.c.endpoint_id == endpoint_id, e.c.secret == secret)
                         .values(secret=seal(store.engine, endpoint_id, secret)))
