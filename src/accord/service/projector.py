"""Events in, current state out: the read model kept in step with the ledger.

A :class:`Projection` is opened on the connection of a write transaction. It reads rows as the
events need them (once each), applies events in seq order to those rows in memory, and
:meth:`Projection.flush` writes every changed row in one upsert per table. The same code serves a
single API call (a few events), the catch-up after another writer (``accord ingest``, a bulk
run) and a full rebuild (the whole ledger, chunk by chunk). A batch of more than ``BATCH_FROM``
events has the rows it reads loaded in a few ``IN`` queries first, and is applied inside the scopes
components register with :func:`batches`, where they collect their followers' writes and write them
together (the clocks' jobs and messages: ``accord.clocks.batch``); the rows are those one event at a
time gives (tests/access/test_access_batch_equal.py).

Use cases read through the same object (:meth:`Projection.get`) so they see the state their own
transaction has already changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack
from datetime import datetime, timezone
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from accord.domain.enums import NoticeKind
from accord.ledger import StoredEvent

from . import schema
from .driver import fetch
from .lifecycle import OPEN, DetainerState, after_decision, after_release, issuer_state

Row = dict[str, Any]

_KEYS = {t.name: t.primary_key.columns.values()[0].name for t in schema.PROJECTION_TABLES}
_TABLES = {t.name: t for t in schema.PROJECTION_TABLES}
_COLUMNS = {t.name: [c.name for c in t.columns] for t in schema.PROJECTION_TABLES}
_COLUMN_SETS = {name: frozenset(cols) for name, cols in _COLUMNS.items()}
_IMMIGRATION_RELEASE = "transferred_to_immigration"
DISCHARGED = "discharged"  # a notice's state once what it was owed for has ended (see _discharge_hold_notices)


def stamp(value: str | datetime | None) -> str | None:
    """ISO 8601 text in UTC with a ``Z`` and microseconds (fixed width: text order is time order).

    >>> stamp("2020-03-31T22:00:00-04:00")
    '2020-04-01T02:00:00.000000Z'
    """
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _upsert(conn: Connection, table: sa.Table) -> Any:
    """The table's upsert statement for this dialect, built once (building one costs more than running it)."""
    key = (conn.dialect.name, table.name)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        ins = insert(table)
        pk = table.primary_key.columns.values()[0].name
        stmt = _UPSERTS[key] = ins.on_conflict_do_update(
            index_elements=[pk], set_={c.name: ins.excluded[c.name] for c in table.columns if c.name != pk})
    return stmt


_UPSERTS: dict[tuple[str, str], Any] = {}


def _driver_upsert(conn: Connection, table: sa.Table) -> tuple[str, list[str] | None]:
    """The table's upsert as the driver's SQL and, for a positional paramstyle, the column order of its
    parameters; compiled once. Flushing sends rows straight to the driver's ``executemany``: the read
    model's columns are text and integers, which SQLAlchemy passes through unchanged on both dialects
    (no bind processors; a test checks), so only its per-row bookkeeping is saved."""
    key = (conn.dialect.name, table.name)
    got = _DRIVER_UPSERTS.get(key)
    if got is None:
        compiled = _upsert(conn, table).compile(dialect=conn.dialect)
        got = _DRIVER_UPSERTS[key] = (compiled.string, list(compiled.positiontup) if compiled.positional else None)
    return got


_DRIVER_UPSERTS: dict[tuple[str, str], tuple[str, list[str] | None]] = {}
#: ``SELECT * FROM table WHERE key = :k`` per read-model table, built once.
_BY_KEY = {t.name: sa.select(t).where(t.primary_key.columns.values()[0] == sa.bindparam("k"))
           for t in schema.PROJECTION_TABLES}
_OF_BOOKING = sa.select(schema.detainers).where(schema.detainers.c.booking_id == sa.bindparam("b"))
#: The same for many keys at once (``{"keys": [...]}``), for :meth:`Projection._prefetch`: built once,
#: as building a statement costs about what running it does.
_IN_KEYS = {t.name: sa.select(t).where(t.primary_key.columns.values()[0].in_(sa.bindparam("keys", expanding=True)))
            for t in schema.PROJECTION_TABLES}
