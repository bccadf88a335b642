"""The read model (agencies, persons, bookings, detainers, notices, record requests, the position) and the ingest log.

Revision ID: p0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from accord.service import schema

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in (schema.position, *schema.PROJECTION_TABLES, schema.ingested_files):
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed((schema.position, *schema.PROJECTION_TABLES, schema.ingested_files)):
        table.drop(bind)
