"""What the OAuth endpoints answer on success, typed (their errors: ``hub.openapi.OAuthError``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.records import document_bounds


class TokenAnswer(BaseModel):
    """RFC 6749 §5.1: an RFC 9068 JWT access token."""

    model_config = ConfigDict(extra="allow", title="TokenAnswer", json_schema_extra=document_bounds)

    access_token: str = Field(description="An RFC 9068 JWT (typ at+jwt, alg Ed25519).")
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str


class Introspection(BaseModel):
    """RFC 7662 §2.2: ``{"active": false}`` alone for a token that is not active."""

    model_config = ConfigDict(extra="allow", title="Introspection", json_schema_extra=document_bounds)

    active: bool
    token_type: str | None = None
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    aud: str | None = None
    iss: str | None = None
    exp: int | None = None
    iat: int | None = None
    jti: str | None = None


class Revoked(BaseModel):
    """RFC 7009 §2.2: an empty JSON object (also for a token unknown or revoked already)."""

    model_config = ConfigDict(extra="forbid", title="Revoked", json_schema_extra=document_bounds)


class ServerMetadata(BaseModel):
    """RFC 8414 authorization server metadata."""

    model_config = ConfigDict(extra="allow", title="ServerMetadata", json_schema_extra=document_bounds)

    issuer: str
    token_endpoint: str
    jwks_uri: str
    scopes_supported: list[str]
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str] = Field(
        description="Ed25519 first (what the hub signs with, RFC 9864), then EdDSA (accepted)."
    )
    revocation_endpoint: str
    introspection_endpoint: str
