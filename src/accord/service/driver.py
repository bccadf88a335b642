"""Prebuilt statements sent straight to the DBAPI driver, for the per-request paths of the service.

SQLAlchemy's per-execute work (cache key, parameter processing, result wrapping) cost several
times the query itself on the path every submission takes, so the statements there are built once
and rendered once per dialect: :func:`insert_new` (insert-unless-present, so a rebuild inserts
nothing twice) and :func:`fetch`. The clocks' schedule and outbox and the API's idempotency keys use them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def insert_new(conn: Connection, table: sa.Table, rows: list[dict[str, Any]] | dict[str, Any]) -> int:
    """Insert rows whose key is not there yet; returns how many were new (a rebuild inserts none twice).

    Rows of plain values (text, numbers, None) with the same columns, inside a begun transaction,
    go to the driver as one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` of their own (what
    the SQLAlchemy statement below renders, built once per shape): a decision owes several
    rows, and SQLAlchemy's per-execute work cost more than the insert itself.
    """
    if not rows:
        return 0
    many = [rows] if isinstance(rows, dict) else rows
    if len(many) <= _RAW_MAX_ROWS and conn.in_transaction():
        keys = tuple(many[0])
        sql = _raw_insert(conn.dialect.name, table, keys, len(many))
        if sql is not None and all(len(r) == len(keys) for r in many):
            try:
                values = [r[k] for r in many for k in keys]
            except KeyError:  # rows of other shapes: the general path
                values = None
            if values is not None and all(v is None or type(v) in _PLAIN for v in values):
                cur = conn.connection.driver_connection.cursor()
                try:
                    cur.execute(sql, values)
                    return len(cur.fetchall())
                finally:
                    cur.close()
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
_PLAIN = (str, int, float, bool)
_RAW_MAX_ROWS = 100  # 100 rows of the widest clocks table stay far below either database's parameter limit
_RAW: dict[tuple[str, str, tuple[str, ...], int], str | None] = {}


def _raw_insert(dialect: str, table: sa.Table, keys: tuple[str, ...], n: int) -> str | None:
    """``INSERT INTO t (keys) VALUES (...) x n ON CONFLICT DO NOTHING RETURNING pk`` in the driver's paramstyle, or
    None where SQLAlchemy would add something of its own (a column default for a missing key, an unknown column)."""
    got = _RAW.get((dialect, table.name, keys, n), False)
    if got is not False:
        return got  # type: ignore[return-value]
    sql: str | None = None
    columns = table.columns
    if dialect in ("sqlite", "postgresql") and all(k in columns for k in keys) and not any(
            c.default is not None or c.onupdate is not None for c in columns if c.name not in keys):
        mark = "?" if dialect == "sqlite" else "%s"
        one = "(" + ", ".join([mark] * len(keys)) + ")"
        key = table.primary_key.columns.values()[0].name
        names = ", ".join(f'"{k}"' for k in keys)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES {", ".join([one] * n)} ON CONFLICT DO NOTHING RETURNING "{key}"'

    _RAW[(dialect, table.name, keys, n)] = sql
    return sql


def fetch(conn: Connection, stmt: Any, params: dict[str, Any]) -> list[tuple]:
    """The rows (plain tuples, in the statement's column order) of a prebuilt ``stmt`` with ``params``.

    ``stmt`` must be built once (a module-level constant): its rendering is cached by identity.

    Inside a begun transaction the statement, rendered once per dialect, goes straight to the
    driver; SQLAlchemy's execute (cache key, parameter processing, result wrapping) cost several
    times the query on the per-decision path. Elsewhere, or for a statement whose parameters need
    processing, it is SQLAlchemy's ``execute``.
    """
    plan = _plan(conn.dialect, stmt) if conn.in_transaction() else None
    if plan is None:
        return [tuple(r) for r in conn.execute(stmt, params)]
    sql, names, defaults = plan
    values: Any = {**defaults, **params}
    if names is not None:
        values = [values[n] for n in names]
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(sql, values)
        return cur.fetchall() if cur.description is not None else []
    finally:
        cur.close()


_PLANS: dict[tuple[str, int], Any] = {}


def _plan(dialect: Any, stmt: Any) -> tuple[str, list[str] | None, dict[str, Any]] | None:
    key = (dialect.name, id(stmt))
    got = _PLANS.get(key, False)
    if got is not False:
        return got
    plan = None
    if dialect.name in ("sqlite", "postgresql"):
        compiled = stmt.compile(dialect=dialect)
        plain = all(b.type._cached_bind_processor(dialect) is None and not b.expanding for b in compiled.binds.values())
        if plain and dialect.paramstyle in ("qmark", "pyformat", "format"):
            names = list(compiled.positiontup) if compiled.positional else None
            plan = (compiled.string, names, dict(compiled.params))
    _PLANS[key] = plan
    _KEEP_ALIVE.append(stmt)  # so its id is never another statement's (only module-level statements come here)
    return plan


_KEEP_ALIVE: list[Any] = []


__all__ = ["fetch", "insert_new"]
