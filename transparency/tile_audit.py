"""Auditing a tiled log (c2sp.org/tlog-tiles) from its checkpoint and its tiles alone.

Given a checkpoint whose signature the caller verified, every level-0 tile and entry bundle of
its tree is fetched: each entry must hash (RFC 6962 leaf hash) to its leaf in the level-0 tile,
the leaves must give the checkpoint's root, every hash of an upper tile must be the Merkle tree
hash of the full tile below it, and the root computed from the tiles alone (as a client computing
proofs would) must be the checkpoint's too. Each finding names the tile, the entry index or the
range that is wrong. Pure: the fetching is the caller's (two functions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from schemas.canonical import is_canonical
from transparency.checkpoint import Checkpoint
from transparency.merkle import leaf_hash, range_hash, root_from_leaves
from transparency.tiles import WIDTH, Tile, TileError, TileHashes, tiles_for_size, unpack_hashes

# entry i of the log, its bytes -> what is wrong with it (None: nothing); the log's own entry rules
EntryCheck = Callable[[int, bytes], str | None]


@dataclass
class TileAuditReport:
    size: int
    entries: int = 0
    tiles: int = 0
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def subtree_root(hashes: list[bytes]) -> bytes:
    """The Merkle tree hash over a full tile's 256 hashes (a complete subtree of height 8)."""
    return root_from_leaves(hashes)


def audit_tiles(
    checkpoint: Checkpoint,
    fetch_tile: Callable[[Tile], bytes],
    fetch_bundle: Callable[[Tile], list[bytes]],
    check_entry: EntryCheck | None = None,
    *,
    max_findings: int = 100,
) -> TileAuditReport:
    """Audit the tree of ``checkpoint`` through ``fetch_tile`` (a hash tile's bytes) and
    ``fetch_bundle`` (an entry bundle's entries). Either may raise ``TileError`` (or ``OSError``)
    for a tile it cannot get: that is a finding naming the tile."""
    size = checkpoint.size
    report = TileAuditReport(size)
    fetched: dict[tuple[int, int], list[bytes]] = {}

    def note(finding: str) -> None:
        if len(report.findings) < max_findings:
            report.findings.append(finding)

    tiles = list(tiles_for_size(size))
    for tile in tiles:
        try:
            fetched[(tile.level or 0, tile.index)] = unpack_hashes(fetch_tile(tile), tile.width)
            report.tiles += 1
        except (TileError, OSError) as exc:
            note(f"{tile.path()}: {exc}")

    leaves: list[bytes] = []
    for tile in (t for t in tiles if t.level == 0):
        first = tile.index * WIDTH
        bundle = Tile(None, tile.index, tile.width)
        hashes = fetched.get((0, tile.index))
        try:
            entries = fetch_bundle(bundle)
        except (TileError, OSError) as exc:
            note(f"entry bundle {bundle.path()} (entries {first}..{first + tile.width - 1}): {exc}")
            leaves += hashes or [b""] * tile.width
            continue
        if len(entries) != tile.width:
            note(f"entry bundle {bundle.path()}: {len(entries)} entries, not {tile.width}")
        for offset, entry in enumerate(entries[: tile.width]):
            index = first + offset
            leaf = leaf_hash(entry)
            leaves.append(leaf)
            report.entries += 1
            if hashes is not None and hashes[offset] != leaf:
                note(f"entry {index}: its bytes do not hash to its leaf in {tile.path()}")
            if check_entry is not None:
                problem = check_entry(index, entry)
                if problem:
                    note(f"entry {index}: {problem}")
        leaves += [b""] * (tile.width - len(entries))

    if len(leaves) == size and all(leaves):
        root = root_from_leaves(leaves)
        if root != checkpoint.root_hash:
            note(
                f"root: entries 0..{size - 1} give {root.hex()}, the checkpoint says "
                f"{checkpoint.root_hash.hex()} (the log was rewritten, or the checkpoint is another log's)"
            )

    for tile in (t for t in tiles if (t.level or 0) > 0):
        level = tile.level or 0
        upper = fetched.get((level, tile.index))
        if upper is None:
            continue
        for offset, value in enumerate(upper):
            below = tile.index * WIDTH + offset
            lower = fetched.get((level - 1, below))
            if lower is None or len(lower) != WIDTH:
                note(f"{tile.path()}: hash {offset} has no full {Tile(level - 1, below).path()} below it")
            elif subtree_root(lower) != value:
                note(f"{tile.path()}: hash {offset} is not the hash of {Tile(level - 1, below).path()}")

    if size and len(fetched) == len(tiles):
        cached = {
            Tile(level, index, len(hashes)).path(): b"".join(hashes)
            for (level, index), hashes in fetched.items()
        }
        try:
            from_tiles = range_hash(0, size, TileHashes(cached.__getitem__, size))
        except (KeyError, TileError) as exc:
            note(f"the tiles do not cover the tree of size {size}: {exc}")
        else:
            if from_tiles != checkpoint.root_hash:
                note(
                    f"root: the tiles give {from_tiles.hex()}, "
                    f"the checkpoint says {checkpoint.root_hash.hex()}"
                )
    return report


def event_entry_check(index: int, entry: bytes) -> str | None:
    """The hub's entries: canonical JSON events that state their own ``log_index``."""
    if not is_canonical(entry):
        return "not canonical JSON"
    try:
        stated = json.loads(entry).get("log_index")
    except (ValueError, AttributeError):
        return "not a JSON object"
    return None if stated == index else f"it says it is entry {stated} (rewritten or reordered)"
