"""The transfer worker: restart-safe and safe with several hub processes.

Each due transfer is leased (row lock with SKIP LOCKED on PostgreSQL, the serialized write
transaction on SQLite; ``next_attempt_at`` pushed past the call's timeout, committed). The
platform is then called outside any transaction, with an idempotency key per transfer, step and
block, so a repeated call after a crash gets the same answer. The result is applied in a new
transaction that first re-reads the state: a step is applied at most once, whatever crashes where.
Failures back off exponentially until the deadline; then the transfer is terminated and
compensated (unlocked at the origin, the blocks held again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import Session, col, select

from adapters.client import idempotency_key_for
from adapters.contract import AdapterError, PlatformAPIError
from adapters.registry import get
from hub.database import Database
from hub.log.changes import record_change
from hub.platforms.models import Platform
from hub.registry.models import CreditBlock
from hub.registry.splits import split_block
from hub.settings import Settings
from hub.transfers.models import Transfer, TransferSerials
from hub.transfers.service import step
from mutual_recognition.transfer_states import ITL_STATUS, NEXT_STEP, State, transition

log = logging.getLogger("puhui.transfers")
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Job:
    id: str
    state: State
    origin: str
    destination: str
    attempts: int
    deadline: datetime
    blocks: list[dict[str, Any]]
    to_account: dict[str, Any]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class TransferWorker:
    def __init__(
        self, database: Database, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.transport = transport

    def _lease(self, now: datetime) -> list[Job]:
        with self.database.unit_of_work() as session:
            due = session.exec(
                select(Transfer)
                .where(
                    col(Transfer.state).in_([str(s) for s in NEXT_STEP]), col(Transfer.next_attempt_at) <= now
                )
                .order_by(col(Transfer.next_attempt_at))
                .limit(20)
                .with_for_update(skip_locked=True)
            ).all()
            jobs = []
            for transfer in due:
                transfer.next_attempt_at = now + LEASE
                session.add(transfer)
                jobs.append(
                    Job(
                        transfer.id,
                        State(transfer.state),
                        transfer.origin,
                        transfer.destination,
                        transfer.attempts,
                        _aware(transfer.deadline),
                        self._records(session, transfer),
                        transfer.request["to_account"],
                    )
                )
            return jobs

    def _records(self, session: Session, transfer: Transfer) -> list[dict[str, Any]]:
        """What the next call names: before the lock, the requested serials of each block; after
        it, the locked pieces."""
        if State(transfer.state) is State.ACCEPTED:
            records = []
            for item in transfer.request["blocks"]:
                block = session.get(CreditBlock, item["block_id"])
                if block is not None:
                    part = {"serial_start": item["start"], "serial_end": item["end"]}
                    part["quantity"] = item["end"] - item["start"] + 1
                    records.append(block.record | part | {"status": block.status})
            return records
        pieces = [session.get(CreditBlock, piece) for piece in transfer.request.get("pieces", [])]
        return [piece.record | {"status": piece.status} for piece in pieces if piece is not None]

    def _clients(self, codes: set[str]) -> dict[str, Any]:
        """One platform client per platform for a round, their addresses read in one transaction."""
        with self.database.unit_of_work() as session:
            found = session.exec(select(Platform).where(col(Platform.code).in_(sorted(codes)))).all()
            base_urls = {platform.code: platform.api_base_url for platform in found}
        return {code: get(code).client(base_urls.get(code, ""), self.transport) for code in codes}

    def _imported(self, job: Job, block: dict[str, Any]) -> dict[str, Any]:
        return {**block, "current_registry": job.destination, "holder": job.to_account, "status": "imported"}

    def _call(self, job: Job, clients: dict[str, Any]) -> None:
        """The platform call of the job's next step (none to complete)."""
        if job.state is State.ACCEPTED:
            for block in job.blocks:
                key = idempotency_key_for("lock", job.id, block["block_id"])
                clients[job.origin].lock(block, idempotency_key=key)
        elif job.state is State.ORIGIN_LOCKED:
            for block in job.blocks:
                key = idempotency_key_for("credit", job.id, block["block_id"])
                clients[job.destination].credit_import(self._imported(job, block), idempotency_key=key)

    def _apply(self, session: Session, transfer: Transfer, target: State, job: Job) -> None:
        ids = [block["block_id"] for block in job.blocks]
        blocks = col(CreditBlock.block_id).in_(ids)
        if target is State.ORIGIN_LOCKED:
            pieces = []
            for item in transfer.request["blocks"]:
                held = session.get(CreditBlock, item["block_id"])
                assert held is not None, "a transfer's blocks stay registered"
                assert held.status == "held", (
                    "serials under a transfer cannot be pledged, retired or recognized"
                )
                pieces.append(split_block(session, held, item["start"], item["end"], "locked")[0])
            transfer.request = {**transfer.request, "pieces": pieces}
            ids = pieces
        elif target is State.DESTINATION_CREDITED:
            for block in job.blocks:
                record = self._imported(job, block) | {"block_id": f"{job.destination}:{block['block_id']}"}
                original = session.get(CreditBlock, block["block_id"])
                assert original is not None
                columns = {name: getattr(original, name) for name in CreditBlock.model_fields}
                session.add(
                    CreditBlock(
                        **{
                            **columns,
                            "block_id": record["block_id"],
                            "current_registry": job.destination,
                            "holder_account": job.to_account["account_id"],
                            "status": "imported",
                            "record": record,
                        }
                    )
                )
        elif target is State.COMPLETED:
            session.execute(update(CreditBlock).where(blocks).values(status="exported"))
            self._release(session, transfer.id)
        transfer.state, transfer.itl_status = str(target), ITL_STATUS[target]
        transfer.history = [*transfer.history, step(target)]
        transfer.attempts, transfer.last_error = 0, None
        transfer.next_attempt_at = datetime.now(UTC)
        record_change(
            session,
            f"transfer.{target}",
            subject=("transfer", transfer.id),
            actor="hub-transfers",
            platforms=[transfer.origin, transfer.destination],
            data={"blocks": ids},
        )

    def _release(self, session: Session, transfer_id: str) -> None:
        session.execute(
            update(TransferSerials)
            .where(col(TransferSerials.transfer_id) == transfer_id)
            .values(active=False)
        )

    def _unlock(self, job: Job) -> None:
        client = self._clients({job.origin})[job.origin]
        try:
            for block in job.blocks:
                client.unlock(block, idempotency_key=idempotency_key_for("unlock", job.id, block["block_id"]))
        finally:
            client.close()

    def _fail(self, job: Job, error: str, now: datetime, permanent: bool) -> None:
        terminate = permanent or now >= job.deadline
        if terminate and job.state is State.ORIGIN_LOCKED:  # compensate first: unlock at the origin
            try:
                self._unlock(job)
            except PlatformAPIError as exc:  # try again later; never terminate with the block locked
                terminate, error = False, f"{error}; unlock failed: {exc}"
        with self.database.unit_of_work() as session:
            transfer = session.get(Transfer, job.id, with_for_update=True)
            if transfer is None or transfer.state != str(job.state):
                return
            transfer.attempts += 1
            transfer.last_error = error[:1000]
            if terminate:
                self._terminate(session, transfer, job, error)
            else:
                backoff = self.settings.webhook_backoff * 2 ** (transfer.attempts - 1)
                transfer.next_attempt_at = now + timedelta(seconds=backoff)
            session.add(transfer)

    def _terminate(self, session: Session, transfer: Transfer, job: Job, reason: str) -> None:
        if job.state is State.ORIGIN_LOCKED:  # unlocked at the origin already: held again here
            ids = [block["block_id"] for block in job.blocks]
            session.execute(
                update(CreditBlock).where(col(CreditBlock.block_id).in_(ids)).values(status="held")
            )
        target = transition(job.state, State.TERMINATED)
        transfer.state, transfer.itl_status = str(target), ITL_STATUS[target]
        transfer.history = [*transfer.history, step(target, reason[:300])]
        self._release(session, transfer.id)
        record_change(
            session,
            "transfer.terminated",
            subject=("transfer", transfer.id),
            actor="hub-transfers",
            platforms=[transfer.origin, transfer.destination],
            data={"reason": reason[:300]},
        )

    def _record_step(self, job: Job) -> int:
        """Apply the step whose call succeeded, in its own transaction; 1 if this worker applied it.
        Should that fail, the transaction rolls back and the lease's expiry brings the job back: the
        call is repeated (idempotent), the transfer is never terminated for it, as the platform may
        have acted already."""
        with self.database.unit_of_work() as session:
            transfer = session.get(Transfer, job.id, with_for_update=True)
            if transfer is None or transfer.state != str(job.state):
                return 0  # another worker applied this step meanwhile
            self._apply(session, transfer, transition(job.state, NEXT_STEP[job.state]), job)
            session.add(transfer)
            return 1

    def run_once(self, now: datetime | None = None) -> int:
        """Advance every due transfer by one step; how many advanced. Each step is recorded in its
        own transaction right after its call, so one failing step holds back no other transfer."""
        moment = now or datetime.now(UTC)
        jobs = self._lease(moment)
        if not jobs:
            return 0
        clients: dict[str, Any] = {}
        advanced = 0
        try:
            clients = self._clients({code for job in jobs for code in (job.origin, job.destination)})
            for job in jobs:
                try:
                    self._call(job, clients)
                except AdapterError as exc:
                    self._fail(job, str(exc), moment, permanent=True)
                    continue
                except PlatformAPIError as exc:
                    self._fail(job, str(exc), moment, permanent=not exc.retryable)
                    continue
                try:
                    advanced += self._record_step(job)
                except Exception:  # a bug, not a platform's answer: never compensate on it
                    log.exception(
                        "transfer %s: its %s step could not be recorded; retried later", job.id, job.state
                    )
        finally:
            for client in clients.values():
                client.close()
        return advanced
