"""The application layer's store: the ledger plus the read model, changed in one transaction.

``Store.transaction()`` opens a :class:`UnitOfWork`: the ledger's write lock is held from its
start, the read model is first brought up to the ledger's head (events another writer appended,
e.g. ``accord ingest`` or a bulk run), then every event the use case appends is applied to the
read model in the same transaction. So the read model is never behind what a use case saw, and a
crash leaves events and state together or neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from accord.errors import NotFoundError
from accord.ledger import Ledger, LedgerTx, NewEvent, Prepared, StoredEvent

from . import schema
from .driver import fetch
from .migrate import ensure
from .projector import Projection

_MIGRATIONS = Path(__file__).with_name("migrations") / "projections"
_HEAD = "p0002"
_PAGE = 5000
_POSITION = sa.select(schema.position.c.seq, schema.position.c.version)

#: The time source every use case reads (tests and the scheduler replace it; law code never calls now()).
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class Reader:
    """What a read use case needs: read-model rows, queries on them, and ledger events by seq."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self.store = store
        self.connection = conn
        self.proj = Projection(conn)

    @property
    def now(self) -> datetime:
        return self.store.clock()

    def row(self, table: sa.Table, key: str) -> dict[str, Any] | None:
        return self.proj.get(table, key)

    def event(self, seq: int) -> StoredEvent | None:
        try:
            return self.store.ledger.get(seq)
        except NotFoundError:
            return None


class UnitOfWork:
    """One use case's transaction: append events, read and change the read model, all or nothing."""

    def __init__(self, store: Store, tx: LedgerTx) -> None:
        self.store = store
        self.tx = tx
        self.connection: Connection = tx.connection
        self.proj = Projection(tx.connection)

    @property
    def now(self) -> datetime:
        return self.store.clock()

    def append(self, events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Append ``events`` (one call: ``BatchRef``s count from its first) and project them."""
        stored = self.tx.append_many(events)
        self.proj.apply(stored)
        return stored

    def append_prepared(self, prepared: Sequence[Prepared]) -> list[StoredEvent]:
        stored = self.tx.append_prepared(prepared)
        self.proj.apply(stored)
        return stored

    def event(self, seq: int) -> StoredEvent | None:
        return self.tx.get(seq)

    def row(self, table: sa.Table, key: str) -> dict[str, Any] | None:
        return self.proj.get(table, key)

    def _catch_up(self) -> int:
        """Project events appended by writers that did not (and rebuild on a new projection version)."""
        rows = fetch(self.connection, _POSITION, {})  # once per unit of work: straight to the driver
        got = rows[0] if rows else None
        position, version = (int(got[0]), int(got[1])) if got else (0, schema.PROJECTION_VERSION)
        if version != schema.PROJECTION_VERSION:
            for table in schema.PROJECTION_TABLES:
                self.connection.execute(table.delete())
            position = 0
        head = self.tx.size_at_start
        done = 0
        while position < head:
            page = list(self.tx.events(after_seq=position, until_seq=head, limit=_PAGE))
            if not page:
                break
            self.proj.apply(page)
            self.proj.flush()
            self.proj.forget()
            position = page[-1].seq
            done += len(page)
            if self.store.on_catch_up is not None:
                self.store.on_catch_up(done, head)
        if got is None or version != schema.PROJECTION_VERSION:
            self.proj.position = head
            self.proj.flush()
        return done


class Store:
    """The ledger and the service's read model over one database (SQLite or PostgreSQL)."""

    def __init__(self, ledger: Ledger, clock: Clock = system_clock) -> None:
        self.ledger = ledger
        self.clock = clock
        self.on_catch_up: Callable[[int, int], None] | None = None
        from .components import attach_all
        from .group import GroupCommit, write_turns

        # On SQLite, writers take turns here rather than in SQLite's busy handler, which sleeps 1 to
        # 100 ms between tries (an API server's threads and worker processes would wait in those sleeps).
        self._turns = write_turns(ledger.engine)
        ensure(ledger.engine, "projections", _MIGRATIONS, _HEAD, schema.metadata)

        #: Concurrent callers of :meth:`submit` share durable transactions (see ``group.py``).
        self.group = GroupCommit(self)

        attach_all(self)  # the clocks' schedule and outbox follow the same transactions

    @classmethod
    def of(cls, target: Store | Ledger) -> Store:
        """``target`` itself, or a Store over a ledger opened elsewhere (its read model shares the database)."""
        return target if isinstance(target, Store) else cls(target)

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True, clock: Clock = system_clock) -> Store:
        """Open (and, unless ``create=False``, create) the ledger at ``url`` with its read model."""
        return cls(Ledger.open(url, create=create), clock)

    @property
    def engine(self) -> sa.Engine:
        return self.ledger.engine

    def close(self) -> None:
        self.group.close()
        self.ledger.close()
        getattr(self._turns, "close", lambda: None)()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A :class:`UnitOfWork` whose events and read-model changes commit together on exit."""
        with self._turns, self.ledger.transaction() as tx:
            uow = UnitOfWork(self, tx)
            uow._catch_up()
            yield uow
            uow.proj.flush()

    def submit(self, work: Callable[[UnitOfWork], Any]) -> Any:
        """Run ``work(uow)`` in a unit of work of its own, committed (with those of other threads that
        arrive meanwhile) in one durable transaction; returns its result once that is committed.

        What :meth:`transaction` gives one caller, for servers with many: ``work``'s events and rows
        are written all or none, and when it raises nothing of it is written (the others' are).
        """
        return self.group.run(work)

    async def submit_async(self, work: Callable[[UnitOfWork], Any]) -> Any:
        """:meth:`submit` for a coroutine (the API's POSTs): it awaits the durable commit without a thread of its own."""
        return await self.group.run_async(work)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(schema.position.c.seq)).scalar() or 0)

    def catch_up(self) -> int:
        """Bring the read model up to the ledger's head; returns how many events it projected."""
        with self._turns, self.ledger.transaction() as tx:
            return UnitOfWork(self, tx)._catch_up()

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """A :class:`Reader` on a read model that is not behind the ledger."""
        if self.position() < self.ledger.size:
            self.catch_up()
        with self.engine.connect() as conn:
            yield Reader(self, conn)

    def rebuild(self) -> int:
        """Drop the read model and project every event again (``accord projections rebuild``)."""
        with self._turns, self.ledger.transaction() as tx:
            for table in schema.PROJECTION_TABLES:
                tx.connection.execute(table.delete())
            tx.connection.execute(schema.position.delete())
            return UnitOfWork(self, tx)._catch_up()
