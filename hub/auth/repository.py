"""Every query of the authorization server."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Table, bindparam, delete, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from hub.auth.keys import platform_keys
from hub.auth.models import AccessToken, OAuthClient, SeenNonce, SignedRequest
from hub.driver import run
from hub.platforms.models import Platform


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


@functools.cache
def _statements() -> dict[str, Executable]:
    """The statements every signed request runs, built once (building and hashing an expression
    tree costs more than running it)."""
    token, client, platform = _table("access_token"), _table("oauth_client"), _table(Platform.__tablename__)
    nonce = _table("seen_nonce")
    state = (
        core_select(
            token.c.revoked_at,
            token.c.scope,
            client.c.client_id,
            client.c.kind,
            client.c.platform_code,
            client.c.region,
            client.c.scopes,
            client.c.status,
            client.c.jwks,
            platform.c.status,
            platform.c.jwks,
            platform.c.previous_jwks,
            platform.c.previous_jwks_until,
        )
        .select_from(token)
        .join(client, client.c.client_id == token.c.client_id)
        .join(platform, platform.c.code == client.c.platform_code, isouter=True)
        .where(token.c.jti == bindparam("jti"))
    )
    statements: dict[str, Executable] = {
        "token_state": state,
        "signed_request": insert(_table("signed_request")),
    }
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite)):
        statements[f"nonce_{name}"] = (
            dialect.insert(nonce)
            .on_conflict_do_nothing(index_elements=["purpose", "issuer", "jti"])
            .returning(nonce.c.jti)
        )
    # PostgreSQL: the request's jti and the request itself in one statement — the request row is
    # inserted only when the jti's is (a replay inserts nothing and returns no row)
    fresh = (
        postgresql.insert(nonce)
        .values(
            purpose="request",
            issuer=bindparam("client_id"),
            jti=bindparam("jti"),
            expires_at=bindparam("nonce_expires_at", type_=nonce.c.expires_at.type),
        )
        .on_conflict_do_nothing(index_elements=["purpose", "issuer", "jti"])
        .returning(nonce.c.jti)
        .cte("fresh")
    )
    signed = _table("signed_request")
    columns = list(signed.columns)
    row = core_select(*(bindparam(column.name, type_=column.type) for column in columns)).select_from(fresh)
    statements["request_postgresql"] = (
        insert(signed).from_select([column.name for column in columns], row).returning(signed.c.id)
    )
    return statements


@dataclass(frozen=True, slots=True)
class TokenState:
    """What authenticating a request needs of its token, client and platform (one row)."""

    revoked: bool
    scope: str
    client_id: str
    kind: str
    platform_code: str | None
    region: str | None
    client_scopes: list[str]
    client_status: str
    client_jwks: dict[str, Any] | None
    platform_status: str | None
    platform_jwks: dict[str, Any] | None
    previous_jwks: dict[str, Any] | None
    previous_jwks_until: datetime | None

    def signing_keys(self, now: datetime) -> dict[str, Any]:
        """The JWK Set that authenticates the client's signed requests at ``now``."""
        if self.platform_code is None:
            return self.client_jwks or {"keys": []}
        return platform_keys(self.platform_jwks or {}, self.previous_jwks, self.previous_jwks_until, now)


class AuthRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # clients
    def client(self, client_id: str) -> OAuthClient | None:
        return self.session.get(OAuthClient, client_id)

    def client_with_platform(self, client_id: str) -> tuple[OAuthClient, Platform | None] | None:
        row = self.session.exec(
            select(OAuthClient, Platform)
            .join(Platform, col(Platform.code) == col(OAuthClient.platform_code), isouter=True)
            .where(OAuthClient.client_id == client_id)
        ).first()
        return None if row is None else (row[0], row[1])

    def clients(self, platform_code: str | None = None) -> Sequence[OAuthClient]:
        query = select(OAuthClient).order_by(col(OAuthClient.client_id))
        if platform_code is not None:
            query = query.where(OAuthClient.platform_code == platform_code)
        return self.session.exec(query).all()

    def add_client(self, client: OAuthClient) -> OAuthClient:
        self.session.add(client)
        self.session.flush()
        return client

    # tokens
    def add_token(self, token: AccessToken) -> None:
        self.session.add(token)
        self.session.flush()

    def token(self, jti: str) -> AccessToken | None:
        return self.session.get(AccessToken, jti)

    def token_state(self, jti: str) -> TokenState | None:
        """The token's state with its client and the client's platform (status and keys), in
        one round trip of plain columns (no ORM objects are built or tracked)."""
        row = run(self.session.connection(), _statements()["token_state"], {"jti": jti}).first()
        if row is None:
            return None
        return TokenState(
            revoked=row[0] is not None,
            scope=row[1],
            client_id=row[2],
            kind=row[3],
            platform_code=row[4],
            region=row[5],
            client_scopes=list(row[6] or []),
            client_status=row[7],
            client_jwks=row[8],
            platform_status=row[9],
            platform_jwks=row[10],
            previous_jwks=row[11],
            previous_jwks_until=row[12],
        )

    def revoke_token(self, jti: str, at: datetime) -> None:
        self.session.execute(
            update(AccessToken)
            .where(col(AccessToken.jti) == jti, col(AccessToken.revoked_at).is_(None))
            .values(revoked_at=at)
        )

    def revoke_platform_tokens(self, platform_code: str, at: datetime) -> int:
        """Revoke every outstanding token of the platform's clients; how many were revoked."""
        clients = select(OAuthClient.client_id).where(OAuthClient.platform_code == platform_code)
        result = self.session.execute(
            update(AccessToken)
            .where(col(AccessToken.client_id).in_(clients), col(AccessToken.revoked_at).is_(None))
            .values(revoked_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # single-use identifiers
    def consume_nonce(self, purpose: str, issuer: str, jti: str, expires_at: datetime) -> bool:
        """Record ``jti`` as used, in one ``INSERT … ON CONFLICT DO NOTHING``; False if it is
        already recorded (a replay — or a reuse before ``purge_nonces`` removed the expired
        record, refused as well). Two processes racing with one jti: the database lets one in."""
        connection = self.session.connection()
        statement = _statements()[f"nonce_{connection.dialect.name}"]
        values = {"purpose": purpose, "issuer": issuer, "jti": jti, "expires_at": expires_at}
        inserted = run(connection, statement, values).first()
        return inserted is not None

    def record_request(self, values: dict[str, Any], expires_at: datetime) -> bool:
        """Record a signed request's ``jti`` as used (until ``expires_at``) and store the request
        (its columns as ``values``); False, with nothing written, when the jti was used before.
        One statement on PostgreSQL; on SQLite the two of ``consume_nonce`` and
        ``add_signed_request`` (its transactions hold the write lock: nothing comes between)."""
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            params = {**values, "nonce_expires_at": expires_at}
            return run(connection, _statements()["request_postgresql"], params).first() is not None
        if not self.consume_nonce("request", values["client_id"], values["jti"], expires_at):
            return False
        self.add_signed_request(values)
        return True

    def purge_nonces(self, now: datetime) -> int:
        """Forget single-use identifiers that have expired (they can no longer be replayed: the
        signature or assertion they came with is refused by its age); how many."""
        result = self.session.execute(delete(SeenNonce).where(col(SeenNonce.expires_at) < now))
        return int(getattr(result, "rowcount", 0) or 0)

    # signed requests
    def add_signed_request(self, values: dict[str, Any]) -> None:
        """Store a received request, its columns as ``values`` (one Core insert: nothing is
        tracked by the session)."""
        run(self.session.connection(), _statements()["signed_request"], values)

    def signed_request(self, request_id: str) -> SignedRequest | None:
        return self.session.get(SignedRequest, request_id)

    def signed_request_by_jti(self, client_id: str, jti: str) -> SignedRequest | None:
        """The request ``client_id`` signed with ``jti`` (kept as received)."""
        return self.session.exec(
            select(SignedRequest).where(SignedRequest.client_id == client_id, SignedRequest.jti == jti)
        ).first()

    def signed_requests(self, platform_code: str | None, limit: int) -> Sequence[SignedRequest]:
        query = select(SignedRequest).order_by(col(SignedRequest.received_at).desc()).limit(limit)
        if platform_code is not None:
            query = query.where(SignedRequest.platform_code == platform_code)
        return self.session.exec(query).all()
