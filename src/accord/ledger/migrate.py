"""Bring a store's schema to the current Alembic revision, once, under a lock.

``Ledger.open`` calls :func:`ensure_schema`. A store already at the head
revision costs one cheap query; otherwise the upgrade runs inside a write
transaction (``BEGIN IMMEDIATE`` on SQLite, an advisory lock per schema on
PostgreSQL) so processes opening a new store at once do not race.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import write_transaction
from .merkle import HASH_SIZE
from .schema import head
from .signing import key_file_for, load_or_create_signer

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "accord_ledger_version"
HEAD_REVISION = "0002"


def _is_current(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
            has_head = conn.execute(sa.select(head.c.id).where(head.c.id == 1)).first() is not None
    except sa.exc.DBAPIError:
        return False
    return version == HEAD_REVISION and has_head


def ensure_schema(engine: Engine) -> None:
    if _is_current(engine):
        return
    from alembic import command
    from alembic.config import Config

    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('accord.ledger.migrate:' || current_schema()))"))
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        cfg.attributes["version_table"] = VERSION_TABLE
        command.upgrade(cfg, "head")
        if conn.execute(sa.select(head.c.id).where(head.c.id == 1)).first() is None:
            conn.execute(head.insert().values(
                id=1, ledger_id=f"accord.ledger/{uuid.uuid4()}", size=0, chain_hash=bytes(HASH_SIZE), edge=b"",
                updated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            ))
        ledger_id = conn.execute(sa.select(head.c.ledger_id).where(head.c.id == 1)).scalar()
        load_or_create_signer(conn, key_file_for(engine, ledger_id))
