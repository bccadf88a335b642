"""The column-by-column writer and the level-at-a-time tree equal the per-event definitions (issue #16).

``CompactRange.extend`` must leave the same edge and report the same stored nodes, in the same order,
as one ``append`` per leaf. The writer's rows for chunks with stored causes, ``BatchRef``s and opening
kinds (the path that numbers event by event) must equal a reference computed from the format's
definition, and a repeated opening kind or a cause that is not earlier must be refused as before
(naming the same thing) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import ConflictError, InputError
from accord.ledger import BatchRef, Ledger, NewEvent
from accord.ledger.merkle import CompactRange, leaf_hash
from accord.ledger.schema import NODE_LEVEL_STEP
from accord.ledger.writer import entry_bytes

from .test_ledger_fast_paths import stored_rows
from .test_ledger_tamper import sql


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 700), sizes=st.lists(st.integers(0, 300), min_size=1, max_size=4),
       step=st.sampled_from([1, 2, 3, NODE_LEVEL_STEP]))
def test_extend_equals_one_append_per_leaf(start: int, sizes: list[int], step: int) -> None:
    def leaves(a: int, n: int) -> list[bytes]:
        return [hashlib.sha256(b"%d" % i).digest() for i in range(a, a + n)]

    one, many = CompactRange(), CompactRange()
    for leaf in leaves(0, start):
        one.append(leaf)
        many.append(leaf)
    seen: list[tuple[int, int, bytes]] = []
    kept: list[tuple[int, int, bytes]] = []
    at = start
    for n in sizes:
        for leaf in leaves(at, n):
            one.append(leaf, lambda level, i, h: seen.append((level, i, h)) if level % step == 0 else None)
        kept += many.extend(leaves(at, n), step)
        at += n
        assert (many.size, many.hashes) == (one.size, one.hashes)
        assert many.root() == one.root()
    assert kept == seen


def _stream(ev: NewEvent, streams: list[str], stored: dict[int, str]) -> str:
    if ev.stream:
        return ev.stream
    if ev.kind == "record.requested":
        return f"record/{ev.payload['request_id']}"
    cb = ev.caused_by
    return streams[cb.index] if isinstance(cb, BatchRef) else stored[cb]


def reference(before: list[tuple], events: list[NewEvent], recorded_at: str) -> list[tuple]:
    """The rows the events must become after ``before``, event by event from the definitions."""
    seq, chain = len(before), bytes(before[-1][8]) if before else bytes(32)
    last = {r[1]: r[2] for r in before}
    stored = {r[0]: r[1] for r in before}
    first, streams, out = seq + 1, [], []
    for ev in events:
        seq += 1
        stream = _stream(ev, streams, stored)
        streams.append(stream)
        ss = last[stream] = last.get(stream, 0) + 1
        cb = ev.caused_by
        cb = first + cb.index if isinstance(cb, BatchRef) else cb
        payload = rfc8785.dumps(ev.payload).decode()
        leaf = leaf_hash(entry_bytes(seq, stream, ss, ev.kind, cb, recorded_at, payload))
        chain = hashlib.sha256(chain + leaf).digest()
        out.append((seq, stream, ss, ev.kind, cb, recorded_at, payload, leaf, chain))
    return out


_FRESH = itertools.count()  # request ids never used before, in this process (the examples share a ledger)


@st.composite
def caused_chunks(draw: st.DrawFn) -> list[NewEvent]:
    """Requests (opening kind, fresh ids) and decisions caused by an earlier event of the call or a stored one."""
    n = draw(st.integers(1, 25))
    events: list[NewEvent] = []
    for i in range(n):
        if i == 0 or draw(st.booleans()):
            events.append(NewEvent("record.requested", {"request_id": f"R-{next(_FRESH)}"}))
        else:
            cause = draw(st.sampled_from([BatchRef(draw(st.integers(0, i - 1))), 1, 2]))
            events.append(NewEvent("access.decided", {"i": i, "note": draw(st.text(max_size=5))}, None, cause))
    return events


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(caused_chunks(), min_size=1, max_size=3))
def test_rows_with_causes_and_opening_kinds_equal_the_reference(db_url: str, chunks: list[list[NewEvent]]) -> None:
    with Ledger.open(db_url) as led:
        if led.size < 2:
            led.append_many([NewEvent("record.requested", {"request_id": "base-1"}),
                             NewEvent("record.requested", {"request_id": "base-2"})])
        for chunk in chunks:  # one append_many per chunk: a BatchRef counts from its call's first event
            before = stored_rows(db_url)
            led.append_many(chunk)
            after = stored_rows(db_url)
            assert after[: len(before)] == before
            assert after[len(before):] == reference(before, chunk, recorded_at=after[-1][5])
        assert led.verify(trusted=[]).ok


def test_a_repeated_opening_kind_and_a_later_cause_are_refused_as_before(db_url: str) -> None:
    with Ledger.open(db_url) as led:
        led.append("record.requested", {"request_id": "once"})
        size = led.size
        with pytest.raises(ConflictError, match="stream 'record/once' already holds a record.requested event"):
            led.append_many([NewEvent("record.requested", {"request_id": "fresh"}),
                             NewEvent("record.requested", {"request_id": "once"})])
        with pytest.raises(InputError, match=f"caused_by {size + 5} is not an earlier event"):
            led.append_many([NewEvent("access.decided", {"a": 1}, "record/once", size + 5)])
        assert led.size == size  # nothing of either call was stored
        assert sql(db_url, "SELECT COUNT(*) FROM ledger_events")[0][0] == size


def test_block_inserts_store_the_same_bytes_and_types_as_one_row_at_a_time(db_url: str) -> None:
    """Whole ``ROWS_PER_INSERT`` blocks and the rest row by row, hashes bound as bytearray and an absent
    cause written in as NULL on SQLite: the stored rows are the reference's, with and without causes, and
    the stored types are a plain bind's (BLOB hashes, NULL or INTEGER causes)."""
    from datetime import UTC, datetime, timedelta

    from accord.domain import Release
    from accord.domain.enums import ReleaseReason

    from .test_ledger_fast_paths import reference_rows

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events = [NewEvent("custody.released", Release(booking_id=f"B-{i}", person_id=f"P-{i}", released_at=t0 + timedelta(seconds=i),
                                                   reason=ReleaseReason.BAIL_POSTED)) for i in range(250)]
    with Ledger.open(db_url) as led:
        led.append_chunks([events[:130], events[130:]])
        rows = stored_rows(db_url)
        assert rows == reference_rows([], events, recorded_at=rows[-1][5])
        assert led.verify(trusted=[]).ok
        caused = [NewEvent("access.decided", {"i": i}, "record/x", 1 if i % 3 else None) for i in range(150)]
        led.append_many(caused)  # a block of 100 and 50 single rows, with causes bound
        after = stored_rows(db_url)
        assert after[:250] == rows and after[250:] == reference(rows, caused, recorded_at=after[-1][5])
        assert led.verify(trusted=[]).ok
    if db_url.startswith("sqlite"):
        assert sql(db_url, "SELECT DISTINCT typeof(caused_by), typeof(leaf_hash), typeof(chain_hash), typeof(payload) "
                           "FROM ledger_events ORDER BY 1") == [("integer", "blob", "blob", "text"),
                                                                ("null", "blob", "blob", "text")]
