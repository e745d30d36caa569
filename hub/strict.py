"""Strict input at the edge: every JSON body is read by one strict reader, every text of a request
model is one validated type.

- :func:`install_strict_json` puts :class:`StrictJsonBody` in front of every route whose body
  FastAPI parses as JSON (request models, ``dict`` bodies): the body is read by
  :func:`schemas.strict_json.loads` before anything else of the route runs (signature checks,
  models, services), and a refused body is answered with its problem right there. FastAPI's own
  (lenient) parse then reads a body that every JSON parser reads the same way.
- Routes that read their body as bytes (the batch ingest and the dedup check) call
  :func:`parse_json_body` on the same reader; local formats go through it from their adapter.
- :data:`hub.text.Text` is the string type of every free-text or identifier field of a request
  model: a NUL or a lone surrogate is refused with check code 1049, whatever the source of the value.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
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


class StrictJsonBody:
    """ASGI wrapper of one route: a JSON body is read strictly before the route sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if scope["type"] != "http" or not is_json(content_type):
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
                loads(body)
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


async def _send_problem(send: Send, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": body["status"], "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def install_strict_json(app: FastAPI) -> None:
    """Wrap every route of ``app`` whose body FastAPI parses (call after the routers are included)."""
    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.body_field is not None:
            route.app = StrictJsonBody(route.app)
