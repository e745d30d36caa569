"""The saga's parts the worker is made of: what a job is, where its serials are held now, how a
round's writes are gathered and written together, the faults that take one step out of a round,
and the notice a completed transfer owes its origin."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from adapters.client import call_each
from adapters.contract import BatchPlatformAPI, CallOutcome
from hub.notices.repository import NoticeRepository
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from hub.registry.splits import derived_id
from hub.transfers.models import Transfer
from mutual_recognition.transfer_states import State

log = logging.getLogger("puhui.transfers")


class SagaFault(RuntimeError):
    """The hub cannot take a transfer's next step (its own state forbids it): recorded and counted
    like a platform's refusal, and terminated at the deadline."""


def _holder(session: Session, registry: str, item: dict[str, Any]) -> CreditBlock:
    """The block of ``registry`` holding a transfer part's serials now (another operation may have
    split the block the transfer named since; the transfer's claim kept the serials)."""
    block = RegistryRepository(session).holder_of(item["namespace"], item["start"], item["end"], registry)
    if block is None:
        raise SagaFault(
            f"serials {item['start']}-{item['end']} of {item['block_id']} are held by no block of {registry}"
        )
    return block


def _holds(block: CreditBlock | None, registry: str, item: dict[str, Any]) -> bool:
    """Whether ``block`` is the live block of ``registry`` holding a part's serials."""
    return (
        block is not None
        and block.current_registry == registry
        and block.status != "exported"
        and block.serial_namespace == item["namespace"]
        and block.serial_start <= item["start"] <= item["end"] <= block.serial_end
    )


def holders_of(
    session: Session, registry: str, items: list[dict[str, Any]], known: dict[str, CreditBlock] | None = None
) -> list[CreditBlock]:
    """The blocks of ``registry`` holding each part's serials now: the block the part names (read
    for all parts at once, or taken from ``known``) while it still holds them, else the block that
    does since a split (looked up by serial)."""
    named = (
        known if known is not None else RegistryRepository(session).by_ids(item["block_id"] for item in items)
    )
    found = []
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


def notify_origin(session: Session, transfer: Transfer, job: Job) -> None:
    """The transfer completed: a notice to the origin (it finalizes the export), sent by the
    notice worker after this transaction commits; ``origin_notified`` false until acknowledged."""
    transfer.request = {**transfer.request, "origin_notified": False}
    fields = ("block_id", "serial_start", "serial_end", "quantity")
    NoticeRepository(session).enqueue(
        "transfer-completed",
        transfer.id,
        job.origin,
        {
            "transfer_id": transfer.id,
            "destination": job.destination,
            "completed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "blocks": [{name: block[name] for name in fields} for block in job.blocks],
        },
    )


@dataclass
class RoundWrites:
    """A round's writes made together once its steps are applied: the blocks its locks split (by
    block id: the block and every range taken of it, by any transfer of the round), the blocks
    its credits register, and the transfers whose claims end. ``named``: the blocks the locks
    name, read at once."""

    named: dict[str, CreditBlock] = field(default_factory=dict)
    splits: dict[str, tuple[CreditBlock, list[tuple[int, int]]]] = field(default_factory=dict)
    credited: list[dict[str, Any]] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)

    def split(self, block: CreditBlock, ranges: list[tuple[int, int]]) -> None:
        self.splits.setdefault(block.block_id, (block, []))[1].extend(ranges)


class RoundFault(Exception):
    """A set-based write of a round failed (its transaction is rolled back): the round is recorded
    again step by step, so the step at fault is found and taken out on its own."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


class StepFault(Exception):
    """A step of one job could not be applied (its transaction is rolled back)."""

    def __init__(self, job: Job, cause: Exception) -> None:
        super().__init__(f"transfer {job.id}: {cause!r}")
        self.job = job
        self.cause = cause


def many(client: Any, operation: str, calls: list[tuple[dict[str, Any], str]]) -> list[CallOutcome]:
    """One batch of ``operation`` (lock, unlock, credit) calls to a platform: its batch call, or
    single calls for a client that has none."""
    if isinstance(client, BatchPlatformAPI):
        batch = {"lock": client.lock_many, "unlock": client.unlock_many, "credit": client.credit_import_many}
        return batch[operation](calls)
    single = {"lock": client.lock, "unlock": client.unlock, "credit": client.credit_import}
    return call_each(single[operation], calls)


def round_blocks(session: Session, jobs: list[Job]) -> dict[str, CreditBlock]:
    """Every block the round's credits and completions read, in two statements: the locked
    pieces, and the blocks the pieces to credit would become."""
    repository = RegistryRepository(session)
    known = repository.by_ids(block["block_id"] for job in jobs for block in job.blocks)
    arriving = [
        derived_id(piece, job.destination, piece.serial_start, piece.serial_end)
        for job in jobs
        if job.state is State.ORIGIN_LOCKED
        for block in job.blocks
        if (piece := known.get(block["block_id"])) is not None
    ]
    return known | repository.by_ids(arriving)
