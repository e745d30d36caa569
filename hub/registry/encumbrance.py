"""Green finance: a platform pledges a block it holds (质押) and releases it. A pledged block is
neither recognized nor transferred nor retired (3023) until released. Conditional updates, so two
concurrent requests cannot both succeed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlmodel import Session, col

from hub.auth.principal import Principal, require
from hub.auth.signing import SignedRequestDep
from hub.deps import SessionDep
from hub.log.changes import record_change
from hub.problems import Conflict, NotFound
from hub.registry.models import CreditBlock
from hub.text import Text
from hub.transfers.service import transfer_serials
from mutual_recognition.serials import SerialRange

router = APIRouter(tags=["registry"])
Writer = Annotated[Principal, Depends(require("blocks:write"))]


class Pledge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=3, max_length=500, description="e.g. the loan agreement it secures")


def change_status(
    session: Session, block_id: str, holder: str, before: str, after: str, *, actor: str, reason: str
) -> CreditBlock:
    block = session.get(CreditBlock, block_id)
    if block is None or block.current_registry != holder:
        raise NotFound(f"{holder} holds no block {block_id}")
    whole = SerialRange(block.serial_start, block.serial_end, block.block_id)
    if after == "encumbered" and transfer_serials(session, block.serial_namespace, whole):
        raise Conflict(f"block {block_id} has serials under a transfer", code="3026")
    changed = session.execute(
        update(CreditBlock)
        .where(col(CreditBlock.block_id) == block_id, col(CreditBlock.status) == before)
        .values(status=after)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"block {block_id} is {block.status}, not {before}", code="6002")
    kind = "block.pledged" if after == "encumbered" else "block.released"
    record_change(
        session,
        kind,
        subject=("credit-block", block_id),
        actor=actor,
        platforms=[holder],
        data={"reason": reason},
    )
    session.refresh(block)
    return block


@router.post("/v1/blocks/{block_id}/pledge", summary="Pledge a held block (it cannot move until released)")
def pledge(
    block_id: str, body: Pledge, session: SessionDep, principal: Writer, signed: SignedRequestDep
) -> dict[str, Any]:
    holder = principal.platform_code or ""
    block = change_status(
        session, block_id, holder, "held", "encumbered", actor=principal.client_id, reason=body.reason
    )
    return block.record | {"status": block.status}


@router.post("/v1/blocks/{block_id}/release", summary="Release a pledged block")
def release(
    block_id: str, body: Pledge, session: SessionDep, principal: Writer, signed: SignedRequestDep
) -> dict[str, Any]:
    holder = principal.platform_code or ""
    block = change_status(
        session, block_id, holder, "encumbered", "held", actor=principal.client_id, reason=body.reason
    )
    return block.record | {"status": block.status}
