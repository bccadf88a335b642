"""Rebuilding the schedule from the ledger: the jobs are a projection of events, so they can be derived again."""

from __future__ import annotations

import sqlalchemy as sa

from accord.service.store import Store

from . import schema


def rebuild(store: Store) -> int:
    """Drop every job and project the whole ledger again (read model included); returns the jobs derived.

    Messages are not dropped: they record what was owed and sent; a rebuild adds none twice.
    """
    with store.ledger.transaction() as tx:
        tx.connection.execute(schema.jobs.delete())
    store.rebuild()
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(schema.jobs)).scalar() or 0)