_OF_BOOKINGS = sa.select(schema.detainers).where(schema.detainers.c.booking_id.in_(sa.bindparam("keys", expanding=True)))
_ABOUT = sa.select(schema.notices).where(schema.notices.c.about_request_id.in_(sa.bindparam("keys", expanding=True)))
_STREAMS_OF = sa.text("SELECT seq, stream FROM ledger_events WHERE seq IN :s").bindparams(sa.bindparam("s", expanding=True))


class Projection:
    """The read model as seen inside one transaction: cached rows, changed in memory, flushed once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._rows: dict[str, dict[str, Row | None]] = {name: {} for name in _TABLES}
        self._dirty: dict[str, set[str]] = {name: set() for name in _TABLES}
        self._streams: dict[int, str] = {}  # seq -> stream of events seen in this projection
        self._by_booking: dict[str, set[str]] = {}  # booking id -> request ids of cached detainers
        self._bookings_loaded: set[str] = set()
        self._by_request: dict[str, set[str]] = {}  # request id -> ids of cached notices about it
        self._requests_loaded: set[str] = set()
        self.position: int | None = None

    # -- reading ------------------------------------------------------------------------------
    def get(self, table: sa.Table, key: str) -> Row | None:
        """The current row of ``table`` with primary key ``key`` (None when there is none)."""
        cache = self._rows[table.name]
        if key not in cache:
            # straight to the driver (``fetch``): a unit of work reads a few rows, and SQLAlchemy's execute
            # cost several times the lookup; the columns are text and integers, returned as stored (a test checks)
            got = fetch(self.conn, _BY_KEY[table.name], {"k": key})
            found = cache[key] = dict(zip(_COLUMNS[table.name], got[0])) if got else None
            if found is not None and table is schema.detainers:
                self._by_booking.setdefault(found["booking_id"], set()).add(key)
            elif found is not None and table is schema.notices:
                self._by_request.setdefault(found["about_request_id"], set()).add(key)
        row = cache[key]
        return None if row is None else dict(row)

    def detainers_of_booking(self, booking_id: str) -> list[Row]:
        """Every detainer lodged against a booking, as this transaction sees them."""
        t = schema.detainers
        cache = self._rows[t.name]
        keys = self._by_booking.setdefault(booking_id, set())
        if booking_id not in self._bookings_loaded:
            for values in fetch(self.conn, _OF_BOOKING, {"b": booking_id}):
                r = dict(zip(_COLUMNS[t.name], values))
                cache.setdefault(r["request_id"], r)
                keys.add(r["request_id"])
            self._bookings_loaded.add(booking_id)
        return [dict(cache[k]) for k in sorted(keys) if cache.get(k) is not None]

    def notices_about(self, request_ids: Iterable[str]) -> list[Row]:
        """Every notice about the requests ``request_ids`` (detainers' and record requests'), as this transaction sees them."""
        t = schema.notices
        cache = self._rows[t.name]
        todo = sorted({r for r in request_ids if r not in self._requests_loaded})
        for part in _parts(todo):
            for r in self.conn.execute(_ABOUT, {"keys": part}).mappings():
                cache.setdefault(r["notice_id"], dict(r))
                self._by_request.setdefault(r["about_request_id"], set()).add(r["notice_id"])
        self._requests_loaded.update(todo)
        keys = sorted({k for r in request_ids for k in self._by_request.get(r, ())})
        return [dict(cache[k]) for k in keys if cache.get(k) is not None]

    def forget(self) -> None:
        """Drop the cached rows (after a flush), so a long catch-up holds one chunk's rows at a time."""
        for cache in self._rows.values():
            cache.clear()
        self._by_booking.clear()
        self._bookings_loaded.clear()
        self._by_request.clear()
        self._requests_loaded.clear()

    # -- writing ------------------------------------------------------------------------------
    def _put(self, table: sa.Table, row: Row) -> None:
        # A row changed from a stored one names every column already: a copy, not a lookup per column.
        full = dict(row) if row.keys() == _COLUMN_SETS[table.name] else {c: row.get(c) for c in _COLUMNS[table.name]}
        key = full[_KEYS[table.name]]
        if table is schema.detainers:
            full["issuer_state"] = issuer_state(DetainerState(full["state"]), json.loads(full["outcomes"] or "{}")).value
            self._by_booking.setdefault(full["booking_id"], set()).add(key)
        elif table is schema.notices:
            self._by_request.setdefault(full["about_request_id"], set()).add(key)
        self._rows[table.name][key] = full
        self._dirty[table.name].add(key)

    def flush(self) -> None:
        """Write every changed row (one upsert statement per table) and the position."""
        # straight to the driver's cursor inside the write transaction (SQLAlchemy's execute cost more than the upserts)
        raw = self.conn.in_transaction()
        cur = self.conn.connection.driver_connection.cursor() if raw else None
        run = cur.executemany if cur is not None else self.conn.exec_driver_sql
        try:
            for name, keys in self._dirty.items():
                if keys:
                    cache = self._rows[name]
                    sql, order = _driver_upsert(self.conn, _TABLES[name])
                    rows = [cache[k] for k in sorted(keys)]
                    run(sql, [tuple([r[c] for c in order]) for r in rows] if order else rows)
                    keys.clear()
            if self.position is not None:
                sql, order = _driver_upsert(self.conn, schema.position)
                row = {"id": 1, "seq": self.position, "version": schema.PROJECTION_VERSION}
                run(sql, [tuple([row[c] for c in order]) if order else row])
        finally:
            if cur is not None:
                cur.close()

    # -- events -------------------------------------------------------------------------------
    def apply(self, events: Iterable[StoredEvent]) -> None:
        """Apply events in seq order (kinds the read model does not follow are skipped)."""
        parsed = []
        for ev in events:
            self._streams[ev.seq] = ev.stream
            handlers = _HANDLERS.get(ev.kind)
            parsed.append((ev, handlers, orjson.loads(ev.payload_json) if handlers else None))
        if len(parsed) > BATCH_FROM:
            self._prefetch(parsed)
            with ExitStack() as scopes:
                kinds = frozenset(ev.kind for ev, handlers, _ in parsed if handlers)
                for scope in _BATCH_SCOPES:
                    scopes.enter_context(scope(self.conn, kinds))
                self._run(parsed)
        else:
            self._run(parsed)
        if len(self._streams) > 100_000:
            self._streams.clear()

    def _run(self, parsed: list[tuple[StoredEvent, Any, Any]]) -> None:
        for ev, handlers, payload in parsed:
            for handler in handlers or ():
                handler(self, ev, payload)
            self.position = ev.seq

    def _prefetch(self, parsed: list[tuple[StoredEvent, Any, Any]]) -> None:
        """Load, in a few ``IN`` queries, every row the events will touch (one query per row is what a
        catch-up of a whole ledger cannot afford)."""
        want: dict[str, set[str]] = {name: set() for name in _TABLES}
        bookings_of: set[str] = set()
        causes: set[int] = set()
        for ev, handler, p in parsed:
            if handler is None:
                continue
            for table, field in _KEYS_READ.get(ev.kind, ()):
                if isinstance(p.get(field), str):
                    want[table].add(p[field])
            if ev.kind in ("custody.booked", "custody.released"):
                bookings_of.add(p["booking_id"])
            if ev.caused_by is not None and ev.caused_by not in self._streams:
                causes.add(ev.caused_by)
        for name, keys in want.items():
            cache = self._rows[name]
            todo = [k for k in keys if k not in cache]
            table = _TABLES[name]
            for part in _parts(todo):
                for r in self.conn.execute(_IN_KEYS[name], {"keys": part}).mappings():
                    cache[r[_KEYS[name]]] = dict(r)
                    if table is schema.detainers:
                        self._by_booking.setdefault(r["booking_id"], set()).add(r["request_id"])
            for k in todo:
                cache.setdefault(k, None)
        todo = [b for b in bookings_of if b not in self._bookings_loaded]
        t = schema.detainers
        for part in _parts(todo):
            for r in self.conn.execute(_OF_BOOKINGS, {"keys": part}).mappings():
                self._rows[t.name].setdefault(r["request_id"], dict(r))
                self._by_booking.setdefault(r["booking_id"], set()).add(r["request_id"])
        self._bookings_loaded.update(todo)
        # the notices a release or a lift may discharge (of the detainers it closes)
        closing = {p["request_id"] for ev, handler, p in parsed if handler is not None and ev.kind == "detainer.lifted"}
        closing.update(r for ev, handler, p in parsed if handler is not None and ev.kind == "custody.released"
                       for r in self._by_booking.get(p["booking_id"], ()))
        self.notices_about(closing)
        for part in _parts(sorted(causes)):
            for seq, stream in self.conn.execute(_STREAMS_OF, {"s": part}):
                self._streams[int(seq)] = stream

    def stream_of(self, seq: int | None) -> str | None:
        if seq is None:
            return None
        if seq in self._streams:
            return self._streams[seq]
        got = self.conn.execute(sa.text("SELECT stream FROM ledger_events WHERE seq = :s"), {"s": seq}).scalar()
        if got is not None:
            self._streams[seq] = got
        return got

    def _agency_registered(self, ev: StoredEvent, p: dict) -> None:
        old = self.get(schema.agencies, p["agency_id"]) or {}
        self._put(schema.agencies, {**old, "agency_id": p["agency_id"], "name": p["name"], "kind": p["kind"],
                                    "jurisdiction": p["jurisdiction"], "registered_seq": ev.seq})

    def _agency_configured(self, ev: StoredEvent, p: dict) -> None:
        old = self.get(schema.agencies, p["agency_id"])
        if old is None:
            return
        self._put(schema.agencies, {**old, "law_pack": p.get("law_pack"), "access_pack": p.get("access_pack"),
                                    "configured_seq": ev.seq})

    def _person_registered(self, ev: StoredEvent, p: dict) -> None:
        self._put(schema.persons, {"person_id": p["person_id"], "registered_seq": ev.seq})

    def _booked(self, ev: StoredEvent, p: dict) -> None:
        self._put(schema.bookings, {
            "booking_id": p["booking_id"], "person_id": p["person_id"], "custodian_agency_id": p["agency_id"],
            "jurisdiction": p["jurisdiction"], "state": "in_custody", "booked_at": stamp(p["booked_at"]),
            "release_eligible_at": stamp(p.get("release_eligible_at")), "booked_seq": ev.seq})
        for d in self.detainers_of_booking(p["booking_id"]):
            if d["custodian_agency_id"] is None:
                self._put(schema.detainers, {**d, "custodian_agency_id": p["agency_id"], "updated_seq": ev.seq})

    def _released(self, ev: StoredEvent, p: dict) -> None:
        booking = self.get(schema.bookings, p["booking_id"])
        if booking is not None:
            self._put(schema.bookings, {**booking, "state": "released", "released_at": stamp(p["released_at"]),
                                        "release_reason": p["reason"], "released_seq": ev.seq})
        to_immigration = p["reason"] == _IMMIGRATION_RELEASE
        for d in self.detainers_of_booking(p["booking_id"]):
            state = DetainerState(d["state"])
            if state not in OPEN:
                continue
            if to_immigration and p.get("detainer_request_id") not in (None, d["request_id"]):
                new = DetainerState.RELEASED  # handed to immigration on another detainer
            else:
                new = after_release(state, json.loads(d["outcomes"] or "{}"), to_immigration)
            self._put(schema.detainers, {**d, "state": new.value, "deadline": None, "closed_seq": ev.seq,
                                         "updated_seq": ev.seq})
            self._discharge_hold_notices(d["request_id"])

    def _detainer_received(self, ev: StoredEvent, p: dict) -> None:
        booking = self.get(schema.bookings, p["booking_id"])
        old = self.get(schema.detainers, p["request_id"])
        if old is not None:  # the same detainer recorded again (a re-decision follows): keep its state
            return
        self._put(schema.detainers, {
            "request_id": p["request_id"], "booking_id": p["booking_id"], "person_id": p["person_id"],
            "custodian_agency_id": booking["custodian_agency_id"] if booking else None,
            "issuing_agency_id": p["issuing_agency_id"], "issuing_office": p["issuing_office"], "form": p["form"],
            "received_at": stamp(p["received_at"]), "state": DetainerState.RECEIVED.value,
            "deadline": booking["release_eligible_at"] if booking else None,
            "detainer_seq": ev.seq, "updated_seq": ev.seq})

    def _decided(self, ev: StoredEvent, p: dict) -> None:
        rid = p.get("request_id") or (self.stream_of(ev.caused_by) or "").removeprefix("detainer/")
        d = self.get(schema.detainers, rid)
        if d is None:
            return
        outcomes = {x["action"]: x["outcome"] for x in p["decisions"]}
        state = DetainerState(d["state"])
        new = after_decision(outcomes) if state in OPEN else state
        hold_until = stamp(p.get("hold_until"))
        booking = self.get(schema.bookings, d["booking_id"])
        eligible = booking["release_eligible_at"] if booking else None
        deadline = (hold_until or eligible) if new is DetainerState.HOLDING else (eligible if new in OPEN else None)
        self._put(schema.detainers, {**d, "state": new.value, "pack_id": p["pack_id"], "pack_version": p["pack_version"],
                                     "law_date": p["law_date"], "outcomes": json.dumps(outcomes, sort_keys=True),
                                     "hold_until": hold_until, "deadline": deadline, "decision_seq": ev.seq,
                                     "updated_seq": ev.seq})

    def _lifted(self, ev: StoredEvent, p: dict) -> None:
        d = self.get(schema.detainers, p["request_id"])
        if d is None or DetainerState(d["state"]) not in OPEN:
            return
        new = DetainerState.CANCELLED if p.get("cancelled") else DetainerState.LIFTED
        self._put(schema.detainers, {**d, "state": new.value, "deadline": None, "closed_seq": ev.seq,
                                     "updated_seq": ev.seq})
        self._discharge_hold_notices(d["request_id"])

    def _discharge_hold_notices(self, request_id: str) -> None:
        """A detainer closed (released, handed over, lifted, cancelled): its hold-expiry notice is no longer owed.

        That notice (8 C.F.R. §287.7(d): release when the 48 hours run out) is the custodian's own
        reminder about keeping the person on the detainer; once the person has left custody or the
        detainer is withdrawn there is nothing left to do by it, so it is ``discharged`` rather than
        left owed, where it would turn overdue at the hold's end and alarm officers about nobody.
        DOMAIN.md does not say when the duty ends; this is Accord's bookkeeping, not a rule of law.
        A notice sent, or one owed to anyone else (the person, the issuing agency), is not touched.
        """
        for n in self.notices_about((request_id,)):
            if n["about"] == "detainer" and n["kind"] == NoticeKind.HOLD_EXPIRY and n["state"] == "owed":
                self._put(schema.notices, {**n, "state": DISCHARGED})

    def _notice_due(self, ev: StoredEvent, p: dict) -> None:
        cause = self.stream_of(ev.caused_by) or ""
        about = "record" if cause.startswith("record/") else "detainer"
        owed_by = requester = None
        if about == "record":
            r = self.get(schema.record_requests, p["about_request_id"])
            if r is not None:
                owed_by, requester = r["custodian_agency_id"], r["requester_agency_id"]
        else:
            d = self.get(schema.detainers, p["about_request_id"])
            if d is not None:
                owed_by, requester = d["custodian_agency_id"], d["issuing_agency_id"]
        old = self.get(schema.notices, p["notice_id"]) or {}
        self._put(schema.notices, {**old, "notice_id": p["notice_id"], "kind": p["kind"], "recipient": p["recipient"],
                                   "person_id": p.get("person_id"), "about_request_id": p["about_request_id"],
                                   "about": about, "owed_by_agency_id": owed_by, "requester_agency_id": requester,
                                   "due_by": stamp(p["due_by"]), "citation": p["citation"],
                                   "state": old.get("state") or "owed", "due_seq": ev.seq})

    def _notice_sent(self, ev: StoredEvent, p: dict) -> None:
        n = self.get(schema.notices, p["notice_id"])
        if n is None:
            return
        self._put(schema.notices, {**n, "state": "sent", "sent_seq": ev.seq, "sent_at": stamp(p["sent_at"])})

    def _record_requested(self, ev: StoredEvent, p: dict) -> None:
        if self.get(schema.record_requests, p["request_id"]) is not None:
            return
        self._put(schema.record_requests, {
            "request_id": p["request_id"], "requester_agency_id": p["requester_agency_id"],
            "custodian_agency_id": p["custodian_agency_id"], "record_kind": p["record_kind"], "purpose": p["purpose"],
            "requested_at": stamp(p["requested_at"]), "requested_seq": ev.seq})

    def _access_decided(self, ev: StoredEvent, p: dict) -> None:
        r = self.get(schema.record_requests, p["request_id"])
        if r is None:
            return
        self._put(schema.record_requests, {**r, "outcome": p["outcome"], "pack": p["pack"],
                                           "deciding": _deciding_text(p["deciding"]), "decided_seq": ev.seq})


