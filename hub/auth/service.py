"""Creating OAuth clients and their credentials."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from hub.auth.models import OAuthClient
from hub.auth.repository import AuthRepository
from hub.auth.scopes import ClientKind, allowed_scopes
from hub.auth.secrets import hash_secret, new_secret
from hub.log.changes import record_change
from hub.platforms.repository import PlatformRepository
from hub.problems import BadRequest, Conflict, NotFound
from hub.settings import Settings
from schemas.jwk import Ed25519Key


@dataclass(frozen=True)
class Credentials:
    """What a new client receives once: its id, where to get tokens, its private key or secret."""

    client_id: str
    kind: ClientKind
    scopes: list[str]
    token_endpoint: str
    issuer: str
    private_jwk: dict[str, str] | None = None
    client_secret: str | None = None
    platform: str | None = None
    region: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "client_id": self.client_id,
            "kind": str(self.kind),
            "scopes": self.scopes,
            "token_endpoint": self.token_endpoint,
            "issuer": self.issuer,
            "token_endpoint_auth_method": "private_key_jwt",
        }
        for name in ("platform", "region", "private_jwk", "client_secret"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return {**data, **self.extra}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)


class ClientService:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.clients = AuthRepository(session)
        self.platforms = PlatformRepository(session)
        self.settings = settings

    def create(
        self,
        *,
        kind: ClientKind,
        name: str,
        client_id: str | None = None,
        platform: str | None = None,
        region: str | None = None,
        scopes: list[str] | None = None,
        key: Ed25519Key | None = None,
        with_secret: bool = False,
        actor: str,
    ) -> Credentials:
        """Register a client. A platform client signs with its platform's keys: ``key`` (or a new
        one) is added to the platform's JWKS. Others get their own key."""
        client_id = client_id or f"{kind}-{secrets.token_hex(6)}"
        if self.clients.client(client_id) is not None:
            raise Conflict(f"client {client_id} exists", code="2001")
        if (kind is ClientKind.PLATFORM) != (platform is not None):
            raise BadRequest("a platform client names its platform; others do not", code="1004")
        if kind is ClientKind.ADMIN and region is not None:
            raise BadRequest("an administrator acts for the federation, not for a region", code="1004")
        granted = allowed_scopes(kind, scopes)
        if scopes is not None and len(granted) != len(scopes):
            refused = sorted(set(scopes) - set(granted))
            raise BadRequest(f"a {kind} client may not hold {' '.join(refused)}", code="1004")
        key = key or Ed25519Key.generate()
        jwks = None
        if platform is not None:
            row = self.platforms.get(platform)
            if row is None:
                raise NotFound(f"no platform {platform}", code="2002")
            current = [k for k in row.jwks.get("keys", []) if k.get("kid") != key.kid]
            row.jwks = {"keys": [*current, key.public_jwk()]}
            self.session_add(row)
        else:
            jwks = {"keys": [key.public_jwk()]}
        secret = new_secret() if with_secret else None
        self.clients.add_client(
            OAuthClient(
                client_id=client_id,
                name=name,
                kind=kind,
                platform_code=platform,
                region=region,
                scopes=granted,
                jwks=jwks,
                secret_hash=hash_secret(secret) if secret else None,
            )
        )
        record_change(
            self.clients.session,
            "client.created",
            subject=("client", client_id),
            actor=actor,
            platforms=[platform] if platform else [],
            data={"kind": str(kind), "platform": platform, "region": region, "scopes": granted},
        )
        return Credentials(
            client_id=client_id,
            kind=kind,
            scopes=granted,
            token_endpoint=self.settings.token_endpoint,
            issuer=self.settings.issuer,
            private_jwk=key.private_jwk() if key.can_sign else None,
            client_secret=secret,
            platform=platform,
            region=region,
        )

    def session_add(self, row: Any) -> None:
        self.clients.session.add(row)
        self.clients.session.flush()
