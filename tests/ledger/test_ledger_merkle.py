"""RFC 6962 Merkle hashing and proofs, against the transparency-dev/merkle reference vectors.

Vectors copied from transparency-dev/merkle ``proof/verify_test.go`` (Apache-2.0):
the 8 leaf inputs, the roots of the trees of size 1..8, and their inclusion and
consistency proofs (leaf numbers there are 1-based, as below).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.ledger.merkle import (
    EMPTY_ROOT, CompactRange, consistency_proof, inclusion_proof, leaf_hash, node_hash, range_hash,
    root_from_inclusion_proof, verify_consistency, verify_inclusion,
)

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
# (leaf, 1-based; tree size; proof)
INCLUSION = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
LEAF_HASHES = [leaf_hash(x) for x in LEAVES]


def reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written recursively as in the RFC."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(reference_mth(leaves[:k]), reference_mth(leaves[k:]))


def subtree_from(leaves: list[bytes]):
    return lambda level, index: reference_mth(leaves[index << level:(index + 1) << level])


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert CompactRange().root() == hashlib.sha256(b"").digest() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_reference_vectors(size: int) -> None:
    tree = CompactRange()
    for h in LEAF_HASHES[:size]:
        tree.append(h)
    assert tree.root() == ROOTS[size - 1]
    assert CompactRange.from_bytes(size, tree.to_bytes()).root() == ROOTS[size - 1]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_reference_vectors(leaf: int, size: int, proof: list[str]) -> None:
    expected = [bytes.fromhex(p) for p in proof]
    assert inclusion_proof(leaf - 1, size, subtree_from(LEAF_HASHES[:size])) == expected
    assert verify_inclusion(leaf - 1, size, LEAF_HASHES[leaf - 1], expected, ROOTS[size - 1])
    assert root_from_inclusion_proof(leaf - 1, size, LEAF_HASHES[leaf - 1], expected) == ROOTS[size - 1]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION[1:])
def test_corrupted_inclusion_proofs_are_rejected(leaf: int, size: int, proof: list[str]) -> None:
    """The probes of transparency-dev's corruptInclusionProof."""
    good = [bytes.fromhex(p) for p in proof]
    idx, root, lh = leaf - 1, ROOTS[size - 1], LEAF_HASHES[leaf - 1]
    probes = [
        (idx - 1, size, lh, good, root), (idx + 1, size, lh, good, root), (idx ^ 2, size, lh, good, root),
        (idx, size * 2, lh, good, root), (idx, size // 2, lh, good, root),
        (idx, size, b"WrongLeaf", good, root), (idx, size, lh, good, EMPTY_ROOT), (idx, size, lh, good, SOME_HASH),
        (idx, size, lh, [*good, b""], root), (idx, size, lh, [*good, root], root),
        (idx, size, lh, [b"", *good], root), (idx, size, lh, [root, *good], root),
        (idx, size, lh, good[:-1], root),
    ]
    if len(good) > 1:
        probes.append((idx, size, lh, [good[0], SOME_HASH, *good[1:]], root))
    for i in range(len(good)):
        flipped = list(good)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((idx, size, lh, flipped, root))
    for probe in probes:
        if probe[0] < 0:
            continue
        assert not verify_inclusion(*probe), probe[:2]


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY)
def test_consistency_proofs_match_reference_vectors(size1: int, size2: int, proof: list[str]) -> None:
    expected = [bytes.fromhex(p) for p in proof]
    assert consistency_proof(size1, size2, subtree_from(LEAF_HASHES[:size2])) == expected
    assert verify_consistency(size1, size2, ROOTS[size1 - 1], ROOTS[size2 - 1], expected)


