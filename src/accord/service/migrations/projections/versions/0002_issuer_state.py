"""proj_detainers.issuer_state: what the issuing agency may be told of a detainer's state.

Revision ID: p0002
Revises: p0001
Create Date: 2026-12-02

The read model is rebuilt from the ledger when its projection version changes, which fills the
column; a store created at p0001 by this version's schema already has it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p0002"
down_revision = "p0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("proj_detainers")}
    if "issuer_state" not in columns:
        op.add_column("proj_detainers", sa.Column("issuer_state", sa.String(20)))
        op.create_index("ix_proj_detainers_issuer_state", "proj_detainers", ["issuer_state"])


def downgrade() -> None:
    op.drop_index("ix_proj_detainers_issuer_state", "proj_detainers")
    op.drop_column("proj_detainers", "issuer_state")
