"""RFC 6962 / RFC 9162 Merkle tree hashing, compact ranges and proofs.

The tree is never held whole: appends fold leaf hashes into a *compact range*
(the right edge of the tree, one perfect-subtree hash per set bit of the size),
so adding a leaf costs one hash amortised. Proofs are built from a
``subtree_hash(level, index)`` callback so the store decides where node hashes
come from (stored tiles, or leaves). Verification follows RFC 9162 §2.1.3.2 and
§2.1.4.2 and is checked against the transparency-dev/merkle test vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH of one leaf: ``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: ``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """Largest ``k = 2**i`` with ``k < n`` (``n >= 2``): the RFC 6962 split point."""
    return 1 << ((n - 1).bit_length() - 1)


@dataclass
class CompactRange:
    """The right edge of a tree of ``size`` leaves: hashes of its perfect subtrees, largest first.

    ``on_node(level, index, hash)`` is called for every interior node that becomes
    complete, so callers can persist selected levels (tiles).
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes, on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        hashes, n = self.hashes, self.size
        hashes.append(leaf)
        level = 0
        while n & 1:
            right = hashes.pop()
            hashes[-1] = node = _sha256(b"\x01" + hashes[-1] + right).digest()
            n >>= 1
            level += 1
            if on_node is not None:
                on_node(level, n, node)
        self.size += 1

    def extend(self, leaves: Sequence[bytes], every_level: int = 0) -> list[tuple[int, int, bytes]]:
        """Append ``leaves`` at once, a level at a time (one comprehension of node hashes per level rather
        than a loop per leaf); returns the interior nodes completed at levels that are multiples of
        ``every_level`` as ``(level, index, hash)``, in the order :meth:`append` would complete them."""
        pending, size = self.hashes, self.size
        kept: list[tuple[int, int, bytes]] = []
        new_edge: list[bytes] = []
        row, first, level = list(leaves), size, 0  # first: the index of row[0] at this level
        while row:
            if size >> level & 1:  # the edge's subtree at this level is the left partner of row[0]
                row.insert(0, pending.pop())
                first -= 1
            if len(row) & 1:
                new_edge.append(row.pop())  # the odd one out stays on the right edge
            row = [_sha256(b"\x01" + left + right).digest() for left, right in zip(row[0::2], row[1::2])]
            level += 1
            first >>= 1
            if every_level and not level % every_level:
                kept.extend((level, first + i, h) for i, h in enumerate(row))
        self.hashes = pending + new_edge[::-1]
        self.size = size + len(leaves)
        kept.sort(key=lambda node: ((node[1] + 1) << node[0], node[0]))  # completed by that leaf, lower first
        return kept

    def root(self) -> bytes:
        """MTH of the whole tree (right fold of the perfect subtrees)."""
        if not self.hashes:
            return EMPTY_ROOT
        acc = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            acc = _sha256(b"\x01" + h + acc).digest()
        return acc

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> CompactRange:
        count = size.bit_count()
        if len(blob) != count * HASH_SIZE:
            raise ValueError(f"compact range for size {size} needs {count} hashes, found {len(blob) // HASH_SIZE}")
        return cls(size, [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)])


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (reference implementation, used by tests and verify)."""
    cr = CompactRange()
    for leaf in leaves:
        cr.append(leaf)
    return cr.root()


SubtreeHash = Callable[[int, int], bytes]
"""``subtree_hash(level, index)``: hash of the perfect subtree covering leaves ``[index << level, (index + 1) << level)``."""


def range_hash(begin: int, end: int, subtree_hash: SubtreeHash) -> bytes:
    """MTH of leaves ``[begin, end)`` where ``begin`` is aligned to a power of two >= ``end - begin``.

    That is every range the RFC 6962 recursion produces: a perfect subtree, or
    one that stops at the tree's right edge.
    """
    pieces: list[bytes] = []
    pos, remaining = begin, end - begin
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining >> level & 1:
            if pos % (1 << level):
                raise ValueError(f"range [{begin}, {end}) is not aligned")
            pieces.append(subtree_hash(level, pos >> level))
            pos += 1 << level
    acc = pieces[-1]
    for h in reversed(pieces[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_proof(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """Audit path for leaf ``index`` (0-based) in a tree of ``size`` leaves (RFC 6962 §2.1.1), leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    begin, end = 0, size
    while end - begin > 1:
        k = largest_power_of_two_below(end - begin)
        if index < begin + k:
            path.append(range_hash(begin + k, end, subtree_hash))
            end = begin + k
        else:
            path.append(range_hash(begin, begin + k, subtree_hash))
            begin += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """Proof that the tree of ``old_size`` leaves is a prefix of the one of ``new_size`` (RFC 6962 §2.1.2)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove consistency from size {old_size} to size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    out: list[bytes] = []
    m, begin, end, complete = old_size, 0, new_size, True
    while True:
        n = end - begin
        if m == n:
            if not complete:
                out.append(range_hash(begin, end, subtree_hash))
            break
        k = largest_power_of_two_below(n)
        if m <= k:
            out.append(range_hash(begin + k, end, subtree_hash))
            end = begin + k
        else:
            out.append(range_hash(begin, begin + k, subtree_hash))
            begin += k
            m -= k
            complete = False
    out.reverse()
    return out


class ProofError(ValueError):
    """A proof does not verify."""


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root a (leaf, proof) pair implies; raises :class:`ProofError` if malformed."""
    if index >= size:
        raise ProofError(f"leaf index {index} is beyond tree size {size}")
    if len(leaf) != HASH_SIZE or any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("hashes must be 32 bytes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is shorter than the path")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    try:
        return root_from_inclusion_proof(index, size, leaf, proof) == root
    except ProofError:
        return False


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, with the trivial cases of transparency-dev/merkle."""
    if old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof or any(len(p) != HASH_SIZE for p in proof):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # exact power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
