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
from transparency.audit import PrefixRoots
from transparency.checkpoint import Checkpoint
from transparency.merkle import leaf_hash, range_hash, root_from_leaves
from transparency.tiles import (
    WIDTH,
    Tile,
    TileError,
    TileHashes,
    parse_tile_path,
    tiles_for_size,
    unpack_hashes,
)

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
    for a tile it cannot get: that is a finding naming the tile.

    Level-0 tiles and bundles are read one after the other and not kept (memory grows with the
    tiles above level 0 only, 1/256 of them)."""
    size = checkpoint.size
    report = TileAuditReport(size)
    roots: dict[tuple[int, int], bytes] = {}  # the hash of each full tile read
    kept: dict[str, bytes] = {}  # tiles above level 0, and the rightmost of level 0
    uppers: dict[tuple[int, int], list[bytes]] = {}
    missing = False

    def note(finding: str) -> None:
        if len(report.findings) < max_findings:
            report.findings.append(finding)

    def read(tile: Tile) -> list[bytes] | None:
        nonlocal missing
        try:
            data = fetch_tile(tile)
            hashes = unpack_hashes(data, tile.width)
        except (TileError, OSError) as exc:
            note(f"{tile.path()}: {exc}")
            missing = True
            return None
        report.tiles += 1
        if tile.full:
            roots[(tile.level or 0, tile.index)] = subtree_root(hashes)
        if tile.level or not tile.full:
            kept[tile.path()] = data
        return hashes

    tiles = list(tiles_for_size(size))
    prefix = PrefixRoots()
    for tile in (t for t in tiles if t.level == 0):
        hashes = read(tile)
        first = tile.index * WIDTH
        bundle = Tile(None, tile.index, tile.width)
        try:
            entries = fetch_bundle(bundle)
        except (TileError, OSError) as exc:
            note(f"entry bundle {bundle.path()} (entries {first}..{first + tile.width - 1}): {exc}")
            entries = []
        if entries and len(entries) != tile.width:
            note(f"entry bundle {bundle.path()}: {len(entries)} entries, not {tile.width}")
        for offset in range(tile.width):
            index = first + offset
            if offset < len(entries):
                entry = entries[offset]
                leaf = leaf_hash(entry)
                report.entries += 1
                if hashes is not None and hashes[offset] != leaf:
                    note(f"entry {index}: its bytes do not hash to its leaf in {tile.path()}")
                problem = check_entry(index, entry) if check_entry is not None else None
                if problem:
                    note(f"entry {index}: {problem}")
            else:
                missing = True
                leaf = hashes[offset] if hashes is not None else bytes(32)
            prefix.append(leaf)

    if not missing and prefix.size == size and prefix.root() != checkpoint.root_hash:
        note(
            f"root: entries 0..{size - 1} give {prefix.root().hex()}, the checkpoint says "
            f"{checkpoint.root_hash.hex()} (the log was rewritten, or the checkpoint is another log's)"
        )

    for tile in (t for t in tiles if (t.level or 0) > 0):
        found = read(tile)
        if found is not None:
            uppers[(tile.level or 0, tile.index)] = found
    for (level, index), upper in sorted(uppers.items()):
        where = Tile(level, index, len(upper)).path()
        for offset, value in enumerate(upper):
            below = Tile(level - 1, index * WIDTH + offset)
            expected = roots.get((level - 1, below.index))
            if expected is None:
                note(f"{where}: hash {offset} has no full {below.path()} below it")
            elif expected != value:
                note(f"{where}: hash {offset} is not the hash of {below.path()}")

    if size and not missing:

        def cached(path: str) -> bytes:
            return kept[path] if path in kept else fetch_tile(parse_tile_path(path))

        try:
            from_tiles = range_hash(0, size, TileHashes(cached, size))
        except (KeyError, TileError, OSError) as exc:
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
