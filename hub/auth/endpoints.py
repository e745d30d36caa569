"""OAuth endpoints: token (RFC 6749), revocation (RFC 7009), introspection (RFC 7662), metadata
(RFC 8414). Errors keep the RFC 6749 shape (``error``, ``error_description``) that OAuth clients
parse, and carry the problem-details members (``type``, ``title``, ``status``) beside them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from hub.auth.keys import ACCEPTED_ALGORITHMS
from hub.auth.public import Introspection, Revoked, ServerMetadata, TokenAnswer
from hub.auth.scopes import ALL_SCOPES
from hub.auth.server import FormRequest, HubAuthorizationServer
from hub.database import Database
from hub.problems import PROBLEM_BASE
from hub.settings import Settings
from schemas.strict_json import text_problem

router = APIRouter(tags=["oauth"])

FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _run(request: Request, form: dict[str, str], endpoint: str | None) -> tuple[int, Any, Any]:
    state = request.app.state
    database: Database = state.database
    settings: Settings = state.settings
    # authlib checks the transport of this URI: the hub's public URL (https, or loopback http)
    # rather than the URL a proxy forwarded.
    uri = f"{settings.issuer}{request.url.path}"
    try:
        oauth_request = FormRequest(request.method, uri, request.headers, form)
    except OAuth2Error as error:
        return error()  # type: ignore[no-any-return]
    with database.unit_of_work() as session:
        server = HubAuthorizationServer(session, settings, state.keystore)
        if endpoint is None:
            result = server.create_token_response(oauth_request)
        else:
            result = server.create_endpoint_response(endpoint, oauth_request)
        return result  # type: ignore[no-any-return]


async def _oauth(request: Request, endpoint: str | None) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    body = await request.body()
    if content_type != FORM:
        return _error(400, "invalid_request", f"the body must be {FORM}")
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        return _error(400, "invalid_request", "the body is not UTF-8")
    refused = next((p for p in (*form, *form.values()) if text_problem(p)), None)
    if refused is not None:
        return _error(400, "invalid_request", f"a parameter {text_problem(refused)}")
    status, payload, headers = await run_in_threadpool(_run, request, form, endpoint)
    if status >= 400 and isinstance(payload, dict):
        return _error(
            status,
            payload.get("error", "invalid_request"),
            payload.get("error_description"),
            headers,
        )
    return JSONResponse(payload, status_code=status, headers={**dict(headers or []), **NO_STORE})


def _error(status: int, error: str, description: str | None, headers: Any = None) -> JSONResponse:
    body: dict[str, Any] = {
        "error": error,
        "type": f"{PROBLEM_BASE}oauth-{error.replace('_', '-')}",
        "title": f"OAuth error: {error}",
        "status": status,
    }
    if description:
        body["error_description"] = description
        body["detail"] = description
    extra = {k: v for k, v in dict(headers or []).items() if k.lower() == "www-authenticate"}
    return JSONResponse(body, status_code=status, headers={**extra, **NO_STORE})


@router.post(
    "/oauth/token",
    summary="Token endpoint: client_credentials (RFC 6749, 7523, 9068)",
    responses={200: {"model": TokenAnswer, "description": "An access token"}},
)
async def token(request: Request) -> JSONResponse:
    return await _oauth(request, None)


@router.post(
    "/oauth/revoke",
    summary="Revoke an access token (RFC 7009)",
    responses={200: {"model": Revoked, "description": "Revoked (or nothing to revoke)"}},
)
async def revoke(request: Request) -> JSONResponse:
    return await _oauth(request, "revocation")


@router.post(
    "/oauth/introspect",
    summary="Introspect an access token (RFC 7662)",
    responses={200: {"model": Introspection, "description": "The token's state"}},
)
async def introspect(request: Request) -> JSONResponse:
    return await _oauth(request, "introspection")


class _Metadata(AuthorizationServerMetadata):  # type: ignore[misc]
    def validate_response_types_supported(self) -> None:
        """RFC 8414 requires response_types_supported for servers with an authorization endpoint;
        this one has none (client_credentials only), so the member is omitted."""
        if "authorization_endpoint" in self:
            super().validate_response_types_supported()


def server_metadata(settings: Settings) -> dict[str, Any]:
    base = settings.issuer
    methods = ["private_key_jwt"] + (["client_secret_basic"] if settings.client_secret_basic_enabled else [])
    metadata = _Metadata(
        {
            "issuer": base,
            "token_endpoint": settings.token_endpoint,
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "scopes_supported": list(ALL_SCOPES),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": methods,
            "token_endpoint_auth_signing_alg_values_supported": ACCEPTED_ALGORITHMS,
            "revocation_endpoint": settings.revocation_endpoint,
            "revocation_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_signing_alg_values_supported": ACCEPTED_ALGORITHMS,
            "introspection_endpoint": settings.introspection_endpoint,
            "introspection_endpoint_auth_methods_supported": methods,
            "introspection_endpoint_auth_signing_alg_values_supported": ACCEPTED_ALGORITHMS,
            "service_documentation": f"{base}/docs",
        }
    )
    metadata.validate()
    return dict(metadata)


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="Authorization server metadata (RFC 8414)",
)
def metadata(request: Request) -> ServerMetadata:
    return ServerMetadata.model_validate(server_metadata(request.app.state.settings))
