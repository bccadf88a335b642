"""``accord audit verify``: recompute everything from the stored rows and name the first bad seq.

Checks, in seq order: no gaps or extra rows; each row's leaf hash from its
columns (so one changed byte shows); the hash chain; stream numbering; the
stored Merkle nodes; the root at every checkpoint (signature included, so a
truncated or rewritten tail after a published checkpoint shows); and the head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from . import merkle
from .records import Checkpoint, VerifyReport
from .schema import NODE_LEVEL_STEP
from .signing import ROTATION_KIND, key_id_of, rotation_message, signature_valid
from .writer import ENTRY_FORMAT

if TYPE_CHECKING:
    from .store import Ledger

_PAGE = 5000
_NODE_MASK = NODE_LEVEL_STEP - 1  # a power of two


class _Failed(Exception):
    def __init__(self, seq: int | None, reason: str) -> None:
        self.seq, self.reason = seq, reason


def _check_checkpoint_signature(cp: Checkpoint, origin: str) -> None:
    if cp.origin != origin:
        raise _Failed(None, f"checkpoint at size {cp.size} is for ledger '{cp.origin}', not '{origin}'")
    if not signature_valid(cp.public_key, cp.signature, cp.note()):
        raise _Failed(cp.size or None, f"checkpoint at size {cp.size} has an invalid signature")


def _trusted_set(ledger: Ledger, cur, origin: str, trusted: list[bytes]) -> dict[bytes, str]:
    """The trusted keys (public key -> where trust came from), plus each key a rotation event signed by
    a key trusted by then handed over to (the events are read in seq order, in the snapshot)."""
    import json

    out = {k: "given" for k in trusted}
    cur.execute(ledger.sql.p("SELECT seq, payload FROM ledger_events WHERE kind = ? ORDER BY seq"), (ROTATION_KIND,))
    for seq, payload in cur.fetchall():
        try:
            p = json.loads(payload)
            old, new, sig = (bytes.fromhex(p[k]) for k in ("old_public_key", "new_public_key", "signature"))
        except (ValueError, KeyError, TypeError):
            continue
        if old in out and signature_valid(old, sig, rotation_message(origin, old, new)):
            out.setdefault(new, f"rotation event {seq}")
    return out


def _check_trusted(cp: Checkpoint, trusted: dict[bytes, str]) -> None:
    if cp.public_key not in trusted:
        hint = ("no key is trusted: give --trusted-key FILE or $ACCORD_TRUSTED_KEYS (the configured signing key "
                "file was not found)") if not trusted else f"trusted: {', '.join(sorted(key_id_of(k) for k in trusted))}"
        raise _Failed(cp.size or None, f"checkpoint at size {cp.size} signed at {cp.created_at} is signed by key "
                                       f"{key_id_of(cp.public_key)}, which is not trusted ({hint})")


def verify_ledger(ledger: Ledger, external: list[Checkpoint], progress: Callable[[int, int], None] | None,
                  trusted: list[bytes]) -> VerifyReport:
    from .db import snapshot_connection

    # Everything is read in ONE snapshot: a writer appending meanwhile is not seen, never mistaken for tampering.
    with snapshot_connection(ledger.engine) as conn:
        return _verify_snapshot(ledger, conn, external, progress, trusted)


def _verify_snapshot(ledger: Ledger, conn, external: list[Checkpoint],
                     progress: Callable[[int, int], None] | None, trusted_keys: list[bytes]) -> VerifyReport:
    from .store import _dbapi

    cur = _dbapi(conn).cursor()
    head_size, head_chain, head_edge, origin = ledger._head(cur)
    cur.execute(ledger.sql.p("SELECT level, idx, hash FROM ledger_nodes"))
    stored_nodes = {(int(l), int(i)): bytes(h) for l, i, h in cur.fetchall()}
    cur.execute("SELECT MAX(seq) FROM ledger_events")  # for progress; the scan counts the rows itself
    max_seq = int(cur.fetchone()[0] or 0)
    cps = sorted([*ledger._checkpoints_on(conn), *external], key=lambda c: c.size)
    trusted = _trusted_set(ledger, cur, origin, trusted_keys)
    walk = _Walk(stored_nodes, cps)
    total = max(head_size, max_seq)
    try:
        for cp in cps:
            _check_checkpoint_signature(cp, origin)
            _check_trusted(cp, trusted)
        while walk.cp_i < len(cps) and cps[walk.cp_i].size == 0:
            if cps[walk.cp_i].root_hash != merkle.EMPTY_ROOT:
                raise _Failed(None, "checkpoint at size 0 has a wrong root")
            walk.cp_i += 1
        count = 0
        for page, as_bytes in _scan(ledger, conn):
            count += len(page)
            walk.check(page, as_bytes)
            if progress is not None and walk.seq % _PAGE == 0:
                progress(walk.seq, total)
        seq, chain, tree, cp_i = walk.seq, walk.chain, walk.tree, walk.cp_i
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
        return VerifyReport(False, walk.seq, bad.seq, bad.reason, b"", walk.cp_i)
    if progress is not None:
        progress(seq, total)
    return VerifyReport(True, seq, None, "", tree.root(), len(cps))


class _Walk:
    """The state of one pass over the rows in seq order: every check of a row, in one tight loop per page.

    The Merkle fold is inlined (the reference is :meth:`merkle.CompactRange.append`); every
    ``NODE_LEVEL_STEP``-th level's node is compared with the stored one as it completes.
    """

    def __init__(self, stored_nodes: dict[tuple[int, int], bytes], cps: list[Checkpoint]) -> None:
        self.stored = stored_nodes
        self.cps = cps
        self.cp_i = 0
        self.seq = 0
        self.chain = bytes(32)
        self.tree = merkle.CompactRange()
        self.stream_last: dict[str, int] = {}

    def check(self, rows: Iterable[Sequence], as_bytes: bool) -> None:
        """Check one page of :func:`_scan` rows (text columns as UTF-8 bytes when ``as_bytes``)."""
        sha = hashlib.sha256
        fmt: str | bytes = "\x00" + ENTRY_FORMAT  # the RFC 6962 leaf prefix, formatted in
        if as_bytes:
            fmt = fmt.encode()  # type: ignore[union-attr]
        stored, cps, stream_last, edge = self.stored, self.cps, self.stream_last, self.tree.hashes
        seq, chain, cp_i = self.seq, self.chain, self.cp_i
        next_cp = cps[cp_i].size if cp_i < len(cps) else -1
        try:
            for s, stream, ss, kind, cb, cb_text, rec, payload, leaf, stored_chain in rows:
                if s != seq + 1:
                    expected = seq + 1
                    raise _Failed(expected, f"event {expected} is missing (next stored is {s})" if s > expected
                                  else f"event {s} is stored twice")
                seq = s
                try:
                    entry = fmt % (cb_text, kind, payload, rec, s, stream, ss)
                    computed = sha(entry if as_bytes else entry.encode()).digest()  # type: ignore[union-attr]
                except (TypeError, ValueError, UnicodeError):  # a column holds a value of the wrong type
                    computed = None
                if computed is None or computed != leaf:
                    raise _Failed(s, f"event {s} does not match its leaf hash (payload or fields changed)")
                chain = sha(chain + computed).digest()
                if chain != stored_chain:
                    raise _Failed(s, f"event {s} breaks the hash chain (events removed, reordered or rehashed)")
                last = stream_last.get(stream, 0)
                if ss != last + 1:
                    raise _Failed(s, f"event {s} is number {ss} in stream '{_shown(stream)}', expected {last + 1}")
                stream_last[stream] = ss
                if cb is not None and not 1 <= cb < s:
                    raise _Failed(s, f"event {s} is caused_by {cb}, which is not an earlier event")
                edge.append(computed)
                n, level = s - 1, 0
                while n & 1:
                    right = edge.pop()
                    edge[-1] = node = sha(b"\x01" + edge[-1] + right).digest()
                    n >>= 1
                    level += 1
                    if not level & _NODE_MASK and stored.get((level, n)) != node:
                        first = (n << level) + 1
                        raise _Failed(first, f"stored tree node (level {level}, index {n}) over events "
                                             f"{first}..{(n + 1) << level} does not match the events")
                if s == next_cp:
                    self.tree.size = s
                    root = self.tree.root()
                    while cp_i < len(cps) and cps[cp_i].size == s:
                        if root != cps[cp_i].root_hash:
                            raise _Failed(s, f"the tree of the first {s} events does not match the checkpoint "
                                             f"signed at {cps[cp_i].created_at}; an event at or before {s} was changed")
                        cp_i += 1
                    next_cp = cps[cp_i].size if cp_i < len(cps) else -1
        finally:
            self.seq, self.chain, self.cp_i = seq, chain, cp_i
            self.tree.size = seq


#: The scan's columns: an event's stored columns with ``caused_by`` also as the text the leaf holds.
#: SQLite hands text columns over as their stored UTF-8 bytes (no decoding, and no encoding back
#: for the hash); PostgreSQL as text, encoded for the hash.
_SCAN_SQLITE = ("SELECT seq, CAST(stream AS BLOB), stream_seq, CAST(kind AS BLOB), caused_by, "
                "CAST(COALESCE(CAST(caused_by AS TEXT), 'null') AS BLOB), CAST(recorded_at AS BLOB), "
                "CAST(payload AS BLOB), leaf_hash, chain_hash FROM ledger_events ORDER BY seq")
_SCAN_TEXT = ("SELECT seq, stream, stream_seq, kind, caused_by, COALESCE(CAST(caused_by AS TEXT), 'null'), "
              "recorded_at, payload, leaf_hash, chain_hash FROM ledger_events ORDER BY seq")


def _shown(value: object) -> object:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _scan(ledger: Ledger, conn) -> Iterator[tuple[list, bool]]:
    """All event rows in seq order, a page at a time, inside the caller's snapshot, each page with
    whether its text columns are bytes: one streaming query (SQLite: a plain cursor; PostgreSQL: a
    server-side cursor)."""
    from .store import _dbapi

    dbapi = _dbapi(conn)
    if ledger.sql.dialect == "postgresql":
        cur, sql, as_bytes = dbapi.cursor(name="accord_verify_scan"), _SCAN_TEXT, False
        cur.itersize = _PAGE
    else:
        cur = dbapi.cursor()
        cur.execute("PRAGMA encoding")
        as_bytes = cur.fetchone()[0] == "UTF-8"  # a ledger file is UTF-8 unless made otherwise by hand
        sql = _SCAN_SQLITE if as_bytes else _SCAN_TEXT
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(_PAGE):
            yield rows, as_bytes
    finally:
        cur.close()
