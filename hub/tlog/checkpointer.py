"""The checkpointer: signs the log's checkpoint every ``checkpoint_interval`` seconds (a worker
thread of the hub, or ``puhui log checkpoint`` once), each time in its own unit of work, then
hands the checkpoint to the cosigning hooks.

``Cosigner`` is the seam for witnesses: a callable given the freshly signed (or unchanged)
checkpoint, e.g. one that sends it to the policy's witnesses (c2sp.org/tlog-witness
``add-checkpoint``) and keeps their cosignatures with ``CheckpointService.add_cosignatures``. A
failing hook is logged and does not stop the others nor the next round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from hub.database import Database
from hub.keystore import KeyStore
from hub.settings import Settings
from hub.tlog.checkpoints import CheckpointService, CosignedCheckpoint, LogInconsistent

log = logging.getLogger("puhui.checkpoints")


class Cosigner(Protocol):
    def __call__(self, checkpoint: CosignedCheckpoint) -> object: ...


def sign_checkpoint(
    database: Database, settings: Settings, keystore: KeyStore, cosigners: Sequence[Cosigner] = ()
) -> CosignedCheckpoint:
    """Advance the checkpoint to the log's size (its own unit of work), then run the hooks.
    Raises ``LogInconsistent`` (7010) when the stored log no longer extends the last checkpoint."""
    with database.unit_of_work() as session:
        checkpoint = CheckpointService(session, settings, keystore).advance()
    for cosigner in cosigners:
        try:
            cosigner(checkpoint)
        except Exception:
            log.exception("cosigning hook %r failed for size %d", cosigner, checkpoint.checkpoint.size)
    return checkpoint


class Checkpointer:
    """A worker (``hub.log.webhooks.WorkerThread``) that signs a checkpoint each round."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        keystore: KeyStore,
        cosigners: Sequence[Cosigner] = (),
    ) -> None:
        self.database, self.settings, self.keystore = database, settings, keystore
        self.cosigners = cosigners

    def run_once(self) -> int:
        """One checkpoint; 0 so the thread waits the interval before the next."""
        try:
            sign_checkpoint(self.database, self.settings, self.keystore, self.cosigners)
        except LogInconsistent as exc:
            log.error("ALARM: no checkpoint signed: %s", exc.detail)
        return 0
