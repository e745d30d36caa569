"""RFC 9162 Merkle trees over stored complete subtrees.

A node ``(level, index)`` is the root of the complete, aligned subtree of leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are leaf hashes. Appending leaf ``n``
completes one node per trailing one-bit of ``n``, so an append writes about two nodes. Every
subtree the RFC's recursion visits, ``D[a:b]``, starts aligned, so its hash is the right fold of
the complete subtrees that tile ``[a, b)`` — at most one per level. Proofs therefore need
O(log n) stored nodes and never a recomputation of the tree.

Leaf hash: SHA-256(0x00 || entry); node hash: SHA-256(0x01 || left || right) (RFC 9162 §2.1.1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, by the RFC's recursion (reference; O(n))."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    # Bottom-up with the RFC's shape: pair from the left, carry an odd last node up unchanged.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def tiles(start: int, end: int) -> list[Node]:
    """The complete aligned subtrees tiling ``[start, end)``, left to right."""
    nodes: list[Node] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while (1 << level) > end - start:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def frontier(size: int) -> list[Node]:
    """The complete subtrees tiling ``[0, size)``: what an append needs and what the root folds."""
    return tiles(0, size)


def appended_nodes(index: int, leaf: bytes, stored: Mapping[Node, bytes]) -> list[tuple[Node, bytes]]:
    """The nodes completed by appending ``leaf`` at ``index``; ``stored`` must hold the frontier
    of ``index`` (the left siblings met on the way up)."""
    made = [((0, index), leaf)]
    level, position, current = 0, index, leaf
    while position & 1:
        current = node_hash(stored[(level, position - 1)], current)
        level, position = level + 1, position >> 1
        made.append(((level, position), current))
    return made


def range_hash(start: int, end: int, stored: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) for an aligned range, from stored complete subtrees."""
    if start == end:
        return EMPTY_ROOT
    hashes = [stored[node] for node in tiles(start, end)]
    current = hashes[-1]
    for value in reversed(hashes[:-1]):
        current = node_hash(value, current)
    return current


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes form the RFC 9162 inclusion proof of leaf ``index`` in a tree
    of ``size`` leaves, bottom-up (PATH, §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[Range] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start, m = start + k, m - k
    return list(reversed(path))


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees of the RFC 9162 consistency proof between sizes ``first`` and ``second``
    (PROOF / SUBPROOF, §2.1.4.1), in proof order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    if first == second:
        return []
    proof: list[Range] = []

    def subproof(m: int, start: int, end: int, complete: bool) -> None:
        n = end - start
        if m == n:
            if not complete:
                proof.append((start, end))
            return
        k = _split(n)
        if m <= k:
            subproof(m, start, start + k, complete)
            proof.append((start + k, end))
        else:
            subproof(m - k, start + k, end, False)
            proof.append((start, start + k))

    subproof(first, 0, second, True)
    return proof


def needed_nodes(ranges: Iterable[Range]) -> set[Node]:
    return {node for start, end in ranges for node in tiles(start, end)}


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first > second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return False
    proof = list(path)
    if first & (first - 1) == 0:  # a power of two: first_root starts the proof
        proof.insert(0, first_root)
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
