"""API tokens and idempotency keys.

Revision ID: a0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

from accord.api import schema

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    schema.metadata.create_all(bind)


def downgrade() -> None:
    bind = op.get_bind()
    schema.metadata.drop_all(bind)
