"""Auditing a log from what its server published: entries, signed heads, consistency proofs.

Independent of the server's database: every leaf is recomputed from the entry bytes, every head's
signature checked with the server's public keys and its root recomputed, and successive heads are
checked for consistency with the server's RFC 9162 proofs. Each finding names what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from schemas.canonical import is_canonical
from schemas.jwk import JWKSet
from schemas.jws import JWSError, verify_record
from transparency.merkle import EMPTY_ROOT, leaf_hash, node_hash, verify_consistency


class PrefixRoots:
    """Roots of successive prefixes of a log, in O(log n) per leaf (a stack of complete subtrees)."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash), left to right

    def append(self, leaf: bytes) -> None:
        level, current = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            current, level = node_hash(left, current), level + 1
        self._stack.append((level, current))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        current = self._stack[-1][1]
        for _, value in reversed(self._stack[:-1]):
            current = node_hash(value, current)
        return current


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    data: bytes
    served_leaf: str | None


@dataclass(frozen=True, slots=True)
class Head:
    tree_size: int
    root_hash: str
    timestamp: int
    signature: str


@dataclass
class AuditReport:
    entries: int = 0
    heads: int = 0
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _check_head(head: Head, keys: JWKSet, report: AuditReport) -> bool:
    try:
        signed = verify_record(head.signature, keys).json()
    except JWSError as exc:
        report.findings.append(f"tree head {head.tree_size}: signature refused [{exc.code}] {exc.message}")
        return False
    stated = {"tree_size": head.tree_size, "root_hash": head.root_hash, "timestamp": head.timestamp}
    if signed != stated:
        report.findings.append(f"tree head {head.tree_size}: the served fields differ from the signed ones")
        return False
    return True


def _check_entry(entry: Entry, expected: int, report: AuditReport) -> bytes:
    if entry.index != expected:
        report.findings.append(f"entry {expected}: missing (the next served entry is {entry.index})")
    leaf = leaf_hash(entry.data)
    if entry.served_leaf is not None and entry.served_leaf != leaf.hex():
        report.findings.append(f"entry {entry.index}: its bytes do not hash to the served leaf hash")
    if not is_canonical(entry.data):
        report.findings.append(f"entry {entry.index}: not canonical JSON")
    else:
        stated = json.loads(entry.data).get("log_index")
        if stated != entry.index:
            report.findings.append(f"entry {entry.index}: it says it is entry {stated} (reordered)")
    return leaf


def audit_log(
    entries: Iterable[Entry],
    heads: Sequence[Head],
    keys: JWKSet,
    consistency: Callable[[int, int], Sequence[bytes]],
    previous: Mapping[str, Any] | None = None,
) -> AuditReport:
    """Audit ``entries`` (in order) against the signed ``heads`` (ascending size).

    ``consistency(first, second)`` fetches the server's proof; ``previous`` is the last head this
    auditor verified on an earlier run (``{"tree_size", "root_hash"}``), checked for consistency too.
    """
    report = AuditReport()
    by_size = {head.tree_size: head for head in heads if _check_head(head, keys, report)}
    report.heads = len(heads)
    roots = PrefixRoots()
    recomputed: dict[int, bytes] = {0: EMPTY_ROOT} if 0 in by_size else {}
    for entry in entries:
        roots.append(_check_entry(entry, roots.size, report))
        report.entries += 1
        if roots.size in by_size:
            recomputed[roots.size] = roots.root()
    for size, head in sorted(by_size.items()):
        if size not in recomputed:
            report.findings.append(f"tree head {size}: the log has only {roots.size} entries")
        elif recomputed[size].hex() != head.root_hash:
            report.findings.append(f"tree head {size}: root does not match entries 0..{size - 1}")
    chain = [(size, bytes.fromhex(head.root_hash)) for size, head in sorted(by_size.items()) if size > 0]
    if previous is not None:
        chain.insert(0, (int(previous["tree_size"]), bytes.fromhex(str(previous["root_hash"]))))
    for (first, first_root), (second, second_root) in pairwise(chain):
        if first > second:
            report.findings.append(f"tree head {second}: smaller than the head {first} seen before")
        elif not verify_consistency(first, second, first_root, second_root, consistency(first, second)):
            report.findings.append(f"tree heads {first} -> {second}: not consistent")
    return report
