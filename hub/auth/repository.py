"""Every query of the authorization server."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hub.auth.models import AccessToken, OAuthClient, RateWindow, SeenNonce, SignedRequest
from hub.platforms.models import Platform


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

    def token_state(self, jti: str) -> tuple[AccessToken, OAuthClient, Platform | None] | None:
        """The token row with its client and the client's platform, in one round trip."""
        row = self.session.exec(
            select(AccessToken, OAuthClient, Platform)
            .join(OAuthClient, col(OAuthClient.client_id) == col(AccessToken.client_id))
            .join(Platform, col(Platform.code) == col(OAuthClient.platform_code), isouter=True)
            .where(AccessToken.jti == jti)
        ).first()
        return None if row is None else (row[0], row[1], row[2])

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
    def consume_nonce(self, purpose: str, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """Record ``jti`` as used; False if it was used before and has not expired."""
        self.session.execute(
            delete(SeenNonce).where(
                col(SeenNonce.purpose) == purpose,
                col(SeenNonce.issuer) == issuer,
                col(SeenNonce.expires_at) < now,
            )
        )
        try:
            with self.session.begin_nested():
                self.session.add(SeenNonce(purpose=purpose, issuer=issuer, jti=jti, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    # signed requests
    def add_signed_request(self, record: SignedRequest) -> None:
        self.session.add(record)
        self.session.flush()

    def signed_request(self, request_id: str) -> SignedRequest | None:
        return self.session.get(SignedRequest, request_id)

    def signed_requests(self, platform_code: str | None, limit: int) -> Sequence[SignedRequest]:
        query = select(SignedRequest).order_by(col(SignedRequest.received_at).desc()).limit(limit)
        if platform_code is not None:
            query = query.where(SignedRequest.platform_code == platform_code)
        return self.session.exec(query).all()

    # rate limits
    def count_request(self, client_id: str, window_start: int) -> int:
        """Add one request to the client's window; the window's new count (atomic upsert)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(RateWindow)
            .values(client_id=client_id, window_start=window_start, count=1)
            .on_conflict_do_update(
                index_elements=["client_id", "window_start"],
                set_={"count": RateWindow.__table__.c.count + 1},  # type: ignore[attr-defined]
            )
            .returning(RateWindow.__table__.c.count)  # type: ignore[attr-defined]
        )
        count = self.session.execute(statement).scalar_one()
        self.session.execute(
            delete(RateWindow).where(
                col(RateWindow.client_id) == client_id, col(RateWindow.window_start) < window_start
            )
        )
        return int(count)
