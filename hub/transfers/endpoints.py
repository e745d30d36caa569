"""``POST /v1/transfers`` (with ``Idempotency-Key``) and ``GET /v1/transfers/{id}``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from hub.auth.principal import CurrentPrincipal, Forbidden, Principal, require
from hub.auth.signing import SignedCaller, SignedRequestDep, signed_caller
from hub.database import after_commit
from hub.deps import SessionDep, SettingsDep, in_one_hop
from hub.idempotency.route import checked_key, idempotent
from hub.problems import BadRequest, NotFound, coded_error
from hub.text import Integer, Text
from hub.transfers.public import TransferPublic, transfer_public
from hub.transfers.repository import ProposalRepository
from hub.transfers.service import TransferService
from hub.xtransfer.models import Side
from hub.xtransfer.public import inbound_public
from hub.xtransfer.repository import TransferExchangeRepository

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])
Sender = Annotated[Principal, Depends(require("transfers:write"))]
# the proposals' one dependency: the token, the scope and the request's signature (in that order)
SignedSender = Annotated[SignedCaller, Depends(signed_caller("transfers:write"))]
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


class BlockRef(BaseModel):
    """A block, or the part [start, end] of it (each bound defaults to the block's own). A part
    that ends before it starts is refused when the request is read (3001); parts outside their
    block (3025) or sharing serials with another part (3027) when it is checked."""

    model_config = ConfigDict(extra="forbid")
    block_id: Text = Field(pattern=IDENTIFIER, max_length=128)
    namespace: Text = Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")
    start: Integer | None = Field(
        default=None, ge=1, le=9007199254740991, description="Part of the block; default all."
    )
    end: Integer | None = Field(default=None, ge=1, le=9007199254740991)

    @model_validator(mode="after")
    def _non_empty(self) -> BlockRef:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise coded_error("3001", f"serials {self.start}-{self.end} end before they start")
        return self


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registry: Text = Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")
    account_id: Text = Field(pattern=IDENTIFIER, max_length=128)


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transfer_id: Text = Field(pattern=IDENTIFIER, max_length=128)
    destination: Text = Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")
    to_account: Account
    blocks: list[BlockRef] = Field(min_length=1, max_length=1000, description="Blocks, or parts of them.")
    certificate_id: Text | None = Field(
        default=None,
        pattern=IDENTIFIER,
        max_length=128,
        description="A recognition certificate for the destination: the transfer moves exactly its serials"
        " and the certificate is used when the transfer completes.",
    )


def proposer(principal: Principal, idempotency_key: str | None) -> tuple[str, str]:
    """The key and the platform of a proposal (single or batch): both required, the key as
    :func:`~hub.idempotency.route.checked_key` allows."""
    key = checked_key(idempotency_key)
    if not key:
        raise BadRequest("an Idempotency-Key header is required", code="1004")
    if principal.platform_code is None:
        raise Forbidden("only a platform transfers what it holds", scope="transfers:write")
    return key, principal.platform_code


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Propose a transfer (idempotent on Idempotency-Key)"
)
@in_one_hop
def propose(
    body: TransferBody,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: SignedSender,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> TransferPublic:
    principal = caller.principal
    key, sender = proposer(principal, idempotency_key)
    service = TransferService(session, timedelta(seconds=settings.transfer_deadline))
    transfer, created = service.propose(
        body.model_dump(exclude_none=True), key=key, client_id=principal.client_id, sender=sender
    )
    if created:
        wake_the_worker(request, session)
    else:
        response.status_code = status.HTTP_200_OK
    return transfer_public(transfer)


def wake_the_worker(request: Request, session: Session) -> None:
    """Once the request's proposals commit, this process's transfer worker (idle) takes them at
    once, not at its next look (``app.state.transfers_due``); on PostgreSQL so do the workers of
    every other process (a NOTIFY in the proposals' transaction, hub.transfers.listener)."""
    ProposalRepository(session).announce_due()
    due = getattr(request.app.state, "transfers_due", None)
    if due is not None:
        after_commit(session, due.set)


@router.get("/{transfer_id}", summary="A transfer with its state history (ITL status numbers)")
def get(transfer_id: str, session: SessionDep, principal: CurrentPrincipal) -> TransferPublic:
    transfer = TransferService(session, timedelta(0)).get(transfer_id)
    if transfer is None:  # one received from another hub: its half here, for the destination
        inbound = TransferExchangeRepository(session).by_id(transfer_id, Side.DESTINATION)
        if inbound is not None and inbound.request and principal.owns(inbound.destination_registry):
            found: TransferPublic = inbound_public(inbound)
            return found
    if transfer is None or not (principal.owns(transfer.origin) or principal.owns(transfer.destination)):
        raise NotFound(f"no transfer {transfer_id}")
    return transfer_public(transfer)


@router.post("/{transfer_id}/cancel", summary="Cancel a transfer before anything moved (the origin)")
@idempotent
def cancel(
    transfer_id: str, session: SessionDep, principal: Sender, signed: SignedRequestDep
) -> TransferPublic:
    service = TransferService(session, timedelta(0))
    transfer = service.get(transfer_id, for_update=True)
    if transfer is None or not principal.owns(transfer.origin):
        raise NotFound(f"no transfer {transfer_id}")
    return transfer_public(service.cancel(transfer, actor=principal.client_id))
