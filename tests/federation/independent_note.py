"""An independent reading of signed notes and checkpoints, written from the specifications
(c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature) for the tests: it
imports nothing of the hub nor of ``transparency``, only ``cryptography`` for Ed25519.

- A note is UTF-8 text ending in a newline, then a blank line, then signature lines
  ``— <name> <base64(key ID || signature)>`` (U+2014 EM DASH), each ending in a newline.
- A key ID is the first 4 bytes of SHA-256(<name> || 0x0A || <type> || <public key>); type 0x01
  is an Ed25519 signature over the text, type 0x04 a timestamped cosignature whose signature is
  the big-endian uint64 timestamp then an Ed25519 signature over
  ``cosignature/v1\\ntime <timestamp>\\n<text>``.
- A verifier key (vkey) is ``<name>+<hex key ID>+<base64(type || public key)>``.
- A checkpoint's text is ``<origin>\\n<decimal size>\\n<base64 root hash>\\n`` then extension lines.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"


class Rejected(Exception):
    pass


@dataclass(frozen=True)
class Key:
    name: str
    type: int
    public: bytes

    @property
    def id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\x0a" + bytes([self.type]) + self.public).digest()[:4]


def read_vkey(vkey: str) -> Key:
    name, hex_id, blob = vkey.split("+", 2)  # the base64 key may hold "+"
    raw = base64.b64decode(blob, validate=True)
    key = Key(name, raw[0], raw[1:])
    if key.id.hex() != hex_id or len(key.public) != 32 or key.type not in (0x01, 0x04):
        raise Rejected("the vkey's key ID does not match its name and key")
    return key


def split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """(text, [(name, key ID, signature bytes)])."""
    at = note.rindex("\n\n")
    text, lines = note[: at + 1], note[at + 2 :]
    if not lines.endswith("\n"):
        raise Rejected("signature lines end in a newline")
    signatures = []
    for line in lines[:-1].split("\n"):
        dash, name, blob = line.split(" ")
        if dash != EM_DASH:
            raise Rejected("a signature line starts with an em dash")
        raw = base64.b64decode(blob, validate=True)
        signatures.append((name, raw[:4], raw[4:]))
    return text, signatures


def verified_by(note: str, keys: list[Key]) -> dict[str, int | None]:
    """The names of ``keys`` whose signatures on ``note`` verify (with a cosignature's timestamp);
    unknown keys are skipped, a known key's bad signature rejects the note."""
    text, signatures = split_note(note)
    found: dict[str, int | None] = {}
    for name, key_id, raw in signatures:
        key = next((k for k in keys if k.name == name and k.id == key_id), None)
        if key is None:
            continue
        stamp: int | None = None
        message = text.encode()
        if key.type == 0x04:
            (stamp,) = struct.unpack(">Q", raw[:8])
            raw = raw[8:]
            message = f"cosignature/v1\ntime {stamp}\n".encode() + message
        try:
            Ed25519PublicKey.from_public_bytes(key.public).verify(raw, message)
        except InvalidSignature as exc:
            raise Rejected(f"{name}'s signature does not verify") from exc
        found[name] = stamp
    return found


@dataclass(frozen=True)
class Tree:
    origin: str
    size: int
    root: bytes


def read_checkpoint(note: str, log: Key) -> Tree:
    """The checkpoint of ``note`` if ``log`` (named after the origin) signed it."""
    text, _ = split_note(note)
    origin, size, root = text.split("\n")[:3]
    if log.name != origin or log.type != 0x01:
        raise Rejected("the log key is named after the checkpoint's origin")
    if log.name not in verified_by(note, [log]):
        raise Rejected("the log did not sign this checkpoint")
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise Rejected("the size is a decimal without leading zeroes")
    return Tree(origin, int(size), base64.b64decode(root, validate=True))


def rfc6962_root(entries: list[bytes]) -> bytes:
    """MTH (RFC 6962 section 2.1) of the entries."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc6962_root(entries[:k]) + rfc6962_root(entries[k:])).digest()
