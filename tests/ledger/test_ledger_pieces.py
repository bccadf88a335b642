"""``append_chunks`` writes a big chunk a cache-sized piece at a time (``store._PIECE``); the call is still
one transaction, a ``BatchRef`` may point back across pieces, and a bad event is named by its place in
the whole call (issue #16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accord.domain import Release
from accord.domain.enums import ReleaseReason
from accord.errors import InputError
from accord.ledger import BatchRef, Ledger, NewEvent
from accord.ledger.store import _PIECE


def _release(i: int) -> NewEvent:
    return NewEvent("custody.released", Release(booking_id=f"B-{i}", person_id=f"P-{i}", reason=ReleaseReason.BAIL_POSTED,
                                                released_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i)))


def test_a_chunk_of_several_pieces_is_one_call(db_url: str) -> None:
    n = 2 * _PIECE + 100
    chunk = [_release(i) for i in range(n)]
    late = _PIECE + 7  # in the second piece, caused by the 11th event of the first
    chunk[late] = NewEvent("decision.made", {"n": late}, caused_by=BatchRef(10))
    progress: list[int] = []
    with Ledger.open(db_url) as led:
        before = led.size
        first, last = led.append_chunks([chunk], on_chunk=progress.append)
        assert (first, last) == (before + 1, before + n) and sum(progress) == n
        effect = led.get(first + late)
        assert effect.caused_by == first + 10 and effect.stream == f"booking/B-{10}"
        assert led.verify(trusted=[]).ok
        bad = [_release(n + i) for i in range(n)]
        bad[_PIECE + 3] = NewEvent("custody.released", {"booking_id": "B-x"}, caused_by=0)
        with pytest.raises(InputError) as caught:
            led.append_chunks([bad[:100], bad[100:]])
        assert caught.value.line == _PIECE + 4 and caught.value.field == "caused_by"
        assert led.size == last  # nothing of the refused call


def test_one_kind_without_causes_through_append_many_stores_the_reference_rows(db_url: str) -> None:
    """The row path (``append_many``, as the service appends) with the chunk's kind and stamp written into
    the entry format and bound once a statement: the same bytes as the definition, on both databases."""
    from .test_ledger_fast_paths import reference_rows, stored_rows

    events = [_release(i) for i in range(250)]
    with Ledger.open(db_url) as led:
        led.append_many(events)
        rows = stored_rows(db_url)
        assert rows == reference_rows([], events, recorded_at=rows[-1][5])
        assert led.verify(trusted=[]).ok
