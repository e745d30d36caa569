"""Checkpoints (c2sp.org/tlog-checkpoint): the signed note text ``<origin>\\n<size>\\n<base64 root>\\n``
followed by optional extension lines. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from transparency.note import NoteError, b64, check_text, unb64

MAX_SIZE = (1 << 63) - 1


class CheckpointError(NoteError):
    """Note text that is not a checkpoint."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("the origin is one non-empty line")
        if not 0 <= self.size <= MAX_SIZE:
            raise CheckpointError("the size is between 0 and 2^63-1")
        if len(self.root_hash) != 32:
            raise CheckpointError("the root hash is 32 bytes (SHA-256)")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("extension lines are non-empty single lines")

    def text(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        check_text(text)
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("a checkpoint has an origin, a size and a root hash line")
        origin, size, root, *extensions = lines
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise CheckpointError(f"the size {size!r} is not a decimal without leading zeroes")
        if len(size) > len(str(MAX_SIZE)):  # int() of thousands of digits raises a bare ValueError
            raise CheckpointError("the size is between 0 and 2^63-1")
        return cls(origin, int(size), unb64(root, what="the root hash"), tuple(extensions))
