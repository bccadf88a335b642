"""Bring one component's tables to its current Alembic revision, once, under a lock.

The ledger has its migrations (``accord.ledger.migrate``); each service component (the read
model, the API's tokens, the clocks' queue, the console's users) has its own folder of
migrations and its own version table ``accord_<component>_version``, so components grow
independently. As for the ledger, an up-to-date store costs one query; an upgrade runs in a write
transaction (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock per schema) so processes
opening a new store at once do not race.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from accord.ledger.db import write_transaction

_current: set[tuple[str, str, str]] = set()  # (url, component, head) already checked in this process


def version_table(component: str) -> str:
    return f"accord_{component}_version"


def _is_current(engine: Engine, component: str, head: str) -> bool:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT version_num FROM {version_table(component)}")).scalar() == head
    except sa.exc.DBAPIError:
        return False


def ensure(engine: Engine, component: str, directory: Path, head: str, metadata: sa.MetaData) -> None:
    """Upgrade ``component``'s tables to ``head`` (a no-op when they are there already)."""
    key = (engine.url.render_as_string(hide_password=False), component, head)
    if key in _current or _is_current(engine, component, head):
        _current.add(key)
        return
    from alembic import command
    from alembic.config import Config

    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"SELECT pg_advisory_xact_lock(hashtext('accord.{component}.migrate:' || current_schema()))"))
        cfg = Config()
        cfg.set_main_option("script_location", str(directory))
        cfg.attributes["connection"] = conn
        cfg.attributes["version_table"] = version_table(component)
        cfg.attributes["metadata"] = metadata
        command.upgrade(cfg, "head")
    _current.add(key)


def run_env() -> None:
    """The body of every component's ``env.py``: migrate inside the connection ``ensure`` holds."""
    from alembic import context

    try:
        config = context.config
    except AttributeError:  # imported outside Alembic (pytest --doctest-modules collecting files)
        return
    context.configure(connection=config.attributes["connection"], target_metadata=config.attributes.get("metadata"),
                      version_table=config.attributes["version_table"], transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
