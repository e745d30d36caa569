"""Green finance: a platform pledges a block it holds (质押) and releases it. A pledged block is
neither recognized nor transferred nor retired (3023) until released: a pledge claims the block's
serials (``hub.claims``), so a pledge and any other hold on them cannot both succeed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from hub.auth.principal import Principal, require
from hub.auth.signing import SignedRequestDep
from hub.claims.repository import ClaimRepository, pledge_owner
from hub.claims.service import Reservations
from hub.deps import SessionDep
from hub.idempotency.route import idempotent
from hub.log.transitions import apply_transition
from hub.problems import Conflict, HubError, NotFound
from hub.registry.models import CreditBlock
from hub.registry.public import CreditBlockRecord
from hub.registry.repository import RegistryRepository
from hub.text import Text
from mutual_recognition.block_states import BLOCK, BlockStatus
from mutual_recognition.claims import ClaimKind
from mutual_recognition.parts import PartRequest

router = APIRouter(tags=["registry"])
Writer = Annotated[Principal, Depends(require("blocks:write"))]


class Pledge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=3, max_length=500, description="e.g. the loan agreement it secures")


class PledgeRefused(HubError):
    status = 409
    slug = "pledge-refused"
    title = "The block cannot be pledged now; nothing changed"


def pledge_block(session: Session, block_id: str, holder: str, *, actor: str, reason: str) -> CreditBlock:
    """Pledge a block the holder holds: its whole serials are claimed (refused with the code of
    what holds them, if anything does) and it becomes encumbered."""
    block = _held(session, block_id, holder)
    reservations = Reservations(session)
    whole = PartRequest(block.block_id, block.serial_namespace)
    resolution = reservations.resolve([whole], sender=holder, kind=ClaimKind.PLEDGE, prefix="/block")
    if resolution.issues:
        first = resolution.issues[0]
        raise PledgeRefused(f"block {block_id}: {first.detail}", code=first.code, errors=resolution.issues)
    reservations.claim(resolution, ClaimKind.PLEDGE, pledge_owner(block_id))
    return _move(session, block, BlockStatus.ENCUMBERED, "block.pledged", actor=actor, reason=reason)


def release_block(session: Session, block_id: str, holder: str, *, actor: str, reason: str) -> CreditBlock:
    block = _held(session, block_id, holder)
    moved = _move(session, block, BlockStatus.HELD, "block.released", actor=actor, reason=reason)
    Reservations(session).release(ClaimKind.PLEDGE, pledge_owner(block_id))
    return moved


def _held(session: Session, block_id: str, holder: str) -> CreditBlock:
    """The block, locked — after its namespace's lock, the order every writer of serials takes
    (a row lock first would deadlock with a retirement splitting the block)."""
    registry = RegistryRepository(session)
    found = registry.block(block_id)
    if found is not None:
        ClaimRepository(session).lock([found.serial_namespace])
        found = registry.locked_block(block_id)
    if found is None or found.current_registry != holder:
        raise NotFound(f"{holder} holds no block {block_id}")
    return found


def _move(
    session: Session, block: CreditBlock, target: BlockStatus, event: str, *, actor: str, reason: str
) -> CreditBlock:
    before = block.status
    apply_transition(
        session,
        BLOCK,
        BlockStatus(before),
        target,
        event=event,
        subject=("credit-block", block.block_id),
        actor=actor,
        platforms=[block.current_registry],
        data={"reason": reason},
    )
    changed = RegistryRepository(session).set_status_if(
        block.block_id, before, str(target), block.record | {"status": str(target)}
    )
    if changed != 1:
        raise Conflict(f"block {block.block_id} changed meanwhile", code="6001")
    session.refresh(block)
    return block


@router.post("/v1/blocks/{block_id}/pledge", summary="Pledge a held block (it cannot move until released)")
@idempotent
def pledge(
    block_id: str, body: Pledge, session: SessionDep, principal: Writer, signed: SignedRequestDep
) -> CreditBlockRecord:
    holder = principal.platform_code or ""
    block = pledge_block(session, block_id, holder, actor=principal.client_id, reason=body.reason)
    return block.record | {"status": block.status}


@router.post("/v1/blocks/{block_id}/release", summary="Release a pledged block")
@idempotent
def release(
    block_id: str, body: Pledge, session: SessionDep, principal: Writer, signed: SignedRequestDep
) -> CreditBlockRecord:
    holder = principal.platform_code or ""
    block = release_block(session, block_id, holder, actor=principal.client_id, reason=body.reason)
    return block.record | {"status": block.status}
