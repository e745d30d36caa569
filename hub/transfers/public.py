"""What the transfer routes answer, typed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from hub.records import Public, definition_schema
from hub.transfers.models import Transfer
from mutual_recognition.transfer_states import State

AccountRef = Annotated[dict[str, Any], definition_schema("common", "accountRef")]


class TransferPart(Public):
    """A part of a block the transfer moves: its serials [start, end]."""

    block_id: str
    namespace: str
    start: int
    end: int
    quantity: int


class TransferStep(Public):
    state: State
    itl_status: int = Field(description="The UNFCCC ITL status number of the state.")
    at: str = Field(description="When (RFC 3339).")
    reason: str | None = None


class TransferPublic(Public):
    """A transfer: what moves, where, and every state it passed (the saga's history)."""

    transfer_id: str
    state: State
    itl_status: int
    origin_registry: str
    destination_registry: str
    quantity: int
    unit: Literal["tCO2e"]
    blocks: list[TransferPart]
    to_account: AccountRef
    certificate_id: str | None
    locked_blocks: list[str] = Field(description="The origin's blocks holding the locked serials.")
    credited_blocks: list[str] = Field(description="The destination's blocks holding them once credited.")
    history: list[TransferStep]
    origin_notified: bool | None = Field(
        default=None,
        description="Completed: whether the origin acknowledged the transfer-completed notice (None before).",
    )
    attempts: int = Field(description="Failed attempts of the current step.")
    last_error: str | None
    origin_hub: str | None = Field(
        default=None, description="Across hubs, at the destination's hub: the hub serving the origin."
    )
    destination_hub: str | None = Field(
        default=None, description="Across hubs, at the origin's hub: the hub serving the destination."
    )


def transfer_public(transfer: Transfer) -> TransferPublic:
    return TransferPublic(
        transfer_id=transfer.id,
        state=State(transfer.state),
        itl_status=transfer.itl_status,
        origin_registry=transfer.origin,
        destination_registry=transfer.destination,
        quantity=transfer.quantity,
        unit="tCO2e",
        blocks=[TransferPart.model_validate(part) for part in transfer.request["blocks"]],
        to_account=transfer.request["to_account"],
        certificate_id=transfer.request.get("certificate_id"),
        locked_blocks=transfer.request.get("pieces", []),
        credited_blocks=transfer.request.get("credited", []),
        history=[TransferStep.model_validate(step) for step in transfer.history],
        origin_notified=transfer.request.get("origin_notified"),
        attempts=transfer.attempts,
        last_error=transfer.last_error,
        destination_hub=transfer.request.get("hub"),
    )
