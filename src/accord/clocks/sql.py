"""Small SQL helpers the clocks share: insert-unless-present on both dialects, times as stamps."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from accord.service.projector import stamp


def insert_new(conn: Connection, table: sa.Table, rows: list[dict[str, Any]] | dict[str, Any]) -> int:
    """Insert rows whose key is not there yet; returns how many were new (a rebuild inserts none twice)."""
    if not rows:
        return 0
    stmt = _INSERTS.get((conn.dialect.name, table.name))
    if stmt is None:  # built once per dialect and table (building one costs more than running it)
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        key = table.primary_key.columns.values()[0]
        # RETURNING counts the new rows on both dialects (psycopg reports no rowcount for ON CONFLICT inserts)
        stmt = _INSERTS[(conn.dialect.name, table.name)] = insert(table).on_conflict_do_nothing().returning(key)
    return len(conn.execute(stmt, rows).all())


_INSERTS: dict[tuple[str, str], Any] = {}


def moment(text: str | None) -> datetime | None:
    """A stored stamp back as an aware UTC datetime.

    >>> moment("2024-11-13T14:00:00.000000Z").isoformat()
    '2024-11-13T14:00:00+00:00'
    """
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


__all__ = ["insert_new", "moment", "stamp"]
