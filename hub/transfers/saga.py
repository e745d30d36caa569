"""The saga's parts the worker is made of: what a job is, where its serials are held now, how a
round's writes are gathered and written together, the faults that take one step out of a round,
a transfer's step on its row (``advance``, what ``hub.transfers.service.move`` does on the ORM
object) and the notice a completed transfer owes its origin."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from adapters.client import call_each, idempotency_key_for
from adapters.contract import BatchPlatformAPI, CallOutcome
from hub.dates import aware
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from hub.registry.splits import derived_id
from hub.transfers.round_repository import BlockRow, TransferRounds, TransferRow
from hub.transfers.service import take_step
from mutual_recognition.transfer_states import State

log = logging.getLogger("puhui.transfers")


class SagaFault(RuntimeError):
    """The hub cannot take a transfer's next step (its own state forbids it): recorded and counted
    like a platform's refusal, and terminated at the deadline."""


# a block: a CreditBlock, or a BlockRow (its columns as a plain row, as a round reads it);
# hub.registry.splits derives pieces from either
Block = Any


def _holder(session: Session, registry: str, item: dict[str, Any]) -> CreditBlock:
    """The block of ``registry`` holding a transfer part's serials now (another operation may have
    split the block the transfer named since; the transfer's claim kept the serials)."""
    block = RegistryRepository(session).holder_of(item["namespace"], item["start"], item["end"], registry)
    if block is None:
        raise SagaFault(
            f"serials {item['start']}-{item['end']} of {item['block_id']} are held by no block of {registry}"
        )
    return block


def _holds(block: Block | None, registry: str, item: dict[str, Any]) -> bool:
    """Whether ``block`` is the live block of ``registry`` holding a part's serials."""
    return (
        block is not None
        and block.current_registry == registry
        and block.status != "exported"
        and block.serial_namespace == item["namespace"]
        and block.serial_start <= item["start"] <= item["end"] <= block.serial_end
    )


def holders_of(
    session: Session, registry: str, items: list[dict[str, Any]], known: Mapping[str, Block] | None = None
) -> list[Block]:
    """The blocks of ``registry`` holding each part's serials now: the block the part names (read
    for all parts at once, or taken from ``known``) while it still holds them, else the block that
    does since a split (looked up by serial)."""
    named: Mapping[str, Block] = (
        known if known is not None else RegistryRepository(session).by_ids(item["block_id"] for item in items)
    )
    found: list[Block] = []
    for item in items:
        block = named.get(item["block_id"])
        found.append(
            block if block is not None and _holds(block, registry, item) else _holder(session, registry, item)
        )
    return found


def serials_key(block: dict[str, Any]) -> tuple[str, int, int]:
    """What a platform call's idempotency key names: the serials, which stay the same whatever
    splits rename their block between two attempts."""
    return str(block["serial_namespace"]), int(block["serial_start"]), int(block["serial_end"])


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
    hub: str | None = None  # the peer hub serving the destination (a transfer across hubs)


def as_locked(pieces: list[str], known: Mapping[str, Block]) -> list[dict[str, Any]]:
    """What a credit call names: the locked pieces' records (``known``: read at once)."""
    found = [known.get(piece) for piece in pieces]
    return [piece.record | {"status": piece.status} for piece in found if piece is not None]


def credit_job(transfer: TransferRow, known: Mapping[str, Block]) -> Job:
    """The credit step of a transfer just locked at the origin (its pieces among ``known``)."""
    request = transfer.request
    blocks = as_locked(request["pieces"], known)
    deadline = aware(transfer.deadline)
    return Job(
        transfer.id,
        State.ORIGIN_LOCKED,
        transfer.origin,
        transfer.destination,
        0,
        deadline,
        blocks,
        request["to_account"],
    )


def notify_origin(transfer: TransferRow, job: Job) -> dict[str, Any]:
    """The transfer completed: the notice to the origin (it finalizes the export), to be sent by
    the notice worker after the transaction commits; ``origin_notified`` false until acknowledged.
    The notice's columns (``hub.notices.repository.NoticeRepository.enqueue_many`` writes them)."""
    transfer.request = {**transfer.request, "origin_notified": False}
    fields = ("block_id", "serial_start", "serial_end", "quantity")
    kind = "transfer-completed"
    return {
        "kind": kind,
        "subject": transfer.id,
        "platform_code": job.origin,
        "idempotency_key": idempotency_key_for(kind, transfer.id, job.origin),
        "body": {
            "transfer_id": transfer.id,
            "destination": job.destination,
            "completed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "blocks": [{name: block[name] for name in fields} for block in job.blocks],
        },
    }


def advance(
    session: Session,
    transfer: TransferRow,
    target: State,
    *,
    actor: str,
    data: dict[str, Any] | None = None,
    ended: list[str] | None = None,
) -> None:
    """:func:`hub.transfers.service.take_step` on a transfer's row (read with its lock and history);
    the caller writes the row."""
    assert transfer.history is not None, "a transfer's history is read with its lock"
    take_step(session, transfer, target, actor=actor, data=data, ended=ended)


@dataclass
class RoundWrites:
    """A round's writes made together once its steps are applied: the blocks its locks split (by
    block id: the block and every range taken of it, by any transfer of the round), the blocks
    its credits register, the transfers whose claims end, the blocks whose status changes and
    the notices owed to origins. ``named``: the blocks the locks name, read at once."""

    named: dict[str, BlockRow] = field(default_factory=dict)
    splits: dict[str, tuple[Block, list[tuple[int, int]]]] = field(default_factory=dict)
    credited: list[dict[str, Any]] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)  # blocks' new status and record
    notices: list[dict[str, Any]] = field(default_factory=list)  # to the origins of completions

    def split(self, block: Block, ranges: list[tuple[int, int]]) -> None:
        self.splits.setdefault(block.block_id, (block, []))[1].extend(ranges)


class RoundFault(Exception):
    """A set-based write of a round failed (its transaction is rolled back): the round is recorded
    again step by step, so the step at fault is found and taken out on its own."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


class StepFault(Exception):
    """A step of one job could not be applied (its transaction is rolled back); ``chained``: the
    step applied right after the job's own, in the same transaction (``hub.transfers.rounds``)."""

    def __init__(self, job: Job, cause: Exception, *, chained: bool = False) -> None:
        super().__init__(f"transfer {job.id}: {cause!r}")
        self.job = job
        self.cause = cause
        self.chained = chained


def many(client: Any, operation: str, calls: list[tuple[dict[str, Any], str]]) -> list[CallOutcome]:
    """One batch of ``operation`` (lock, unlock, credit) calls to a platform: its batch call, or
    single calls for a client that has none."""
    if isinstance(client, BatchPlatformAPI):
        batch = {"lock": client.lock_many, "unlock": client.unlock_many, "credit": client.credit_import_many}
        return batch[operation](calls)
    single = {"lock": client.lock, "unlock": client.unlock, "credit": client.credit_import}
    return call_each(single[operation], calls)


def round_blocks(session: Session, jobs: list[Job]) -> dict[str, Block]:
    """Every block the round's credits and completions read, in two statements: the locked
    pieces, and the blocks the pieces to credit would become."""
    repository = TransferRounds(session)
    known: dict[str, Block] = repository.blocks(block["block_id"] for job in jobs for block in job.blocks)
    arriving = [
        derived_id(piece, job.destination, piece.serial_start, piece.serial_end)
        for job in jobs
        if job.state is State.ORIGIN_LOCKED
        for block in job.blocks
        if (piece := known.get(block["block_id"])) is not None
    ]
    return known | repository.blocks(arriving)
