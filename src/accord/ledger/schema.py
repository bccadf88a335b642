"""The ledger's tables (SQLAlchemy Core). Migrations in ``migrations/versions`` create them.

``ledger_events`` is append-only; ``ledger_head`` is the single row writers lock
to serialise appends (it holds the size, the last chain hash and the compact
range of the Merkle tree); ``ledger_nodes`` keeps every 256-leaf (and 65,536-leaf,
...) subtree hash so proofs read at most a few hundred hashes.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: On SQLite an ``INTEGER PRIMARY KEY`` is the rowid: no second index for ``seq``.
SeqType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

events = sa.Table(
    "ledger_events",
    metadata,
    sa.Column("seq", SeqType, primary_key=True, autoincrement=False),
    sa.Column("stream", sa.String(256), nullable=False),
    sa.Column("stream_seq", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("caused_by", sa.BigInteger, nullable=True),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("chain_hash", sa.LargeBinary(32), nullable=False),
    sa.UniqueConstraint("stream", "stream_seq", name="uq_ledger_events_stream"),
    sa.Index("ix_ledger_events_kind", "kind", "seq"),
)

head = sa.Table(
    "ledger_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("ledger_id", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("chain_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("edge", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

nodes = sa.Table(
    "ledger_nodes",
    metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

keys = sa.Table(
    "ledger_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    sa.Column("private_key", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
)

checkpoints = sa.Table(
    "ledger_checkpoints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    sa.Column("signature", sa.LargeBinary(64), nullable=False),
)

#: Subtree levels whose hashes are stored in ``ledger_nodes`` (every 8th level).
NODE_LEVEL_STEP = 8
