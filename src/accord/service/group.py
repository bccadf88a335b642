"""Group commit: the units of work of concurrent requests written in one durable transaction.

A durable commit costs a disk flush (SQLite ``synchronous=FULL`` in WAL mode; PostgreSQL's WAL
flush), and only one writer holds the ledger's lock at a time, so one commit per request caps a
server at one request per flush. :class:`GroupCommit` lets the requests that arrive while a
transaction is being written share the next one:

- The first caller to find no group running becomes the *leader*. It takes every unit of work
  waiting at that moment (its own first), opens one write transaction (the ledger's lock, as
  :meth:`Store.transaction <accord.service.store.Store.transaction>`), and runs each in a
  ``SAVEPOINT`` of its own, in arrival order, each with its own
  :class:`~accord.ledger.LedgerTx` view of the head: the events of one unit get their seqs right
  after the previous unit's, so the chain is one chain in commit order. A unit that raises (a
  409, a 422, any error) is rolled back to its savepoint and only it fails; the others go on.
- Units that queue while the group is being written join it, up to ``MAX_GROUP``; then it
  commits once. Only after the commit returns (the data is durable) is any caller of the
  group answered: with its result, or with the error of the commit itself when that fails, in
  which case nothing of the group was written and nobody was told otherwise.
- Callers that arrive while it commits wait; when the leader is done it hands the lead to the
  first of them, which takes the whole queue as the next group.
- A caller on an event loop (:meth:`GroupCommit.run_async`, the API's POSTs) waits without a
  thread of its own: its unit is queued with a future, and when no group is running the group's
  one writer thread leads, for as long as the queue's first unit has no thread to lead it. The
  units of a group are answered with one wake-up of their event loop once it is durable. A
  request that is a coroutine throughout thus costs no thread hop of its own: on two cores each
  hop to a thread pool and back cost about as much as all the rest of a small request.

On a SQLite file the processes of one server (``accord serve --workers N``) also take turns at the
write lock through :class:`WriteTurns`, an ``flock`` on a file beside the database that wakes the
next writer the moment the lock is released: without it a worker that found the database locked
slept in SQLite's busy handler (1 to 100 ms a try), which made two workers slower than one.

Each unit runs in the leader's thread, inside a copy of its own caller's context variables
(request id, log fields), and sees the read model as every earlier unit of its group left it.
Between processes (several server workers on PostgreSQL) groups queue on the ledger's lock as
single transactions do.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from accord.ledger import LedgerTx
from accord.ledger.db import is_sqlite_file, write_transaction

if TYPE_CHECKING:
    from .store import Store, UnitOfWork

T = TypeVar("T")

log = logging.getLogger("accord.service")

#: One unit's savepoint, on the transaction's own DBAPI connection (both dialects speak this SQL).
_SAVEPOINT, _RELEASE, _ROLLBACK_TO = "SAVEPOINT accord_unit", "RELEASE SAVEPOINT accord_unit", "ROLLBACK TO SAVEPOINT accord_unit"

#: The most units one transaction takes (a bound on how long the lock is held and a group's latency).
MAX_GROUP = 64


class WriteTurns:
    """Writers' turns at a SQLite file: a re-entrant lock for this process's threads, and while one of
    them holds it, an exclusive ``flock`` on ``<database>.writer-lock`` for the server's other processes.

    It orders only the writers that use it (the store's transactions and group commits, the
    scheduler's batches); anything else that writes (another command, a dispatcher's claim) still
    meets SQLite's own lock and busy handler, as before. The lock file is empty and may be deleted
    while no server runs.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # none yet, or inherited through fork (a shared lock)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self) -> WriteTurns:
        self._lock.acquire()
        if self._depth == 0:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX)  # waits without the GIL
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


def write_turns(engine: sa.Engine) -> Any:
    """What a store's writers take turns at: :class:`WriteTurns` on a SQLite file, a lock of this process on
    SQLite in memory, nothing on PostgreSQL (its row lock on the ledger's head queues writers without sleeping)."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    if not is_sqlite_file(engine.url.database):
        return threading.RLock()
    return WriteTurns(f"{engine.url.database}.writer-lock")


class _Unit:
    __slots__ = ("work", "context", "wake", "lead", "finished", "result", "error", "future")

    def __init__(self, work: Callable[[UnitOfWork], Any], future: asyncio.Future[Any] | None = None) -> None:
        self.work = work
        self.context = contextvars.copy_context()
        self.wake = threading.Event()
        self.lead = False
        self.finished = False
        self.result: Any = None
        self.error: BaseException | None = None
        #: An event loop's caller waits on this rather than on ``wake`` (and no thread of its own leads for it).
        self.future = future


def _settle(units: list[_Unit]) -> None:
    """In the units' event loop: answer each waiting coroutine (one that was cancelled meanwhile is past caring)."""
    for unit in units:
        future = unit.future
        if future is not None and not future.done():
            if unit.error is not None:
                future.set_exception(unit.error)
            else:
                future.set_result(unit.result)


