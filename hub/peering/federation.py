"""Hub-to-hub routes (``/federation/v1``): called by peered hubs only, with signed requests
(``hub.peering.requests``), never by platforms. ``hello`` checks a peering from the other side."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from hub.deps import SessionDep, SettingsDep
from hub.peering.repository import PeerRepository
from hub.peering.requests import PeerRequestDep, answer_peer_once
from hub.records import Public
from hub.text import Text

router = APIRouter(prefix="/federation/v1", tags=["federation"])


class Hello(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(default=None, max_length=200)


class HelloAnswer(Public):
    """The receiving hub's view of the peering: who it is and whom it took the sender for."""

    origin: str = Field(description="The receiving hub's origin.")
    peer: str = Field(description="The sender, as the receiver's peering names it.")
    peer_status: str
    registries: list[str] = Field(description="The registries the receiver serves.")
    jti: str


@router.post("/hello", summary="A signed greeting from a peered hub: checks the peering end to end")
def hello(
    body: Hello, session: SessionDep, settings: SettingsDep, received: PeerRequestDep, response: Response
) -> HelloAnswer:
    def run() -> HelloAnswer:
        return HelloAnswer(
            origin=settings.log_origin,
            peer=received.origin,
            peer_status=received.peer.status,
            registries=PeerRepository(session).local_registries(),
            jti=received.jti,
        )

    answer: HelloAnswer = answer_peer_once(session, received, response, run)
    return answer
