"""``POST /v1/reconciliations``: a platform submits its totals and block list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from hub.auth.actors import CurrentActor, enforce, target_of
from hub.auth.policy import can_read_reconciliation, can_resolve_reconciliation
from hub.auth.principal import Principal, require
from hub.auth.signing import SignedRequestDep
from hub.deps import SessionDep
from hub.idempotency.route import idempotent
from hub.problems import NotFound
from hub.reconciliation.public import ReconciliationPublic, reconciliation_public
from hub.reconciliation.service import ReconciliationService
from hub.text import Integer, Text
from mutual_recognition.reconciliation import BlockView
from schemas.canonical import MAX_SAFE_INTEGER

router = APIRouter(prefix="/v1/reconciliations", tags=["reconciliation"])
Submitter = Annotated[Principal, Depends(require("reconciliation:write"))]


class Totals(BaseModel):
    model_config = ConfigDict(extra="forbid")
    blocks: Integer = Field(ge=0, le=MAX_SAFE_INTEGER)
    tonnes: Integer = Field(ge=0, le=MAX_SAFE_INTEGER)


class SubmittedBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    block_id: Text
    serial_start: Integer = Field(ge=1, le=MAX_SAFE_INTEGER)
    serial_end: Integer = Field(ge=1, le=MAX_SAFE_INTEGER)
    quantity: Integer = Field(ge=1, le=MAX_SAFE_INTEGER)
    status: Text


class ReconciliationSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    totals: Totals
    blocks: list[SubmittedBlock]


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text = Field(min_length=3, max_length=2000)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Reconcile: totals, unit blocks, audit trail")
@idempotent
def submit(
    body: ReconciliationSubmission, session: SessionDep, principal: Submitter, signed: SignedRequestDep
) -> ReconciliationPublic:
    platform = principal.platform_code
    if platform is None:
        raise NotFound("only a platform reconciles its holdings")
    blocks = [BlockView.from_dict(block.model_dump()) for block in body.blocks]
    result = ReconciliationService(session).run(
        platform,
        (body.totals.blocks, body.totals.tonnes),
        blocks,
        actor=principal.client_id,
        submitted=body.model_dump(),
    )
    return reconciliation_public(result)


@router.get("/{reconciliation_id}", summary="A reconciliation report")
def get(reconciliation_id: str, session: SessionDep, actor: CurrentActor) -> ReconciliationPublic:
    found = ReconciliationService(session).get(reconciliation_id)
    decision = can_read_reconciliation(actor, target_of(session, found.platform))
    enforce(decision, not_found=f"no reconciliation {reconciliation_id}")
    return reconciliation_public(found)


@router.post(
    "/{reconciliation_id}/resolve", summary="Close after manual intervention (operators of the region)"
)
@idempotent
def resolve(
    reconciliation_id: str,
    body: Resolution,
    session: SessionDep,
    actor: CurrentActor,
    signed: SignedRequestDep,
) -> ReconciliationPublic:
    service = ReconciliationService(session)
    found = service.get(reconciliation_id)
    decision = can_resolve_reconciliation(actor, target_of(session, found.platform))
    enforce(decision, not_found=f"no reconciliation {reconciliation_id}")
    return reconciliation_public(service.resolve(reconciliation_id, body.note, actor=actor.client_id))
