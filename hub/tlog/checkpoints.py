"""Signing the log's checkpoints (c2sp.org/tlog-checkpoint) and keeping their cosignatures.

The hub keeps only its latest checkpoint. A new one is signed only after the tree of the current
size is checked to extend it — the stored nodes must give the old root for the old size — and
stored by compare-and-swap on the old size, so two processes never store (and the hub never
publishes) two inconsistent checkpoints. A database whose log was rewritten under the hub yields
``LogInconsistent`` instead of a signature.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from hub.identity import log_signers
from hub.keystore import KeyStore
from hub.log.reader import LogReader
from hub.models import utcnow
from hub.problems import Conflict
from hub.settings import Settings
from hub.tlog.models import LogCheckpoint
from hub.tlog.repository import CheckpointRepository
from transparency.checkpoint import Checkpoint
from transparency.note import Note, Signature, parse_note, parse_signature_lines, sign_note

LOG_INCONSISTENT = "7010"


class LogInconsistent(Conflict):
    """The stored log does not extend the hub's latest checkpoint: it was rewritten."""


@dataclass(frozen=True, slots=True)
class CosignedCheckpoint:
    checkpoint: Checkpoint
    note: Note  # the log's signatures, then the witnesses' cosignatures

    def render(self) -> str:
        return self.note.render()


def cosigned(stored: LogCheckpoint) -> CosignedCheckpoint:
    note = parse_note(stored.note)
    extra = parse_signature_lines(stored.cosignatures) if stored.cosignatures else []
    return CosignedCheckpoint(Checkpoint.parse(note.text), note.with_signatures(extra))


class CheckpointService:
    def __init__(self, session: Session, settings: Settings, keystore: KeyStore) -> None:
        self.session, self.settings, self.keystore = session, settings, keystore
        self.origin = settings.log_origin
        self.repository = CheckpointRepository(session)
        self.reader = LogReader(session)

    def latest(self) -> CosignedCheckpoint | None:
        stored = self.repository.latest(self.origin)
        return cosigned(stored) if stored is not None else None

    def advance(self) -> CosignedCheckpoint:
        """The checkpoint of the log's current size: the stored one if the log has not grown,
        else a new one signed after the consistency check (or the one another process stored)."""
        for _ in range(5):
            stored = self.repository.latest(self.origin)
            size = self.reader.size()
            if stored is not None and stored.size >= size:
                return cosigned(stored)
            root = self.reader.root(size)
            if stored is not None:
                self._check_extends(stored)
            checkpoint = Checkpoint(self.origin, size, root)
            note = sign_note(checkpoint.text(), log_signers(self.settings, self.keystore)).render()
            at = utcnow()
            if stored is None:
                done = self.repository.create(self.origin, size, root, note, at)
            else:
                done = self.repository.advance(self.origin, stored.size, size, root, note, at)
            if done:
                return CosignedCheckpoint(checkpoint, parse_note(note))
        raise Conflict("the checkpoint kept moving; retry", code="6001")

    def _check_extends(self, stored: LogCheckpoint) -> None:
        if stored.size > 0 and self.reader.root(stored.size) != stored.root_hash:
            raise LogInconsistent(
                f"the stored log does not extend the checkpoint of size {stored.size}: "
                "its entries or subtree hashes were rewritten; no checkpoint is signed",
                code=LOG_INCONSISTENT,
            )

    def add_cosignatures(self, size: int, signatures: list[Signature]) -> CosignedCheckpoint | None:
        """Keep verified witness cosignatures of the checkpoint of ``size`` (None if it moved on)."""
        for _ in range(5):
            stored = self.repository.latest(self.origin)
            if stored is None or stored.size != size:
                return None
            current = cosigned(stored)
            own = len(parse_note(stored.note).signatures)
            merged = current.note.with_signatures(signatures).signatures[own:]
            lines = "".join(signature.line() for signature in merged)
            if lines == stored.cosignatures or self.repository.set_cosignatures(
                self.origin, size, stored.cosignatures, lines
            ):
                return CosignedCheckpoint(current.checkpoint, current.note.with_signatures(signatures))
        return None
