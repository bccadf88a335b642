"""Events of one kind in one stream: the (stream, stream_seq) index serves the look-up, and the rows are the same.

SQLite keeps no statistics, so given ``kind = ? AND stream = ?`` it would walk the (kind, seq)
index, every event of that kind, on every look-up; ``events_where`` keeps it on the stream's index.
"""

from __future__ import annotations

import sqlalchemy as sa

from accord.ledger import Ledger, NewEvent


def _fill(led: Ledger) -> None:
    events = []
    for i in range(30):
        events.append(NewEvent("note.a", {"i": i}, f"s/{i % 3}", None))
        events.append(NewEvent("note.b", {"i": i}, f"s/{i % 3}", None))
    led.append_many(events)


def test_kind_and_stream_rows_are_those_of_a_plain_filter(db_url: str) -> None:
    with Ledger.open(db_url) as led:
        _fill(led)
        every = list(led.events())
        with led.transaction() as tx:
            for kind in ("note.a", "note.b", "note.none"):
                for stream in ("s/0", "s/1", "s/2", "s/9"):
                    want = [e for e in every if e.kind == kind and e.stream == stream]
                    assert [e.seq for e in tx.events(kind=kind, stream=stream)] == [e.seq for e in want]
                    assert [e.seq for e in tx.events(kind=kind, stream=stream, limit=1)] == [e.seq for e in want[:1]]
                    assert [e.seq for e in led.events(kind=kind, stream=stream)] == [e.seq for e in want]
                    after = want[1].seq if len(want) > 1 else 0
                    assert [e.seq for e in tx.events(kind=kind, stream=stream, after_seq=after)] == \
                        [e.seq for e in want if e.seq > after]


def test_sqlite_plans_kind_and_stream_on_the_stream_index(sqlite_url: str) -> None:
    with Ledger.open(sqlite_url) as led:
        _fill(led)
        sql = led.sql.events_where(True, True, False, True)
        with led.engine.connect() as conn:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql, (0, "note.a", "s/1", 1)))
    assert "ix_ledger_events_kind" not in plan, plan
    assert "stream=?" in plan, plan
