"""Tables of the authorization server: clients, issued tokens, single-use ids, signed requests,
rate-limit windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from hub.auth.scopes import ClientKind
from hub.models import json_column, timestamp_column, utcnow


class OAuthClient(SQLModel, table=True):
    """An OAuth2 client. Platform clients authenticate with their platform's keys; operators and
    committee members with their own (``jwks``)."""

    __tablename__ = "oauth_client"

    client_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: ClientKind = Field(sa_type=String(16))
    platform_code: str | None = Field(default=None, foreign_key="platform.code", max_length=16)
    region: str | None = Field(
        default=None, max_length=16, description="An operator's region (platform code)."
    )
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    jwks: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    secret_hash: str | None = Field(default=None, max_length=200)
    status: str = Field(default="active", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class AccessToken(SQLModel, table=True):
    """An issued access token (the JWT itself is not stored), for introspection and revocation."""

    __tablename__ = "access_token"

    jti: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="oauth_client.client_id", index=True, max_length=64)
    scope: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: datetime = Field(sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column())
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class SeenNonce(SQLModel, table=True):
    """A single-use identifier (client assertion ``jti``, signed request ``jti``) until it expires."""

    __tablename__ = "seen_nonce"

    purpose: str = Field(primary_key=True, max_length=16)
    issuer: str = Field(primary_key=True, max_length=64)
    jti: str = Field(primary_key=True, max_length=128)
    expires_at: datetime = Field(sa_column=timestamp_column())


class SignedRequest(SQLModel, table=True):
    """A state-changing request exactly as received, with its signature (non-repudiation)."""

    __tablename__ = "signed_request"

    id: str = Field(primary_key=True, max_length=36)
    client_id: str = Field(max_length=64, index=True)
    platform_code: str | None = Field(default=None, max_length=16, index=True)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    content_type: str | None = Field(default=None, max_length=200)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    jws: str = Field(sa_column=Column(Text, nullable=False))
    kid: str = Field(max_length=128)
    jti: str = Field(max_length=128)
    issued_at: datetime = Field(sa_column=timestamp_column())
    received_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class RateWindow(SQLModel, table=True):
    """Requests counted per client and fixed window, shared by every hub process."""

    __tablename__ = "rate_window"

    client_id: str = Field(primary_key=True, max_length=64)
    window_start: int = Field(primary_key=True)
    count: int = 0
