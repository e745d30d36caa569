"""Errors as RFC 9457 problem details, rendered by one set of handlers.

Every error the hub answers is ``application/problem+json`` with a ``type`` URI, a ``title``, the
HTTP ``status``, the check ``code`` when a check failed, and one ``errors`` entry per failure with a
JSON pointer (body members) or the parameter name (query, path, header). Nothing defaults to 500 but
a real fault of the hub, whose details are logged, not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.strict_json import printable
from schemas.validation import Issue, pointer

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://schemas.puhui-hub.org/problems/"

log = logging.getLogger("puhui.hub")


class ProblemIssue(BaseModel):
    """One failure of a problem: a body member (``pointer``) or a parameter (``parameter``, ``in``)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    pointer: str | None = Field(None, description="JSON pointer (RFC 6901) of the body member")
    parameter: str | None = Field(None, description="name of the query, path or header parameter")
    in_: str | None = Field(None, alias="in", description="where the parameter is: query, path, header")
    code: str | None = Field(None, description="check code of this failure (docs/check-codes.md)")
    detail: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem, as every error of the hub is answered (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="URI of the problem type")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = Field(None, description="path of the request")
    code: str | None = Field(None, description="check code (docs/check-codes.md)")
    errors: list[ProblemIssue] | None = Field(None, description="one entry per failure")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` mapping documenting ``statuses`` as problem details (one place builds it)."""
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {
        status: {"description": f"{HTTPStatus(status).phrase} (RFC 9457 problem)", "content": content}
        for status in sorted(statuses)
    }


class HubError(Exception):
    """Base of every error the hub reports; subclasses fix the HTTP status and problem type."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Iterable[Issue | dict[str, str]] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.errors = [e.as_dict() if isinstance(e, Issue) else dict(e) for e in errors]
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body = problem_body(self.status, self.slug, self.title, self.detail, self.code, self.errors, instance)
        return {**self.extra, **body}


class BadRequest(HubError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class MalformedBody(BadRequest):
    slug = "malformed-body"
    title = "The request body is not well-formed JSON"


class NotFound(HubError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(HubError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class SchemaViolation(HubError):
    status = 422
    slug = "schema-violation"
    title = "Request does not conform to the exchange schema"


class Unavailable(HubError):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"


def problem_body(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    code: str | None = None,
    errors: Sequence[dict[str, str]] = (),
    instance: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if code:
        body["code"] = code
    if errors:
        body["errors"] = list(errors)
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def coded_error(code: str, message: str) -> PydanticCustomError:
    """A request model's own check, raised from a validator: reported with ``code`` (a check code)
    and the pointer of the member it checks."""
    return PydanticCustomError("checked", message, {"code": code})


# pydantic error types with a check code of their own (hub.text.Text: a NUL or a lone surrogate)
_CODE_BY_ERROR_TYPE = {"text_character": "1049"}


def _validation_entry(error: dict[str, Any]) -> dict[str, str]:
    location = list(error.get("loc", ()))
    source = location[0] if location else "body"
    message = printable(str(error.get("msg", "invalid")))
    code = _CODE_BY_ERROR_TYPE.get(str(error.get("type"))) or (error.get("ctx") or {}).get("code")
    if source == "body":
        return {"pointer": printable(pointer(location[1:])), "code": str(code or "1002"), "detail": message}
    name = printable(".".join(str(part) for part in location[1:]) or str(source))
    return {"parameter": name, "in": str(source), "code": str(code or "1004"), "detail": message}


async def _on_hub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubError)
    return problem_response(exc.body(request.url.path), exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in raw):
        found = next(error for error in raw if error.get("type") == "json_invalid")
        where = (found.get("ctx") or {}).get("error", "invalid JSON")
        error = MalformedBody(f"the body is not well-formed JSON: {where}", code="1001")
        return problem_response(error.body(request.url.path))
    entries = [_validation_entry(error) for error in raw]
    in_body = all("pointer" in entry for entry in entries)
    codes = {entry["code"] for entry in entries}
    code = codes.pop() if len(codes) == 1 else ("1002" if in_body else "1004")
    status, slug, title = (
        (422, SchemaViolation.slug, "The request body does not conform to this route's request model")
        if in_body
        else (400, "invalid-request", "A request parameter is missing or invalid")
    )
    detail = f"{len(entries)} member(s) failed validation"
    return problem_response(problem_body(status, slug, title, detail, code, entries, request.url.path))


_UNPARSED_BODY = "There was an error parsing the body"


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    missing = f"no resource at {path}"
    if path.endswith("/") and len(path) > 1:  # the app does not redirect: a redirect breaks signatures
        missing += f"; the hub's paths have no trailing slash: {path.rstrip('/')}"
    names = {
        404: ("not-found", "Not found", missing),
        405: ("method-not-allowed", "Method not allowed", f"{request.method} is not allowed here"),
    }
    slug, title, detail = names.get(exc.status_code, ("http-error", str(exc.detail), str(exc.detail)))
    # FastAPI's own refusal of a body it cannot parse (e.g. a form): a malformed body
    code = "1001" if exc.status_code == 400 and detail == _UNPARSED_BODY else None
    if code:
        slug, title = MalformedBody.slug, MalformedBody.title
    body = problem_body(exc.status_code, slug, title, detail, code, instance=request.url.path)
    return problem_response(body, dict(exc.headers or {}))


async def _on_integrity(request: Request, exc: Exception) -> JSONResponse:
    log.info("integrity error on %s %s: %s", request.method, request.url.path, exc)
    body = problem_body(
        409,
        "conflicting-write",
        "Conflict with a concurrent change",
        "the change conflicts with one committed meanwhile; nothing was stored, retry",
        "6001",
        instance=request.url.path,
    )
    return problem_response(body)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = problem_body(500, "internal-error", "Internal error", instance=request.url.path)
    return problem_response(body)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` as problem details."""
    app.add_exception_handler(HubError, _on_hub_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(IntegrityError, _on_integrity)
    app.add_exception_handler(Exception, _on_unexpected)
