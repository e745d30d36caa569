"""Signed notes (c2sp.org/signed-note), their verifier keys (vkeys), and timestamped Ed25519
cosignatures (c2sp.org/tlog-cosignature, signature type 0x04).

A note is UTF-8 text ending in a newline, a blank line, and signature lines
``— <key name> base64(key ID || signature)``. The key ID is the first four bytes of
SHA-256(key name || 0x0A || signature type || public key). Verifiers ignore signatures from keys
they do not know (name and ID must both match), reject the note if a known key's signature fails,
and reject it if no known key signed it.

A cosignature is a note signature of type 0x04 whose signed bytes are
``cosignature/v1\\ntime <t>\\n`` followed by the note text, and whose signature field is the
big-endian u64 timestamp followed by the Ed25519 signature.

Pure: no web, no database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
DASH = "\u2014"
MAX_SIGNATURES = 64
MAX_NOTE_BYTES = 1 << 20
MAX_TIMESTAMP = (1 << 63) - 1
COSIGNATURE_HEADER = "cosignature/v1\n"


class NoteError(ValueError):
    """A note, key or signature that is malformed or does not verify."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"{what} is not standard base64") from exc


def check_key_name(name: str) -> str:
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise NoteError(f"key name {name!r} is empty or holds a space or '+'")
    return name


def key_id(name: str, signature_type: int, public: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4] (signed-note, "Signatures")."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([signature_type]) + public).digest()[:4]


def cosigned_message(text: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosignature signs (tlog-cosignature, "Ed25519 signed message")."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Verifier:
    """A public key trusted to sign notes (type 0x01) or to cosign them (type 0x04)."""

    name: str
    public: bytes
    signature_type: int = ED25519

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.signature_type not in (ED25519, COSIGNATURE_V1):
            raise NoteError(f"signature type 0x{self.signature_type:02x} is not supported")
        if len(self.public) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.signature_type, self.public)

    @property
    def vkey(self) -> str:
        """``<name>+<hex key ID>+<base64(type || public key)>`` (signed-note, "Verifier keys")."""
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.signature_type]) + self.public)}"

    def matches(self, signature: Signature) -> bool:
        return signature.name == self.name and signature.key_id == self.key_id

    def timestamp(self, signature: Signature) -> int | None:
        """A cosignature's timestamp (None for a plain note signature)."""
        if self.signature_type != COSIGNATURE_V1 or len(signature.signature) < 8:
            return None
        return int(struct.unpack(">Q", signature.signature[:8])[0])

    def verify(self, text: str, signature: Signature) -> bool:
        """True if ``signature`` is this key's valid signature over the note ``text``."""
        if not self.matches(signature):
            return False
        public = Ed25519PublicKey.from_public_bytes(self.public)
        raw = signature.signature
        if self.signature_type == COSIGNATURE_V1:
            if len(raw) != 8 + 64:
                return False
            (stamp,) = struct.unpack(">Q", raw[:8])
            if stamp > MAX_TIMESTAMP:
                return False
            message, raw = cosigned_message(text, stamp), raw[8:]
        else:
            if len(raw) != 64:
                return False
            message = text.encode("utf-8")
        try:
            public.verify(raw, message)
        except InvalidSignature:
            return False
        return True


def parse_vkey(vkey: str) -> Verifier:
    """A verifier from its vkey; the stated key ID must be the one its name and key give."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a vkey is <name>+<hex key ID>+<base64 key>")
    name, hex_id, encoded = parts
    raw = unb64(encoded, what="the vkey's key")
    if len(raw) < 1:
        raise NoteError("the vkey's key is empty")
    verifier = Verifier(name=check_key_name(name), public=raw[1:], signature_type=raw[0])
    if hex_id.lower() != verifier.key_id.hex() or len(hex_id) != 8:
        raise NoteError(f"the vkey's key ID {hex_id} is not the one its name and key give")
    return verifier


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under ``name`` (type 0x01) or cosigns them (type 0x04)."""

    name: str
    private: Ed25519PrivateKey = field(repr=False)
    signature_type: int = ED25519

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.private.public_key().public_bytes_raw(), self.signature_type)

    def sign(self, text: str, *, timestamp: int | None = None) -> Signature:
        check_text(text)
        verifier = self.verifier
        if self.signature_type == COSIGNATURE_V1:
            if timestamp is None or not 0 <= timestamp <= MAX_TIMESTAMP:
                raise NoteError("a cosignature needs a timestamp between 0 and 2^63-1")
            raw = struct.pack(">Q", timestamp) + self.private.sign(cosigned_message(text, timestamp))
        else:
            raw = self.private.sign(text.encode("utf-8"))
        return Signature(self.name, verifier.key_id, raw)


