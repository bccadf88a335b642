"""A bulk chunk of new streams in a key range that holds no event skips the per-stream look-ups (SQLite);
any stored stream inside the range, in the chunk or not, sends the chunk to the look-ups, so every
event still gets the right ``stream_seq`` (issue #16)."""

from __future__ import annotations

from datetime import UTC, datetime

from accord.domain import Release
from accord.domain.enums import ReleaseReason
from accord.ledger import Ledger, NewEvent


def _releases(numbers) -> list[NewEvent]:  # type: ignore[no-untyped-def]
    return [NewEvent("custody.released", Release(booking_id=f"B-{n:05d}", person_id=f"P-{n}",
                                                 released_at=datetime(2026, 1, 1, tzinfo=UTC),
                                                 reason=ReleaseReason.BAIL_POSTED)) for n in numbers]


def _numbers(led: Ledger, first: int, last: int) -> dict[str, int]:
    return {e.stream: e.stream_seq for e in led.events(after_seq=first - 1, until_seq=last)}


def test_stream_numbers_are_right_whether_or_not_the_range_holds_events(db_url: str) -> None:
    with Ledger.open(db_url) as led:
        led.append_chunks([_releases([500])])  # B-00500 holds one event
        # an empty range (1000..2999): every stream new
        first, last = led.append_chunks([_releases(range(1000, 3000))])
        assert set(_numbers(led, first, last).values()) == {1}
        # a range holding B-00500, which the chunk does not name: all still new
        chunk = [n for n in range(0, 1000) if n != 500]
        first, last = led.append_chunks([_releases(chunk)])
        assert set(_numbers(led, first, last).values()) == {1}
        # streams that hold events, at the ends and inside the range: each numbered after its last event
        first, last = led.append_chunks([_releases([500, *range(1000, 1100), *range(5000, 6500), 2999])])
        got = _numbers(led, first, last)
        assert got["booking/B-00500"] == 2 and got["booking/B-02999"] == 2 and got["booking/B-01050"] == 2
        assert got["booking/B-05000"] == 1 and got["booking/B-06499"] == 1
        # in one transaction, a later chunk of the same range sees the earlier chunk's events
        first, last = led.append_chunks([_releases(range(7000, 8200)), _releases(range(7000, 8200))])
        numbers = [e.stream_seq for e in led.events(after_seq=first - 1, until_seq=last)]
        assert numbers == [1] * 1200 + [2] * 1200
        assert led.verify().ok
