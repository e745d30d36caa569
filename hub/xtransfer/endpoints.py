"""Transfers across hubs: signed hub-to-hub requests, answered once per jti
(docs/federation-transfers.md). Every hub serves all three: it is an origin for some transfers
and a destination for others."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from hub.deps import SessionDep
from hub.peering.requests import PeerRequestDep, answer_peer_once
from hub.xtransfer.public import ExchangeAnswer, TransferDecision, TransferOffer, TransferOutcome
from hub.xtransfer.service import TransferExchange

router = APIRouter(prefix="/federation/v1/transfers", tags=["federation"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Serials locked at the origin's platform, offered by its hub: checked, recorded, not credited",
)
def transfer_offer(
    body: TransferOffer, session: SessionDep, received: PeerRequestDep, response: Response
) -> ExchangeAnswer:
    exchange = TransferExchange(session)
    answer: ExchangeAnswer = answer_peer_once(
        session, received, response, lambda: exchange.receive_offer(received.peer, body)
    )
    return answer


@router.post(
    "/{transfer_id}/decision",
    summary="The origin hub's decision on its offer: commit (credit the destination) or abort",
)
def transfer_decision(
    transfer_id: str,
    body: TransferDecision,
    session: SessionDep,
    received: PeerRequestDep,
    response: Response,
) -> ExchangeAnswer:
    exchange = TransferExchange(session)
    answer: ExchangeAnswer = answer_peer_once(
        session, received, response, lambda: exchange.decide(received.peer, transfer_id, body)
    )
    return answer


@router.post(
    "/{transfer_id}/outcome",
    summary="The destination hub's outcome of a committed transfer: credited, or refused (unlocked)",
)
def transfer_outcome(
    transfer_id: str, body: TransferOutcome, session: SessionDep, received: PeerRequestDep, response: Response
) -> ExchangeAnswer:
    exchange = TransferExchange(session)
    answer: ExchangeAnswer = answer_peer_once(
        session, received, response, lambda: exchange.outcome(received.peer, transfer_id, body)
    )
    return answer
