"""``Ledger``: the append-only, hash-chained, Merkle-committed event store (contracts.md: Ledger)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection, Engine

from accord.errors import AccordError, InputError, IntegrityError, NotFoundError

from . import merkle
from .db import Writers, is_sqlite_file, make_engine, read_connection, resolve_url, write_transaction
from .migrate import ensure_schema
from .records import Checkpoint, ConsistencyProof, InclusionProof, NewEvent, StoredEvent, VerifyReport
from .schema import NODE_LEVEL_STEP, checkpoints
from .schema import head as schema_head
from .signing import check_private_mode, key_file_for, load_or_create_signer
from .sql import Statements
from .streams import STREAM_OF_KIND
from .transaction import LedgerTx
from .writer import ChainWriter, Prepared, check_prepared, prepare, prepare_chunk, stream_heads, utc_stamp

_PAGE = 2000
#: events of a chunk that ``append_chunks`` prepares and writes at a time (see there: cache-sized pieces)
_PIECE = 4096


class StoreUnavailable(AccordError):
    """The database behind the ledger cannot be reached or opened."""


def _dbapi(conn: Connection) -> Any:
    return conn.connection.driver_connection


def _unavailable(engine: Engine, exc: sa.exc.DBAPIError) -> StoreUnavailable:
    """Dispose of ``engine`` and say, in the driver's first line, why its store cannot be opened."""
    engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    return StoreUnavailable(f"cannot open the ledger at {where}: {str(exc.orig).strip().splitlines()[0]}")


def _require_ledger(engine: Engine) -> None:
    """Raise NotFoundError unless ``engine``'s database already holds a ledger (without creating one)."""
    where = engine.url.render_as_string(hide_password=True)
    hint = f"create one with `accord init --db {where}`"
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:") and not Path(database).exists():
        engine.dispose()
        raise NotFoundError(f"no ledger at {where}: the file does not exist; {hint}")
    try:
        present = sa.inspect(engine).has_table(schema_head.name)
    except sa.exc.DBAPIError as exc:
        raise _unavailable(engine, exc) from None
    if not present:
        engine.dispose()
        raise NotFoundError(f"no ledger at {where}: the database holds no Accord ledger tables; {hint}")


def _auto_checkpoint_settings() -> tuple[int, float]:
    """``ACCORD_CHECKPOINT_EVERY_EVENTS`` (default 10000) and ``ACCORD_CHECKPOINT_EVERY_MINUTES`` (default 60); 0 turns one off."""
    out = []
    for name, default in (("ACCORD_CHECKPOINT_EVERY_EVENTS", "10000"), ("ACCORD_CHECKPOINT_EVERY_MINUTES", "60")):
        text = os.environ.get(name, default).strip() or default
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{text!r} is not a number", field=name) from None
        if value < 0:
            raise InputError("must be 0 (off) or more", field=name)
        out.append(value)
    return int(out[0]), out[1]