def _deciding_text(deciding: Any) -> str:
    """``json.dumps(deciding)``, kept per distinct value: a pack's decisions cite a few policy lists, and
    ``json.dumps`` (escaping the citations' ``§``) was a tenth of projecting a decision. Kept only for
    lists of objects of text (1 and True, say, would share a key); a list found among the kept ones is
    one of them (text equals only text), so only a new one has its values' types checked."""
    if type(deciding) is list:
        key = tuple([tuple(d.items()) if type(d) is dict else _NOT_AN_OBJECT for d in deciding])
        try:
            text = _DECIDING.get(key)
        except TypeError:  # a value that is a list or an object: not kept
            return json.dumps(deciding)
        if text is not None:
            return text
        if _NOT_AN_OBJECT not in key and all(type(v) is str for items in key for _, v in items):
            if len(_DECIDING) >= 4096:
                _DECIDING.clear()
            text = _DECIDING[key] = json.dumps(deciding)
            return text
    return json.dumps(deciding)


_NOT_AN_OBJECT = object()
_DECIDING: dict[tuple, str] = {}


#: kind -> how it changes the read model, in order. Other components add theirs with :func:`follows`.
_CORE: dict[str, Any] = {
    "agency.registered": Projection._agency_registered,
    "agency.configured": Projection._agency_configured,
    "person.registered": Projection._person_registered,
    "custody.booked": Projection._booked,
    "custody.released": Projection._released,
    "detainer.received": Projection._detainer_received,
    "decision.made": Projection._decided,
    "detainer.lifted": Projection._lifted,
    "notice.due": Projection._notice_due,
    "notice.sent": Projection._notice_sent,
    "record.requested": Projection._record_requested,
    "access.decided": Projection._access_decided,
}
_HANDLERS: dict[str, tuple[Any, ...]] = {kind: (fn,) for kind, fn in _CORE.items()}


