"""Offline proofs (c2sp.org/tlog-proof) of the log entries that record certificates, transfer
completions and retirements: the entry's index, its inclusion path in the tree of the latest
checkpoint, that cosigned checkpoint verbatim, and the entry's bytes as ``extra`` (so the leaf is
recomputed offline, and what the entry says is read from the proof itself).

A GET never signs: an entry newer than the latest checkpoint is answered 409 (7014) with a
``Retry-After`` of the checkpoint interval — the checkpointer signs the next one by then.
"""

from __future__ import annotations

import math

from sqlmodel import Session

from hub.keystore import KeyStore
from hub.log.reader import LogReader
from hub.problems import Conflict
from hub.settings import Settings
from hub.tlog.checkpoints import CheckpointService
from hub.tlog.repository import TileRepository
from transparency.proof import TlogProof

NOT_CHECKPOINTED = "7014"
EVENT_NOT_LOGGED = "7015"


class NotCheckpointed(Conflict):
    """The entry is newer than the latest checkpoint."""


class ProofService:
    def __init__(self, session: Session, settings: Settings, keystore: KeyStore) -> None:
        self.session, self.settings = session, settings
        self.checkpoints = CheckpointService(session, settings, keystore)
        self.repository = TileRepository(session)

    def proof(self, index: int) -> TlogProof:
        latest = self.checkpoints.latest()
        if latest is None or latest.checkpoint.size <= index:
            size = 0 if latest is None else latest.checkpoint.size
            raise NotCheckpointed(
                f"log entry {index} is not in the latest checkpoint (size {size}) yet; "
                f"one is signed every {self.settings.checkpoint_interval:g} s",
                code=NOT_CHECKPOINTED,
                headers={"Retry-After": str(max(1, math.ceil(self.settings.checkpoint_interval)))},
            )
        path = LogReader(self.session).inclusion(index, latest.checkpoint.size)
        return TlogProof(index, tuple(path), latest.note, self.repository.entry(index))

    def transfer_completion(self, transfer_id: str) -> int:
        index = self.repository.event_index("transfer", transfer_id, "transfer.completed")
        if index is None:
            raise Conflict(f"transfer {transfer_id} has not completed", code=EVENT_NOT_LOGGED)
        return index
