"""The append and verify fast paths give exactly what the plain, slow reference gives (issue #16).

The reference here is written from the format's definition only: payload text by the ``rfc8785``
package, the leaf as ``merkle.leaf_hash(entry_bytes(...))``, the chain as SHA-256 of the previous
chain hash and the leaf, the tree by :meth:`CompactRange.append` (stored nodes every 8th level),
stream numbers counted from the stored rows. Hypothesis draws the events (models and JSON dicts with
non-ASCII text, numbers, nesting; shared streams; causes); the ledger's stored rows, nodes and head
must equal the reference byte for byte, on SQLite and PostgreSQL. ``audit verify``'s one-loop scan is
checked against tampering with Hypothesis-chosen rows and columns: it names the changed event.
"""

from __future__ import annotations

import gc
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.domain import Release
from accord.domain.enums import ReleaseReason
from accord.ledger import Ledger, NewEvent
from accord.ledger.canonical import to_json_ready
from accord.ledger.merkle import CompactRange, leaf_hash
from accord.ledger.schema import NODE_LEVEL_STEP
from accord.ledger.streams import default_stream
from accord.ledger.writer import entry_bytes, gc_paused

from .test_ledger_tamper import sql

COLUMNS = "seq, stream, stream_seq, kind, caused_by, recorded_at, payload, leaf_hash, chain_hash"

ids = st.from_regex(r"[A-Z0-9][A-Z0-9.\-]{0,11}", fullmatch=True)
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | texts
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
releases = st.builds(
    Release, booking_id=ids, person_id=ids,
    released_at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    reason=st.sampled_from(list(ReleaseReason)), to_agency_id=st.none() | ids, detainer_request_id=st.none() | ids,
    recorded_by=st.none() | st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00",
                                                             exclude_categories=("Cs",)), max_size=30),
)
decisions = st.builds(lambda body, n: NewEvent("decision.made", body, stream=f"detainer/D-{n}"),
                      st.dictionaries(texts, json_values, max_size=4), st.integers(0, 3))
events = st.lists(releases.map(lambda r: NewEvent("custody.released", r)) | decisions, min_size=1, max_size=40)


def reference_rows(stored: list[tuple], new: list[NewEvent], recorded_at: str) -> list[tuple]:
    """The rows ``new`` must become after ``stored``, computed the slow, plain way."""
    seq, chain = len(stored), bytes(stored[-1][8]) if stored else bytes(32)
    last: dict[str, int] = {}
    for row in stored:
        last[row[1]] = row[2]
    out = []
    for ev in new:
        seq += 1
        stream = ev.stream or default_stream(ev.kind, ev.payload)
        ss = last[stream] = last.get(stream, 0) + 1
        payload = rfc8785.dumps(to_json_ready(ev.payload)).decode()
        leaf = leaf_hash(entry_bytes(seq, stream, ss, ev.kind, None, recorded_at, payload))
        chain = hashlib.sha256(chain + leaf).digest()
        out.append((seq, stream, ss, ev.kind, None, recorded_at, payload, leaf, chain))
    return out


def reference_tree(leaves: list[bytes]) -> tuple[bytes, set[tuple[int, int, bytes]]]:
    tree, nodes = CompactRange(), set()
    for leaf in leaves:
        tree.append(leaf, lambda level, i, h: nodes.add((level, i, h)) if level % NODE_LEVEL_STEP == 0 else None)
    return tree.to_bytes(), nodes


def stored_rows(url: str) -> list[tuple]:
    return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bytes(r[7]), bytes(r[8]))
            for r in sql(url, f"SELECT {COLUMNS} FROM ledger_events ORDER BY seq")]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(events, min_size=1, max_size=3))
def test_stored_rows_nodes_and_head_equal_the_slow_reference(db_url: str, batches: list[list[NewEvent]]) -> None:
    led = Ledger.open(db_url)
    try:
        before = stored_rows(db_url)
        first, last = led.append_chunks(batches)  # several chunks, one transaction
        after = stored_rows(db_url)
        flat = [ev for batch in batches for ev in batch]
        assert (first, last) == (len(before) + 1, len(before) + len(flat))
        assert after[: len(before)] == before
        assert after[len(before):] == reference_rows(before, flat, recorded_at=after[-1][5])
        edge, nodes = reference_tree([r[7] for r in after])
        size, chain, head_edge = sql(db_url, "SELECT size, chain_hash, edge FROM ledger_head")[0]
        assert (size, bytes(chain), bytes(head_edge)) == (len(after), after[-1][8], edge)
        assert {(int(lv), int(i), bytes(h)) for lv, i, h in sql(db_url, "SELECT level, idx, hash FROM ledger_nodes")} == nodes
        report = led.verify(trusted=[])
        assert report.ok and report.size == len(after), report.reason
        assert report.root_hash == led.root_hash()
    finally:
        led.close()


