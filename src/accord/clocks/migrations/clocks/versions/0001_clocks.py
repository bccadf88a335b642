"""The clocks: schedule, outbox messages and deliveries, webhook endpoints, letters.

Revision ID: c0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from accord.clocks import schema

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in schema.TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(schema.TABLES):
        table.drop(bind)
