"""Alembic environment: run inside the connection and transaction ``Ledger.open`` holds."""

from __future__ import annotations

from alembic import context

from accord.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=context.config.attributes.get("version_table", "accord_ledger_version"),
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
