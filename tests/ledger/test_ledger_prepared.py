"""``append_prepared``: events canonicalised elsewhere (a worker process) are written as if appended here."""

import pytest

from accord.errors import InputError
from accord.ledger import BatchRef, Ledger, NewEvent, prepare


def _batch(rid: str) -> list[NewEvent]:
    return [
        NewEvent("record.requested", {"request_id": rid, "note": "é ünïcode"}),
        NewEvent("access.decided", {"request_id": rid, "outcome": "deny", "days": 3}, None, BatchRef(0)),
        NewEvent("notice.due", {"notice_id": f"{rid}.n"}, None, BatchRef(0)),
    ]


def _content(led: Ledger) -> list[tuple]:
    return [(e.seq, e.stream, e.stream_seq, e.kind, e.caused_by, e.payload_json, e.leaf_hash != b"") for e in led.events()]


def test_prepared_events_land_as_append_many_would_write_them(db_url: str, sqlite_url: str) -> None:
    with Ledger.open(sqlite_url.replace("accord.db", "ref.db")) as ref:
        ref.append("record.requested", {"request_id": "old"})
        ref.append_many(_batch("R-1"))
        ref.append_many(_batch("R-2"))
        expected = _content(ref)
    with Ledger.open(db_url) as led:
        led.append("record.requested", {"request_id": "old"})
        assert led.append_prepared(prepare(_batch("R-1"))) == (2, 4)
        assert led.append_prepared(prepare(_batch("R-2"))) == (5, 7)
        assert _content(led) == expected
        assert led.get(3).caused_by == 2 and led.get(7).caused_by == 5  # placeholders count from the call's start
        assert led.verify().ok
        assert led.append_prepared([]) == (0, 0)


@pytest.mark.parametrize("bad, field", [
    (("record.requested", "record/R", None), None),  # not four items
    (("no.such.kind", "record/R", None, "{}"), "kind"),
    (("record.requested", "bad stream!", None, "{}"), "stream"),
    (("record.requested", "record/R", -4, "{}"), "caused_by"),  # a placeholder for itself (index 3)
    (("record.requested", "record/R", 0, "{}"), "caused_by"),
    (("record.requested", "record/R", None, "[1]"), "payload"),
    (("record.requested", "record/R", None, {"request_id": "R"}), "payload"),
])
def test_malformed_prepared_events_are_refused_and_nothing_is_written(sqlite_url: str, bad: tuple, field: str | None) -> None:
    with Ledger.open(sqlite_url) as led:
        good = prepare(_batch("R-1"))
        with pytest.raises(InputError) as err:
            led.append_prepared([*good, bad])
        assert err.value.line == 4 and err.value.field == field
        assert led.size == 0


def test_known_streams_names_the_streams_that_hold_events(db_url: str) -> None:
    with Ledger.open(db_url) as led:
        assert led.known_streams(["record/R-1"]) == set()
        led.append_many(_batch("R-1"))
        asked = [f"record/R-{i}" for i in range(1200)]  # more than one query's worth
        assert led.known_streams(asked) == {"record/R-1"}
        assert led.known_streams([]) == set()


def test_a_transactions_look_up_of_streams_serves_its_appends(db_url: str, sqlite_url: str) -> None:
    """``LedgerTx.known_streams`` keeps the heads it looked up (none for an empty stream) for the appends
    that follow in the same transaction: they land exactly as without the look-ups, and it sees them."""
    more = [NewEvent("access.decided", {"request_id": "R-1", "outcome": "allow", "days": 0}, "record/R-1", 1)]

    def run(led: Ledger, look: bool) -> None:
        led.append_many(_batch("R-1"))
        with led.transaction() as tx:
            if look:
                assert tx.known_streams(["record/R-1", "record/R-2"]) == {"record/R-1"}
            tx.append_prepared(prepare(_batch("R-2")))  # an empty stream looked up before: from 1
            tx.append_prepared(prepare(more))  # a stream with events looked up before: on from its head
            if look:
                assert tx.known_streams(["record/R-1", "record/R-2", "record/R-3"]) == {"record/R-1", "record/R-2"}

    with Ledger.open(sqlite_url.replace("accord.db", "ref.db")) as ref:
        run(ref, look=False)
        expected = [(e.stream, e.stream_seq, e.kind, e.payload_json) for e in ref.events()]
    with Ledger.open(db_url) as led:
        run(led, look=True)
        assert [(e.stream, e.stream_seq, e.kind, e.payload_json) for e in led.events()] == expected
        assert ("record/R-1", 3) in [(s, n) for s, n, _, _ in expected]  # the decision numbered on from R-1's head
        assert led.verify().ok
