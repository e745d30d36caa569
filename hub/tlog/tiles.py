"""Serving the log as tiles (c2sp.org/tlog-tiles): hash tiles from the stored subtree hashes and
entry bundles from the stored entries, each read with one range query.

Hash tile ``L/N`` holds the stored subtrees ``(8L, N*256 .. N*256+255)`` (a complete subtree of
height 8L is exactly what the spec's tile hash is); a partial tile ``L/N.p/W`` the first ``W`` of
them. A tile is served once the log's tree is at least that wide, and never changes after (the
log only grows), so full and partial tiles alike are immutable.

Entry bundles are uint16 length-prefixed, so an entry over 65535 bytes cannot be in one (a
transfer proposal naming hundreds of blocks can be that large): its bundle is answered 404 with
code 7013 naming the entry, and its entries are read from ``/v1/log/entries`` — the "different
URL" tlog-tiles allows for entries in another encoding. ``puhui audit verify --tiles`` falls back
to it for such a bundle, still checking every entry against its level-0 tile.
"""

from __future__ import annotations

from sqlmodel import Session

from hub.log.reader import LogReader
from hub.problems import NotFound
from hub.tlog.repository import TileRepository
from transparency.tiles import (
    HEIGHT,
    MAX_ENTRY,
    WIDTH,
    Tile,
    TileError,
    entry_bundle,
    parse_tile_path,
    width_at,
)

NO_SUCH_TILE = "7012"
ENTRY_TOO_LARGE = "7013"


class TileNotFound(NotFound):
    """A malformed tile path, or a tile the tree is not wide enough for."""


class TileReader:
    def __init__(self, session: Session) -> None:
        self.repository = TileRepository(session)
        self.reader = LogReader(session)

    def parse(self, path: str) -> Tile:
        try:
            return parse_tile_path(path)
        except TileError as exc:
            raise TileNotFound(str(exc), code=NO_SUCH_TILE) from exc

    def read(self, path: str) -> tuple[Tile, bytes]:
        """The tile at ``path`` (``tile/...``) and its bytes."""
        tile = self.parse(path)
        size = self.reader.size()
        if width_at(tile, size) < tile.width:
            raise TileNotFound(f"the log's tree of size {size} has no {tile.path()}", code=NO_SUCH_TILE)
        first = tile.index * WIDTH
        if tile.level is None:
            entries = self.repository.entry_range(first, first + tile.width)
            for offset, entry in enumerate(entries):
                if len(entry) > MAX_ENTRY:
                    raise TileNotFound(
                        f"entry {first + offset} is {len(entry)} bytes, over the 65535 an entry bundle "
                        f"holds: read entries {first}..{first + tile.width - 1} from /v1/log/entries",
                        code=ENTRY_TOO_LARGE,
                    )
            data = entry_bundle(entries)
            count = len(entries)
        else:
            hashes = self.repository.node_range(HEIGHT * tile.level, first, first + tile.width)
            data, count = b"".join(hashes), len(hashes)
        if count != tile.width:  # the head says the tree is that wide, the rows do not: a damaged log
            raise TileNotFound(f"the stored log lacks rows of {tile.path()}", code=NO_SUCH_TILE)
        return tile, data
