"""Strict input at the edge: every JSON body is read by one strict reader, every text of a request
model is one validated type.

- :func:`install_strict_json` puts :class:`StrictJsonBodies` in front of every route: a JSON body
  is read by :func:`schemas.strict_json.loads` before anything of the route runs (signature
  checks, models, services), and a refused body is answered with its problem right there.
  FastAPI's own parse then reads a body that every JSON parser reads the same way; routes that
  read their body as bytes (the batch ingest, the dedup check) take the document already read
  (:func:`json_document`). A platform's local JSON format is read by its adapter, on the same
  reader (decimals allowed, the adapter judges them).
- :data:`hub.text.Text` is the string type of every free-text or identifier field of a request
  model: a NUL or a lone surrogate is refused with check code 1049, whatever the source of the value.
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.problems import PROBLEM_MEDIA_TYPE, HubError, MalformedBody, SchemaViolation
from schemas.strict_json import StrictJSONError, loads


class BodyEncodingRefused(HubError):
    status = 400
    slug = "body-encoding"
    title = "The request body is not UTF-8"


class BodyRefused(HubError):
    status = 400
    slug = "body-refused"
    title = "The request body is not strict JSON"


BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_REFUSALS: dict[str, type[HubError]] = {
    "1001": MalformedBody,
    "1002": SchemaViolation,
    "1046": BodyEncodingRefused,
}


def refusal(error: StrictJSONError) -> HubError:
    """The problem answering a body the strict reader refused."""
    kind = _REFUSALS.get(error.code, BodyRefused)
    return kind(error.issue.detail, code=error.code, errors=[error.issue])


def parse_json_body(body: bytes) -> Any:
    """The JSON value of a request body (exchange form: integers only), or the problem refusing it."""
    try:
        return loads(body)
    except StrictJSONError as error:
        raise refusal(error) from None


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI parses a body of this content type as JSON (``application/json`` or
    ``application/*+json``)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


SCOPE_KEY = "puhui.json_body"
"""Where the middleware leaves the document it read, for routes that read their body themselves."""

SkipRule = Callable[[Scope], bool]


class StrictJsonBodies:
    """ASGI middleware: every JSON body (``application/json``, ``application/*+json``) is read
    strictly before any route sees it, except the requests ``skip`` names (a platform's local
    format, which its adapter reads with the same reader, decimals allowed)."""

    def __init__(self, app: ASGIApp, skip: SkipRule) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        if not is_json(request_content_type(scope)) or self.skip(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client left: the route sees it so
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                scope[SCOPE_KEY] = loads(body)
            except StrictJSONError as error:
                await _send_problem(send, refusal(error).body(scope.get("path")))
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def request_content_type(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            return bytes(value).decode("latin-1")
    return ""


def json_document(scope: Scope, body: bytes) -> Any:
    """The JSON value of the request's body: as the middleware read it, else read now."""
    if SCOPE_KEY in scope:
        return scope[SCOPE_KEY]
    return parse_json_body(body)


async def _send_problem(send: Send, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": body["status"], "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def install_strict_json(app: FastAPI, skip: SkipRule) -> None:
    """Read the JSON bodies of ``app`` strictly (add before the body size limit, which then bounds
    what is read); ``skip`` names the requests whose route reads its body itself."""
    app.add_middleware(StrictJsonBodies, skip=skip)
