"""A batch of exchange records as one upload carries them, and its digest: the SHA-256 of its
canonical form, taken as each block's canonical bytes are made (``hub.registry.ingest`` sends
those bytes to ``credit_block`` as it hashes them)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.canonical import CanonicalizationError, canonicalize


@dataclass(frozen=True)
class Records:
    """The exchange records of one upload."""

    projects: Sequence[dict[str, Any]] = ()
    blocks: Sequence[dict[str, Any]] = ()
    batches: Sequence[dict[str, Any]] = ()


def canonical_block(block: dict[str, Any]) -> bytes:
    """The RFC 8785 bytes of a schema-valid credit block: orjson's with sorted keys (see
    :class:`BatchDigest`); CanonicalizationError as ``canonicalize`` answers (a lone surrogate)."""
    try:
        return orjson.dumps(block, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise CanonicalizationError(str(exc)) from exc


class BatchDigest:
    """SHA-256 of the canonical form of ``{"projects": [...], "blocks": [...], "batches": [...]}``,
    taken as the blocks' canonical bytes are read. RFC 8785 composes (an array is its members'
    canonical forms joined by commas, an object its sorted members), so each record is
    canonicalized once, on its own, and the document is hashed piece by piece: ``blocks()`` yields
    each block's canonical bytes as it hashes them (a COPY can send each block while the next is
    made), ``hexdigest()`` reads whatever is left and gives the digest.

    ``valid_blocks``: the blocks passed their exchange schema, so they are made of ASCII-keyed
    objects, strings, booleans and integers within ±2^53 only, whose canonical form is orjson's
    with sorted keys (``schemas.canonical``'s fast path), without asking per block."""

    def __init__(self, records: Records, *, valid_blocks: bool = False, made: Sequence[bytes] = ()) -> None:
        self._hash = hashlib.sha256()
        self._pieces = self._generate(records, valid_blocks, made)

    def _generate(self, records: Records, valid_blocks: bool, made: Sequence[bytes]) -> Iterator[bytes]:
        """``made``: the canonical bytes of the first blocks, made already (hashed, not yielded)."""
        update = self._hash.update
        update(b'{"batches":[')
        update(b",".join(canonicalize(item) for item in records.batches))
        update(b'],"blocks":[')
        if made:
            update(b",".join(made))
        for position in range(len(made), len(records.blocks)):
            item = records.blocks[position]
            piece = canonical_block(item) if valid_blocks else canonicalize(item)
            if position:
                update(b",")
            update(piece)
            yield piece
        update(b'],"projects":[')
        update(b",".join(canonicalize(item) for item in records.projects))
        update(b"]}")

    def blocks(self) -> Iterator[bytes]:
        """Each block's canonical bytes, in order, hashed as they are read (once)."""
        return self._pieces

    def hexdigest(self) -> str:
        for _ in self._pieces:  # blocks nobody read (none, or a caller that stopped) are hashed now
            pass
        return self._hash.hexdigest()


def batch_digest(records: Records, *, valid_blocks: bool = False) -> tuple[str, list[bytes]]:
    """The batch's digest (:class:`BatchDigest`) and the canonical bytes of each block."""
    digest = BatchDigest(records, valid_blocks=valid_blocks)
    pieces = list(digest.blocks())
    return digest.hexdigest(), pieces
