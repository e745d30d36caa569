"""A client of the hub for platforms (and operators, committee members): OAuth2 tokens by
``private_key_jwt`` through authlib's httpx client, signed request bodies, typed errors."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import OKPKey

from hub.client.errors import AuthenticationFailed, HubUnreachable, raise_for_problem
from schemas.jwk import Ed25519Key
from schemas.jws import SIGNING_ALGORITHM, sign_detached

SIGNATURE_HEADER = "Puhui-Signature"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFRESH_MARGIN = 30


class PlatformClient:
    """Talks to the hub as one OAuth client.

    >>> client = PlatformClient.from_credentials("var/demo/credentials/js.json")
    >>> client.get("/v1/platforms/JS")
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        private_jwk: dict[str, Any],
        *,
        token_endpoint: str | None = None,
        scope: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.key = Ed25519Key.from_jwk(private_jwk)
        self.token_endpoint = token_endpoint or f"{self.base_url}/oauth/token"
        self.scope = scope
        self.http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout)
        with warnings.catch_warnings():  # authlib's httpx integration warns on import (httpx2)
            warnings.simplefilter("ignore")
            from authlib.integrations.httpx_client import OAuth2Client

        assertion = PrivateKeyJWT(self.token_endpoint, alg=SIGNING_ALGORITHM, headers={"kid": self.key.kid})
        self.oauth = OAuth2Client(
            client_id=client_id,
            client_secret=OKPKey.import_key(private_jwk),
            token_endpoint_auth_method=assertion,
            revocation_endpoint_auth_method=assertion,
            scope=scope,
            transport=transport,
            timeout=timeout,
        )
        self._token: dict[str, Any] | None = None

    @classmethod
    def from_credentials(
        cls, credentials: str | Path | dict[str, Any], *, base_url: str | None = None, **kwargs: Any
    ) -> PlatformClient:
        """A client from a credentials file (as ``puhui clients create`` and the demo write)."""
        data = (
            credentials if isinstance(credentials, dict) else json.loads(Path(credentials).read_text("utf-8"))
        )
        issuer = base_url or data.get("issuer") or _origin(data["token_endpoint"])
        return cls(
            issuer,
            data["client_id"],
            data["private_jwk"],
            token_endpoint=data["token_endpoint"],
            **kwargs,
        )

    # tokens
    def access_token(self) -> str:
        """A valid access token, fetched (client_credentials) when missing or about to expire."""
        token = self._token
        if token is None or token.get("expires_at", 0) - REFRESH_MARGIN <= time.time():
            try:
                token = dict(self.oauth.fetch_token(self.token_endpoint, grant_type="client_credentials"))
            except httpx.TransportError as exc:
                raise HubUnreachable(f"cannot reach {self.token_endpoint}: {exc}") from exc
            except Exception as exc:  # authlib raises OAuthError for RFC 6749 error answers
                description = getattr(exc, "description", None) or str(exc)
                error = getattr(exc, "error", "invalid_client")
                raise AuthenticationFailed(401, {"error": error, "error_description": description}) from exc
            token.setdefault("expires_at", time.time() + int(token.get("expires_in", 0)))
            self._token = token
        return str(token["access_token"])

    def revoke(self) -> None:
        """Revoke the current access token (RFC 7009)."""
        if self._token is None:
            return
        response = self.oauth.revoke_token(f"{self.base_url}/oauth/revoke", self._token["access_token"])
        raise_for_problem(response)
        self._token = None

    def introspect(self, token: str | None = None) -> dict[str, Any]:
        """RFC 7662 introspection of ``token`` (default: the current one)."""
        value = token or self.access_token()
        response = self.oauth.introspect_token(f"{self.base_url}/oauth/introspect", value)
        raise_for_problem(response)
        return dict(response.json())

    # requests
    def signature(self, method: str, path: str, body: bytes) -> str:
        """The ``Puhui-Signature`` of a request: a detached JWS over the exact body bytes."""
        headers = {"jti": uuid.uuid4().hex, "iat": int(time.time()), "htm": method, "htu": path}
        return sign_detached(body, self.key, headers=headers)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request; state-changing ones are signed. Raises a typed error on 4xx/5xx.
        ``headers`` adds e.g. an ``Idempotency-Key``."""
        method = method.upper()
        headers = {**(headers or {}), "Authorization": f"Bearer {self.access_token()}"}
        body = content
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        if method in STATE_CHANGING:
            headers[SIGNATURE_HEADER] = self.signature(method, urlsplit(path).path, body or b"")
        try:
            response = self.http.request(method, path, content=body, headers=headers, params=params)
        except httpx.TransportError as exc:
            raise HubUnreachable(f"cannot reach {self.base_url}: {exc}") from exc
        raise_for_problem(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).json()

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json_body=body).json()

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json_body=body).json()

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path).json()

    def close(self) -> None:
        self.http.close()
        self.oauth.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
