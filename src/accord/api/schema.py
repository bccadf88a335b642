"""The API's own tables (not the ledger, not the read model): API tokens and idempotency keys.

They live under the ``api`` component's Alembic chain (version table ``accord_api_version``), so
they grow apart from the ledger and the read model. Times are UTC text as in the read model.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

Stamp = sa.String(32)

tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("token_id", sa.String(16), primary_key=True),  # the public part of the token: logs name it
    sa.Column("secret_hash", sa.String(64), nullable=False),  # SHA-256 (hex) of the whole token
    sa.Column("agency_id", sa.String(128), index=True),  # None: an auditor's or an admin's token
    sa.Column("scopes", sa.String(200), nullable=False),  # space-separated
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("expires_at", Stamp),
    sa.Column("revoked_at", Stamp),
    sa.Column("replaces", sa.String(16)),  # the token this one rotated
)

idempotency = sa.Table(
    "api_idempotency", metadata,
    sa.Column("token_id", sa.String(16), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),  # SHA-256 of method, path and body
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the first response, replayed byte for byte
    sa.Column("created_at", Stamp, nullable=False),
    sa.Index("ix_api_idempotency_created_at", "created_at"),  # the retention purge's range (key_retention.py)
)

HEAD = "a0002"
