"""RFC 9162 hashing and proofs from stored subtrees, against an independent implementation."""

from __future__ import annotations

import hashlib

import pytest
from pymerkle import InmemoryTree
from pymerkle import verify_inclusion as pymerkle_verify

from transparency import (
    appended_nodes,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    needed_nodes,
    node_hash,
    range_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from transparency.audit import PrefixRoots


def _mth(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 §2.1.1, recursively."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _build(size: int) -> tuple[list[bytes], dict]:
    leaves = [leaf_hash(b"entry %d" % i) for i in range(size)]
    stored: dict = {}
    for index, leaf in enumerate(leaves):
        stored.update(appended_nodes(index, leaf, stored))
    return leaves, stored


def test_hashing_is_rfc9162() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100])
def test_roots_from_stored_subtrees_match_the_rfc_and_pymerkle(size: int) -> None:
    leaves, stored = _build(size)
    root = range_hash(0, size, stored)
    assert root == _mth(leaves) == root_from_leaves(leaves)
    tree = InmemoryTree(algorithm="sha256")
    for index in range(size):
        tree.append_entry(b"entry %d" % index)
    assert tree.get_root() == root
    prefix = PrefixRoots()
    for leaf in leaves:
        prefix.append(leaf)
    assert prefix.root() == root


@pytest.mark.parametrize("size", [1, 2, 3, 6, 7, 8, 13, 32, 33])
def test_inclusion_proofs_equal_pymerkles_and_verify(size: int) -> None:
    leaves, stored = _build(size)
    root = range_hash(0, size, stored)
    tree = InmemoryTree(algorithm="sha256")
    for index in range(size):
        tree.append_entry(b"entry %d" % index)
    for index in range(size):
        ranges = inclusion_ranges(index, size)
        path = [range_hash(a, b, stored) for a, b in ranges]
        assert len(needed_nodes(ranges)) <= 2 * size.bit_length()
        theirs = tree.prove_inclusion(index + 1, size)  # pymerkle counts from 1
        serialized = theirs.serialize()["path"]
        assert serialized[0] == leaves[index].hex()
        assert serialized[1:] == [value.hex() for value in path]
        pymerkle_verify(leaves[index], root, theirs)  # raises if it does not verify
        assert verify_inclusion(leaves[index], index, size, path, root)
        assert not verify_inclusion(leaves[index], index, size, path, leaf_hash(b"other root"))
        if path:
            broken = [leaf_hash(b"x"), *path[1:]]
            assert not verify_inclusion(leaves[index], index, size, broken, root)


@pytest.mark.parametrize(
    ("first", "second"), [(1, 1), (1, 2), (3, 7), (4, 8), (6, 8), (7, 33), (16, 17), (32, 100)]
)
def test_consistency_proofs_verify_and_catch_a_rewritten_past(first: int, second: int) -> None:
    leaves, stored = _build(second)
    path = [range_hash(a, b, stored) for a, b in consistency_ranges(first, second)]
    old_root, new_root = _mth(leaves[:first]), _mth(leaves)
    assert verify_consistency(first, second, old_root, new_root, path)
    rewritten = _mth([leaf_hash(b"forged"), *leaves[1:first]])
    assert not verify_consistency(first, second, rewritten, new_root, path)


def test_out_of_range_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_ranges(5, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_ranges(0, 3)
