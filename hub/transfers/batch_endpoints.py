"""``POST /v1/transfer-batches`` (with ``Idempotency-Key``): many transfers in one signed request,
all or nothing (``hub.transfers.batches``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.deps import SessionDep, SettingsDep
from hub.problems import coded_error
from hub.text import Integer, Text
from hub.transfers.batches import MAX_BATCH, MAX_BATCH_PARTS, TransferBatches
from hub.transfers.endpoints import SignedSender, TransferBody, proposer, wake_the_worker

router = APIRouter(prefix="/v1/transfer-batches", tags=["transfers"])


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transfers: list[TransferBody] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="The transfers, each with its own transfer_id; all are proposed or none"
        f" (naming at most {MAX_BATCH_PARTS:,} blocks or parts together).",
    )

    @field_validator("transfers")
    @classmethod
    def _parts_bounded(cls, transfers: list[TransferBody]) -> list[TransferBody]:
        named = sum(len(transfer.blocks) for transfer in transfers)
        if named > MAX_BATCH_PARTS:
            detail = f"the transfers name {named} blocks or parts (at most {MAX_BATCH_PARTS})"
            raise coded_error("1002", detail)
        return transfers


SERIAL_MAX = 9007199254740991  # quantities count serials, which stay below 2^53


class ProposedTransfer(BaseModel):
    transfer_id: Text
    state: Text
    itl_status: Integer = Field(ge=1, le=99, description="The ITL status number of its state.")
    quantity: Integer = Field(ge=1, le=SERIAL_MAX)


class BatchAnswer(BaseModel):
    count: Integer = Field(
        ge=1, le=MAX_BATCH, description="How many transfers were proposed (all of the batch)."
    )
    quantity: Integer = Field(ge=1, le=SERIAL_MAX, description="Their total quantity (tCO2e).")
    transfers: list[ProposedTransfer] = Field(description="In the batch's order, as accepted.")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchAnswer,
    summary="Propose many transfers at once, all or nothing (idempotent on Idempotency-Key)",
)
def propose_batch(
    body: BatchBody,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: SignedSender,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> BatchAnswer:
    principal = caller.principal
    key, sender = proposer(principal, idempotency_key)
    batches = TransferBatches(session, timedelta(seconds=settings.transfer_deadline))
    answer, created = batches.propose(
        body.model_dump(exclude_none=True), key=key, client_id=principal.client_id, sender=sender
    )
    if created:
        wake_the_worker(request, session)
    else:
        response.status_code = status.HTTP_200_OK
    return BatchAnswer.model_validate(answer)
