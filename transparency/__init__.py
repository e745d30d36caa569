"""A tamper-evident log: RFC 9162 Merkle tree hashing, proofs computed from stored complete
subtrees, and their verification. Pure: no web, no database (the hub stores the nodes)."""

from transparency.merkle import (
    Node,
    appended_nodes,
    consistency_ranges,
    frontier,
    inclusion_ranges,
    leaf_hash,
    needed_nodes,
    node_hash,
    range_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "Node",
    "appended_nodes",
    "consistency_ranges",
    "frontier",
    "inclusion_ranges",
    "leaf_hash",
    "needed_nodes",
    "node_hash",
    "range_hash",
    "root_from_leaves",
    "verify_consistency",
    "verify_inclusion",
]
