"""The columnar ``prepare`` of a chunk of alike events equals the per-event path, tuple for tuple (issue #16).

Hypothesis draws chunks that are mostly alike (one kind, one model class, streams derived from the
payload) with what would make the columnar path wrong if it did not step aside: ids that break the
stream rule (built with ``model_construct``, which validates nothing), non-ASCII and astral text,
dict payloads, given streams, causes, a second kind. Either path gives the same tuples and the same
stream list, or the same error naming the same event; and a chunk of valid, alike events does take
the columnar path (so these tests test it). Stored rows of such chunks equal the slow reference on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.domain import Release
from accord.domain.enums import ReleaseReason
from accord.errors import InputError
from accord.ledger import Ledger, NewEvent
from accord.ledger.columns import prepare_uniform
from accord.ledger.writer import _prepare_each, prepare

from .test_ledger_fast_paths import reference_rows, stored_rows

valid_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:\-/]{0,20}", fullmatch=True)
any_ids = valid_ids | st.text(max_size=12) | st.text(alphabet="ab\n/.", max_size=4) | st.just("x" * 260)
any_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def release(booking_id: str, recorded_by: str | None, at: datetime, valid: bool) -> Release:
    fields = dict(booking_id=booking_id, person_id="P1", released_at=at, reason=ReleaseReason.BAIL_POSTED,
                  recorded_by=recorded_by)
    return Release(**fields) if valid else Release.model_construct(**fields)


valid_releases = st.builds(release, valid_ids, st.none() | any_text.filter(lambda t: "\x00" not in t), moments,
                           st.just(True))
odd_releases = st.builds(release, any_ids, st.none() | any_text, moments, st.just(False))
oddities = st.sampled_from([
    NewEvent("decision.made", {"n": 1}, stream="detainer/D-1"),
    NewEvent("custody.released", {"booking_id": "B-dict", "person_id": "P1"}),
    NewEvent("custody.booked", {"booking_id": "B-dict"}),
])


def alike(models: list[Release]) -> list[NewEvent]:
    return [NewEvent("custody.released", m) for m in models]


@st.composite
def chunks(draw: st.DrawFn) -> list[NewEvent]:
    events = alike(draw(st.lists(valid_releases | odd_releases, min_size=1, max_size=12)))
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(events)))
        extra = draw(oddities | st.builds(lambda m, s: NewEvent("custody.released", m, stream=s), valid_releases,
                                          st.sampled_from(["booking/given", "bad stream"]))
                     | st.builds(lambda m: NewEvent("custody.released", m, caused_by=1), valid_releases))
        events.insert(i, extra)
    return events


def outcome(run, events: list[NewEvent]) -> tuple:  # type: ignore[no-untyped-def]
    streams = ["earlier/one"]
    try:
        return ("ok", run(events, streams), streams)
    except InputError as exc:
        return ("error", str(exc), exc.line, exc.field, streams)


@settings(max_examples=300, deadline=None)
@given(events=chunks())
def test_prepare_equals_the_per_event_path(events: list[NewEvent]) -> None:
    def fast(evs: list[NewEvent], streams: list[str]) -> list:
        return prepare(evs, first=3, streams=streams)

    def slow(evs: list[NewEvent], streams: list[str]) -> list:
        return _prepare_each(evs, "event", 3, streams)

    assert outcome(fast, events) == outcome(slow, events)


@settings(max_examples=200, deadline=None)
@given(models=st.lists(valid_releases, min_size=1, max_size=20))
def test_alike_valid_events_take_the_columnar_path_and_give_the_same_tuples(models: list[Release]) -> None:
    events = alike(models)
    streams_fast, streams_slow = ["earlier/one"], ["earlier/one"]
    got = prepare_uniform(events, streams_fast)
    texts = [m.recorded_by or "" for m in models]
    if all(t.isascii() for t in texts) or not any(any(ord(c) > 0xFFFF for c in t) for t in texts):
        assert got is not None  # what ingest sends is not left to the slow path
    if got is not None:
        assert got.rows() == _prepare_each(events, "event", 1, streams_slow)
        assert streams_fast == streams_slow
    else:
        assert streams_fast == ["earlier/one"]  # a declined chunk leaves the caller's list alone


@pytest.mark.parametrize("bad", [Release.model_construct(booking_id="two\nlines", person_id="P1"),
                                 Release.model_construct(booking_id="", person_id="P1"),
                                 Release.model_construct(booking_id="x" * 250, person_id="P1"),
                                 Release.model_construct(booking_id="é", person_id="P1")])
def test_a_stream_that_breaks_the_rule_is_refused_naming_its_event(bad: Release) -> None:
    good = Release(booking_id="B-1", person_id="P1", released_at=datetime(2026, 1, 1, tzinfo=UTC),
                   reason=ReleaseReason.BAIL_POSTED)
    with pytest.raises(InputError) as caught:
        prepare(alike([good, good, bad]))
    assert caught.value.line == 3


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(valid_releases, min_size=1, max_size=30), min_size=1, max_size=3))
def test_stored_rows_of_alike_chunks_equal_the_slow_reference(db_url: str, batches: list[list[Release]]) -> None:
    led = Ledger.open(db_url)
    try:
        before = stored_rows(db_url)
        chunks_ = [alike(b) for b in batches]
        led.append_chunks(chunks_)
        after = stored_rows(db_url)
        flat = [ev for chunk in chunks_ for ev in chunk]
        assert after[len(before):] == reference_rows(before, flat, recorded_at=after[-1][5])
        assert led.verify(trusted=[]).ok
    finally:
        led.close()


def test_one_event_per_stream_numbers_from_each_streams_stored_head(db_url: str) -> None:
    """A chunk with one event per stream is numbered from each stream's head in one pass; a chunk that
    repeats a stream event by event; either way the rows are the reference's."""
    def chunk(ids: list[str]) -> list[NewEvent]:
        return alike([release(b, None, datetime(2026, 1, 1, tzinfo=UTC), True) for b in ids])

    with Ledger.open(db_url) as led:
        batches = [chunk([f"B-{i}" for i in range(10)]), chunk([f"B-{i}" for i in range(5, 15)]),
                   chunk(["B-1", "B-2", "B-1", "B-20", "B-20"])]
        for events in batches:  # separate transactions: the heads come from the stored rows
            before = stored_rows(db_url)
            led.append_chunks([events])
            after = stored_rows(db_url)
            assert after[len(before):] == reference_rows(before, events, recorded_at=after[-1][5])
        assert [r[2] for r in stored_rows(db_url)[-5:]] == [2, 2, 3, 1, 2]
        before = stored_rows(db_url)
        led.append_chunks(batches)  # one transaction: numbered from the heads its earlier chunks wrote
        after = stored_rows(db_url)
        assert after[len(before):] == reference_rows(before, [e for b in batches for e in b], recorded_at=after[-1][5])
        assert [r[2] for r in after[-5:]] == [5, 4, 6, 3, 4]
        assert led.verify(trusted=[]).ok