def _create_private_file(engine: Engine) -> None:
    """A new SQLite store file is created 0600 (its -wal and -shm files take the same mode)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not is_sqlite_file(database):
        return
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        engine.dispose()
        raise StoreUnavailable(f"cannot create the ledger file {database}: {exc.strerror}") from None


class Ledger:
    """Open with :meth:`open`; every method takes its own connection, so one Ledger serves many threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sql = Statements(engine.dialect.name)
        self._writers = Writers(engine)
        self._stamps: dict[str, datetime] = {}
        self._auto_checkpoint = _auto_checkpoint_settings()
        self._last_checkpoint: tuple[int, datetime] | None = None

    # -- life cycle -------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Ledger:
        """``None`` -> ``$ACCORD_DATABASE_URL`` or ``sqlite:///./accord.db``; creates or migrates the schema.

        ``create=False`` is for commands that read what is there: a store that holds no ledger
        (a mistyped path, an empty database) is a :class:`NotFoundError` rather than a new,
        empty ledger that would be read, reported or verified as if it were the real one.
        """
        engine = make_engine(resolve_url(url))
        if not create:
            _require_ledger(engine)
        else:
            _create_private_file(engine)
        try:
            ensure_schema(engine)
            key_file = key_file_for(engine)
        except sa.exc.DBAPIError as exc:
            raise _unavailable(engine, exc) from None
        if key_file.exists():
            try:
                check_private_mode(key_file)  # refuse to start with a key others can read
            except AccordError:
                engine.dispose()
                raise
        return cls(engine)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self._writers.close()
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------
    def append(self, kind: str, payload: BaseModel | dict[str, Any], stream: str | None = None,
               caused_by: int | None = None) -> StoredEvent:
        """Append one event in its own durable transaction.

        ``stream=None`` derives it from the payload (``booking/<booking_id>``, ...) or,
        for kinds without such a rule, takes the stream of the ``caused_by`` event.
        """
        return self.append_many([NewEvent(kind, payload, stream, caused_by)])[0]

    def append_many(self, events: Iterable[NewEvent]) -> list[StoredEvent]:
        """Append events in one transaction: all are recorded, in order, or none is.

        An event without a stream whose kind names none (e.g. ``decision.made``)
        joins the stream of the event it is ``caused_by``. ``caused_by=BatchRef(i)``
        names the event at position ``i`` of this call, so a cause and its effects
        commit together; it is stored as that event's seq.
        """
        prepared = prepare(self._inherit_streams(list(events)))
        if not prepared:
            return []
        rows: list[tuple] = []
        self._write([prepared], collect=rows)
        stamp = self._stamp_of(rows[0][5])
        return [StoredEvent(r[0], r[1], r[2], r[3], r[6], r[4], stamp, r[7], r[8]) for r in rows]

    def _inherit_streams(self, events: list[NewEvent]) -> list[NewEvent]:
        orphans = {ev.caused_by for ev in events  # a BatchRef's stream is known in prepare
                   if ev.stream is None and type(ev.caused_by) is int and str(ev.kind) not in STREAM_OF_KIND}
        if not orphans:
            return events
        streams: dict[int, str] = {}
        for seq in orphans:
            if isinstance(seq, int) and seq >= 1:
                for cause in self.events(after_seq=seq - 1, until_seq=seq):
                    streams[seq] = cause.stream
        out = []
        for ev in events:
            if ev.stream is None and ev.caused_by in streams and str(ev.kind) not in STREAM_OF_KIND:
                ev = NewEvent(ev.kind, ev.payload, streams[ev.caused_by], ev.caused_by)  # type: ignore[index]
            out.append(ev)
        return out

    @contextmanager
    def transaction(self) -> Iterator[LedgerTx]:
        """One write transaction holding the ledger's lock, that other tables can join (see ``transaction.py``).

        ``with led.transaction() as tx: tx.append_many([...]); tx.connection.execute(...)`` commits the
        events and the caller's rows together when the block ends, or neither on an error.
        """
        with write_transaction(self.engine) as conn:
            tx = LedgerTx(self, conn)
            yield tx
            tx._finish()
        if tx.size != tx.size_at_start:
            self._checkpoint_if_due(tx.size)

    def append_chunks(self, chunks: Iterable[Sequence[NewEvent]], on_chunk: Callable[[int], None] | None = None,
                      source: str = "event") -> tuple[int, int]:
        """Append many chunks in ONE transaction (bounded memory for big files); returns (first_seq, last_seq).

        Returns ``(0, 0)`` when there was nothing to append. ``on_chunk(n)`` reports progress (``n`` events at a
        time, up to ``_PIECE``). A chunk is canonicalised, hashed and inserted ``_PIECE`` events at a time: the
        writer's passes over whole columns then work on data still in the CPU's caches, where one pass over
        50,000 events' objects goes to memory each time (``bench/ledger_append.py``: about 7 % fewer CPU
        seconds an event, more on a busy machine).
        """
        def prepared_chunks() -> Iterator[list]:
            offset = 0
            streams: list[str] = []  # of every event so far, for BatchRefs across chunks
            for chunk in chunks:
                for i in range(0, len(chunk), _PIECE):
                    yield prepare_chunk(chunk[i : i + _PIECE], source=source, first=offset + i + 1, streams=streams)
                offset += len(chunk)

        return self._write(prepared_chunks(), on_chunk)

    def append_prepared(self, prepared: Sequence[Prepared]) -> tuple[int, int]:
        """Append events that :func:`~accord.ledger.writer.prepare` already checked and canonicalised,
        in one transaction; returns ``(first_seq, last_seq)`` (``(0, 0)`` for none).

        For pipelines whose workers do the costly part (canonical JSON of every payload) in other
        processes and leave the single writer only numbering, hashing and inserting. Each tuple's
        shape, kind, stream and cause are checked again here (cheap); the payload text is taken
        as ``prepare`` made it, so it must come from ``prepare`` (``audit verify`` re-reads every
        payload). ``BatchRef`` placeholders count from the first event of this call.
        """
        checked = check_prepared(prepared)
        if not checked:
            return (0, 0)
        return self._write([checked])

    def known_streams(self, streams: Iterable[str]) -> set[str]:
        """Which of ``streams`` already hold events (the writer's own stream-head query, in chunks)."""
        with read_connection(self.engine) as conn:
            return set(stream_heads(_dbapi(conn).cursor(), self.sql, list(dict.fromkeys(streams))))

    def _write(self, chunks: Iterable[list], on_chunk: Callable[[int], None] | None = None,
               collect: list[tuple] | None = None) -> tuple[int, int]:
        got = self._write_locked(chunks, on_chunk, collect)
        if got[1]:
            self._checkpoint_if_due(got[1])
        return got

    # -- checkpoints taken as the ledger grows ----------------------------------------------------
    def checkpoint_if_due(self) -> None:
        """Take the automatic checkpoint if one is due now (for a timer: ``accord worker`` and ``accord serve``
        call it every half minute, so a ledger that stops being written to still gets its tail witnessed
        within ``ACCORD_CHECKPOINT_EVERY_MINUTES``)."""
        self._checkpoint_if_due(self.size)

    def _checkpoint_if_due(self, size: int) -> None:
        """Sign (and publish) a checkpoint when ``ACCORD_CHECKPOINT_EVERY_EVENTS`` events or
        ``ACCORD_CHECKPOINT_EVERY_MINUTES`` minutes have passed since the last one (checked after each
        commit, so the unwitnessed tail stays bounded while the ledger is written to)."""
        every_n, every_min = self._auto_checkpoint
        if not (every_n or every_min):
            return
        if self._last_checkpoint is not None and not self._due(size, *self._last_checkpoint):
            return
        self._last_checkpoint = self._latest_checkpoint()  # another process may have signed one
        if not self._due(size, *self._last_checkpoint):
            return
        import logging

        if not key_file_for(self.engine).exists():
            # Never make a key here: a second host without the operator's key would sign with one
            # nobody trusts. `accord init` (or `accord audit checkpoint`) makes it where it belongs.
            if not getattr(self, "_warned_no_key", False):
                logging.getLogger("accord.ledger").warning(
                    "no checkpoint signing key at %s on this host: automatic checkpoints are not taken here",
                    key_file_for(self.engine))
                self._warned_no_key = True
            return
        try:
            cp = self.checkpoint()
        except AccordError as exc:  # a checkpoint that cannot be signed must not undo a committed append
            logging.getLogger("accord.ledger").warning("automatic checkpoint failed: %s", exc)
            return
        self._last_checkpoint = (cp.size, datetime.fromisoformat(cp.created_at.replace("Z", "+00:00")))
        target = os.environ.get("ACCORD_CHECKPOINT_PUBLISH")
        if target:
            from .witness import publish

            try:
                publish(cp, target)
            except (AccordError, OSError) as exc:
                logging.getLogger("accord.ledger").warning("checkpoint at size %d not published to %s: %s",
                                                           cp.size, target, exc)

    def _due(self, size: int, last_size: int, last_at: datetime) -> bool:
        from datetime import UTC

        every_n, every_min = self._auto_checkpoint
        if size <= last_size:
            return False
        if every_n and size - last_size >= every_n:
            return True
        return bool(every_min) and (datetime.now(UTC) - last_at).total_seconds() >= every_min * 60

    def _latest_checkpoint(self) -> tuple[int, datetime]:
        """(size, time) of the newest checkpoint; with none, (0, the time of the first event)."""
        from datetime import UTC

        with read_connection(self.engine) as conn:
            row = conn.execute(sa.select(checkpoints.c.size, checkpoints.c.created_at)
                               .order_by(checkpoints.c.id.desc()).limit(1)).first()
            if row is None:
                first = conn.execute(sa.text("SELECT recorded_at FROM ledger_events WHERE seq = 1")).scalar()
                row = (0, first or utc_stamp())
        return int(row[0]), datetime.fromisoformat(str(row[1]).replace("Z", "+00:00")).astimezone(UTC)

    def _write_locked(self, chunks: Iterable[list], on_chunk: Callable[[int], None] | None = None,
                      collect: list[tuple] | None = None) -> tuple[int, int]:
        with self._writers.transaction() as cur:
            cur.execute(self.sql.lock_head)
            row = cur.fetchone()
            if row is None:
                raise IntegrityError("ledger head row is missing; run `accord init`")
            size, chain, edge, _ = row
            writer = ChainWriter(cur, self.sql, int(size), bytes(chain), bytes(edge))
            for prepared in chunks:
                if prepared:
                    rows = writer.add(prepared, keep_rows=collect is not None)
                    if collect is not None:
                        collect.extend(rows)
                if on_chunk is not None:
                    on_chunk(len(prepared))
            if writer.size == writer.first_size:
                return (0, 0)
            writer.finish()
            return writer.first_size + 1, writer.size

    # -- reading ----------------------------------------------------------------------------
    def _stamp_of(self, text: str) -> datetime:
        stamp = self._stamps.get(text)
        if stamp is None:
            if len(self._stamps) > 4096:
                self._stamps.clear()
            stamp = self._stamps[text] = datetime.fromisoformat(text)
        return stamp

    def _row_to_event(self, r: Sequence[Any]) -> StoredEvent:
        return StoredEvent(r[0], r[1], r[2], r[3], r[6], r[4], self._stamp_of(r[5]), bytes(r[7]), bytes(r[8]))

    @property
    def size(self) -> int:
        """Number of events recorded (the seq of the last one)."""
        with read_connection(self.engine) as conn:
            cur = _dbapi(conn).cursor()
            cur.execute(self.sql.read_head)
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def get(self, seq: int) -> StoredEvent:
        for ev in self.events(after_seq=seq - 1, until_seq=seq):
            return ev
        raise NotFoundError(f"no event with seq {seq} (the ledger has {self.size})")

    def events(self, kind: str | None = None, stream: str | None = None, after_seq: int = 0,
               limit: int | None = None, until_seq: int | None = None) -> Iterator[StoredEvent]:
        """Events in seq order, filtered; read page by page so a long scan holds no lock or memory.

        ``until_seq`` (inclusive upper bound) is an extension of the contract.
        """
        remaining = limit
        after = after_seq
        while remaining is None or remaining > 0:
            page = _PAGE if remaining is None else min(_PAGE, remaining)
            sql, params = self.sql.events_query(after, kind, stream, until_seq, page)
            with read_connection(self.engine) as conn:
                cur = _dbapi(conn).cursor()
                cur.execute(sql, params)
                rows = cur.fetchall()
            for r in rows:
                yield self._row_to_event(r)
            if len(rows) < page:
                return
            after = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)

    # -- the tree -----------------------------------------------------------------------------
    def _subtree_hasher(self, cur: Any) -> Callable[[int, int], bytes]:
        sql = self.sql

        def subtree_hash(level: int, index: int) -> bytes:
            base = (level // NODE_LEVEL_STEP) * NODE_LEVEL_STEP
            count = 1 << (level - base)
            start = index << (level - base)
            if base == 0:
                cur.execute(sql.leaf_range, (start + 1, start + count))
            else:
                cur.execute(sql.node_range, (base, start, start + count))
            hashes = [bytes(h) for _, h in cur.fetchall()]
            if len(hashes) != count:
                raise IntegrityError(f"tree data missing under level {level} node {index}; run `accord audit verify`")
            while len(hashes) > 1:
                hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
            return hashes[0]

        return subtree_hash

    def _head(self, cur: Any) -> tuple[int, bytes, bytes, str]:
        cur.execute(self.sql.read_head)
        size, chain, edge, ledger_id = cur.fetchone()
        return int(size), bytes(chain), bytes(edge), ledger_id

    def root_hash(self, size: int | None = None) -> bytes:
        """Merkle root of the first ``size`` events (default: all)."""
        with read_connection(self.engine) as conn:
            cur = _dbapi(conn).cursor()
            head_size, _, edge, _ = self._head(cur)
            if size is None or size == head_size:
                return merkle.CompactRange.from_bytes(head_size, edge).root()
            self._check_size(size, head_size)
            return merkle.range_hash(0, size, self._subtree_hasher(cur)) if size else merkle.EMPTY_ROOT

    @staticmethod
    def _check_size(size: int, head_size: int) -> None:
        if not 0 <= size <= head_size:
            raise InputError(f"tree size {size} is outside 0..{head_size}", field="size")

    def prove_inclusion(self, seq: int, size: int | None = None) -> InclusionProof:
        """Proof that event ``seq`` is in the tree of ``size`` events (default: the current tree)."""
        with read_connection(self.engine) as conn:
            cur = _dbapi(conn).cursor()
            head_size, _, edge, _ = self._head(cur)
            size = head_size if size is None else size
            self._check_size(size, head_size)
            if not 1 <= seq <= size:
                raise NotFoundError(f"no event with seq {seq} in a tree of {size} events")
            sub = self._subtree_hasher(cur)
            path = merkle.inclusion_proof(seq - 1, size, sub)
            root = merkle.CompactRange.from_bytes(head_size, edge).root() if size == head_size else merkle.range_hash(0, size, sub)
            leaf = sub(0, seq - 1)
        return InclusionProof(seq, size, leaf, root, tuple(path))

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the first ``old_size`` events are unchanged in the tree of ``new_size`` events."""
        with read_connection(self.engine) as conn:
            cur = _dbapi(conn).cursor()
            head_size, _, edge, _ = self._head(cur)
            new_size = head_size if new_size is None else new_size
            self._check_size(new_size, head_size)
            if not 0 <= old_size <= new_size:
                raise InputError(f"old size {old_size} is outside 0..{new_size}", field="old_size")
            sub = self._subtree_hasher(cur)
            path = merkle.consistency_proof(old_size, new_size, sub)
            old_root = merkle.range_hash(0, old_size, sub) if old_size else merkle.EMPTY_ROOT
            new_root = merkle.CompactRange.from_bytes(head_size, edge).root() if new_size == head_size else merkle.range_hash(0, new_size, sub)
        return ConsistencyProof(old_size, new_size, old_root, new_root, tuple(path))

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """Sign and record the current tree head (size and Merkle root)."""
        with write_transaction(self.engine) as conn:
            cur = _dbapi(conn).cursor()
            cur.execute(self.sql.lock_head)
            size, _, edge, origin = cur.fetchone()
            size = int(size)
            root = merkle.CompactRange.from_bytes(size, bytes(edge)).root()
            signer = load_or_create_signer(conn, key_file_for(self.engine, origin))
            unsigned = Checkpoint(origin, size, root, utc_stamp(), signer.key_id, signer.public_key)
            cp = Checkpoint(origin, size, root, unsigned.created_at, signer.key_id, signer.public_key, signer.sign(unsigned.note()))
            conn.execute(checkpoints.insert().values(
                size=cp.size, root_hash=cp.root_hash, created_at=cp.created_at, key_id=cp.key_id,
                public_key=cp.public_key, signature=cp.signature,
            ))
        return cp

    def checkpoint_origin(self) -> str:
        """The origin line of this ledger's checkpoints (its ``ledger_id``)."""
        with read_connection(self.engine) as conn:
            return self._head(_dbapi(conn).cursor())[3]

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint recorded in the store, oldest first."""
        with read_connection(self.engine) as conn:
            return self._checkpoints_on(conn)

    def _checkpoints_on(self, conn: Connection) -> list[Checkpoint]:
        cur = _dbapi(conn).cursor()
        _, _, _, origin = self._head(cur)
        rows = conn.execute(checkpoints.select().order_by(checkpoints.c.id)).all()
        return [Checkpoint(origin, int(r.size), bytes(r.root_hash), r.created_at, r.key_id, bytes(r.public_key),
                           bytes(r.signature)) for r in rows]

    # -- audit ---------------------------------------------------------------------------------
    def verify(self, against: Iterable[Checkpoint] = (), progress: Callable[[int, int], None] | None = None,
               trusted: Sequence[bytes] | None = None) -> VerifyReport:
        """Recompute every leaf, the chain, the tree and each checkpoint; name the first bad seq.

        ``against`` adds checkpoints held outside the store (e.g. published ones). Every checkpoint
        must be signed by a ``trusted`` public key (default: ``signing.trusted_keys``: the operator's
        configured key, or ``$ACCORD_TRUSTED_KEYS``) or by a key a rotation event handed over to.
        """
        from .signing import trusted_keys
        from .verify import verify_ledger

        keys = list(trusted) if trusted is not None else trusted_keys(self.engine)
        return verify_ledger(self, list(against), progress, keys)

    def rotate_key(self) -> tuple[str, str]:
        """Replace the signing key: a ``ledger.key_rotated`` event signed by the old key names the new one.

        The new key replaces the configured key file (the old private key is destroyed); the old
        public key is kept beside it as ``<file>.retired-<key id>.pub``, which default verification
        trusts as well. Returns (old key id, new key id).
        """
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from .signing import ROTATION_KIND, ROTATION_STREAM, Signer, _pem, rotation_message, write_private_file

        path = key_file_for(self.engine)
        staged = path.with_name(path.name + ".new")
        staged.unlink(missing_ok=True)
        new = Signer(Ed25519PrivateKey.generate(), path)
        write_private_file(staged, _pem(new.private_key))
        with self.transaction() as tx:
            old = load_or_create_signer(tx.connection, path)
            signature = old.sign(rotation_message(tx.ledger_id, old.public_key, new.public_key))
            tx.append(ROTATION_KIND, {"old_key_id": old.key_id, "old_public_key": old.public_key.hex(),
                                      "new_key_id": new.key_id, "new_public_key": new.public_key.hex(),
                                      "signature": signature.hex()}, stream=ROTATION_STREAM)
        retired = path.with_name(f"{path.name}.retired-{old.key_id}.pub")
        retired.write_text(old.public_key.hex() + "\n")  # default trust keeps the old checkpoints' key
        os.replace(staged, path)  # the old private key is gone: it can sign nothing any more
        with write_transaction(self.engine) as conn:
            load_or_create_signer(conn, path)  # records the new public key
        return old.key_id, new.key_id
