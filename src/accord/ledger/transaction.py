"""``Ledger.transaction()``: one write transaction that other tables can join.

The application layer keeps tables of its own (projections of current state, idempotency keys,
an outbox) that must change in the same transaction as the events that cause them: either the
events and those rows are all committed, or none is. A :class:`LedgerTx` holds the ledger's write
lock from its start (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``SELECT ... FOR UPDATE`` on the head
row), so what a caller reads inside it cannot change until it commits, and hands out the
SQLAlchemy connection of that same transaction. The ledger still knows nothing of what the other
tables mean.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from accord.errors import IntegrityError

from .records import NewEvent, StoredEvent
from .streams import STREAM_OF_KIND
from .writer import ChainWriter, Prepared, check_prepared, prepare

if TYPE_CHECKING:
    from .store import Ledger


class LedgerTx:
    """A locked write transaction: ``append_many`` as often as needed, ``connection`` for other tables.

    Made by :meth:`Ledger.transaction`; commits when the ``with`` block ends, rolls back on error.
    """

    def __init__(self, ledger: Ledger, conn: Connection) -> None:
        self.ledger = ledger
        self.connection = conn
        self._cur = conn.connection.driver_connection.cursor()
        self._cur.execute(ledger.sql.lock_head)
        row = self._cur.fetchone()
        if row is None:
            raise IntegrityError("ledger head row is missing; run `accord init`")
        size, chain, edge, self.ledger_id = row
        self._writer = ChainWriter(self._cur, ledger.sql, int(size), bytes(chain), bytes(edge))

    @property
    def size(self) -> int:
        """Events in the ledger as this transaction sees it (its own appends included)."""
        return self._writer.size

    @property
    def size_at_start(self) -> int:
        return self._writer.first_size

    def append_many(self, events: Iterable[NewEvent]) -> list[StoredEvent]:
        """Append events inside this transaction; ``BatchRef(i)`` counts from this call's first event."""
        prepared = prepare(self._inherit_streams(list(events)))
        if not prepared:
            return []
        self._writer.begin_call()
        rows = self._writer.add(prepared)
        stamp = self.ledger._stamp_of(rows[0][5])
        return [StoredEvent(r[0], r[1], r[2], r[3], r[6], r[4], stamp, r[7], r[8]) for r in rows]

    def append_prepared(self, prepared: Sequence[Prepared]) -> list[StoredEvent]:
        """Append events :func:`~accord.ledger.writer.prepare` made elsewhere (see ``Ledger.append_prepared``)."""
        checked = check_prepared(prepared)
        if not checked:
            return []
        self._writer.begin_call()
        rows = self._writer.add(checked)
        stamp = self.ledger._stamp_of(rows[0][5])
        return [StoredEvent(r[0], r[1], r[2], r[3], r[6], r[4], stamp, r[7], r[8]) for r in rows]

    def append(self, kind: str, payload: Any, stream: str | None = None, caused_by: int | None = None) -> StoredEvent:
        return self.append_many([NewEvent(kind, payload, stream, caused_by)])[0]

    def known_streams(self, streams: Iterable[str]) -> set[str]:
        """Which of ``streams`` hold events, as this transaction sees them (it holds the write lock, so no
        other writer can add to them before it commits)."""
        return self._writer.holding_events(streams)

    def get(self, seq: int) -> StoredEvent | None:
        """The event ``seq`` as this transaction sees it (None when there is none)."""
        for ev in self.events(after_seq=seq - 1, until_seq=seq):
            return ev
        return None

    def events(self, kind: str | None = None, stream: str | None = None, after_seq: int = 0,
               until_seq: int | None = None, limit: int | None = None) -> Iterator[StoredEvent]:
        """Events in seq order, read inside this transaction (so its own appends are seen)."""
        sql, params = self.ledger.sql.events_query(after_seq, kind, stream, until_seq, limit)
        cur = self.connection.connection.driver_connection.cursor()
        cur.execute(sql, params)
        for r in cur.fetchall():
            yield self.ledger._row_to_event(r)

    def _inherit_streams(self, events: list[NewEvent]) -> list[NewEvent]:
        """A stream-less effect of a stored cause joins the cause's stream (as ``Ledger.append_many``)."""
        out = []
        for ev in events:
            if ev.stream is None and type(ev.caused_by) is int and str(ev.kind) not in STREAM_OF_KIND:
                cause = self.get(ev.caused_by) if ev.caused_by >= 1 else None
                if cause is not None:
                    ev = NewEvent(ev.kind, ev.payload, cause.stream, ev.caused_by)
            out.append(ev)
        return out

    def _finish(self) -> None:
        if self._writer.size != self._writer.first_size:
            self._writer.finish()
