"""Tiled logs (c2sp.org/tlog-tiles): tile paths, the stored nodes a tile holds, entry bundles, and
the hash of any complete subtree computed from tiles alone (so proofs can be rebuilt offline).

Tile ``L/N`` holds the hashes of the complete subtrees at tree level ``8L`` with indexes
``N*256 .. N*256+255``; a partial tile ``L/N.p/W`` holds the first ``W`` of them. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from transparency.merkle import Node, node_hash

WIDTH = 256
HEIGHT = 8
HASH_SIZE = 32
MAX_ENTRY = 0xFFFF
MAX_INDEX_GROUPS = 6  # 2^63 / 256 < 10^17: at most 17 digits, six groups

_LEVEL = r"(?P<level>entries|[0-9]|[1-5][0-9]|6[0-3])"
_INDEX = r"(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
_WIDTH = r"(?:\.p/(?P<width>[1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?"
_PATH = re.compile(rf"^tile/{_LEVEL}/{_INDEX}{_WIDTH}$")


class TileError(ValueError):
    """A tile path or tile content that is not well formed."""


def encode_index(index: int) -> str:
    """1234067 -> ``x001/x234/067`` (zero-padded 3-digit elements, all but the last with ``x``)."""
    if index < 0:
        raise TileError("a tile index is not negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([f"x{group}" for group in groups[:-1]] + [groups[-1]])


@dataclass(frozen=True, slots=True)
class Tile:
    """A hash tile (``level`` 0–63) or, with ``level`` None, an entry bundle."""

    level: int | None
    index: int
    width: int = WIDTH

    @property
    def full(self) -> bool:
        return self.width == WIDTH

    def path(self) -> str:
        level = "entries" if self.level is None else str(self.level)
        suffix = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{suffix}"

    def nodes(self) -> list[Node]:
        """The stored subtrees whose hashes the tile holds, left to right."""
        level = 0 if self.level is None else HEIGHT * self.level
        return [(level, self.index * WIDTH + i) for i in range(self.width)]


def parse_tile_path(path: str) -> Tile:
    match = _PATH.match(path)
    if match is None:
        raise TileError(f"{path!r} is not a tile path")
    groups = match.group("index").split("/")
    if any(len(group.lstrip("x")) != 3 for group in groups) or (len(groups) > 1 and groups[0] == "x000"):
        raise TileError(f"{path!r} is not a canonical tile index")
    if len(groups) > MAX_INDEX_GROUPS:  # past any tree of 2^63-1 entries (and int()'s digit limit)
        raise TileError(f"{path!r} names a tile index beyond any log")
    index = int("".join(group.lstrip("x") for group in groups))
    level_text = match.group("level")
    width = int(match.group("width")) if match.group("width") else WIDTH
    return Tile(None if level_text == "entries" else int(level_text), index, width)


def width_at(tile: Tile, size: int) -> int:
    """How many hashes of ``tile``'s position a tree of ``size`` has (0: none; 256: full)."""
    level = 0 if tile.level is None else tile.level
    count: int = size // (WIDTH**level)  # complete subtrees at tree level 8*level
    return max(0, min(WIDTH, count - tile.index * WIDTH))


def tiles_for_size(size: int) -> Iterator[Tile]:
    """Every hash tile of a tree of ``size``, the rightmost ones partial."""
    level = 0
    while size >= WIDTH**level:
        count = size // (WIDTH**level)
        for index in range((count + WIDTH - 1) // WIDTH):
            yield Tile(level, index, min(WIDTH, count - index * WIDTH))
        level += 1
        if count < WIDTH:
            break


def pack_hashes(hashes: list[bytes]) -> bytes:
    return b"".join(hashes)


def unpack_hashes(data: bytes, width: int) -> list[bytes]:
    if len(data) != width * HASH_SIZE:
        raise TileError(f"a tile of width {width} holds {width * HASH_SIZE} bytes, not {len(data)}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def entry_bundle(entries: list[bytes]) -> bytes:
    """Big-endian uint16 length-prefixed entries."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise TileError(f"an entry of {len(entry)} bytes does not fit a bundle")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileError("a bundle ends inside a length prefix")
        length = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + length > len(data):
            raise TileError("a bundle ends inside an entry")
        entries.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    return entries


class TileHashes(Mapping[Node, bytes]):
    """The hash of any complete subtree of a tree of ``size``, read from its tiles through ``fetch``
    (tile path -> bytes) and cached. A ``Mapping`` so ``range_hash`` and the proof functions of
    ``transparency.merkle`` run on it unchanged."""

    def __init__(self, fetch: Callable[[str], bytes], size: int) -> None:
        self.fetch, self.size = fetch, size
        self._tiles: dict[tuple[int, int], list[bytes]] = {}

    def tile(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        if key not in self._tiles:
            tile = Tile(level, index)
            width = width_at(tile, self.size)
            if width == 0:
                raise TileError(f"a tree of {self.size} has no tile {level}/{index}")
            tile = Tile(level, index, width)
            self._tiles[key] = unpack_hashes(self.fetch(tile.path()), width)
        return self._tiles[key]

    def __getitem__(self, node: Node) -> bytes:
        level, index = node
        if level < 0 or (index + 1) << level > self.size:
            raise KeyError(node)
        base, rest = divmod(level, HEIGHT)
        first = index << rest  # the first tile hash under this node, at tree level 8*base
        span = 1 << rest
        hashes = self.tile(base, first // WIDTH)[first % WIDTH : first % WIDTH + span]
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    def __iter__(self) -> Iterator[Node]:
        raise TypeError("tile hashes are looked up, not listed")

    def __len__(self) -> int:
        return self.size
