"""The console's own tables: its users and their sessions (not the ledger, not the read model).

They live under the ``console`` component's Alembic chain (version table
``accord_console_version``). A password is kept only as its Argon2id hash; a session only as the
SHA-256 of its cookie (the cookie is 32 random bytes, so one fast hash is as safe as a slow one).
Times are UTC text, as in the read model.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

Stamp = sa.String(32)

users = sa.Table(
    "console_users", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),  # Argon2id, PHC string
    sa.Column("role", sa.String(16), nullable=False),  # officer | auditor
    sa.Column("agency_id", sa.String(128)),  # an officer's custodian agency; None for an auditor
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("failed_count", sa.Integer, nullable=False, default=0),  # failures since the last success
    sa.Column("locked_until", Stamp),  # sign-in refused until then (after too many failures)
    sa.Column("last_sign_in_at", Stamp),
)

sessions = sa.Table(
    "console_sessions", metadata,
    sa.Column("session_hash", sa.String(64), primary_key=True),  # SHA-256 (hex) of the cookie
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),  # the token every form of this session carries
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("expires_at", Stamp, nullable=False),
)

HEAD = "c0001"