class GroupCommit:
    """Runs units of work of many threads in shared durable transactions (see the module's text)."""

    def __init__(self, store: Store, max_group: int = MAX_GROUP) -> None:
        self.store = store
        self.max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[_Unit] = []
        self._busy = False
        self._leading = threading.local()  # set in the leader's thread while it writes a group
        self._writer: ThreadPoolExecutor | None = None  # leads for coroutines' units (one thread, made when needed)
        self._writer_leads = False  # whether the writer thread keeps the lead after the group it wrote
        #: Groups written and units they held (for tests and the benchmark).
        self.groups = 0
        self.units = 0

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work(uow)`` in a unit of work; return its result once the transaction holding it is durable.

        Raises what ``work`` raised (its changes rolled back, nobody else's), or the commit's error.
        """
        if getattr(self._leading, "now", False):
            raise RuntimeError("Store.submit called from inside a unit of work: it would wait for its own group")
        unit = _Unit(work)
        with self._lock:
            self._queue.append(unit)
            if not self._busy:
                self._busy = unit.lead = True
        while not unit.finished:
            if unit.lead:
                self._lead()  # whoever is next gets the lead (a coroutine's unit: the writer thread)
            else:
                unit.wake.wait()
                unit.wake.clear()
        if unit.error is not None:
            raise unit.error
        return unit.result

    async def run_async(self, work: Callable[[UnitOfWork], T]) -> T:
        """:meth:`run` for a coroutine: the unit is written by the group's writer thread (or a leading caller's)
        and the coroutine awaits its answer, once the transaction holding it is durable, without a thread of its own.
        """
        unit = _Unit(work, asyncio.get_running_loop().create_future())
        with self._lock:
            self._queue.append(unit)
            start = not self._busy
            if start:
                self._busy = True
        if start:
            self._start_writer()
        return await unit.future

    def close(self) -> None:
        """Let the writer thread end (after the group it may be writing)."""
        if self._writer is not None:
            self._writer.shutdown(wait=False)

    def _start_writer(self) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="accord-group-writer")
        self._writer.submit(self._lead_for_coroutines)

    def _lead_for_coroutines(self) -> None:
        """The writer thread: lead groups while the queue's first unit is a coroutine's (no thread waits to lead it)."""
        while True:
            try:
                if not self._lead(writer=True):
                    return
            except Exception:  # noqa: BLE001 - after the commit (a checkpoint failed, say): its units were answered
                log.exception("group commit: a step after the commit failed; the writer goes on")
                if not self._writer_leads:
                    return

    def _lead(self, writer: bool = False) -> bool:
        """Write the next group; then hand the lead on: to the thread waiting to lead the next unit, or when a
        coroutine's unit is next, to the writer thread (True: the writer, which called, goes on; a caller's
        thread starts it instead and goes back to its caller)."""
        with self._lock:
            group = self._queue[: self.max_group]
            del self._queue[: self.max_group]
        self._leading.now = True
        try:
            self._write(group)
        finally:
            self._leading.now = False
            waiting: dict[asyncio.AbstractEventLoop, list[_Unit]] = {}
            with self._lock:
                for unit in group:
                    unit.finished = True
                    unit.lead = False
                    if unit.future is None:
                        unit.wake.set()
                    else:
                        waiting.setdefault(unit.future.get_loop(), []).append(unit)
                coroutine_next = False
                if self._queue:
                    nxt = self._queue[0]
                    if nxt.future is None:
                        nxt.lead = True
                        nxt.wake.set()
                    else:
                        coroutine_next = True
                else:
                    self._busy = False
                self._writer_leads = coroutine_next and writer  # read by the writer when _write raised
            for loop, units in waiting.items():
                with contextlib.suppress(RuntimeError):  # a loop that closed meanwhile has nobody left to tell
                    loop.call_soon_threadsafe(_settle, units)
            if coroutine_next and not writer:
                self._start_writer()  # a caller's thread goes back to its caller (error or not); the writer leads the rest
        return coroutine_next and writer

    def _write(self, group: list[_Unit]) -> None:
        """Write ``group`` in one transaction, taking in (up to ``max_group``) the units that queue meanwhile."""
        from .store import UnitOfWork

        store = self.store
        size = 0  # the ledger's size after the group's last append (0: it appended nothing)
        try:
            with store._turns, write_transaction(store.engine) as conn:
                cur = conn.connection.driver_connection.cursor()
                projected: int | None = None  # the read model's position, once a unit of this group knows it
                i = 0
                while i < len(group):
                    unit = group[i]
                    # the first unit, with nobody waiting, needs no savepoint: if it fails, the transaction is its own
                    own = i > 0 or len(group) > 1
                    i += 1
                    if own:
                        cur.execute(_SAVEPOINT)
                    try:
                        tx = LedgerTx(store.ledger, conn)
                        uow = UnitOfWork(store, tx)
                        if projected != tx.size_at_start:
                            uow._catch_up()
                        unit.result = unit.context.run(unit.work, uow)
                        uow.proj.flush()
                        tx._finish()
                    except Exception as exc:  # noqa: BLE001 - this unit's failure is this unit's answer
                        if not own:
                            raise
                        cur.execute(_ROLLBACK_TO)  # its events, rows and head move are undone
                        cur.execute(_RELEASE)
                        unit.error, unit.result = exc, None
                    else:
                        if own:
                            cur.execute(_RELEASE)
                        # every event it appended went through its projection, or the next unit catches up
                        projected = tx.size if tx.size in (tx.size_at_start, uow.proj.position) else None
                        if tx.size != tx.size_at_start:
                            size = tx.size
                    if i == len(group) and len(group) < self.max_group:
                        with self._lock:  # those that queued while this group was written join it
                            more = self._queue[: self.max_group - len(group)]
                            del self._queue[: len(more)]
                        group.extend(more)
        except BaseException as exc:
            for unit in group:  # nothing of the group is written: every caller gets the error
                unit.result = None
                if unit.error is None or len(group) == 1:
                    unit.error = exc
            if not isinstance(exc, Exception):
                raise
            return
        self.groups += 1
        self.units += len(group)
        if size:
            store.ledger._checkpoint_if_due(size)
