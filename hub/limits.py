"""Limits on requests, as pure ASGI middleware: the body size (413 problem; nothing larger than the
limit is ever read into memory) and NUL characters in the URL (400 problem; PostgreSQL cannot hold
them in text, so they must never reach a query)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.problems import problem_body


class BodyTooLarge(BaseException):
    """Raised from ``receive`` once the body passes the limit. A BaseException, so that the
    framework's body parsing (which turns any Exception into a 400) lets it through to us."""


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        detail = f"the body exceeds {self.max_bytes} bytes"
        await send_problem(send, scope, 413, "body-too-large", "Request body too large", detail, "1035")


class NoNulInUrl:
    """A path or query with a NUL character (raw or %00) is refused before any route sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string") or b""
            if "\x00" in scope.get("path", "") or b"\x00" in query or b"%00" in query:
                title = "A request parameter is missing or invalid"
                detail = "the URL contains a NUL character"
                await send_problem(send, scope, 400, "invalid-request", title, detail, "1004")
                return
        await self.app(scope, receive, send)


async def send_problem(
    send: Send, scope: Scope, status: int, slug: str, title: str, detail: str, code: str
) -> None:
    body: dict[str, Any] = problem_body(status, slug, title, detail, code, instance=scope.get("path"))
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
