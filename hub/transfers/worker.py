"""The transfer worker: restart-safe and safe with several hub processes, in batched rounds.

A round leases up to ``ROUND`` due transfers (row locks with SKIP LOCKED on PostgreSQL, the
serialized write transaction on SQLite; ``next_attempt_at`` pushed past the calls' timeout,
committed). The platforms are then called outside any transaction, one batch call per platform
and step for the whole round (``lock_many``, ``credit_import_many``; single calls for a platform
without batch routes), each part with its own idempotency key per transfer, step and serials, so a
repeated call after a crash gets the same answer. The steps whose calls succeeded are recorded in
one transaction that first re-reads their states under lock — the transfers' rows in id order,
then the serials' namespaces (sorted), the log entries appended in bulk last — so a step is
applied at most once, whatever crashes where (``hub.transfers.rounds``). The transfers a round
locks at the origin go on to their credit in the same round, still leased (recorded locked with
``next_attempt_at`` kept past the calls' timeout), and a credited transfer completes in its
credit's record (the completion needs no call): one lease and two record transactions per
transfer. The round works on plain rows (``hub.transfers.round_repository``), its writes
set-based: its splits, credited blocks, block statuses, notices, claim releases and transfer rows
are each a statement or two for the whole round; should one fail, the round is recorded again step
by step to find the step at fault. A
step whose call or record fails is taken out of the round and recorded on its own: ``last_error`` and
``attempts``, exponential backoff until the deadline, then termination with compensation
(unlocked at the origin, the blocks held again, its claims ended) whatever the cause. The
platform clients live as long as the worker.

A transfer to a registry a peered hub serves (``request.hub``) is locked here as any other; then
this hub does not call the destination: it offers the serials to that hub, commits or aborts once,
and waits for its outcome (``hub.transfers.crosshub``; docs/federation-transfers.md). Once
committed it is never terminated by this worker on its own: only an abort (the deadline passed
before the answer) or a refusal from the destination unlocks it at the origin.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session

from adapters.client import idempotency_key_for
from adapters.contract import AdapterError, PlatformAPIError, PlatformRefused
from adapters.registry import get
from hub.database import Database
from hub.dates import aware
from hub.outbox import backoff
from hub.platforms.repository import PlatformRepository
from hub.settings import Settings
from hub.transfers.crosshub import MAX_BACKOFF, CrossHubStep
from hub.transfers.models import Transfer
from hub.transfers.repository import ProposalRepository
from hub.transfers.round_repository import TransferRounds, TransferRow
from hub.transfers.rounds import LocalRounds
from hub.transfers.saga import (
    Block,
    Job,
    RoundWrites,
    SagaFault,
    as_locked,
    holders_of,
    many,
    serials_key,
)
from hub.transfers.service import move
from mutual_recognition.block_states import BlockStatus
from mutual_recognition.transfer_states import NEXT_STEP, State

log = logging.getLogger("puhui.transfers")

LEASE = timedelta(seconds=60)  # at least; longer when the calls' timeout needs it (lease_for)
ROUND = 200  # transfers leased per round: one batch call per platform and step for all of them
DUE = [str(state) for state in NEXT_STEP]  # the states the worker moves on
UNCALLED = frozenset({str(State.DESTINATION_CREDITED)})  # the states whose step needs no call
__all__ = ["LEASE", "MAX_BACKOFF", "ROUND", "TransferWorker", "lease_for"]


def lease_for(timeout: float) -> timedelta:
    """How long a round keeps its transfers: :data:`LEASE`, or longer when the platforms' timeout
    needs it — a round's two steps (the lock, then the credit) each wait at most twice
    ``timeout`` for a whole answer (``adapters.bounded``). A lease that runs out early costs only
    a repeated call (every call is idempotent, every record re-read under lock)."""
    return max(LEASE, timedelta(seconds=4 * timeout))


class TransferWorker(LocalRounds, CrossHubStep):
    """Leases rounds, calls the platforms, and has the round recorded (``hub.transfers.rounds``)
    or, for a transfer across hubs, takes its step (``hub.transfers.crosshub``); a failed step is
    recorded here, on its own."""

    def __init__(
        self, database: Database, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.transport = transport
        self.faults: dict[str, str] = {}  # jobs of this round that could not be built, and why
        self.clients: dict[str, tuple[str, Any]] = {}  # platform -> (its address, its client)
        self.known: dict[str, Block] = {}  # the blocks of the round being recorded, read at once
        self.locked: set[str] = set()  # the namespaces the round's transaction has locked
        self.writes: RoundWrites | None = None  # the round's set-based writes, made together
        self.unchained: set[str] = set()  # jobs of the round recorded without their chained step
        self.lease = lease_for(settings.webhook_timeout)
        self.held_until: datetime | None = None  # while set, the round's locks keep their lease
        self.locked_now: list[Job] = []  # the credits of the transfers the round's record locked
        self.continuing: list[Job] = []  # those of the record being made (kept leased)

    def _lease(self, now: datetime) -> list[Job]:
        """Lease the due transfers (rows, not ORM objects; pushed back past the lease in one
        statement); one whose job cannot even be built fails like any step."""
        with self.database.unit_of_work() as session:
            repository = TransferRounds(session)
            due = repository.due(now, ROUND, DUE)
            # a step that needs no call is recorded right after the lease: nothing to push back
            calling = [transfer.id for transfer in due if transfer.state not in UNCALLED]
            repository.push_back(calling, now + self.lease)
            wanted = [
                item["block_id"] if transfer.state == State.ACCEPTED else item
                for transfer in due
                for item in (
                    transfer.request["blocks"]
                    if transfer.state == State.ACCEPTED
                    else transfer.request.get("pieces", [])
                )
            ]
            known = repository.blocks(wanted)
            jobs = []
            for transfer in due:
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
        self, session: Session, transfer: TransferRow, known: dict[str, Block]
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
        return as_locked(transfer.request.get("pieces", []), known)

    def _clients(self, codes: set[str]) -> dict[str, Any]:
        """A client per platform, kept for the worker's life (an ``httpx.Client`` costs tens of
        milliseconds to build); the addresses are read each round, and a client whose platform
        moved is replaced."""
        with self.database.unit_of_work() as session:
            found = PlatformRepository(session).by_codes(codes)
            base_urls = {platform.code: platform.api_base_url for platform in found}
        for code in codes:
            url = base_urls.get(code, "")
            kept = self.clients.get(code)
            if kept is None or kept[0] != url:
                if kept is not None:
                    kept[1].close()
                timeout = self.settings.webhook_timeout
                self.clients[code] = (url, get(code).client(url, self.transport, timeout=timeout))
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

    def _unlock(self, job: Job) -> None:
        """Unlock every part of the job at the origin (each call tried; the first failure raised)."""
        calls = [(block, idempotency_key_for("unlock", job.id, *serials_key(block))) for block in job.blocks]
        for outcome in many(self._clients({job.origin})[job.origin], "unlock", calls):
            if isinstance(outcome, PlatformAPIError):
                raise outcome
            if outcome is not None:
                raise PlatformRefused(job.origin, 422, str(outcome))

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
                    transfer = ProposalRepository(session).transfer(job.id, for_update=True)
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
            transfer = ProposalRepository(session).transfer(job.id, for_update=True)
            if transfer is None or transfer.state != str(job.state):
                return
            transfer.attempts += 1
            transfer.last_error = error[:1000]
            wait = backoff(self.settings.webhook_backoff, transfer.attempts, MAX_BACKOFF)
            transfer.next_attempt_at = now + timedelta(seconds=wait)
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

    def run_once(self, now: datetime | None = None) -> int:
        """Advance every due transfer of a round; how many advanced. One batch call per platform
        and step, one transaction for the round's records; a step that fails (its call or its
        record) is recorded on its own — counted, backed off, terminated and compensated at its
        deadline — and holds back no other. The transfers the round locked at the origin go on
        to their credit in the same round, still leased (no second lease), and complete with
        it."""
        moment = now or datetime.now(UTC)
        jobs = self._lease(moment)
        if not jobs:
            return 0
        self.held_until = moment + self.lease
        try:
            advanced = self._advance(jobs, moment)
        finally:
            self.held_until = None
        if self.locked_now:
            self._advance(self.locked_now, moment)
        return advanced

    def _advance(self, jobs: list[Job], moment: datetime) -> int:
        """Take the next step of each of ``jobs`` (leased): the platforms' calls, the round's
        record, the failed steps recorded one by one; how many were recorded."""
        self.locked_now = []
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