@pytest.mark.parametrize(("size1", "size2", "proof"), [c for c in CONSISTENCY if c[2]])
def test_corrupted_consistency_proofs_are_rejected(size1: int, size2: int, proof: list[str]) -> None:
    good = [bytes.fromhex(p) for p in proof]
    r1, r2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    probes = [
        (size1 - 1, size2, r1, r2, good), (size1 + 1, size2, r1, r2, good), (size1 ^ 2, size2, r1, r2, good),
        (size1, size2 * 2, r1, r2, good), (size1, size2 // 2, r1, r2, good),
        (size1, size2, b"WrongRoot", r2, good), (size1, size2, r1, b"WrongRoot", good), (size1, size2, r2, r1, good),
        (size1, size2, r1, r2, []), (size1, size2, r1, r2, [*good, b""]), (size1, size2, r1, r2, [*good, r1]),
        (size1, size2, r1, r2, [*good, r2]), (size1, size2, r1, r2, [b"", *good]), (size1, size2, r1, r2, [r1, *good]),
        (size1, size2, r1, r2, [r2, *good]), (size1, size2, r1, r2, [good[0], *good]), (size1, size2, r1, r2, good[:-1]),
    ]
    for i in range(len(good)):
        flipped = list(good)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((size1, size2, r1, r2, flipped))
    for probe in probes:
        assert not verify_consistency(*probe), probe[:2]


def test_trivial_consistency_cases() -> None:
    """transparency-dev TestVerifyConsistency: sizes that are always (in)consistent."""
    a, b = b"don't care 1", b"don't care 2"
    assert verify_consistency(0, 0, a, a, [])
    assert verify_consistency(0, 1, a, b, [])
    assert verify_consistency(1, 1, b, b, [])
    assert not verify_consistency(0, 0, a, b, [])
    assert not verify_consistency(1, 1, a, b, [])
    assert not verify_consistency(1, 0, a, b, [])
    assert not verify_consistency(2, 1, a, b, [])
    assert not verify_consistency(1, 2, a, b, [])
    assert not verify_consistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])


def test_single_entry_inclusion() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(0, 1, h, [], h)
    assert not verify_inclusion(0, 1, b"", [], h)
    assert not verify_inclusion(0, 1, h, [], b"")
    for index, size in ((0, 0), (1, 0), (2, 1)):
        assert not verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)


def test_stored_nodes_are_reported_with_level_and_index() -> None:
    seen: list[tuple[int, int]] = []
    tree = CompactRange()
    for i in range(16):
        tree.append(leaf_hash(bytes([i])), lambda level, index, _h: seen.append((level, index)))
    assert sorted(seen) == sorted([(1, i) for i in range(8)] + [(2, i) for i in range(4)] + [(3, 0), (3, 1), (4, 0)])


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_every_inclusion_proof_verifies_and_binds_the_leaf(data: list[bytes], draw: st.DataObject) -> None:
    leaves = [leaf_hash(x) for x in data]
    n = len(leaves)
    tree = CompactRange()
    for h in leaves:
        tree.append(h)
    root = tree.root()
    assert root == reference_mth(leaves)
    index = draw.draw(st.integers(0, n - 1))
    proof = inclusion_proof(index, n, subtree_from(leaves))
    assert verify_inclusion(index, n, leaves[index], proof, root)
    assert not verify_inclusion(index, n, leaf_hash(b"not a leaf \xff"), proof, root)
    if proof:
        bad = list(proof)
        pos = draw.draw(st.integers(0, len(bad) - 1))
        bad[pos] = bytes([bad[pos][0] ^ 1]) + bad[pos][1:]
        assert not verify_inclusion(index, n, leaves[index], bad, root)


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_every_consistency_proof_verifies_and_detects_a_rewritten_prefix(data: list[bytes], draw: st.DataObject) -> None:
    leaves = [leaf_hash(x) for x in data]
    n = len(leaves)
    m = draw.draw(st.integers(0, n))
    proof = consistency_proof(m, n, subtree_from(leaves))
    old_root = reference_mth(leaves[:m])
    assert verify_consistency(m, n, old_root, reference_mth(leaves), proof)
    if 0 < m < n:
        changed = list(leaves)
        j = draw.draw(st.integers(0, m - 1))
        changed[j] = leaf_hash(b"rewritten")
        forged = consistency_proof(m, n, subtree_from(changed))
        assert not verify_consistency(m, n, old_root, reference_mth(changed), forged)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.data())
def test_range_hash_of_any_aligned_prefix_equals_reference(n: int, draw: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    size = draw.draw(st.integers(0, n))
    got = range_hash(0, size, subtree_from(leaves)) if size else EMPTY_ROOT
    assert got == reference_mth(leaves[:size])
