"""What the peering routes answer and accept, typed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.peering.models import HubPeer, PeerStatus
from hub.records import Public
from hub.text import StoredUrl, Text


class HubIdentityPublic(Public):
    """A hub as its peers register it: paste it into ``POST /v1/peers`` of the other hub (or let
    ``puhui peers add --from-url`` fetch it)."""

    origin: str = Field(description="The hub's log origin (c2sp.org/tlog-checkpoint), its name among hubs.")
    base_url: str = Field(description="Where the hub is reached.")
    jwks: dict[str, Any] = Field(description="Ed25519 public keys of its JWS (certificates, hub requests).")
    log_vkeys: list[str] = Field(description="Its checkpoint keys (c2sp.org/signed-note vkeys, type 0x01).")
    witness_vkeys: list[str] = Field(description="Its witness cosignature keys (vkeys, type 0x04).")
    registries: list[str] = Field(description="The registries (platform codes) it serves.")


class PeerCreate(BaseModel):
    """A peering to register: the other hub's ``GET /v1/hub`` document."""

    model_config = ConfigDict(extra="forbid")

    origin: Text = Field(min_length=1, max_length=200)
    base_url: StoredUrl
    jwks: dict[str, Any]
    log_vkeys: list[Text] = Field(min_length=1, max_length=16)
    witness_vkeys: list[Text] = Field(min_length=1, max_length=16)
    registries: list[Text] = Field(min_length=1, max_length=64)


class PeerPublic(Public):
    id: str
    origin: str
    base_url: str
    jwks: dict[str, Any]
    log_vkeys: list[str]
    witness_vkeys: list[str]
    registries: list[str]
    status: PeerStatus
    registered_by: str
    registered_at: str = Field(description="RFC 3339.")
    changed_by: str
    changed_at: str = Field(description="RFC 3339.")


def peer_public(peer: HubPeer) -> PeerPublic:
    return PeerPublic(
        id=peer.id,
        origin=peer.origin,
        base_url=peer.base_url,
        jwks=peer.jwks,
        log_vkeys=peer.log_vkeys,
        witness_vkeys=peer.witness_vkeys,
        registries=peer.registries,
        status=PeerStatus(peer.status),
        registered_by=peer.registered_by,
        registered_at=peer.registered_at.isoformat(timespec="seconds"),
        changed_by=peer.changed_by,
        changed_at=peer.changed_at.isoformat(timespec="seconds"),
    )