def check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends in a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("a note holds no control characters but newline")


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)

    def with_signatures(self, extra: Iterable[Signature]) -> Note:
        """The note with ``extra`` signatures appended (duplicates of a name and key ID dropped)."""
        seen = {(sig.name, sig.key_id) for sig in self.signatures}
        added = []
        for sig in extra:
            if (sig.name, sig.key_id) not in seen:
                seen.add((sig.name, sig.key_id))
                added.append(sig)
        return Note(self.text, self.signatures + tuple(added))


def sign_note(text: str, signers: Sequence[Signer], *, timestamp: int | None = None) -> Note:
    return Note(text, tuple(signer.sign(text, timestamp=timestamp) for signer in signers))


def parse_signature_line(line: str) -> Signature:
    if not line.startswith(DASH + " "):
        raise NoteError("a signature line starts with an em dash and a space")
    parts = line[2:].split(" ")
    if len(parts) != 2:
        raise NoteError("a signature line is '— <name> <base64>'")
    name, encoded = parts
    raw = unb64(encoded, what="a signature")
    if len(raw) < 5:
        raise NoteError("a signature holds a 4-byte key ID and a signature")
    return Signature(check_key_name(name), raw[:4], raw[4:])


def parse_signature_lines(data: str) -> list[Signature]:
    """Signature lines alone (a witness's answer), each ending in a newline."""
    if not data.endswith("\n"):
        raise NoteError("signature lines end in a newline")
    lines = data[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    return [parse_signature_line(line) for line in lines]


def parse_note(data: str | bytes) -> Note:
    """Split a signed note into its text and signatures (nothing is verified here)."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError("the note is too large")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a note is UTF-8") from exc
    if len(data) > MAX_NOTE_BYTES:
        raise NoteError("the note is too large")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in data):
        raise NoteError("a note holds no control characters but newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise NoteError("a note's text and signatures are separated by a blank line")
    text, block = data[: split + 1], data[split + 2 :]
    if not block:
        raise NoteError("a note has at least one signature")
    return Note(text, tuple(parse_signature_lines(block)))


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note whose signatures were checked: the verified ones by verifier, the unknown ones kept."""

    note: Note
    verified: tuple[tuple[Verifier, Signature], ...]
    unknown: tuple[Signature, ...]

    @property
    def text(self) -> str:
        return self.note.text

    def names(self) -> set[str]:
        return {verifier.name for verifier, _ in self.verified}


def open_note(data: str | bytes | Note, verifiers: Iterable[Verifier], *, require: bool = True) -> OpenedNote:
    """Check a note's signatures against ``verifiers``: unknown keys are ignored, a known key's bad
    signature rejects the note, and (with ``require``) so does a note no known key signed."""
    note = data if isinstance(data, Note) else parse_note(data)
    known = list(verifiers)
    verified: list[tuple[Verifier, Signature]] = []
    unknown: list[Signature] = []
    for signature in note.signatures:
        verifier = next((v for v in known if v.matches(signature)), None)
        if verifier is None:
            unknown.append(signature)
        elif verifier.verify(note.text, signature):
            verified.append((verifier, signature))
        else:
            raise NoteError(f"the signature of known key {signature.name} does not verify")
    if require and not verified:
        raise NoteError("no signature by a known key")
    return OpenedNote(note, tuple(verified), tuple(unknown))
