"""Ledger -> history tables, at a signed checkpoint, so a report names exactly what it counted.

The row-building (facts from the recorded person, booking and detainer; outcomes from
``decision.made`` and ``access.decided``; dispositions from custody and detainer events)
lives in ``accord.reports.ledger_rows.history_from_ledger``; this
module reads it through a view of the ledger cut at the checkpoint's tree size, so a
report can be recomputed later from a ledger that has grown since.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from accord.errors import InputError, IntegrityError

from .source import History


class LedgerPrefix:
    """The first ``size`` events of a ledger, with the ``events`` API of ``Ledger``."""

    def __init__(self, ledger: Any, size: int) -> None:
        self._ledger, self.size = ledger, size

    def events(self, kind: str | None = None, stream: str | None = None, after_seq: int = 0,
               limit: int | None = None) -> Iterator[Any]:
        return self._ledger.events(kind=kind, stream=stream, after_seq=after_seq, limit=limit, until_seq=self.size)


def history_frames(ledger: Any, size: int) -> dict[str, pl.DataFrame]:
    """The three history tables built from the first ``size`` events."""
    return ledger_history(ledger, size).frames


def ledger_history(ledger: Any, size: int, stamp: dict[str, Any] | None = None) -> History:
    """The history of the first ``size`` events, with notes saying what those events did not cover."""
    from .ledger_rows import read_ledger

    include = bool((stamp or {}).get("include_duplicates"))
    return history_of_rows(read_ledger(LedgerPrefix(ledger, size), include_duplicates=include), stamp)


def history_of_rows(rows: Any, stamp: dict[str, Any] | None = None) -> History:
    """A ``History`` of ``ledger_rows.read_ledger``'s result, its gaps and skipped events as notes."""
    notes = [*rows.gaps, *((f"events of kind {k} not counted (no report reads them)", n) for k, n in sorted(rows.skipped.items()))]
    return History.from_frames(rows.tables, stamp=stamp, notes=notes, events=rows.events, encounters=rows.encounters,
                               releases=getattr(rows, "releases", []))


def ledger_stamp(checkpoint: Any) -> dict[str, Any]:
    d = checkpoint.to_dict()
    return {"kind": "ledger", "tree_size": d["size"], "root_hash": d["root_hash"], "signature": d["signature"],
            "public_key": d["public_key"], "key_id": d["key_id"], "origin": d["origin"], "created_at": d["created_at"]}


def history_from_ledger(ledger: Any, include_duplicates: bool = False) -> History:
    """Sign a checkpoint of the ledger now and export the history it covers, stamped with it.

    ``include_duplicates`` (imported rows flagged as likely duplicates counted each) is kept in the
    stamp, so that ``report verify`` recomputes the same history."""
    cp = ledger.checkpoint()
    stamp = ledger_stamp(cp)
    if include_duplicates:
        stamp["include_duplicates"] = True
    return ledger_history(ledger, cp.size, stamp)


def history_at_stamp(ledger: Any, stamp: dict[str, Any]) -> History:
    """The history a published report was computed from, after checking the ledger still has that tree."""
    from accord.ledger import Checkpoint
    from accord.ledger.signing import signature_valid

    missing = [k for k in ("tree_size", "root_hash", "signature", "public_key", "key_id", "origin", "created_at") if k not in stamp]
    if missing:
        raise InputError(f"the report's ledger stamp lacks {', '.join(missing)}: it cannot be checked", field=missing[0])
    size = int(stamp["tree_size"])
    if size > ledger.size:
        raise IntegrityError(f"the report counts {size} events but this ledger has only {ledger.size}")
    root = ledger.root_hash(size).hex()
    if root != stamp["root_hash"]:
        raise IntegrityError(f"this ledger's first {size} events have root {root}, the report says {stamp['root_hash']}")
    cp = Checkpoint.from_dict({**stamp, "size": size})
    if not signature_valid(cp.public_key, cp.signature, cp.note()):
        raise IntegrityError("the checkpoint signature in the report does not verify against its public key")
    return ledger_history(ledger, size, stamp)
