"""The bodies of the hub-to-hub transfer messages and their answers, typed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.records import Public
from hub.text import Integer, Text
from schemas.canonical import MAX_SAFE_INTEGER

IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
REGISTRY = r"^[A-Z][A-Z0-9]{1,15}$"


class OfferedBlock(BaseModel):
    """A locked piece at the origin: its credit-block record and the block it was split from."""

    model_config = ConfigDict(extra="forbid")

    record: dict[str, Any] = Field(description="The credit-block record of the locked serials.")
    root_block_id: Text = Field(pattern=IDENTIFIER, max_length=128)


class OfferedAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registry: Text = Field(pattern=REGISTRY)
    account_id: Text = Field(pattern=IDENTIFIER, max_length=128)


class TransferOffer(BaseModel):
    """The origin's hub offers serials it locked at its platform to the destination's hub: nothing
    is credited until it commits (docs/federation-transfers.md)."""

    model_config = ConfigDict(extra="forbid")

    transfer_id: Text = Field(pattern=IDENTIFIER, max_length=128)
    origin_registry: Text = Field(pattern=REGISTRY)
    destination_registry: Text = Field(pattern=REGISTRY)
    to_account: OfferedAccount
    quantity: Integer = Field(ge=1, le=MAX_SAFE_INTEGER)
    blocks: list[OfferedBlock] = Field(min_length=1, max_length=1000)


class TransferDecision(BaseModel):
    """The origin hub's decision on an offer: commit (credit it) or abort (credit nothing)."""

    model_config = ConfigDict(extra="forbid")

    transfer_id: Text = Field(pattern=IDENTIFIER, max_length=128)
    decision: Literal["commit", "abort"]
    origin_registry: Text = Field(pattern=REGISTRY)
    destination_registry: Text = Field(pattern=REGISTRY)


class TransferOutcome(BaseModel):
    """The destination hub's outcome of a committed transfer: its platform credited it (with the
    blocks it registered) or refused it, definitively."""

    model_config = ConfigDict(extra="forbid")

    transfer_id: Text = Field(pattern=IDENTIFIER, max_length=128)
    outcome: Literal["credited", "refused"]
    blocks: list[Text] = Field(default_factory=list, max_length=1000)
    reason: Text = Field(default="", max_length=2000)


class ExchangeAnswer(Public):
    """A hub's answer to a transfer message: the transfer's phase there."""

    transfer_id: str
    phase: Literal["offered", "committed", "completed", "refused", "aborted"]


def inbound_public(row: Any) -> Any:
    """A transfer received from another hub, as the destination platform reads it on this hub
    (``GET /v1/transfers/{id}``): its state from this hub's half (a ``FederatedTransfer``)."""
    from hub.transfers.public import TransferPart, TransferPublic, TransferStep
    from mutual_recognition.transfer_states import ITL_STATUS, State

    state = {
        "offered": State.ORIGIN_LOCKED,
        "committed": State.ORIGIN_LOCKED,
        "completed": State.COMPLETED,
        "refused": State.TERMINATED,
        "aborted": State.TERMINATED,
    }[row.phase]
    blocks = [block["record"] for block in row.request.get("blocks", [])]
    return TransferPublic(
        transfer_id=row.transfer_id,
        state=state,
        itl_status=ITL_STATUS[state],
        origin_registry=row.origin_registry,
        destination_registry=row.destination_registry,
        quantity=row.quantity,
        unit="tCO2e",
        blocks=[
            TransferPart(
                block_id=record["block_id"],
                namespace=record["serial_namespace"],
                start=record["serial_start"],
                end=record["serial_end"],
                quantity=record["quantity"],
            )
            for record in blocks
        ],
        to_account=row.request.get("to_account") or {"registry": row.destination_registry, "account_id": "-"},
        certificate_id=None,
        locked_blocks=[record["block_id"] for record in blocks],
        credited_blocks=list(row.credited),
        history=[TransferStep.model_validate(entry) for entry in row.history],
        attempts=row.attempts,
        last_error=row.last_error,
        origin_hub=row.peer_origin,
    )
