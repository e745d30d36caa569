"""The error responses of the OpenAPI document: every route declares the problems it can answer.

A route's 4xx follow from what runs before its handler, so they are derived here, in one place,
from its dependencies rather than listed by hand on each route:

- every route: 400 (a parameter missing or invalid, a NUL in the URL);
- a route with path parameters: 404 (no such object);
- a state-changing route: 400 and 422 (the strict JSON edge, the request model), 413 (the body
  size limit);
- a route that authenticates its caller: 401 (token), 403 (scope or owner), 404, 409 (state),
  422 (a check of the request), 429 (rate limit);
- a route that verifies a request signature: 401 (signature refused), 409 (a replayed ``jti``);
- a route depending on ``signed_caller`` (the two above as one dependency): both.

The OAuth endpoints answer in the RFC 6749 shape (``application/json``), documented as
:class:`OAuthError`. A route's own ``responses=`` (e.g. 415 of the batch ingest) are kept; FastAPI's
default 422 (a body the hub never sends) is replaced by the problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from hub.auth.principal import authenticate
from hub.auth.signing import STATE_CHANGING, is_signed_caller, verify_signed_request
from hub.peering.requests import peer_request
from hub.problems import Problem, problem_responses
from hub.records import exchange_components, point_at_records
from hub.tlog.public import MEDIA_COMPONENTS

REF_TEMPLATE = "#/components/schemas/{model}"
# exchange records the hub also answers through a model of its own (the same shape): the model's
MODELS_OF_RECORDS = frozenset({"Problem"})
OAUTH_PATHS = frozenset({"/oauth/token", "/oauth/revoke", "/oauth/introspect"})


class OAuthError(BaseModel):
    """An OAuth error (RFC 6749 section 5.2), with the problem-details members beside it."""

    model_config = ConfigDict(extra="allow", title="OAuthError")

    error: str
    error_description: str | None = None
    type: str
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def route_statuses(route: APIRoute) -> set[int]:
    """The 4xx statuses ``route`` can answer with a problem."""
    statuses = {400}
    if route.dependant.path_params:
        statuses.add(404)
    if set(route.methods or ()) & STATE_CHANGING:
        statuses |= {413, 422}
    calls = set(_calls(route.dependant))
    signed = any(is_signed_caller(call) for call in calls)  # the three below as one dependency
    if authenticate in calls or signed:
        statuses |= {401, 403, 404, 409, 422, 429}
    if verify_signed_request in calls or signed:
        statuses |= {401, 409}
    if peer_request in calls:  # a hub-to-hub request: signature, suspended peer, replay, checks
        statuses |= {401, 403, 409, 422}
    return statuses


def oauth_responses() -> dict[int | str, dict[str, Any]]:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}
    return {
        status: {"description": f"OAuth error ({description})", "content": content}
        for status, description in ((400, "invalid request or grant"), (401, "invalid client"))
    }


def _add_components(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, OAuthError):
        document = model.model_json_schema(ref_template=REF_TEMPLATE)
        components.update(document.pop("$defs", {}))
        components[model.__name__] = document
    for name, record in exchange_components().items():  # exchange records, typed by their JSON Schemas
        if name in components and components[name] != record:
            if name not in MODELS_OF_RECORDS:
                raise RuntimeError(f"OpenAPI component {name}: a model and an exchange record share the name")
            continue
        components[name] = record
    components.update(MEDIA_COMPONENTS)  # non-JSON answers: notes, tiles, proofs, policies
    # FastAPI's default 422 body, replaced on every route by the problem the hub really answers
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _add_responses(app: FastAPI, schema: dict[str, Any]) -> None:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        operations = schema["paths"].get(context.path_format or route.path_format, {})
        oauth = route.path in OAUTH_PATHS
        derived = oauth_responses() if oauth else problem_responses(*route_statuses(route))
        for method in route.methods or ():
            responses = operations.get(method.lower(), {}).get("responses")
            if responses is None:
                continue
            if _is_fastapi_default_422(responses.get("422")):
                del responses["422"]
            for status, response in derived.items():
                responses.setdefault(str(status), response)


def _is_fastapi_default_422(response: dict[str, Any] | None) -> bool:
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def document_problems(app: FastAPI) -> None:
    """Declare the problem responses of every route of ``app`` in its OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _add_responses(app, schema)
            _add_components(schema)
            app.openapi_schema = schema = point_at_records(schema)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
