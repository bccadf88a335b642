"""Console users and sessions.

Revision ID: c0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from accord.console import schema

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.metadata.create_all(op.get_bind())


def downgrade() -> None:
    schema.metadata.drop_all(op.get_bind())
