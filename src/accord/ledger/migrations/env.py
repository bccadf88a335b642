"""Alembic environment: run inside the connection and transaction ``Ledger.open`` holds."""

from __future__ import annotations

from alembic import context

from accord.ledger.schema import metadata


def run(config) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=config.attributes["connection"],
        target_metadata=metadata,
        version_table=config.attributes.get("version_table", "accord_ledger_version"),
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


try:
    _config = context.config
except AttributeError:  # imported outside Alembic (e.g. pytest --doctest-modules collecting files)
    _config = None
if _config is not None:
    run(_config)
