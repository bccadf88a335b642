"""An opening event (``record.requested``) is always the first of its stream: one per request id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

With the existing ``UNIQUE (stream, stream_seq)`` this means a stream holds at most one such event,
whoever writes it (two ``check-batch`` runs at once, two API workers, a retry). Enforced for rows
written from now on: SQLite by a trigger, PostgreSQL by a ``CHECK ... NOT VALID`` constraint. Rows
already stored are left as they are (a ledger is append-only; ``audit verify`` still checks them).
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Kinds that open their stream (see accord.ledger.streams.OPENING_KINDS; kept literal: a migration is frozen).
_KINDS = ("record.requested",)
_IN = ", ".join(f"'{k}'" for k in _KINDS)


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER ledger_events_opening_first BEFORE INSERT ON ledger_events "
            f"WHEN NEW.kind IN ({_IN}) AND NEW.stream_seq <> 1 "
            "BEGIN SELECT RAISE(ABORT, 'ledger_opening_event_repeated'); END"
        )
    else:
        op.execute(f"ALTER TABLE ledger_events ADD CONSTRAINT ck_ledger_events_opening_first "
                   f"CHECK (kind NOT IN ({_IN}) OR stream_seq = 1) NOT VALID")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_events_opening_first")
    else:
        op.execute("ALTER TABLE ledger_events DROP CONSTRAINT IF EXISTS ck_ledger_events_opening_first")
