"""The authorization server: authlib's building blocks bound to the hub's storage and keys.

- grant ``client_credentials`` (RFC 6749 §4.4);
- client authentication ``private_key_jwt`` (RFC 7523: Ed25519 assertion, ``jti`` single-use,
  ``exp`` at most ``assertion_max_lifetime`` ahead, ``aud`` = the issuer or one of this server's
  endpoints: token, revocation, introspection, whichever the assertion is sent to) and, when
  enabled, ``client_secret_basic`` (secret stored as a scrypt hash);
- JWT access tokens (RFC 9068) signed by the hub's active key;
- revocation (RFC 7009) and introspection (RFC 7662).

One server object is built per request around that request's database session.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidClientError,
    InvalidScopeError,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlmodel import Session

from hub.auth.keys import ACCEPTED_ALGORITHMS, as_keyset, client_jwks, hub_keyset, signing_key
from hub.auth.models import AccessToken, OAuthClient
from hub.auth.policy import Actor, can_introspect
from hub.auth.repository import AuthRepository
from hub.auth.scopes import ClientKind
from hub.auth.secrets import verify_secret
from hub.auth.signatures import purge_clock
from hub.keystore import KeyStore
from hub.platforms.models import Platform
from hub.settings import Settings
from schemas.jws import SIGNING_ALGORITHM
from schemas.strict_json import text_problem

PRIVATE_KEY_JWT = "private_key_jwt"
CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 (a method name, not a secret)


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request over an already parsed ``application/x-www-form-urlencoded`` body."""

    def __init__(self, method: str, uri: str, headers: Any, form: dict[str, str]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class HubClient(ClientMixin):  # type: ignore[misc]
    row: OAuthClient
    platform: Platform | None
    secret_basic_enabled: bool

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = list(self.row.scopes)
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_secret(client_secret, self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if method == PRIVATE_KEY_JWT:
            return True
        return method == CLIENT_SECRET_BASIC and self.secret_basic_enabled and bool(self.row.secret_hash)

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


@dataclass
class TokenView(TokenMixin):  # type: ignore[misc]
    row: AccessToken
    claims: dict[str, Any]

    def check_client(self, client: HubClient) -> bool:
        return self.row.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((_aware(self.row.expires_at) - _aware(self.row.issued_at)).total_seconds())

    def is_expired(self) -> bool:
        return _aware(self.row.expires_at) <= datetime.now(UTC)

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    """client_credentials, refusing scopes the client does not hold (instead of dropping them)."""

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = (self.request.payload.scope or "").split()
        client: HubClient = self.request.client
        refused = [scope for scope in requested if scope not in client.row.scopes]
        if refused:
            raise InvalidScopeError(f"the client may not hold: {' '.join(refused)}")


class ClientAssertion(JWTBearerClientAssertion):  # type: ignore[misc]
    """private_key_jwt with Ed25519 keys, a lifetime cap and a database-backed jti cache."""

    CLIENT_AUTH_METHOD = PRIVATE_KEY_JWT

    def __init__(self, server: HubAuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=60)
        self.server = server

    def get_audiences(self) -> list[str]:
        return self.server.settings.assertion_audiences

    def resolve_client_public_key(self, client: HubClient) -> KeySet:
        return as_keyset(client_jwks(client.row, client.platform, self.server.now))

    def process_assertion_claims(self, assertion: str, resolve_key: KeySet) -> dict[str, Any]:
        """Verify the assertion. Stock clients (authlib's among them) send no ``kid``: then each of
        the client's keys is tried (a platform holds more than one during a rotation)."""
        try:
            kid = jws.extract_compact(assertion.encode()).headers().get("kid")
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description="client assertion: not a compact JWT") from exc
        candidates: list[Any] = [resolve_key] if kid else list(resolve_key.keys) or [resolve_key]
        failure: JoseError | None = None
        for candidate in candidates:
            try:
                token = jwt.decode(assertion, candidate, algorithms=ACCEPTED_ALGORITHMS)
                break
            except JoseError as exc:
                failure = exc
        else:
            description = failure.description if failure else "no key"
            raise InvalidClientError(description=f"client assertion: {description}")
        self.verify_claims(token.claims)
        return dict(token.claims)

    def verify_claims(self, claims: Any) -> None:
        limit = time.time() + self.server.settings.assertion_max_lifetime + self.leeway
        if not isinstance(claims.get("exp"), int) or claims["exp"] > limit:
            raise InvalidClientError(description="client assertion exp lies too far ahead")
        super().verify_claims(claims)

    def validate_jti(self, claims: Any, jti: str) -> bool:
        expires = datetime.fromtimestamp(int(claims["exp"]) + self.leeway, UTC)
        repository = self.server.repository
        fresh = repository.consume_nonce("assertion", str(claims["sub"]), str(jti)[:128], expires)
        if fresh and purge_clock.due():
            repository.purge_nonces(self.server.now)
        return fresh


class TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 JWT access tokens signed with the hub's active Ed25519 key, recorded for
    introspection and revocation."""

    def __init__(self, server: HubAuthorizationServer) -> None:
        settings = server.settings
        super().__init__(issuer=settings.issuer, alg=SIGNING_ALGORITHM)
        self.server = server
        self.ttl = settings.access_token_ttl
        self.expires_generator = lambda client, grant_type: self.ttl

    def access_token_generator(self, client: HubClient, grant_type: str, user: Any, scope: str) -> str:
        key = self.server.keystore.active()
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": client.get_client_id(),
            "client_id": client.get_client_id(),
            "aud": self.issuer,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
            "scope": scope,
        }
        self.server.repository.add_token(
            AccessToken(
                jti=claims["jti"],
                client_id=client.get_client_id(),
                scope=scope,
                issued_at=datetime.fromtimestamp(now, UTC),
                expires_at=datetime.fromtimestamp(now + self.ttl, UTC),
            )
        )
        header = {"alg": SIGNING_ALGORITHM, "typ": "at+jwt", "kid": key.kid}
        signing = signing_key(key.private_jwk())
        return str(jwt.encode(header, claims, signing, algorithms=[SIGNING_ALGORITHM]))


class _TokenLookup:
    server: HubAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        claims = self.server.decode_access_token(token_string)
        if claims is None:
            return None
        row = self.server.repository.token(str(claims.get("jti")))
        return None if row is None else TokenView(row=row, claims=claims)


class Revocation(_TokenLookup, RevocationEndpoint):  # type: ignore[misc]
    def revoke_token(self, token: TokenView, request: OAuth2Request) -> None:
        self.server.repository.revoke_token(token.row.jti, self.server.now)


class Introspection(_TokenLookup, IntrospectionEndpoint):  # type: ignore[misc]
    def check_permission(self, token: TokenView, client: HubClient, request: OAuth2Request) -> bool:
        caller = Actor(client.row.client_id, ClientKind(client.row.kind), frozenset(client.row.scopes))
        return bool(can_introspect(caller, token.row.client_id))

    def introspect_token(self, token: TokenView) -> dict[str, Any]:
        claims = token.claims
        fields = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")
        return {
            "active": True,
            "token_type": "Bearer",
            **{k: claims[k] for k in fields if k in claims},
        }


class HubAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, session: Session, settings: Settings, keystore: KeyStore) -> None:
        from hub.auth.scopes import ALL_SCOPES

        super().__init__(scopes_supported=list(ALL_SCOPES))
        self.session = session
        self.settings = settings
        self.keystore = keystore
        self.repository = AuthRepository(session)
        self.now = datetime.now(UTC)
        methods = [PRIVATE_KEY_JWT] + ([CLIENT_SECRET_BASIC] if settings.client_secret_basic_enabled else [])
        grant = type("Grant", (ClientCredentials,), {"TOKEN_ENDPOINT_AUTH_METHODS": methods})
        self.register_grant(grant)
        self.register_client_auth_method(PRIVATE_KEY_JWT, ClientAssertion(self))
        self.register_token_generator("default", TokenGenerator(self))
        for endpoint in (Revocation, Introspection):
            self.register_endpoint(type(endpoint.__name__, (endpoint,), {"CLIENT_AUTH_METHODS": methods}))
        self.auth_methods = methods

    def query_client(self, client_id: str) -> HubClient | None:
        if not isinstance(client_id, str) or text_problem(client_id):
            return None  # a NUL cannot be looked up on PostgreSQL: no such client, on every backend
        found = self.repository.client_with_platform(client_id)
        if found is None:
            return None
        row, platform = found
        if row.status != "active" or (platform is not None and str(platform.status) != "active"):
            raise InvalidClientError(description=f"client {client_id} is suspended")
        return HubClient(
            row=row,
            platform=platform,
            secret_basic_enabled=self.settings.client_secret_basic_enabled,
        )

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Tokens are recorded when they are generated (TokenGenerator)."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal system."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def decode_access_token(self, token: str) -> dict[str, Any] | None:
        """Claims of an access token this hub signed (any published key), else None."""
        try:
            keys = hub_keyset(self.keystore)
            decoded = jwt.decode(token, keys, algorithms=ACCEPTED_ALGORITHMS)
        except (JoseError, ValueError):
            return None
        if decoded.claims.get("iss") != self.settings.issuer:
            return None
        return dict(decoded.claims)
