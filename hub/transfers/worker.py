"""The transfer worker: restart-safe and safe with several hub processes, in batched rounds.

A round leases up to ``ROUND`` due transfers (row locks with SKIP LOCKED on PostgreSQL, the
serialized write transaction on SQLite; ``next_attempt_at`` pushed past the calls' timeout,
committed). The platforms are then called outside any transaction, one batch call per platform
and step for the whole round (``lock_many``, ``credit_import_many``; single calls for a platform
without batch routes), each part with its own idempotency key per transfer, step and serials, so a
repeated call after a crash gets the same answer. The steps whose calls succeeded are recorded in
one transaction that first re-reads their states under lock — the transfers' rows in id order,
then the serials' namespaces (sorted), the log entries appended in bulk last — so a step is
applied at most once, whatever crashes where. The round's writes are set-based: its splits, its
credited blocks and its claim releases are each a statement or two for the whole round; should
one fail, the round is recorded again step by step to find the step at fault. A step whose
call or record fails is taken out of the round and recorded on its own: ``last_error`` and
``attempts``, exponential backoff until the deadline, then termination with compensation
(unlocked at the origin, the blocks held again, its claims ended) whatever the cause. The
platform clients live as long as the worker.

A transfer to a registry a peered hub serves (``request.hub``) is locked here as any other; then
this hub does not call the destination: it offers the serials to that hub, commits or aborts once,
and waits for its outcome (``_across``; docs/federation-transfers.md). Once committed it is never
terminated by this worker on its own: only an abort (the deadline passed before the answer) or a
refusal from the destination unlocks it at the origin.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from adapters.client import idempotency_key_for
from adapters.contract import AdapterError, PlatformAPIError, PlatformRefused
from adapters.registry import get
from hub.claims.repository import ClaimRepository
from hub.database import Database
from hub.dates import aware
from hub.platforms.models import Platform
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from hub.registry.splits import derived_id, derived_row, root_of, split_blocks
from hub.settings import Settings
from hub.transfers.models import Transfer
from hub.transfers.saga import (
    Job,
    RoundFault,
    RoundWrites,
    SagaFault,
    StepFault,
    holders_of,
    many,
    notify_origin,
    round_blocks,
    serials_key,
)
from hub.transfers.service import move
from hub.xtransfer.models import Side
from hub.xtransfer.repository import TransferExchangeRepository
from hub.xtransfer.service import TransferExchange
from mutual_recognition.block_states import BLOCK, BlockStatus
from mutual_recognition.claims import ClaimKind
from mutual_recognition.splitting import split_many
from mutual_recognition.transfer_states import NEXT_STEP, State, transition
from mutual_recognition.xtransfer_states import Phase

log = logging.getLogger("puhui.transfers")

LEASE = timedelta(seconds=60)
ROUND = 200  # transfers leased per round: one batch call per platform and step for all of them
MAX_BACKOFF = 3600.0  # seconds: a waiting transfer is looked at again at least hourly


class TransferWorker:
    def __init__(
        self, database: Database, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.transport = transport
        self.faults: dict[str, str] = {}  # jobs of this round that could not be built, and why
        self.clients: dict[str, tuple[str, Any]] = {}  # platform -> (its address, its client)
        self.known: dict[str, CreditBlock] = {}  # the blocks of the round being recorded, read at once
        self.locked: set[str] = set()  # the namespaces the round's transaction has locked
        self.writes: RoundWrites | None = None  # the round's set-based writes, made together

    def _lease(self, now: datetime) -> list[Job]:
        """Lease the due transfers; one whose job cannot even be built fails like any step."""
        with self.database.unit_of_work() as session:
            due = session.exec(
                select(Transfer)
                .where(
                    col(Transfer.state).in_([str(s) for s in NEXT_STEP]), col(Transfer.next_attempt_at) <= now
                )
                .order_by(col(Transfer.next_attempt_at))
                .limit(ROUND)
                .with_for_update(skip_locked=True)
            ).all()
            wanted = [
                item["block_id"] if transfer.state == State.ACCEPTED else item
                for transfer in due
                for item in (
                    transfer.request["blocks"]
                    if transfer.state == State.ACCEPTED
                    else transfer.request.get("pieces", [])
                )
            ]
            known = RegistryRepository(session).by_ids(wanted)
            jobs = []
            for transfer in due:
                transfer.next_attempt_at = now + LEASE
                session.add(transfer)
                try:
                    blocks = self._records(session, transfer, known)
                except SagaFault as exc:
                    blocks, self.faults[transfer.id] = [], str(exc)
                jobs.append(
                    Job(
                        transfer.id,
                        State(transfer.state),
                        transfer.origin,
                        transfer.destination,
                        transfer.attempts,
                        aware(transfer.deadline),
                        blocks,
                        transfer.request["to_account"],
                        transfer.request.get("hub"),
                    )
                )
            return jobs

    def _records(
        self, session: Session, transfer: Transfer, known: dict[str, CreditBlock]
    ) -> list[dict[str, Any]]:
        """What the next call names: before the lock, each requested part of a block; after it,
        the locked pieces (``known``: the round's blocks, read at once)."""
        if State(transfer.state) is State.ACCEPTED:
            records = []
            items = transfer.request["blocks"]
            for item, block in zip(items, holders_of(session, transfer.origin, items, known), strict=True):
                part = {"serial_start": item["start"], "serial_end": item["end"]}
                part["quantity"] = item["end"] - item["start"] + 1
                records.append(block.record | part | {"status": block.status})
            return records
        pieces = [known.get(piece) for piece in transfer.request.get("pieces", [])]
        return [piece.record | {"status": piece.status} for piece in pieces if piece is not None]

    def _clients(self, codes: set[str]) -> dict[str, Any]:
        """A client per platform, kept for the worker's life (an ``httpx.Client`` costs tens of
        milliseconds to build); the addresses are read each round, and a client whose platform
        moved is replaced."""
        with self.database.unit_of_work() as session:
            found = session.exec(select(Platform).where(col(Platform.code).in_(sorted(codes)))).all()
            base_urls = {platform.code: platform.api_base_url for platform in found}
        for code in codes:
            url = base_urls.get(code, "")
            kept = self.clients.get(code)
            if kept is None or kept[0] != url:
                if kept is not None:
                    kept[1].close()
                self.clients[code] = (url, get(code).client(url, self.transport))
        return {code: self.clients[code][1] for code in codes}

    def close(self) -> None:
        """Close the platform clients (a new round opens them again)."""
        for _, client in self.clients.values():
            client.close()
        self.clients.clear()

    def _imported(self, job: Job, block: dict[str, Any]) -> dict[str, Any]:
        return {**block, "current_registry": job.destination, "holder": job.to_account, "status": "imported"}

    def _calls(self, jobs: list[Job], clients: dict[str, Any]) -> dict[str, tuple[str, bool]]:
        """The platform calls of the round's steps, one batch per platform and step (each part
        with its own idempotency key); the jobs whose call failed, with the error and whether it
        is final. A job to complete needs no call."""
        batches: dict[tuple[str, str], list[tuple[Job, dict[str, Any], str]]] = defaultdict(list)
        for job in jobs:
            for block in job.blocks:
                if job.state is State.ACCEPTED:
                    key = idempotency_key_for("lock", job.id, *serials_key(block))
                    batches[(job.origin, "lock")].append((job, block, key))
                elif job.state is State.ORIGIN_LOCKED:
                    key = idempotency_key_for("credit", job.id, *serials_key(block))
                    batches[(job.destination, "credit")].append((job, self._imported(job, block), key))
        failed: dict[str, tuple[str, bool]] = {}
        for (code, operation), items in batches.items():
            calls = [(block, key) for _, block, key in items]
            try:
                outcomes = many(clients[code], operation, calls)
            except Exception as exc:  # a fault of the hub's side of the calls: every item of it
                log.exception("transfers: the %s batch to %s failed inside the hub", operation, code)
                for job, _, _ in items:
                    failed.setdefault(job.id, (f"internal error in the {operation} call: {exc!r}", False))
                continue
            for (job, _, _), outcome in zip(items, outcomes, strict=True):
                if outcome is None or job.id in failed:
                    continue
                if isinstance(outcome, AdapterError):
                    failed[job.id] = (str(outcome), True)
                else:
                    failed[job.id] = (str(outcome), not outcome.retryable)
        return failed

    def _apply(self, session: Session, transfer: Transfer, target: State, job: Job) -> None:
        if target is State.ORIGIN_LOCKED:
            transfer.request = {**transfer.request, "pieces": self._lock_pieces(session, transfer)}
            ids = transfer.request["pieces"]
        elif target is State.DESTINATION_CREDITED:
            credited = self._credit(session, job)
            transfer.request = {**transfer.request, "credited": credited}
            ids = credited
        else:
            ids = [block["block_id"] for block in job.blocks]
            self._set_status(session, ids, BlockStatus.LOCKED, BlockStatus.EXPORTED, self.known)
            notify_origin(session, transfer, job)
        ended = self.writes.ended if self.writes is not None else None
        move(session, transfer, target, actor="hub-transfers", data={"blocks": ids}, ended=ended)
        transfer.attempts, transfer.last_error = 0, None
        transfer.next_attempt_at = datetime.now(UTC)

    def _lock_pieces(self, session: Session, transfer: Transfer) -> list[str]:
        """Split each block at the transfer's parts, the parts locked; the locked pieces' ids."""
        # the namespaces' lock first, as every writer of serials takes it (a retirement splitting
        # the same block waits, then reads the pieces; never a stale block split twice)
        wanted = {item["namespace"] for item in transfer.request["blocks"]} - self.locked
        ClaimRepository(session).lock(wanted)  # those the round's transaction did not lock yet
        parts: dict[str, list[tuple[int, int]]] = defaultdict(list)
        holders: dict[str, CreditBlock] = {}
        items = transfer.request["blocks"]
        named = self.writes.named if self.writes is not None else None
        for item, holder in zip(items, holders_of(session, transfer.origin, items, named), strict=True):
            holders[holder.block_id] = holder
            parts[holder.block_id].append((item["start"], item["end"]))
        pieces: list[str] = []
        for block_id, ranges in parts.items():
            held = holders[block_id]
            if not BLOCK.allows(BlockStatus(held.status), BlockStatus.LOCKED):
                raise SagaFault(f"block {block_id} is {held.status}; its serials cannot be locked")
            split_many(held.serial_start, held.serial_end, ranges)  # refuses ranges it cannot take
            pieces += [derived_id(held, held.current_registry, start, end) for start, end in sorted(ranges)]
        if self.writes is not None:  # split with the round's other locks, in two statements
            for block_id, ranges in parts.items():
                self.writes.split(holders[block_id], ranges)
        else:
            split_blocks(
                session,
                [(holders[block_id], ranges) for block_id, ranges in parts.items()],
                str(BlockStatus.LOCKED),
            )
        return pieces

    def _credit(self, session: Session, job: Job) -> list[str]:
        """The destination's block for each locked piece: new, or the exported block of the same
        serials coming back to where it was exported from. Their ids."""
        repository = RegistryRepository(session)
        pieces = {b["block_id"]: self.known[b["block_id"]] for b in job.blocks if b["block_id"] in self.known}
        pieces |= repository.by_ids(b["block_id"] for b in job.blocks if b["block_id"] not in pieces)
        rows = []
        for block in job.blocks:
            piece = pieces.get(block["block_id"])
            if piece is None:
                raise SagaFault(f"locked piece {block['block_id']} is no longer registered")
            rows.append(
                derived_row(
                    piece,
                    piece.serial_start,
                    piece.serial_end,
                    status=str(BlockStatus.IMPORTED),
                    registry=job.destination,
                    holder_account=job.to_account["account_id"],
                    record_changes={"current_registry": job.destination, "holder": job.to_account},
                )
            )
        # the blocks the pieces become, when registered already (a block coming back)
        existing = self.known if self.known else repository.by_ids(row["block_id"] for row in rows)
        new = []
        for row in rows:
            known = existing.get(row["block_id"])
            if known is None:
                new.append(row)
            elif BLOCK.allows(BlockStatus(known.status), BlockStatus.IMPORTED) and (
                known.serial_start,
                known.serial_end,
            ) == (row["serial_start"], row["serial_end"]):
                session.execute(
                    update(CreditBlock)
                    .where(col(CreditBlock.block_id) == known.block_id)
                    .values(status=row["status"], holder_account=row["holder_account"], record=row["record"])
                )
            else:
                raise SagaFault(f"{row['block_id']} is registered already as {known.status}")
        if self.writes is not None:
            self.writes.credited += new  # inserted with the round's other credits
        elif new:
            session.execute(insert(CreditBlock), new)
        return [str(row["block_id"]) for row in rows]

    @staticmethod
    def _set_status(
        session: Session,
        ids: list[str],
        before: BlockStatus,
        after: BlockStatus,
        known: dict[str, CreditBlock] | None = None,
    ) -> None:
        BLOCK.transition(before, after)
        found = {block_id: known[block_id] for block_id in ids if known and block_id in known}
        found |= RegistryRepository(session).by_ids(block_id for block_id in ids if block_id not in found)
        for block in found.values():
            if block.status != before:
                raise SagaFault(f"block {block.block_id} is {block.status}, not {before}")
            block.status = str(after)
            block.record = block.record | {"status": str(after)}
            session.add(block)

    def _unlock(self, job: Job) -> None:
        """Unlock every part of the job at the origin (each call tried; the first failure raised)."""
        calls = [(block, idempotency_key_for("unlock", job.id, *serials_key(block))) for block in job.blocks]
        for outcome in many(self._clients({job.origin})[job.origin], "unlock", calls):
            if isinstance(outcome, PlatformAPIError):
                raise outcome
            if outcome is not None:
                raise PlatformRefused(job.origin, 422, str(outcome))

    def _across(self, job: Job, now: datetime) -> tuple[str, bool] | bool:
        """The step of a locked transfer across hubs (docs/federation-transfers.md): offer it to
        the destination's hub once; abort it when its deadline passes before the answer; once
        aborted or refused, compensate (returned as a final failure: unlocked at the origin,
        terminated); once committed, wait for the outcome, never compensating on its own. True
        when it offered, a final failure to compensate, else False."""
        with self.database.unit_of_work() as session:
            transfer = session.get(Transfer, job.id, with_for_update=True)
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

    def _fail(self, job: Job, error: str, now: datetime, permanent: bool) -> None:
        terminate = (permanent or now >= job.deadline) and self._may_compensate(job)
        if terminate and job.state in (State.ACCEPTED, State.ORIGIN_LOCKED) and job.blocks:
            # compensate first: unlock at the origin (idempotent; after a lock the hub could not
            # record, the origin holds the serials locked)
            try:
                self._unlock(job)
            except PlatformAPIError as exc:
                if job.state is State.ORIGIN_LOCKED:  # try again later; never terminate with it locked
                    terminate, error = False, f"{error}; unlock failed: {exc}"
        if terminate:
            try:
                with self.database.unit_of_work() as session:
                    transfer = session.get(Transfer, job.id, with_for_update=True)
                    if transfer is None or transfer.state != str(job.state):
                        return
                    transfer.attempts += 1
                    transfer.last_error = error[:1000]
                    self._terminate(session, transfer, job, error)
                    return
            except Exception as exc:  # the compensation itself failed: recorded, tried again later
                log.exception("transfer %s: could not be terminated", job.id)
                error = f"{error}; termination failed: {exc!r}"
        with self.database.unit_of_work() as session:
            transfer = session.get(Transfer, job.id, with_for_update=True)
            if transfer is None or transfer.state != str(job.state):
                return
            transfer.attempts += 1
            transfer.last_error = error[:1000]
            backoff = min(self.settings.webhook_backoff * 2 ** (transfer.attempts - 1), MAX_BACKOFF)
            transfer.next_attempt_at = now + timedelta(seconds=backoff)
            session.add(transfer)

    def _terminate(self, session: Session, transfer: Transfer, job: Job, reason: str) -> None:
        if job.state is State.ORIGIN_LOCKED:  # unlocked at the origin already: held again here
            pieces = transfer.request.get("pieces", [])
            self._set_status(session, pieces, BlockStatus.LOCKED, BlockStatus.HELD)
        move(
            session,
            transfer,
            State.TERMINATED,
            actor="hub-transfers",
            reason=reason,
            data={"reason": reason[:300]},
        )

    def _record(self, session: Session, jobs: list[Job]) -> int:
        """Apply the steps whose calls succeeded, in one transaction: the transfers' rows locked
        in id order, then the serials' namespaces (sorted), the log entries appended in bulk last.
        A step that cannot be applied raises :class:`StepFault` naming its job."""
        ids = sorted(job.id for job in jobs)
        rows = session.exec(
            select(Transfer).where(col(Transfer.id).in_(ids)).order_by(col(Transfer.id)).with_for_update()
        ).all()
        transfers = {transfer.id: transfer for transfer in rows}
        # the namespaces of the serials to lock, and of those under a certificate (using it, or
        # giving it back, takes the certificate's row, as its withdrawal does after these locks)
        locking = [
            transfer
            for job in jobs
            if (transfer := transfers.get(job.id)) is not None
            and (job.state is State.ACCEPTED or transfer.request.get("certificate_id"))
        ]
        self.locked = {item["namespace"] for t in locking for item in t.request["blocks"]}
        ClaimRepository(session).lock(self.locked)
        if self.writes is not None:  # the blocks the locks name, at once
            self.writes.named = RegistryRepository(session).by_ids(
                item["block_id"]
                for job in jobs
                if job.state is State.ACCEPTED and (transfer := transfers.get(job.id)) is not None
                for item in transfer.request["blocks"]
            )
        applied = 0
        # the locks first: their splits are gathered and written together (one delete, one insert)
        # before the blocks every other step reads are read, at once
        jobs = sorted(jobs, key=lambda job: (job.state is not State.ACCEPTED, job.id))
        later = [job for job in jobs if job.state is not State.ACCEPTED]
        # the steps write through statements; the transfers' own rows are flushed together at the end
        session.autoflush = False
        for job in jobs:
            if later and job is later[0]:
                self._write_splits(session)
                self.known = round_blocks(session, later)
            transfer = transfers.get(job.id)
            if transfer is None or transfer.state != str(job.state):
                continue  # another worker applied this step meanwhile
            try:
                self._apply(session, transfer, transition(job.state, NEXT_STEP[job.state]), job)
                session.add(transfer)
            except Exception as exc:
                raise StepFault(job, exc) from exc
            applied += 1
        self._write_splits(session)
        self._write_rest(session)
        session.autoflush = True
        return applied

    def _write_splits(self, session: Session) -> None:
        """Split every block the round's locks take, at once (a fault here is the round's)."""
        if self.writes is None or not self.writes.splits:
            return
        try:
            split_blocks(session, list(self.writes.splits.values()), str(BlockStatus.LOCKED))
        except Exception as exc:
            raise RoundFault(exc) from exc
        self.writes.splits.clear()

    def _write_rest(self, session: Session) -> None:
        """The round's credited blocks inserted, and its completed transfers' claims ended, at once."""
        if self.writes is None:
            return
        try:
            if self.writes.credited:
                session.execute(insert(CreditBlock), self.writes.credited)
            ClaimRepository(session).release_each(ClaimKind.TRANSFER, self.writes.ended)
        except Exception as exc:
            raise RoundFault(exc) from exc

    def _record_round(self, jobs: list[Job], failed: dict[str, tuple[str, bool]]) -> int:
        """Record the steps of ``jobs`` (their calls succeeded) in one transaction; how many were
        applied. A step that cannot be applied is taken out, counted as failed, and the others
        recorded again without it: one failing step holds back no other. Should the transaction
        itself fail, nothing of it stays and every job is counted as failed: the lease's expiry
        brings them back and the calls are repeated (idempotent), never terminated for it, as the
        platforms may have acted already."""
        pending = list(jobs)
        batched = True
        while pending:
            try:
                try:
                    self.writes = RoundWrites() if batched else None
                    with self.database.unit_of_work() as session:
                        return self._record(session, pending)
                finally:
                    self.known, self.locked, self.writes = {}, set(), None
            except RoundFault as fault:  # a set-based write failed: each step on its own finds which
                log.warning(
                    "transfers: a round's set-based writes failed (%r); recorded step by step", fault.cause
                )
                batched = False
            except StepFault as fault:
                log.error(
                    "transfer %s: its %s step could not be recorded",
                    fault.job.id,
                    fault.job.state,
                    exc_info=fault.cause,
                )
                error = f"internal error recording the {fault.job.state} step: {fault.cause!r}"
                failed[fault.job.id] = (error, False)
                pending = [job for job in pending if job is not fault.job]
            except Exception as exc:
                log.exception("transfers: a round of %d steps could not be recorded", len(pending))
                for job in pending:
                    failed[job.id] = (f"internal error recording the {job.state} step: {exc!r}", False)
                return 0
        return 0

    def run_once(self, now: datetime | None = None) -> int:
        """Advance every due transfer of a round by one step; how many advanced. One batch call
        per platform and step, one transaction for the round's records; a step that fails (its
        call or its record) is recorded on its own — counted, backed off, terminated and
        compensated at its deadline — and holds back no other."""
        moment = now or datetime.now(UTC)
        jobs = self._lease(moment)
        if not jobs:
            return 0
        failed = {
            job.id: (f"internal error: {self.faults.pop(job.id)}", False)
            for job in jobs
            if job.id in self.faults
        }
        # a transfer across hubs waits for the destination's hub once locked: offered, decided,
        # told its outcome through the peer outbox (hub.xtransfer), never a call from here
        crossing = [j for j in jobs if j.hub and j.state is State.ORIGIN_LOCKED and j.id not in failed]
        offered = 0
        for job in crossing:
            try:
                outcome = self._across(job, moment)
            except Exception as exc:  # a fault of this hub's side: recorded, tried again later
                log.exception("transfer %s: its cross-hub step failed inside the hub", job.id)
                outcome = (f"internal error in the cross-hub step: {exc!r}", False)
            if isinstance(outcome, tuple):
                failed[job.id] = outcome
            offered += outcome is True
        calling = [job for job in jobs if job.id not in failed and job not in crossing]
        if calling:
            # no client for a destination another hub serves (it drives its own platforms)
            codes = {code for job in calling for code in (job.origin, None if job.hub else job.destination)}
            failed |= self._calls(calling, self._clients({code for code in codes if code is not None}))
        advanced = self._record_round(
            [job for job in jobs if job.id not in failed and job not in crossing], failed
        )
        for job in jobs:
            if job.id in failed:
                error, permanent = failed[job.id]
                self._fail(job, error, moment, permanent=permanent)
        return advanced + offered