#: kind -> the (table, payload field) rows its handler reads, so a batch can load them at once.
_KEYS_READ: dict[str, tuple[tuple[str, str], ...]] = {
    "agency.registered": (("proj_agencies", "agency_id"),),
    "agency.configured": (("proj_agencies", "agency_id"),),
    "custody.booked": (("proj_bookings", "booking_id"),),
    "custody.released": (("proj_bookings", "booking_id"),),
    "detainer.received": (("proj_detainers", "request_id"), ("proj_bookings", "booking_id")),
    "decision.made": (("proj_detainers", "request_id"),),
    "detainer.lifted": (("proj_detainers", "request_id"),),
    "notice.due": (("proj_notices", "notice_id"), ("proj_record_requests", "about_request_id"),
                   ("proj_detainers", "about_request_id")),
    "notice.sent": (("proj_notices", "notice_id"),),
    "record.requested": (("proj_record_requests", "request_id"),),
    "access.decided": (("proj_record_requests", "request_id"),),
}


def _parts(keys: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for i in range(0, len(keys), size):
        yield keys[i : i + size]


#: ``apply`` treats more events than this as a batch: the rows they read are loaded at once, and the
#: scopes registered with :func:`batches` are open while they are applied.
BATCH_FROM = 8
_BATCH_SCOPES: list[Callable[[Connection, frozenset[str]], AbstractContextManager[Any]]] = []


def batches(scope: Callable[[Connection, frozenset[str]], AbstractContextManager[Any]]) -> None:
    """Register a context manager opened, with the transaction's connection and the batch's event kinds,
    around applying a batch of events: a component collects its followers' writes there and writes
    them together on leaving (the clocks: ``accord.clocks.batch.for_events``). The rows must be those
    the followers write one event at a time; on an error nothing is written (the transaction rolls back).
    """
    if scope not in _BATCH_SCOPES:
        _BATCH_SCOPES.append(scope)


def follows(kind: str, reads: tuple[tuple[str, str], ...] = ()):
    """Register how an event kind changes the read model: ``@follows("hold.limit_reached")``.

    Handlers of one kind run in the order they were registered, the read model's own first, each
    with the :class:`Projection` of the transaction that applies the event (its rows as of that
    event), so a component can keep tables of its own (the clocks' schedule and outbox) in the same
    transaction. A handler must be idempotent: a rebuild applies every event again. ``reads`` names
    the (table, payload field) rows the handler reads, e.g. ``(("proj_detainers", "request_id"),)``,
    so catching up loads them in bulk.
    """
    def register(fn):  # type: ignore[no-untyped-def]
        if fn not in _HANDLERS.get(kind, ()):
            _HANDLERS[kind] = (*_HANDLERS.get(kind, ()), fn)
        if reads:
            _KEYS_READ[kind] = tuple(dict.fromkeys((*_KEYS_READ.get(kind, ()), *reads)))
        return fn
    return register
