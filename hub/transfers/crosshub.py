"""The step of a transfer to a registry a peered hub serves (``request.hub``;
docs/federation-transfers.md): locked at the origin as any other, then offered to that hub once,
committed or aborted once, and waited for; compensated only once aborted or refused."""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.database import Database
from hub.dates import aware
from hub.registry.repository import RegistryRepository
from hub.registry.splits import root_of
from hub.transfers.repository import ProposalRepository
from hub.transfers.saga import Job
from hub.xtransfer.models import Side
from hub.xtransfer.repository import TransferExchangeRepository
from hub.xtransfer.service import TransferExchange
from mutual_recognition.transfer_states import State
from mutual_recognition.xtransfer_states import Phase

MAX_BACKOFF = 3600.0  # seconds: a waiting transfer is looked at again at least hourly


class CrossHubStep:
    """The worker's part for transfers across hubs (mixed into ``TransferWorker``)."""

    database: Database

    def _across(self, job: Job, now: datetime) -> tuple[str, bool] | bool:
        """The step of a locked transfer across hubs (docs/federation-transfers.md): offer it to
        the destination's hub once; abort it when its deadline passes before the answer; once
        aborted or refused, compensate (returned as a final failure: unlocked at the origin,
        terminated); once committed, wait for the outcome, never compensating on its own. True
        when it offered, a final failure to compensate, else False."""
        with self.database.unit_of_work() as session:
            transfer = ProposalRepository(session).transfer(job.id, for_update=True)
            if transfer is None or transfer.state != State.ORIGIN_LOCKED or job.hub is None:
                return False
            exchange = TransferExchange(session)
            row = exchange.repository.get(job.hub, job.id, Side.ORIGIN, for_update=True)
            deadline = aware(transfer.deadline)
            if row is None:
                pieces = RegistryRepository(session).by_ids(transfer.request.get("pieces", []))
                exchange.offer(
                    transfer,
                    [
                        {"record": piece.record | {"status": piece.status}, "root_block_id": root_of(piece)}
                        for piece in (pieces[piece_id] for piece_id in transfer.request.get("pieces", []))
                    ],
                )
                row = exchange.repository.get(job.hub, job.id, Side.ORIGIN)
                assert row is not None
                if now < deadline:
                    transfer.next_attempt_at = deadline
                    session.add(transfer)
                    return True
            if row.phase == Phase.OFFERED and now >= deadline:
                exchange.abort(transfer, row, "the deadline passed before the destination hub answered")
            if row.phase in (Phase.ABORTED, Phase.REFUSED):
                return transfer.last_error or f"the cross-hub transfer was {row.phase}", True
            # offered (looked at again at the deadline) or committed (woken by the outcome)
            transfer.next_attempt_at = (
                deadline if row.phase == Phase.OFFERED else now + timedelta(seconds=MAX_BACKOFF)
            )
            session.add(transfer)
            return False

    def _may_compensate(self, job: Job) -> bool:
        """Whether the worker may unlock a locked transfer across hubs: only once the exchange
        was aborted or refused (a committed transfer waits for the destination's outcome)."""
        if job.hub is None or job.state is not State.ORIGIN_LOCKED:
            return True
        with self.database.unit_of_work() as session:
            row = TransferExchangeRepository(session).get(job.hub, job.id, Side.ORIGIN)
            return row is not None and row.phase in (Phase.ABORTED, Phase.REFUSED)
