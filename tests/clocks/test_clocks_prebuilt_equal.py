"""The clocks' write helpers with prebuilt statements write the rows the statement-per-call versions wrote.

``reference_owe``, ``reference_done`` and ``reference_cancel`` are the versions before the
statements were built once (and before a message without an endpoint was inserted as such rather
than inserted pending and then updated), kept here verbatim. Each case runs both on the same
transaction, each in a savepoint rolled back afterwards, and compares every row they leave.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import rfc8785
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.clocks import batch, jobs, outbox, schema
from accord.clocks.outbox import _deliveries, _targets, message_id
from accord.clocks.sql import stamp
from accord.service.driver import insert_new
from accord.ledger import canonical_json
from accord.service.store import Store
from helpers.service_world import world

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def reference_owe(projection, ev, type_, *, to, owner, subject, data, channel=schema.WEBHOOK, notice_id=None):
    if to is None:
        return None
    ledger_id, since = outbox._store(projection)
    if ev.seq <= since:
        return None
    conn = projection.conn
    mid = message_id(ledger_id, ev.seq, type_, to, subject)
    created = stamp(ev.recorded_at)
    row = {"message_id": mid, "type": type_, "channel": channel, "agency_id": to, "owner_agency_id": owner,
           "subject": subject, "notice_id": notice_id, "event_seq": ev.seq,
           "body": canonical_json({"type": type_, "timestamp": created, "data": data}).decode(),
           "state": schema.PENDING, "created_at": created}
    open_batch = batch.current(conn)
    if open_batch is not None:
        targets = _targets(projection, conn, to, type_) if channel == schema.WEBHOOK else []
        if channel == schema.WEBHOOK and not targets:
            row["state"] = schema.NO_ENDPOINT
        open_batch.message(row, _deliveries(mid, targets, created))
        return mid
    if not insert_new(conn, schema.messages, row):
        return mid
    if channel == schema.WEBHOOK:
        targets = _targets(projection, conn, to, type_)
        if targets:
            insert_new(conn, schema.deliveries, _deliveries(mid, targets, created))
        else:
            conn.execute(schema.messages.update().where(schema.messages.c.message_id == mid)
                         .values(state=schema.NO_ENDPOINT))
    return mid


def reference_done(conn, kind, subject, source_seq, fired_seq, at):
    open_batch = batch.current(conn)
    if open_batch is not None:
        open_batch.job_done(jobs.job_id(kind, subject, source_seq), fired_seq, stamp(at))
        return
    t = schema.jobs
    conn.execute(t.update().where(t.c.job_id == jobs.job_id(kind, subject, source_seq))
                 .values(state=schema.DONE, fired_seq=fired_seq, finished_at=stamp(at), reason=None))


def reference_cancel(conn, subject, kinds, reason, at, by_seq):
    """(Since the rebuild fix it cancels only the jobs of events before ``by_seq``, as ``jobs.cancel`` does.)"""
    batch.flush_before(conn)
    t = schema.jobs
    wanted = set(kinds)
    ids = [r.job_id for r in conn.execute(jobs._OF_SUBJECT, {"subject": subject})
           if r.state == schema.SCHEDULED and r.kind in wanted and r.source_seq < by_seq]
    if ids:
        conn.execute(t.update().where(t.c.job_id.in_(ids))
                     .values(state=schema.CANCELLED, finished_at=stamp(at), reason=reason[:200]))


@dataclass
class Ev:
    seq: int
    recorded_at: datetime


class Proj:  # what owe reads of a projection: its connection and a per-unit cache in __dict__
    def __init__(self, conn):
        self.conn = conn


def _rows(conn, table):
    key = list(table.primary_key.columns)
    return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(*key))]


def _both(conn, first, second, tables):
    out = []
    for fn in (first, second):
        sp = conn.begin_nested()
        try:
            result = fn()
            out.append((result, {t.name: _rows(conn, t) for t in tables}))
        finally:
            sp.rollback()
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    with Store.open(f"sqlite:///{tmp_path_factory.mktemp('prebuilt')}/accord.db") as s:
        world(s)
        yield s


ENDPOINTS = st.lists(st.tuples(st.sampled_from(["ice", "nyc-doc", "other"]),
                               st.sampled_from([None, '["detainer.decided"]', '["alert.*"]', '["notice.*", "letter.x"]']),
                               st.sampled_from([schema.ACTIVE, "disabled"])), max_size=4)
DATA = st.recursive(st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=8) | st.just("2024-11-13T14:00:00.000000Z"),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoints=ENDPOINTS, type_=st.sampled_from(["detainer.decided", "alert.hold_warning", "notice.consular", "letter.x"]),
       to=st.sampled_from(["ice", "nyc-doc", None]), channel=st.sampled_from([schema.WEBHOOK, schema.LETTER]),
       there=st.booleans(), batched=st.booleans(), data=st.dictionaries(st.text(max_size=6), DATA, max_size=4),
       seq=st.integers(1, 10**6))
def test_owe_writes_what_it_wrote(store: Store, endpoints, type_, to, channel, there, batched, data, seq) -> None:
    with store.engine.connect() as conn, conn.begin():
        for i, (agency, types, state) in enumerate(endpoints):
            conn.execute(schema.endpoints.insert().values(
                endpoint_id=f"ep_{i}", agency_id=agency, url="https://example.org/h", secret="whsec_x", event_types=types,
                state=state, created_at=stamp(T0), created_by="test"))
        ev = Ev(seq + outbox._store(Proj(conn))[1], T0 + timedelta(microseconds=seq))
        if there:  # a rebuild: the message is there already (as the first projection left it)
            reference_owe(Proj(conn), ev, type_, to=to or "ice", owner="nyc-doc", subject="det-1", data=data, channel=channel)

        def run(fn):
            def go():
                p = Proj(conn)
                if batched:
                    with batch.batched(conn):
                        return fn(p, ev, type_, to=to, owner="nyc-doc", subject="det-1", data=data, channel=channel,
                                  notice_id="n-1")
                return fn(p, ev, type_, to=to, owner="nyc-doc", subject="det-1", data=data, channel=channel, notice_id="n-1")
            return go

        new, old = _both(conn, run(outbox.owe), run(reference_owe), (schema.messages, schema.deliveries))
        assert new == old
        conn.rollback()


@settings(max_examples=60)
@given(st.dictionaries(st.text(max_size=6), DATA, max_size=5), st.text(max_size=12))
def test_body_is_the_reference_canonical_json(data, type_) -> None:
    payload = {"type": type_, "timestamp": "2024-11-13T14:00:00.000000Z", "data": data}
    assert outbox.body(type_, "2024-11-13T14:00:00.000000Z", data) == rfc8785.dumps(payload).decode()


JOBS = st.lists(st.tuples(st.sampled_from([schema.WARNING, schema.LIMIT, schema.OVERDUE]), st.sampled_from(["det-1", "det-2"]),
                          st.integers(1, 4), st.sampled_from([schema.SCHEDULED, schema.DONE, schema.CANCELLED])),
                max_size=8, unique_by=lambda j: (j[0], j[1], j[2]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=JOBS, subject=st.sampled_from(["det-1", "det-2", "det-3"]),
       kinds=st.sets(st.sampled_from([schema.WARNING, schema.LIMIT, schema.OVERDUE])), by_seq=st.sampled_from([1, 2, 3, 5]),
       done=st.tuples(st.sampled_from([schema.WARNING, schema.LIMIT]), st.sampled_from(["det-1", "det-2"]), st.integers(1, 4)),
       batched=st.booleans(), reason=st.text(max_size=250))
def test_jobs_done_and_cancel_write_what_they_wrote(store: Store, rows, subject, kinds, by_seq, done, batched, reason) -> None:
    with store.engine.connect() as conn, conn.begin():
        for kind, subj, source, state in rows:
            conn.execute(schema.jobs.insert().values(job_id=jobs.job_id(kind, subj, source), kind=kind, subject=subj,
                                                     due_at=stamp(T0), state=state, source_seq=source))

        def run(cancel, mark):
            def go():
                cancel(conn, subject, kinds, reason, T0, by_seq)
                if batched:
                    with batch.batched(conn):
                        mark(conn, *done, 99, T0 + timedelta(seconds=1))
                else:
                    mark(conn, *done, 99, T0 + timedelta(seconds=1))
            return go

        new, old = _both(conn, run(jobs.cancel, jobs.done), run(reference_cancel, reference_done), (schema.jobs,))
        assert new == old
        conn.rollback()


def test_body_refuses_what_the_reference_refuses() -> None:
    from accord.errors import InputError

    for bad in ({"n": 2**60}, {"n": float("nan")}):
        with pytest.raises(InputError):
            outbox.body("t", "2024-11-13T14:00:00.000000Z", bad)
        with pytest.raises(InputError):
            canonical_json({"type": "t", "timestamp": "x", "data": bad})


def test_next_due_is_the_earliest_waiting_job(store: Store) -> None:
    with store.engine.connect() as conn, conn.begin():
        for i, state in enumerate([schema.DONE, schema.SCHEDULED, schema.SCHEDULED]):
            conn.execute(schema.jobs.insert().values(job_id=f"j{i}", kind=schema.LIMIT, subject="d", state=state,
                                                     due_at=stamp(T0 + timedelta(hours=3 - i)), source_seq=i))
        assert jobs.next_due(conn) == conn.execute(sa.select(sa.func.min(schema.jobs.c.due_at))
                                                   .where(schema.jobs.c.state == schema.SCHEDULED)).scalar()
        assert jobs.next_due(conn) == stamp(T0 + timedelta(hours=1))
        conn.rollback()


def _sa_insert_new(conn, table, rows):
    """``insert_new`` through SQLAlchemy only (what it did before the driver-level path)."""
    from accord.service.driver import _INSERTS

    many = [rows] if isinstance(rows, dict) else rows
    if not many:
        return 0
    saved = conn.in_transaction
    conn.in_transaction = lambda: False  # type: ignore[method-assign]  # forces the general path
    try:
        return insert_new(conn, table, rows)
    finally:
        conn.in_transaction = saved  # type: ignore[method-assign]
        assert (conn.dialect.name, table.name) in _INSERTS


_TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))  # no NUL (PostgreSQL), no lone surrogates


def _text(**kw):
    return st.text(alphabet=_TEXT, **kw)


MESSAGE_ROWS = st.lists(st.fixed_dictionaries({
    "message_id": st.sampled_from(["msg_a", "msg_b", "msg_c"]), "type": _text(min_size=1, max_size=10),
    "channel": st.sampled_from([schema.WEBHOOK, schema.LETTER]), "agency_id": st.sampled_from(["ice", "nyc-doc"]),
    "owner_agency_id": st.none() | st.just("nyc-doc"), "subject": _text(min_size=1, max_size=10),
    "notice_id": st.none() | st.just("n-1"), "event_seq": st.integers(1, 2**40),
    "body": _text(max_size=30).filter(lambda t: "\x00" not in t), "state": st.sampled_from([schema.PENDING, schema.NO_ENDPOINT]),
    "created_at": st.just("2026-12-03T12:00:00.000000Z")}), max_size=5)


@pytest.fixture
def any_store(db_url: str):
    with Store.open(db_url) as s:
        world(s)
        yield s


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=MESSAGE_ROWS, rows=MESSAGE_ROWS, one=st.booleans())
def test_driver_level_insert_new_is_the_sqlalchemy_one(any_store: Store, before, rows, one) -> None:
    with any_store.engine.connect() as conn, conn.begin():
        for r in before:
            insert_new(conn, schema.messages, r)
        arg = rows[0] if (one and rows) else rows
        new, old = _both(conn, lambda: insert_new(conn, schema.messages, arg),
                         lambda: _sa_insert_new(conn, schema.messages, arg), (schema.messages,))
        assert new == old
        conn.rollback()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=JOBS, subject=st.sampled_from(["det-1", "det-2", "det-3"]),
       endpoints=ENDPOINTS, agency=st.sampled_from(["ice", "nyc-doc", "other"]), key=_text(min_size=1, max_size=8))
def test_fetch_returns_the_rows_sqlalchemy_returns(any_store: Store, rows, subject, endpoints, agency, key) -> None:
    from accord.api import idempotency
    from accord.api import schema as api_schema
    from accord.api.tokens import ensure_tables
    from accord.service.driver import fetch

    ensure_tables(any_store.engine)
    with any_store.engine.connect() as conn, conn.begin():
        for kind, subj, source, state in rows:
            conn.execute(schema.jobs.insert().values(job_id=jobs.job_id(kind, subj, source), kind=kind, subject=subj,
                                                     due_at=stamp(T0), state=state, source_seq=source))
        for i, (a, types, state) in enumerate(endpoints):
            conn.execute(schema.endpoints.insert().values(
                endpoint_id=f"ep_{i}", agency_id=a, url="https://example.org/h", secret="whsec_x", event_types=types,
                state=state, created_at=stamp(T0), created_by="test"))
        fetch(conn, idempotency._KEEP, {"token_id": "t1", "key": key, "fingerprint": "f", "status": 201, "body": "{}",
                                        "created_at": stamp(T0)})
        for stmt, params in ((jobs._OF_SUBJECT, {"subject": subject}), (outbox._ENDPOINTS_OF, {"agency_id": agency}),
                             (idempotency._KEPT, {"token_id": "t1", "key": key}),
                             (idempotency._KEPT, {"token_id": "t2", "key": key})):
            assert sorted(fetch(conn, stmt, params)) == sorted(tuple(r) for r in conn.execute(stmt, params))
        assert [tuple(r) for r in conn.execute(sa.select(api_schema.idempotency.c.key))] == [(key,)]
        conn.rollback()
