"""The slow reference for ``accord audit verify``: the implementation before the one-loop scan (issue #16),
kept verbatim but for its imports, so tests can check the fast one reports exactly what it reported.
The parts the rewrite left unchanged (checkpoint signatures, trusted keys) are imported from
accord.ledger.verify rather than copied.

Checks, in seq order: no gaps or extra rows; each row's leaf hash from its
columns (so one changed byte shows); the hash chain; stream numbering; the
stored Merkle nodes; the root at every checkpoint (signature included, so a
truncated or rewritten tail after a published checkpoint shows); and the head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from accord.ledger import merkle
from accord.ledger.records import Checkpoint, VerifyReport
from accord.ledger.schema import NODE_LEVEL_STEP
from accord.ledger.verify import _check_checkpoint_signature, _check_trusted, _Failed, _trusted_set
from accord.ledger.writer import ENTRY_FORMAT

if TYPE_CHECKING:
    from accord.ledger.store import Ledger

_PAGE = 5000


def verify_ledger(ledger: Ledger, external: list[Checkpoint], progress: Callable[[int, int], None] | None,
                  trusted: list[bytes]) -> VerifyReport:
    from accord.ledger.db import snapshot_connection

    # Everything is read in ONE snapshot: a writer appending meanwhile is not seen, never mistaken for tampering.
    with snapshot_connection(ledger.engine) as conn:
        return _verify_snapshot(ledger, conn, external, progress, trusted)


def _verify_snapshot(ledger: Ledger, conn, external: list[Checkpoint],
                     progress: Callable[[int, int], None] | None, trusted_keys: list[bytes]) -> VerifyReport:
    from accord.ledger.store import _dbapi

    sha = hashlib.sha256
    cur = _dbapi(conn).cursor()
    head_size, head_chain, head_edge, origin = ledger._head(cur)
    cur.execute(ledger.sql.p("SELECT level, idx, hash FROM ledger_nodes"))
    stored_nodes = {(int(l), int(i)): bytes(h) for l, i, h in cur.fetchall()}
    cur.execute("SELECT MAX(seq), COUNT(*) FROM ledger_events")
    max_seq, count = cur.fetchone()
    max_seq, count = int(max_seq or 0), int(count)
    cps = sorted([*ledger._checkpoints_on(conn), *external], key=lambda c: c.size)
    trusted = _trusted_set(ledger, cur, origin, trusted_keys)
    tree = merkle.CompactRange()
    chain = bytes(32)
    stream_last: dict[str, int] = {}
    seq = 0
    cp_i = 0
    total = max(head_size, max_seq)
    try:
        for cp in cps:
            _check_checkpoint_signature(cp, origin)
            _check_trusted(cp, trusted)
        while cp_i < len(cps) and cps[cp_i].size == 0:
            if cps[cp_i].root_hash != merkle.EMPTY_ROOT:
                raise _Failed(None, "checkpoint at size 0 has a wrong root")
            cp_i += 1
        for ev in _scan(ledger, cur):
            s, stream, ss, kind, cb, rec, payload, leaf, stored_chain = ev
            expected = seq + 1
            if s != expected:
                raise _Failed(expected, f"event {expected} is missing (next stored is {s})" if s > expected
                              else f"event {s} is stored twice")
            seq = s
            cb_text = "null" if cb is None else str(cb)
            computed = sha(b"\x00" + (ENTRY_FORMAT % (cb_text, kind, payload, rec, s, stream, ss)).encode()).digest()
            if computed != bytes(leaf):
                raise _Failed(s, f"event {s} does not match its leaf hash (payload or fields changed)")
            chain = sha(chain + computed).digest()
            if chain != bytes(stored_chain):
                raise _Failed(s, f"event {s} breaks the hash chain (events removed, reordered or rehashed)")
            if ss != stream_last.get(stream, 0) + 1:
                raise _Failed(s, f"event {s} is number {ss} in stream '{stream}', expected {stream_last.get(stream, 0) + 1}")
            stream_last[stream] = ss
            if cb is not None and not 1 <= cb < s:
                raise _Failed(s, f"event {s} is caused_by {cb}, which is not an earlier event")
            _push(tree, computed, stored_nodes, s)
            while cp_i < len(cps) and cps[cp_i].size == s:
                if tree.root() != cps[cp_i].root_hash:
                    raise _Failed(s, f"the tree of the first {s} events does not match the checkpoint signed at "
                                     f"{cps[cp_i].created_at}; an event at or before {s} was changed")
                cp_i += 1
            if progress is not None and s % _PAGE == 0:
                progress(s, total)
        if cp_i < len(cps):
            cp = cps[cp_i]
            raise _Failed(seq + 1, f"checkpoint signed at {cp.created_at} covers {cp.size} events but only {seq} "
                                   f"are stored: events {seq + 1}..{cp.size} were removed")
        if seq != head_size:
            raise _Failed(min(seq, head_size) + 1, f"the head records {head_size} events but {seq} are stored")
        if chain != head_chain:
            raise _Failed(seq or None, "the head's chain hash does not match the last event")
        if tree.to_bytes() != head_edge:
            raise _Failed(seq or None, "the head's Merkle tree edge does not match the events")
        if count != seq:
            raise _Failed(seq + 1, f"{count - seq} stored rows lie outside seq 1..{seq}")
    except _Failed as bad:
        return VerifyReport(False, seq, bad.seq, bad.reason, b"", cp_i)
    if progress is not None:
        progress(seq, total)
    return VerifyReport(True, seq, None, "", tree.root(), len(cps))


def _push(tree: merkle.CompactRange, leaf: bytes, stored: dict[tuple[int, int], bytes], seq: int) -> None:
    def check(level: int, index: int, node: bytes) -> None:
        if level % NODE_LEVEL_STEP == 0:
            if stored.get((level, index)) != node:
                first = (index << level) + 1
                raise _Failed(first, f"stored tree node (level {level}, index {index}) over events "
                                     f"{first}..{(index + 1) << level} does not match the events")

    tree.append(leaf, check)


def _scan(ledger: Ledger, cur):
    """All event rows in seq order, as raw tuples, page by page, inside the caller's snapshot."""
    sql = ledger.sql.p(ledger.sql.select_events + " WHERE seq > ? ORDER BY seq LIMIT ?")
    after = -(1 << 62)
    while True:
        cur.execute(sql, (after, _PAGE))
        rows = cur.fetchall()
        yield from rows
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]
