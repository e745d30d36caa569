"""The peering registry: one row per other hub this hub trusts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from hub.models import json_column, timestamp_column, utcnow
from schemas.jwk import JWKSet
from transparency.note import Verifier, parse_vkey


class PeerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class HubPeer(SQLModel, table=True):
    """Another hub: its log origin (its name among hubs), base URL, keys and served registries.

    A removed peer keeps its row (its keys verify what it signed before), answers as unknown, and
    may be registered again."""

    __tablename__ = "hub_peer"

    id: str = Field(primary_key=True, max_length=36)
    origin: str = Field(max_length=200, unique=True)
    base_url: str = Field(max_length=500)
    jwks: dict[str, Any] = Field(sa_column=json_column())
    log_vkeys: list[str] = Field(sa_column=json_column())
    witness_vkeys: list[str] = Field(sa_column=json_column())
    registries: list[str] = Field(sa_column=json_column())
    status: str = Field(default=PeerStatus.ACTIVE, max_length=16)
    registered_by: str = Field(max_length=64)
    registered_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    changed_by: str = Field(max_length=64)
    changed_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


def log_verifiers_of(peer: HubPeer) -> list[Verifier]:
    """The peer's checkpoint verifiers (its registered log vkeys, type 0x01)."""
    return [parse_vkey(vkey) for vkey in peer.log_vkeys]


def witness_verifiers_of(peer: HubPeer) -> list[Verifier]:
    """The peer's cosignature verifiers (its registered witness vkeys, type 0x04)."""
    return [parse_vkey(vkey) for vkey in peer.witness_vkeys]


def jwks_of(peer: HubPeer) -> JWKSet:
    """The peer's registered JWS keys."""
    return JWKSet.from_dict(peer.jwks)
