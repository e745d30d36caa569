"""What the recognition service asks of the cross-hub machinery, in its own transaction: which
peer serves a destination, forwarding a recognition to it, and answering the origin's hub once
this hub's operators decided one it received. Every message goes through the peer outbox."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from hub.crosshub.models import FederatedRecognition, Role
from hub.crosshub.repository import CrossHubRepository
from hub.log.changes import record_change
from hub.peering.models import HubPeer, PeerStatus
from hub.peering.repository import PeerRepository
from hub.platforms.repository import PlatformRepository
from hub.problems import HubError
from hub.recognition.models import Recognition
from hub.settings import Settings

FORWARD, DECISION = "recognition.forward", "recognition.decision"
FORWARD_PATH = "/federation/v1/recognitions"


def decision_path(recognition_id: str) -> str:
    return f"/federation/v1/recognitions/{recognition_id}/decision"


class PeerUnavailable(HubError):
    status = 403
    slug = "peer-suspended"
    title = "The peering with the hub serving the destination is suspended"


def forwarding_peer(session: Session, destination: str) -> HubPeer | None:
    """The peer serving ``destination`` when this hub does not serve it itself (None otherwise);
    a suspended peering refuses the request (403, 2020)."""
    if PlatformRepository(session).get(destination) is not None:
        return None
    peer = PeerRepository(session).serving(destination)
    if peer is not None and peer.status == PeerStatus.SUSPENDED:
        raise PeerUnavailable(
            f"the peering with {peer.origin}, which serves {destination}, is suspended", code="2020"
        )
    return peer


def forward(
    session: Session,
    recognition: Recognition,
    peer: HubPeer,
    blocks: list[dict[str, Any]],
    verified_emissions: int | None,
) -> None:
    """Forward the recognition (its serials held here) to ``peer``: sent after commit, retried."""
    repository = CrossHubRepository(session)
    repository.add(
        FederatedRecognition(recognition_id=recognition.id, role=Role.ORIGIN, peer_origin=peer.origin)
    )
    body = {
        "recognition_id": recognition.id,
        "request": recognition.request,
        "blocks": blocks,
        "verified_emissions": verified_emissions,
        "origin_checks": recognition.checks,
        "requested_by": recognition.requested_by,
    }
    repository.enqueue(peer.origin, FORWARD, recognition.id, FORWARD_PATH, body)
    record_change(
        session,
        "recognition.forwarded",
        subject=("recognition-request", recognition.id),
        actor=recognition.requested_by,
        platforms=[recognition.origin],
        data={"hub": peer.origin, "destination_registry": recognition.destination},
    )


def received_from_peer(session: Session, recognition_id: str) -> FederatedRecognition | None:
    """The cross-hub record of a recognition this hub received from the origin's hub."""
    found = CrossHubRepository(session).federated(recognition_id)
    return found if found is not None and found.role == Role.DESTINATION else None


def issuer_signature(settings: Settings, recognition: Recognition) -> dict[str, Any]:
    """This hub's signature entry of a certificate it issued (its JWS and log index)."""
    certificate = recognition.certificate or {}
    return {
        "hub": settings.log_origin,
        "role": "issuer",
        "kid": certificate.get("issuer", {}).get("kid", ""),
        "jws": recognition.certificate_jws or "",
        "log_index": certificate.get("log_index", 0),
    }


def answer_origin(
    session: Session, settings: Settings, received: FederatedRecognition, recognition: Recognition
) -> None:
    """The decision on a received recognition, to the origin's hub: with the signed certificate
    when approved (the origin's hub countersigns it and answers with its signature)."""
    approved = recognition.certificate is not None
    body: dict[str, Any] = {
        "recognition_id": recognition.id,
        "decision": "approve" if approved else "reject",
        "reason": recognition.decision_reason or "",
    }
    if approved:
        body["certificate"] = recognition.certificate
        body["jws"] = recognition.certificate_jws
        received.signatures = [issuer_signature(settings, recognition)]
        session.add(received)
    CrossHubRepository(session).enqueue(
        received.peer_origin, DECISION, recognition.id, decision_path(recognition.id), body
    )
