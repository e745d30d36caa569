"""Platform sandboxes: small FastAPI apps that behave like each platform's API, in its own format.

``create_sandbox(code)`` builds the app for one registered adapter, laid out by the adapter's
:class:`~adapters.client.ClientSpec`, with in-memory state seeded from the adapter's good fixtures
(demonstration data). It serves what the adapter's client calls:

- ``GET <issuances>?<cursor>=N`` — page N of issuances in the local format (one fixture payload per
  page; past the end an empty document), the next cursor in the spec's header;
- ``POST <lock>`` / ``POST <unlock>`` — lock a held block for export, release it (404 unknown
  block, 409 wrong serials or state: a pledged block cannot be locked);
- ``POST <import>`` — credit a block in the local format (422 with the adapter's errors, 409 when
  the block id is known);
- ``POST <lock_batch>`` / ``<unlock_batch>`` / ``<import_batch>`` — many of those calls in one
  request, each item answered as its single call would be (``adapters.client.ClientSpec``);
- ``POST <retirement>`` — take a retirement notice; ``POST <transfer_notice>`` — take a
  transfer-completed notice: the named locked blocks become ``exported`` (final; 404 unknown
  block, 409 a block that is not locked); ``POST <transfer_notice_batch>`` — many of those, each
  item answered as its single call would be (its result names its key); ``POST
  /_sandbox/notice-failures {"count": N, "status": S}`` makes the next N notices (items of a batch
  included) answer S (503 by default: the origin is down);
- ``POST /webhooks`` — the platform's webhook receiver (each event kept once by ``webhook-id``);
  ``POST /_sandbox/webhook-failures {"count": N}`` makes the next N deliveries fail (503) and
  ``GET /_sandbox/webhooks`` lists what was received;
- ``POST /_sandbox/issuances`` (append a page in the local format) and ``GET /_sandbox/state``.

A repeated ``Idempotency-Key`` gets the first answer again. This is the platform API of
:mod:`adapters.platform_api` (docs/platform-api.md), laid out by the region's spec; ``puhui
platform-check`` passes against every sandbox. ``broken=`` (``--break NAME``) breaks one behaviour
on purpose, for showing that the check fails naming it: see :data:`BREAKABLE`.

Run one with ``python -m adapters.sandbox CODE --port 9001``; the demo mounts or starts one per
platform.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from adapters.base import BaseAdapter
from adapters.privacy import Pseudonymizer
from adapters.registry import get

SANDBOX_KEY = b"puhui sandbox pseudonym key - demonstration only"
WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "webhook-key-id")


@dataclass
class SandboxState:
    """What the sandbox platform holds (in memory)."""

    pages: list[bytes]
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    imports: list[str] = field(default_factory=list)
    retirements: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_failures: int = 0
    transfer_notices: list[dict[str, Any]] = field(default_factory=list)
    notice_failures: int = 0
    notice_failure_status: int = 503
    received: int = 0  # notices taken (the answer of a broken, non-idempotent notice route counts them)


RANGE_SUFFIX = re.compile(r":\d+-\d+$")

# Behaviours a sandbox can be told to get wrong (for testing the conformance kit against them).
BREAKABLE = {
    "lock-idempotency": "a lock ignores its Idempotency-Key (a repeat is answered as a new lock)",
    "credit-idempotency": "a credit ignores its Idempotency-Key",
    "unlock": "an unlock answers 200 but leaves the serials locked",
    "unknown-block": "a lock of a block it does not hold answers 200",
    "refusal-body": "a refusal's body is plain text, not a JSON object with a reason",
    "lock-batch": "a lock batch answers one result fewer than it was given items",
    "notice-idempotency": "a repeated notice is answered as a new one, with another body",
    "finalize": "a transfer-completed notice leaves the serials locked",
}
LOCKABLE = ("held", "imported")  # a block it credited is held by an account there, as any other


async def json_of(request: Request) -> Any:
    """The request's JSON body; None when it is not JSON (nested past the parser's depth
    included), which every route refuses (400) as a body that is not what it takes — never a 500,
    which the hub reads as the platform failing and tries again."""
    try:
        return await request.json()
    except (ValueError, RecursionError):
        return None


def create_sandbox(code: str, *, pages: Sequence[bytes] | None = None, broken: Sequence[str] = ()) -> FastAPI:
    """The sandbox app of platform ``code`` (its good fixtures as issuances unless ``pages``);
    ``broken`` names behaviours of :data:`BREAKABLE` it gets wrong on purpose."""
    unknown = sorted(set(broken) - set(BREAKABLE))
    if unknown:
        raise ValueError(f"no breakable behaviour {', '.join(unknown)}; choose from {', '.join(BREAKABLE)}")
    faults = frozenset(broken)
    adapter = get(code)
    if not isinstance(adapter, BaseAdapter):
        raise TypeError(f"the {code} adapter has no ClientSpec to lay a sandbox out by")
    spec = adapter.spec
    names = spec.fields
    media = adapter.media_types[0]
    pseudonymizer = Pseudonymizer(SANDBOX_KEY, key_id="sandbox")
    state = SandboxState(
        pages=list(pages) if pages is not None else [f.read() for f in adapter.fixtures() if f.good]
    )

    def register(payload: bytes, content_type: str | None, status: str | None) -> JSONResponse | list[str]:
        """The ids of the blocks now held, or the refusal."""
        parsed = adapter.parse(payload, content_type=content_type, pseudonymizer=pseudonymizer)
        if not parsed.ok:
            return JSONResponse({"errors": [e.as_dict() for e in parsed.errors]}, status_code=422)
        known = [block["block_id"] for block in parsed.blocks if block["block_id"] in state.blocks]
        if known:
            return JSONResponse({"error": f"already held here: {', '.join(known)}"}, status_code=409)
        for block in parsed.blocks:
            state.blocks[block["block_id"]] = {**block, "status": status or block["status"]}
        return [block["block_id"] for block in parsed.blocks]

    for page in state.pages:
        register(page, None, None)

    app = FastAPI(title=f"{adapter.name} sandbox (demonstration)", docs_url=None, redoc_url=None)
    app.state.sandbox = state

    @app.get(spec.issuances_path)
    def issuances(request: Request) -> Response:
        raw = request.query_params.get(spec.cursor_param, "0")
        if not raw.isdigit():
            return JSONResponse({"error": f"{spec.cursor_param} must be a page number"}, status_code=400)
        index = int(raw)
        body, following = (state.pages[index], index + 1) if index < len(state.pages) else (b"", index)
        if not body:
            body = adapter.render_many([])
        return Response(body, media_type=media, headers={spec.cursor_header: str(following)})

    def holding(block_id: str, serials: tuple[Any, Any]) -> str:
        """The block that holds ``serials``: ``block_id`` itself, or the piece of it that an
        earlier partial lock left (several parts of one block are locked one call each)."""
        if block_id in state.blocks or not all(isinstance(s, int) for s in serials):
            return block_id
        root = RANGE_SUFFIX.sub("", block_id)
        for known, block in state.blocks.items():
            if (known == root or known.startswith(f"{root}:")) and block["serial_start"] <= serials[
                0
            ] <= serials[1] <= block["serial_end"]:
                return known
        return block_id

    def block_step(
        key: str | None, block_id: str, body: Any, wanted: str, then: str
    ) -> tuple[int, dict[str, Any]]:
        """One lock or unlock: its answer (a success is kept for its key)."""
        if "lock-idempotency" in faults and wanted == "held":
            key = None
        if key is not None and key in state.answers:
            return state.answers[key]
        if not isinstance(body, dict):
            return 400, {"error": "the body is not a JSON object"}
        serials: tuple[Any, Any] = (body.get(names["serial_start"]), body.get(names["serial_end"]))
        block_id = holding(block_id, serials)
        block = state.blocks.get(block_id)
        if block is None:
            if "unknown-block" in faults:
                return 200, {"result": "ok", names["block_id"]: block_id, "status": then}
            return 404, {"error": f"no block {block_id}"}
        whole = (block["serial_start"], block["serial_end"])
        inside = all(isinstance(s, int) for s in serials) and whole[0] <= serials[0] <= serials[1] <= whole[1]
        if serials != whole and not (wanted == "held" and block["status"] in LOCKABLE and inside):
            return 409, {"error": "the serials are not those of the block"}
        if serials != whole:  # a partial lock splits the block; the pieces keep their serials
            del state.blocks[block_id]
            root = RANGE_SUFFIX.sub("", block_id)  # flat piece ids, as the hub's
            for start, end in [(whole[0], serials[0] - 1), serials, (serials[1] + 1, whole[1])]:
                if start <= end:
                    piece = f"{root}:{start}-{end}"
                    state.blocks[piece] = {
                        **block,
                        "block_id": piece,
                        "serial_start": start,
                        "serial_end": end,
                    }
            block_id = f"{root}:{serials[0]}-{serials[1]}"
            block = state.blocks[block_id]
        if block["status"] != wanted and not (wanted == "held" and block["status"] in LOCKABLE):
            reason = (
                "pledged (质押): release the pledge first"
                if block["status"] == "encumbered"
                else block["status"]
            )
            return 409, {"error": f"block {block_id} is {reason}"}
        if not (then == "held" and "unlock" in faults):
            block["status"] = then
        return kept(key, (200, {"result": "ok", names["block_id"]: block_id, "status": then}))

    def import_step(key: str | None, payload: bytes, content_type: str | None) -> tuple[int, dict[str, Any]]:
        """One credit of a block in the local format: its answer (a success is kept for its key)."""
        if "credit-idempotency" in faults:
            key = None
        if key is not None and key in state.answers:
            return state.answers[key]
        credited = register(payload, content_type, "imported")
        if isinstance(credited, JSONResponse):
            return credited.status_code, json.loads(bytes(credited.body))
        state.imports.extend(credited)
        return kept(key, (200, {"result": "ok", "credited": credited}))

    def kept(key: str | None, answer: tuple[int, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        return state.answers.setdefault(key, answer) if key is not None else answer

    def answered(answer: tuple[int, dict[str, Any]]) -> Response:
        if answer[0] >= 400 and "refusal-body" in faults:
            return Response(
                str(answer[1].get("error", "refused")), status_code=answer[0], media_type="text/plain"
            )
        return JSONResponse(answer[1], status_code=answer[0])

    def each_answered(
        items: list[Any], answer: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """A batch's results: each item answered as its single call would be, one that is not a
        JSON object refused (400) in its place."""
        return [
            answer(item)
            if isinstance(item, dict)
            else {"status": 400, "body": {"error": "an item is not a JSON object"}}
            for item in items
        ]

    async def items_of(request: Request) -> list[Any] | JSONResponse:
        body = await json_of(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return JSONResponse({"error": 'a batch is {"items": [...]}'}, status_code=400)
        return items

    async def block_batch(request: Request, wanted: str, then: str) -> JSONResponse:
        """Many locks (unlocks) in one request: each item answered as its single call would be."""
        items = await items_of(request)
        if isinstance(items, JSONResponse):
            return items

        def answer(item: dict[str, Any]) -> dict[str, Any]:
            key = item.get("idempotency_key")
            status, body = block_step(key, str(item.get(names["block_id"])), item, wanted, then)
            return {"status": status, "body": body}

        results = each_answered(items, answer)
        if "lock-batch" in faults and wanted == "held":
            results = results[:-1]
        return JSONResponse({"results": results})

    # the batch routes first: a path such as /blocks/batch must not reach /blocks/{block_id}
    if spec.lock_batch_path is not None:

        @app.post(spec.lock_batch_path)
        async def lock_batch(request: Request) -> JSONResponse:
            return await block_batch(request, "held", "locked")

    if spec.unlock_batch_path is not None:

        @app.post(spec.unlock_batch_path)
        async def unlock_batch(request: Request) -> JSONResponse:
            return await block_batch(request, "locked", "held")

    if spec.import_batch_path is not None:

        @app.post(spec.import_batch_path)
        async def import_batch(request: Request) -> JSONResponse:
            items = await items_of(request)
            if isinstance(items, JSONResponse):
                return items
            results = []
            for item in items:
                try:
                    payload = base64.b64decode(item["payload_base64"], validate=True)
                    status, body = import_step(item.get("idempotency_key"), payload, item.get("content_type"))
                except (TypeError, KeyError, ValueError):
                    status, body = 400, {"error": "an item needs payload_base64 (base64)"}
                results.append({"status": status, "body": body})
            return JSONResponse({"results": results})

    @app.post(spec.lock_path)
    async def lock(request: Request, block_id: str) -> Response:
        return answered(
            block_step(
                request.headers.get("idempotency-key"), block_id, await json_of(request), "held", "locked"
            )
        )

    @app.post(spec.unlock_path)
    async def unlock(request: Request, block_id: str) -> Response:
        return answered(
            block_step(
                request.headers.get("idempotency-key"), block_id, await json_of(request), "locked", "held"
            )
        )

    @app.post(spec.import_path)
    async def credit_import(request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        return answered(import_step(key, await request.body(), request.headers.get("content-type")))

    def notice_step(key: str | None, body: Any, id_field: str, take: Any) -> tuple[int, dict[str, Any]]:
        """One notice: its answer (kept for its key, a refusal too: the same notice is refused
        the same way); ``take(body)`` records it, or says why not."""
        if "notice-idempotency" in faults:
            key = None
        if key is not None and key in state.answers:
            return state.answers[key]
        if state.notice_failures > 0:
            state.notice_failures -= 1
            return state.notice_failure_status, {"error": "the sandbox was told to fail this notice"}
        if not isinstance(body, dict) or not body.get(id_field):
            return 400, {"error": f"{id_field} is missing"}
        refused = take(body)
        if refused is not None:
            return kept(key, refused)
        state.received += 1
        answer: dict[str, Any] = {"result": "ok", "received": body[id_field]}
        if "notice-idempotency" in faults:
            answer["count"] = state.received
        return kept(key, (200, answer))

    def take_retirement(body: dict[str, Any]) -> None:
        state.retirements.append(body)

    def take_transfer(body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """The named blocks, locked here, are exported for good (all of them, or none)."""
        items = body.get(names["blocks"])
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            return 400, {"error": f"{names['blocks']} must list the exported blocks"}
        found = []
        for item in items:
            serials = (item.get(names["serial_start"]), item.get(names["serial_end"]))
            block_id = holding(str(item.get(names["block_id"])), serials)
            block = state.blocks.get(block_id)
            if block is None:
                return 404, {"error": f"no block {block_id}"}
            if block["status"] not in ("locked", "exported"):
                return 409, {"error": f"block {block_id} is {block['status']}, not locked for export"}
            found.append(block)
        if "finalize" not in faults:
            for block in found:
                block["status"] = "exported"
        state.transfer_notices.append(body)
        return None

    @app.post(spec.retirement_path)
    async def retirement(request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        return answered(notice_step(key, await json_of(request), names["retirement_id"], take_retirement))

    @app.post(spec.transfer_notice_path)
    async def transfer_completed(request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        return answered(notice_step(key, await json_of(request), spec.name("transfer_id"), take_transfer))

    if spec.transfer_notice_batch_path is not None:

        @app.post(spec.transfer_notice_batch_path)
        async def transfer_completed_batch(request: Request) -> JSONResponse:
            """Many transfer-completed notices in one request: each item (its key and its
            notice) answered as its single call would be, the result naming the item's key."""
            items = await items_of(request)
            if isinstance(items, JSONResponse):
                return items

            def answer(item: dict[str, Any]) -> dict[str, Any]:
                key = item.get("idempotency_key")
                notice = {name: value for name, value in item.items() if name != "idempotency_key"}
                status, body = notice_step(
                    key if isinstance(key, str) else None, notice, spec.name("transfer_id"), take_transfer
                )
                return {"idempotency_key": key, "status": status, "body": body}

            return JSONResponse({"results": each_answered(items, answer)})

    @app.post("/_sandbox/notice-failures")
    async def fail_notices(request: Request) -> JSONResponse:
        body = await json_of(request)
        body = body if isinstance(body, dict) else {}
        try:
            failures, status = int(body.get("count", 0)), int(body.get("status", 503))
        except (TypeError, ValueError):
            return JSONResponse({"error": "count and status are integers"}, status_code=400)
        state.notice_failures, state.notice_failure_status = failures, status
        return JSONResponse({"failing": state.notice_failures, "status": state.notice_failure_status})

    @app.post("/webhooks")
    async def webhook(request: Request) -> JSONResponse:
        """The platform's webhook receiver: keeps each event once by ``webhook-id`` (the Standard
        Webhooks headers and body kept as received, for checking); fails on demand."""
        if state.webhook_failures > 0:
            state.webhook_failures -= 1
            return JSONResponse({"error": "the sandbox was told to fail"}, status_code=503)
        headers = {name: request.headers.get(name, "") for name in WEBHOOK_HEADERS}
        body = await request.body()
        state.webhooks.setdefault(headers["webhook-id"], {"headers": headers, "body": body.decode("utf-8")})
        return JSONResponse({"received": headers["webhook-id"]})

    @app.post("/_sandbox/webhook-failures")
    async def fail_next(request: Request) -> JSONResponse:
        body = await json_of(request)
        try:
            state.webhook_failures = int(body.get("count", 0)) if isinstance(body, dict) else 0
        except (TypeError, ValueError):
            return JSONResponse({"error": "count is an integer"}, status_code=400)
        return JSONResponse({"failing": state.webhook_failures})

    @app.get("/_sandbox/webhooks")
    def webhooks() -> list[dict[str, Any]]:
        return list(state.webhooks.values())

    @app.post("/_sandbox/issuances")
    async def add_page(request: Request) -> JSONResponse:
        payload = await request.body()
        held = register(payload, request.headers.get("content-type"), None)
        if isinstance(held, JSONResponse):
            return held
        state.pages.append(payload)
        return JSONResponse({"cursor": str(len(state.pages) - 1)})

    @app.get("/_sandbox/state")
    def sandbox_state() -> dict[str, Any]:
        return {
            "platform": code,
            "demonstration": True,
            "pages": len(state.pages),
            "blocks": {block_id: block["status"] for block_id, block in state.blocks.items()},
            "imports": state.imports,
            "retirements": [item[names["retirement_id"]] for item in state.retirements],
            "transfer_notices": [item[spec.name("transfer_id")] for item in state.transfer_notices],
            "broken": sorted(faults),
        }

    return app
