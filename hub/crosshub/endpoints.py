"""Cross-hub recognition between peered hubs (signed hub-to-hub requests, answered once per jti)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from hub.crosshub.public import DecisionAnswer, ForwardAnswer, ForwardedDecision, ForwardedRecognition
from hub.crosshub.service import CrossHubService
from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.peering.requests import PeerRequestDep, answer_peer_once

router = APIRouter(prefix="/federation/v1/recognitions", tags=["federation"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="A recognition forwarded by the origin's hub: checked here, then pending review by its operators",
)
def receive(
    body: ForwardedRecognition, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep,
    received: PeerRequestDep, response: Response,
) -> ForwardAnswer:  # fmt: skip
    service = CrossHubService(session, settings, keystore)
    answer: ForwardAnswer = answer_peer_once(
        session, received, response, lambda: service.receive(received.peer, body)
    )
    return answer


@router.post(
    "/{recognition_id}/decision",
    summary="The destination hub's decision on a recognition forwarded from here (countersigned if approved)",
)
def decision(
    recognition_id: str, body: ForwardedDecision, session: SessionDep, settings: SettingsDep,
    keystore: KeyStoreDep, received: PeerRequestDep, response: Response,
) -> DecisionAnswer:  # fmt: skip
    service = CrossHubService(session, settings, keystore)
    answer: DecisionAnswer = answer_peer_once(
        session, received, response, lambda: service.complete(received.peer, recognition_id, body)
    )
    return answer
