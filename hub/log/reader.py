"""Reading the log: roots, proofs from stored subtrees, signed tree heads."""

from __future__ import annotations

import time

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.keystore import KeyStore
from hub.log.models import LogEntry, TreeHead
from hub.log.repository import LogRepository
from hub.problems import BadRequest
from schemas.jws import sign_record
from transparency import consistency_ranges, frontier, inclusion_ranges, needed_nodes, range_hash

STH_TYPE = "puhui-sth+jws"


class LogReader:
    def __init__(self, session: Session) -> None:
        self.repository = LogRepository(session)
        self.session = session

    def size(self) -> int:
        return self.repository.size()

    def entry(self, index: int) -> LogEntry | None:
        """The entry at ``index``; None past the end (or for a negative index)."""
        return self.repository.entry(index) if index >= 0 else None

    def root(self, size: int) -> bytes:
        return range_hash(0, size, self.repository.nodes(frontier(size)))

    def _check_size(self, size: int) -> None:
        current = self.size()
        if not 0 < size <= current:
            raise BadRequest(f"tree_size must be between 1 and {current}", code="1004")

    def inclusion(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        if not 0 <= index < size:
            raise BadRequest(f"leaf_index must be below tree_size {size}", code="1004")
        ranges = inclusion_ranges(index, size)
        stored = self.repository.nodes(needed_nodes(ranges))
        return [range_hash(start, end, stored) for start, end in ranges]

    def consistency(self, first: int, second: int) -> list[bytes]:
        self._check_size(second)
        if not 0 < first <= second:
            raise BadRequest("first must be between 1 and second", code="1004")
        ranges = consistency_ranges(first, second)
        stored = self.repository.nodes(needed_nodes(ranges))
        return [range_hash(start, end, stored) for start, end in ranges]

    def signed_head(self, keystore: KeyStore) -> TreeHead:
        """The signed head of the current tree, signed once per size and kept."""
        size = self.size()
        existing = self.repository.head(size)
        if existing is not None:
            return existing
        root, stamp = self.root(size).hex(), int(time.time() * 1000)
        payload = {"tree_size": size, "root_hash": root, "timestamp": stamp}
        signature = sign_record(payload, keystore.active(), typ=STH_TYPE)
        head = TreeHead(size=size, root_hash=root, timestamp=stamp, signature=signature)
        try:
            with self.session.begin_nested():
                self.session.add(head)
        except IntegrityError:  # another process signed this size first
            found = self.repository.head(size)
            assert found is not None
            return found
        return head
