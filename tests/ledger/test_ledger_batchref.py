"""``caused_by=BatchRef(i)``: a cause and its effects in one transaction, on both databases."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import InputError
from accord.ledger import BatchRef, Ledger, NewEvent


def _request(rid: str) -> NewEvent:
    return NewEvent("record.requested", {"request_id": rid})


def test_a_batch_ref_is_stored_as_the_seq_its_cause_got(db_url: str) -> None:
    with Ledger.open(db_url) as led:
        led.append_many([_request("old-0"), _request("old-1"), _request("old-2")])  # the batch starts at seq 4
        old = led.get(2)
        stored = led.append_many([
            _request("R-1"),
            NewEvent("access.decided", {"request_id": "R-1", "outcome": "deny"}, None, BatchRef(0)),
            NewEvent("notice.due", {"notice_id": "R-1.n"}, None, BatchRef(0)),
            _request("R-2"),
            NewEvent("access.decided", {"request_id": "R-2", "outcome": "allow"}, None, BatchRef(3)),
            NewEvent("correction", {"note": "stored cause"}, None, old.seq),
        ])
        assert [e.seq for e in stored] == [4, 5, 6, 7, 8, 9]
        assert [e.caused_by for e in stored] == [None, 4, 4, None, 7, 2]
        # A kind without a stream rule joins its cause's stream, as with a stored cause.
        assert [e.stream for e in stored] == ["record/R-1", "record/R-1", "notice/R-1.n", "record/R-2", "record/R-2",
                                              "record/old-1"]
        assert [e.stream_seq for e in stored[:2]] == [1, 2]
        assert list(led.events(after_seq=3)) == stored  # read back exactly as returned
        report = led.verify()
        assert report.ok and report.size == 9


def test_batch_refs_reach_back_across_chunks_of_one_call(db_url: str) -> None:
    with Ledger.open(db_url) as led:
        led.append("record.requested", {"request_id": "first"})
        chunks = [[_request("A"), _request("B")],
                  [NewEvent("access.decided", {"request_id": "B"}, None, BatchRef(1)),
                   NewEvent("access.decided", {"request_id": "A"}, None, BatchRef(0))]]
        assert led.append_chunks(chunks) == (2, 5)
        got = list(led.events(after_seq=1))
        assert [(e.kind, e.stream, e.caused_by) for e in got] == [
            ("record.requested", "record/A", None), ("record.requested", "record/B", None),
            ("access.decided", "record/B", 3), ("access.decided", "record/A", 2)]
        assert led.verify().ok


@pytest.mark.parametrize("ref", [1, 2, 99, -1])
def test_a_ref_to_itself_a_later_or_missing_event_names_the_position_and_nothing_lands(db_url: str, ref: int) -> None:
    with Ledger.open(db_url) as led:
        led.append("record.requested", {"request_id": "kept"})
        batch = [_request("R-1"), NewEvent("access.decided", {"request_id": "R-1"}, "record/R-1", BatchRef(ref)),
                 _request("R-2")]
        with pytest.raises(InputError) as err:
            led.append_many(batch)
        assert err.value.line == 2 and err.value.field == "caused_by"
        assert f"BatchRef({ref})" in str(err.value) and "index 1" in str(err.value)
        assert led.size == 1 and [e.payload["request_id"] for e in led.events()] == ["kept"]


def test_a_ref_that_is_not_an_index_is_refused(db_url: str) -> None:
    with Ledger.open(db_url) as led:
        with pytest.raises(InputError, match="caused_by"):
            led.append_many([_request("R-1"), NewEvent("access.decided", {}, "record/R-1", BatchRef("0"))])  # type: ignore[arg-type]
        with pytest.raises(InputError, match="caused_by"):
            led.append_many([_request("R-1"), NewEvent("access.decided", {}, "record/R-1", "1")])  # type: ignore[arg-type]
        assert led.size == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), st.floats(0, 1, exclude_max=True)), min_size=1, max_size=12),
       st.integers(0, 3))
def test_any_mix_of_refs_stores_each_as_its_causes_seq(tmp_path_factory, plan, stored_before) -> None:
    """None: a new request; a fraction f: an effect of the event at index int(f * i) of the batch."""
    url = f"sqlite:///{tmp_path_factory.mktemp('batchref') / 'accord.db'}"
    with Ledger.open(url) as led:
        for k in range(stored_before):
            led.append("record.requested", {"request_id": f"old-{k}"})
        events: list[NewEvent] = []
        for i, f in enumerate(plan):
            if f is None or i == 0:
                events.append(_request(f"R-{i}"))
            else:
                events.append(NewEvent("access.decided", {"i": i}, None, BatchRef(int(f * i))))
        stored = led.append_many(events)
        for ev, new, got in zip(events, range(len(events)), stored):
            assert got.seq == stored_before + 1 + new
            if isinstance(ev.caused_by, BatchRef):
                cause = stored[ev.caused_by.index]
                assert got.caused_by == cause.seq and got.stream == cause.stream
            else:
                assert got.caused_by is None
        assert list(led.events(after_seq=stored_before)) == stored
        assert led.verify().ok
