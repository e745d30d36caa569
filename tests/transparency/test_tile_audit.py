"""The audit of a tiled log from its tiles alone (transparency.tile_audit), against tiles made by
an independent reference (RFC 6962 MTH over the entries) and tampered one way at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from transparency.checkpoint import Checkpoint
from transparency.tile_audit import audit_tiles, event_entry_check
from transparency.tiles import Tile, TileError


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(hashes[:k]) + _mth(hashes[k:])).digest()


@dataclass
class Served:
    """A tiled log served from memory, from its entries alone."""

    entries: list[bytes]
    altered: dict[str, bytes] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    extra_entry: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.leaves = [_leaf(e) for e in self.entries]

    def tile(self, tile: Tile) -> bytes:
        if tile.path() in self.gone:
            raise OSError("404")
        if tile.path() in self.altered:
            return self.altered[tile.path()]
        span = 256 ** (tile.level or 0)
        first = tile.index * 256
        return b"".join(
            _mth(self.leaves[(first + i) * span : (first + i + 1) * span]) for i in range(tile.width)
        )

    def bundle(self, tile: Tile) -> list[bytes]:
        if tile.path() in self.gone:
            raise TileError("404")
        chosen = self.entries[tile.index * 256 : tile.index * 256 + tile.width]
        return [*chosen, b"more"] if tile.path() in self.extra_entry else chosen

    def checkpoint(self) -> Checkpoint:
        return Checkpoint("example.org/log", len(self.entries), _mth(self.leaves))


def _entries(count: int) -> list[bytes]:
    return [b'{"log_index":%d}' % i for i in range(count)]


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 512, 70_000])
def test_a_clean_log_audits(size: int) -> None:
    served = Served(_entries(size))
    report = audit_tiles(served.checkpoint(), served.tile, served.bundle, event_entry_check)
    assert report.ok, report.findings
    assert report.entries == size


@dataclass(frozen=True)
class Broken:
    name: str
    size: int
    apply: Callable[[Served], None]
    expected: str


def _flip_leaf(served: Served) -> None:
    data = bytearray(served.tile(Tile(0, 0, 256)))
    data[32 * 7] ^= 1
    served.altered["tile/0/000"] = bytes(data)


def _wrong_upper(served: Served) -> None:
    data = bytearray(served.tile(Tile(1, 0, 2)))
    data[40] ^= 1
    served.altered["tile/1/000.p/2"] = bytes(data)


def _short_tile(served: Served) -> None:
    served.altered["tile/0/001.p/3"] = b"\x00" * 64


BROKEN = [
    Broken(
        "a leaf not the entry's hash",
        300,
        _flip_leaf,
        "entry 7: its bytes do not hash to its leaf in tile/0/000",
    ),
    Broken("an upper tile hash", 600, _wrong_upper, "tile/1/000.p/2: hash 1 is not the hash of tile/0/001"),
    Broken(
        "a missing bundle",
        300,
        lambda s: s.gone.add("tile/entries/001.p/44"),
        "entry bundle tile/entries/001.p/44",
    ),
    Broken("a missing tile", 300, lambda s: s.gone.add("tile/0/000"), "tile/0/000: 404"),
    Broken(
        "a bundle with one entry too many",
        300,
        lambda s: s.extra_entry.add("tile/entries/000"),
        "257 entries, not 256",
    ),
    Broken(
        "a tile of the wrong length",
        259,
        _short_tile,
        "tile/0/001.p/3: a tile of width 3 holds 96 bytes, not 64",
    ),
]


@pytest.mark.parametrize("row", BROKEN, ids=lambda row: row.name)
def test_what_is_wrong_is_named(row: Broken) -> None:
    served = Served(_entries(row.size))
    checkpoint = served.checkpoint()
    row.apply(served)
    report = audit_tiles(checkpoint, served.tile, served.bundle, event_entry_check)
    assert not report.ok
    assert any(row.expected in finding for finding in report.findings), report.findings


def test_a_checkpoint_of_another_tree_fails_on_the_root() -> None:
    served = Served(_entries(300))
    other = Checkpoint("example.org/log", 300, _mth([*served.leaves[:299], bytes(32)]))
    report = audit_tiles(other, served.tile, served.bundle)
    assert [f.split(":")[0] for f in report.findings] == ["root", "root"]


@pytest.mark.parametrize(
    ("index", "entry", "expected"),
    [
        (3, b'{"log_index":3}', None),
        (3, b'{"log_index":4}', "it says it is entry 4 (rewritten or reordered)"),
        (3, b'{"forged":true}', "it says it is entry None (rewritten or reordered)"),
        (3, b'{ "log_index":3}', "not canonical JSON"),
        (3, b"[3]", "not a JSON object"),
        (3, b"\xff", "not canonical JSON"),
    ],
)
def test_the_hub_entry_rule(index: int, entry: bytes, expected: str | None) -> None:
    assert event_entry_check(index, entry) == expected
