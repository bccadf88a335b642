"""The columnar fast path of ``prepare``: a chunk of one kind of event, one model class, nothing unusual.

Ingest hands the ledger chunks of tens of thousands of events of one kind, each a validated model
whose stream follows from the payload (``booking/<booking_id>``) and that names no cause. For such
a chunk the per-event checks of :func:`accord.ledger.writer.prepare` come out the same for every
event, so they are made once on whole columns with C-level ``map``/``zip``/``set`` calls instead of
a Python loop: the kind is looked up once, the payload class and its canonical plan once
(:func:`~accord.ledger.canonical.canonical_payloads_of`), the streams' characters by one scan of
all of them.

Anything else (mixed kinds or classes, given streams or causes, dict payloads, models that may dump
numbers or hold sets, a payload orjson refuses, a stream that breaks the rule) returns ``None`` and
the chunk takes the per-event path, which decides it and names the event at fault. The output is
the per-event path's, tuple for tuple (``tests/ledger/test_ledger_columns_equal.py``).
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import attrgetter
from typing import Any

from pydantic import BaseModel

from .canonical import canonical_payloads_of
from .records import NewEvent
from .streams import KNOWN_KINDS, STREAM_OF_KIND, STREAM_PATTERN

#: the characters a stream may hold after its first (``streams.STREAM_PATTERN``), and the newline
#: that separates the keys in one scan (a key holding a newline is caught by counting them)
_KEY_CHARS = re.compile(r"[A-Za-z0-9._:\-/\n]*")
_MAX_STREAM = 256
_NOTHING = {None}


class UniformChunk:
    """``prepare``'s output for a chunk of alike events, kept as columns: one kind, no causes, each event's
    stream and canonical payload. ``ChainWriter.add`` takes it as it is (no row tuples made and taken
    apart again); :meth:`rows` gives the per-event path's tuples."""

    __slots__ = ("kind", "streams", "payloads")

    def __init__(self, kind: str, streams: list[str], payloads: list[str]) -> None:
        self.kind, self.streams, self.payloads = kind, streams, payloads

    def __len__(self) -> int:
        return len(self.streams)

    def rows(self) -> list[tuple[str, str, None, str]]:
        return list(zip(repeat(self.kind), self.streams, repeat(None), self.payloads))


def prepare_uniform(events: list[Any], streams: list[str]) -> UniformChunk | None:
    """``prepare``'s output for ``events`` when they are all alike (see the module docstring), else None.

    ``streams`` (the streams of the call's earlier events, for ``BatchRef``) is extended only on success.
    """
    try:
        if not events or set(map(type, events)) != {NewEvent}:
            return None
        kinds, payloads, given, causes = zip(*events)
        if set(given) != _NOTHING or set(causes) != _NOTHING or len(kind_set := set(kinds)) != 1:
            return None
        kind = KNOWN_KINDS.get(next(iter(kind_set)))
        classes = set(map(type, payloads))
        rule = STREAM_OF_KIND.get(kind) if kind else None  # type: ignore[arg-type]
        if rule is None or len(classes) != 1:
            return None
        (cls,) = classes
        if not issubclass(cls, BaseModel):
            return None
        keys = list(map(attrgetter(rule[1]), payloads))
    except (TypeError, AttributeError):  # unhashable values, a model without the key field: one by one
        return None
    prefix = rule[0] + "/"
    if set(map(type, keys)) != {str} or not all(keys) or STREAM_PATTERN.fullmatch(prefix) is None:
        return None
    joined = "\n".join(keys)
    if (_KEY_CHARS.fullmatch(joined) is None or joined.count("\n") != len(keys) - 1
            or len(prefix) + max(map(len, keys)) > _MAX_STREAM):
        return None
    texts = canonical_payloads_of(cls, payloads)
    if texts is None:
        return None
    stream_list = list(map(prefix.__add__, keys))
    streams.extend(stream_list)
    return UniformChunk(kind, stream_list, texts)
