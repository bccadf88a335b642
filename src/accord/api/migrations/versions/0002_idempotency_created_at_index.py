"""An index on api_idempotency.created_at, for the retention purge (``accord.api.key_retention``).

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None

_NAME = "ix_api_idempotency_created_at"


def upgrade() -> None:
    # a0001 makes the tables from the current metadata, so a store made by it may have the index already
    if _NAME not in {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("api_idempotency")}:
        op.create_index(_NAME, "api_idempotency", ["created_at"])


def downgrade() -> None:
    op.drop_index(_NAME, table_name="api_idempotency")