@pytest.fixture
def big_ledger(db_url: str) -> str:
    """600 events (two stored level-8 nodes, many streams), one checkpoint at 520."""
    led = Ledger.open(db_url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    led.append_many([NewEvent("custody.released", Release(booking_id=f"B{i // 3}", person_id=f"P{i}", reason=ReleaseReason.BAIL_POSTED,
                                                          released_at=t0 + timedelta(minutes=i)))
                     if i % 2 else NewEvent("decision.made", {"n": i, "note": "é§"}, stream=f"detainer/D-{i % 7}")
                     for i in range(520)])
    led.checkpoint()
    led.append_many([NewEvent("decision.made", {"n": i}, stream=f"detainer/D-{i % 7}") for i in range(520, 600)])
    led.close()
    return db_url


TAMPERS = {
    "payload": "payload = payload || ' '",
    "kind": "kind = 'decision.revoked'",
    "stream": "stream = 'detainer/other'",
    "stream_seq": "stream_seq = stream_seq + 1000",
    "caused_by": "caused_by = 1",
    "recorded_at": "recorded_at = '2020-01-01T00:00:00.000000Z'",
    "leaf_hash": "leaf_hash = chain_hash",
    "chain_hash": "chain_hash = leaf_hash",
}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(2, 600), column=st.sampled_from(sorted(TAMPERS)))
def test_verify_names_the_changed_event(big_ledger: str, seq: int, column: str) -> None:
    url = big_ledger
    (original,) = sql(url, f"SELECT {COLUMNS} FROM ledger_events WHERE seq = :s", s=seq)
    sql(url, f"UPDATE ledger_events SET {TAMPERS[column]} WHERE seq = :s", s=seq)
    try:
        with Ledger.open(url) as led:
            report = led.verify()
        assert not report.ok and report.first_bad_seq == seq, (column, report)
        assert report.size == seq  # the events before it were checked and passed (as before the one-loop scan)
    finally:  # the fixture's ledger is shared by the examples: put the row back
        names = COLUMNS.split(", ")
        sql(url, "UPDATE ledger_events SET " + ", ".join(f"{c} = :{c}" for c in names[1:]) + " WHERE seq = :seq",
            **dict(zip(names, original)))
    with Ledger.open(url) as led:
        assert led.verify().ok


def test_gc_paused_leaves_no_young_objects_behind_and_frees_by_reference_counting() -> None:
    import weakref

    class Box:
        pass

    gc.collect()
    with gc_paused():
        assert not gc.isenabled()
        boxes = [[Box()] for _ in range(20_000)]
        probe = weakref.ref(boxes[0][0])
    assert gc.isenabled()
    assert gc.get_count()[0] < 1000  # the loop's 40,000 containers were moved out of the young generation
    del boxes
    assert probe() is None  # ... and are still freed as soon as nothing refers to them


def test_gc_paused_leaves_a_small_loop_to_the_collector() -> None:
    class Node:
        pass

    gc.collect()
    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
    young = gc.get_count()[0]
    assert young >= 2  # still in the young generation, where the next young collection finds it
    del a, b
    assert gc.collect(0) >= 2


def test_gc_paused_keeps_what_the_process_froze_on_purpose() -> None:
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            pass
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()


def _saved(url: str, table: str, where: str, **params) -> tuple[list[str], list[tuple]]:
    rows = sql(url, f"SELECT * FROM {table} WHERE {where}", **params)
    return (list(rows[0]._fields) if rows else []), [tuple(r) for r in rows]


def _restore(url: str, table: str, where: str, saved: tuple[list[str], list[tuple]], **params) -> None:
    names, rows = saved
    sql(url, f"DELETE FROM {table} WHERE {where}", **params)
    for row in rows:
        sql(url, f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})",
            **dict(zip(names, row)))


#: name -> (table, the rows it touches, the change); ``:a`` and ``:b`` are two drawn seqs, a < b
SCENARIOS = {
    **{f"row {c}": ("ledger_events", "seq = :a", f"UPDATE ledger_events SET {change} WHERE seq = :a")
       for c, change in TAMPERS.items()},
    "row deleted": ("ledger_events", "seq = :a", "DELETE FROM ledger_events WHERE seq = :a"),
    "rows swapped": ("ledger_events", "seq IN (:a, :b)", "UPDATE ledger_events SET seq = -1 WHERE seq = :a; "
                     "UPDATE ledger_events SET seq = :a WHERE seq = :b; UPDATE ledger_events SET seq = :b WHERE seq = -1"),
    "node changed": ("ledger_nodes", "level = 8", "UPDATE ledger_nodes SET hash = :x WHERE level = 8 AND idx = :a % 2"),
    "head size": ("ledger_head", "id = 1", "UPDATE ledger_head SET size = size - 1"),
    "head chain": ("ledger_head", "id = 1", "UPDATE ledger_head SET chain_hash = :x"),
    "head edge": ("ledger_head", "id = 1", "UPDATE ledger_head SET edge = :x"),
    "checkpoint root": ("ledger_checkpoints", "1 = 1", "UPDATE ledger_checkpoints SET root_hash = :x"),
}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.integers(1, 599), gap=st.integers(1, 40), name=st.sampled_from(sorted(SCENARIOS)))
def test_verify_reports_exactly_what_the_slow_reference_reported(big_ledger: str, a: int, gap: int, name: str) -> None:
    from accord.ledger.signing import trusted_keys

    from .reference_verify import verify_ledger as reference_verify

    url, b = big_ledger, min(600, a + gap)
    table, where, change = SCENARIOS[name]
    params = {"a": a, "b": b} if ":b" in where else {"a": a} if ":a" in where else {}
    saved = _saved(url, table, where, **params)
    (leaf,) = sql(url, "SELECT leaf_hash FROM ledger_events WHERE seq = :a", a=a)[0]  # a wrong 32-byte hash
    for statement in change.split("; "):
        sql(url, statement, **{k: v for k, v in {"a": a, "b": b, "x": bytes(leaf)}.items() if f":{k}" in statement})
    try:
        with Ledger.open(url) as led:
            keys = trusted_keys(led.engine)
            fast = led.verify()
            slow = reference_verify(led, [], None, keys)
        assert not slow.ok, name
        assert fast == slow, name
    finally:
        _restore(url, table, where, saved, **params)
    with Ledger.open(url) as led:
        assert led.verify().ok
