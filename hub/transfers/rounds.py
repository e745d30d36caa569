"""Recording a round's local steps (the worker's calls succeeded) in one transaction.

The transfers' rows are locked first, in id order, then the serials' namespaces (sorted); the
steps are applied on plain rows (``hub.transfers.round_repository``: no ORM objects), their writes
gathered and made together — the round's splits (one delete, one insert), credited blocks,
blocks' new statuses, notices to origins, ended claims, and the transfers' rows, each one
statement for the round — and the log entries are appended in bulk last, at commit. A step whose
next step needs no call (a credit: the completion follows) has that one applied too, in the same
transaction; should it fail, the step is recorded alone. Should a
set-based write fail, the round is recorded again step by step to find the step at fault; a step
that cannot be applied is taken out of the round and recorded on its own by the worker.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from sqlmodel import Session

from hub.claims.repository import ClaimRepository
from hub.database import Database
from hub.notices.repository import NoticeRepository
from hub.registry.splits import derived_id, derived_row, split_blocks
from hub.transfers.round_repository import TransferRounds, TransferRow
from hub.transfers.saga import (
    Block,
    Job,
    RoundFault,
    RoundWrites,
    SagaFault,
    StepFault,
    advance,
    credit_job,
    holders_of,
    notify_origin,
    round_blocks,
)
from mutual_recognition.block_states import BLOCK, BlockStatus
from mutual_recognition.claims import ClaimKind
from mutual_recognition.splitting import split_many
from mutual_recognition.transfer_states import NEXT_STEP, State, transition

log = logging.getLogger("puhui.transfers")

# the steps after which the next step needs no platform call: a round that records one applies the
# next one too, in the same transaction (a credited transfer completes with its credit's record)
CHAINED = frozenset({State.DESTINATION_CREDITED})


class LocalRounds:
    """The worker's part that records a round's steps (mixed into ``TransferWorker``)."""

    database: Database
    known: dict[str, Block]  # the blocks of the round being recorded, read at once
    locked: set[str]  # the namespaces the round's transaction has locked
    writes: RoundWrites | None  # the round's set-based writes, made together
    unchained: set[str]  # jobs whose chained step failed in this round: recorded without it
    held_until: datetime | None  # while set, the round's locks keep their lease (credited next)
    locked_now: list[Job]  # the credits of the transfers the last record locked (kept leased)
    continuing: list[Job]  # those of the record being made

    def _apply(self, session: Session, transfer: TransferRow, target: State, job: Job) -> None:
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
            notice = notify_origin(transfer, job)
            if self.writes is not None:
                self.writes.notices.append(notice)
            else:
                NoticeRepository(session).enqueue_many([notice])
        ended = self.writes.ended if self.writes is not None else None
        advance(session, transfer, target, actor="hub-transfers", data={"blocks": ids}, ended=ended)
        transfer.next_attempt_at = datetime.now(UTC)  # attempts and last error cleared when written

    def _lock_pieces(self, session: Session, transfer: TransferRow) -> list[str]:
        """Split each block at the transfer's parts, the parts locked; the locked pieces' ids."""
        # the namespaces' lock first, as every writer of serials takes it (a retirement splitting
        # the same block waits, then reads the pieces; never a stale block split twice)
        wanted = {item["namespace"] for item in transfer.request["blocks"]} - self.locked
        ClaimRepository(session).lock(wanted)  # those the round's transaction did not lock yet
        parts: dict[str, list[tuple[int, int]]] = defaultdict(list)
        holders: dict[str, Block] = {}
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
        repository = TransferRounds(session)
        pieces = {b["block_id"]: self.known[b["block_id"]] for b in job.blocks if b["block_id"] in self.known}
        pieces |= repository.blocks(b["block_id"] for b in job.blocks if b["block_id"] not in pieces)
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
        existing = self.known if self.known else repository.blocks(row["block_id"] for row in rows)
        new, back = [], []
        for row in rows:
            known = existing.get(row["block_id"])
            if known is None:
                new.append(row)
            elif BLOCK.allows(BlockStatus(known.status), BlockStatus.IMPORTED) and (
                known.serial_start,
                known.serial_end,
            ) == (row["serial_start"], row["serial_end"]):
                back.append({name: row[name] for name in ("block_id", "status", "holder_account", "record")})
            else:
                raise SagaFault(f"{row['block_id']} is registered already as {known.status}")
        repository.reimport(back)
        if self.writes is not None:
            self.writes.credited += new  # inserted with the round's other credits
        else:
            repository.insert_blocks(new)
        return [str(row["block_id"]) for row in rows]

    def _set_status(
        self,
        session: Session,
        ids: list[str],
        before: BlockStatus,
        after: BlockStatus,
        known: dict[str, Block] | None = None,
    ) -> None:
        """Blocks ``ids`` from ``before`` to ``after`` (``known``: those read already, changed in
        place so the rest of the round sees them so); written with the round's other writes."""
        BLOCK.transition(before, after)
        repository = TransferRounds(session)
        found = {block_id: known[block_id] for block_id in ids if known and block_id in known}
        found |= repository.blocks(block_id for block_id in ids if block_id not in found)
        changes = []
        for block in found.values():
            if block.status != before:
                raise SagaFault(f"block {block.block_id} is {block.status}, not {before}")
            block.status = str(after)
            block.record = block.record | {"status": str(after)}
            changes.append({"block_id": block.block_id, "status": block.status, "record": block.record})
        if self.writes is not None:
            self.writes.statuses += changes
        else:
            repository.set_statuses(changes)

    def _record(self, session: Session, jobs: list[Job]) -> int:
        """Apply the steps whose calls succeeded, in one transaction: the transfers' rows locked
        in id order, then the serials' namespaces (sorted), the log entries appended in bulk last.
        A step that cannot be applied raises :class:`StepFault` naming its job."""
        repository = TransferRounds(session)
        transfers = repository.locked(job.id for job in jobs)
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
            self.writes.named = repository.blocks(
                item["block_id"]
                for job in jobs
                if job.state is State.ACCEPTED and (transfer := transfers.get(job.id)) is not None
                for item in transfer.request["blocks"]
            )
        applied: list[TransferRow] = []
        continuing: list[TransferRow] = []  # locked now, credited next in the same round
        # the locks first: their splits are gathered and written together (one delete, one insert)
        # before the blocks every other step reads are read, at once
        jobs = sorted(jobs, key=lambda job: (job.state is not State.ACCEPTED, job.id))
        later = [job for job in jobs if job.state is not State.ACCEPTED]
        session.autoflush = False  # the steps write through statements, at the end
        for job in jobs:
            if later and job is later[0]:
                self._write_splits(session)
                self.known = dict(round_blocks(session, later))
            transfer = transfers.get(job.id)
            if transfer is None or transfer.state != str(job.state):
                continue  # another worker applied this step meanwhile
            target = transition(job.state, NEXT_STEP[job.state])
            try:
                self._apply(session, transfer, target, job)
            except Exception as exc:
                raise StepFault(job, exc) from exc
            if target is State.ORIGIN_LOCKED and job.hub is None and self.held_until is not None:
                transfer.next_attempt_at = self.held_until  # its credit follows in this round
                continuing.append(transfer)
            if target in CHAINED and job.hub is None and job.id not in self.unchained:
                # its next step needs no call (the completion): applied in the same transaction
                try:
                    self._apply(session, transfer, NEXT_STEP[target], replace(job, state=target))
                except Exception as exc:
                    raise StepFault(job, exc, chained=True) from exc
            applied.append(transfer)
        self._write_splits(session)
        if continuing:  # their credits, the locked pieces read as split
            pieces = repository.blocks(piece for row in continuing for piece in row.request["pieces"])
            self.continuing = [credit_job(row, pieces) for row in continuing]
        self._write_rest(session)
        repository.write_steps([transfer.step() for transfer in applied])
        session.autoflush = True
        return len(applied)

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
        """The round's credited blocks inserted, blocks' statuses set, notices queued and its
        completed transfers' claims ended, each at once."""
        if self.writes is None:
            return
        try:
            repository = TransferRounds(session)
            repository.insert_blocks(self.writes.credited)
            repository.set_statuses(self.writes.statuses)
            NoticeRepository(session).enqueue_many(self.writes.notices)
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
        self.unchained = set()
        while pending:
            try:
                try:
                    self.writes = RoundWrites() if batched else None
                    with self.database.unit_of_work() as session:
                        recorded = self._record(session, pending)
                    self.locked_now = self.continuing  # committed: their credits may follow
                    return recorded
                finally:
                    self.known, self.locked, self.writes, self.continuing = {}, set(), None, []
            except RoundFault as fault:  # a set-based write failed: each step on its own finds which
                log.warning(
                    "transfers: a round's set-based writes failed (%r); recorded step by step", fault.cause
                )
                batched = False
            except StepFault as fault:
                if fault.chained and fault.job.id not in self.unchained:
                    # the step chained to its own failed: the step is recorded alone, the next
                    # one left to a round of its own
                    log.warning(
                        "transfer %s: the step after %s could not be recorded with it (%r)",
                        fault.job.id,
                        fault.job.state,
                        fault.cause,
                    )
                    self.unchained.add(fault.job.id)
                    continue
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
