"""The platform side of the contract: every call the hub makes to a platform, as a specification.

The hub calls each platform to pull its issuances, lock serials for export, release a lock,
credit an import, take batches of those, and tell it (the origin) of a retirement or of a
completed transfer. This module describes those calls in their **canonical** form (paths under
``/puhui/v1``, the field names of the exchange schema) as pydantic models, and writes them as an
OpenAPI 3.1 document (``schemas/platform-api/openapi.json``; ``python -m adapters.platform_api``
rewrites it, a test checks it is current). A region keeps its own paths and field names: its
adapter's :class:`~adapters.client.ClientSpec` says where each canonical operation lives and how
each canonical field is spelled (``schemas/platform-api/regions.json``, written alongside).

Semantics every platform implements (docs/platform-api.md):

- every state-changing call carries ``Idempotency-Key`` (32 lowercase hex digits,
  :func:`~adapters.client.idempotency_key_for`): the same key gets the same answer, status and
  body, and the effect happens once;
- a refusal is a 4xx answer whose JSON object says why (``error``, or ``errors`` for a local
  payload); the hub does not repeat it (final), except 408, 425 and 429;
- 5xx, 408, 425, 429, a timeout or a broken connection are retried by the hub with the same key
  and the same body, with exponential backoff, until the step's deadline;
- a batch (locks, unlocks, credits, transfer-completed notices) answers ``200 {"results": [...]}``,
  one result per item in order, each as its single call would have been (a result may name its
  item's ``idempotency_key``); a platform without batch routes answers 404 (or 405, 501) and gets
  single calls.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters.client import (
    RETRYABLE_STATUSES,
    TRANSFER_NOTICE_BATCH_PATH,
    TRANSFER_NOTICE_PATH,
    ClientSpec,
)

API_VERSION = "1.0.0"
DOCUMENT = Path(__file__).resolve().parents[1] / "schemas" / "platform-api" / "openapi.json"
REGIONS = DOCUMENT.with_name("regions.json")

CANONICAL = ClientSpec(
    issuances_path="/puhui/v1/issuances",
    cursor_param="cursor",
    cursor_header="Next-Cursor",
    lock_path="/puhui/v1/blocks/{block_id}/lock",
    unlock_path="/puhui/v1/blocks/{block_id}/unlock",
    import_path="/puhui/v1/imports",
    retirement_path="/puhui/v1/notices/retirement",
    transfer_notice_path=TRANSFER_NOTICE_PATH,
    lock_batch_path="/puhui/v1/batches/lock",
    unlock_batch_path="/puhui/v1/batches/unlock",
    import_batch_path="/puhui/v1/batches/imports",
    transfer_notice_batch_path=TRANSFER_NOTICE_BATCH_PATH,
    fields={
        name: name
        for name in (
            "block_id",
            "serial_start",
            "serial_end",
            "quantity",
            "retirement_id",
            "registry",
            "purpose",
            "retired_at",
            "blocks",
            "transfer_id",
            "destination",
            "completed_at",
        )
    },
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="allow")


class BlockCall(Strict):
    """The serials of one block to lock or unlock (a part of the block, or all of it)."""

    block_id: str = Field(description="The block's id at the platform (the hub's id of its piece).")
    serial_start: int = Field(ge=0, description="First serial, inclusive.")
    serial_end: int = Field(ge=0, description="Last serial, inclusive.")
    quantity: int = Field(ge=1, description="serial_end - serial_start + 1 (tCO2e).")


class BlockAnswer(Strict):
    result: Literal["ok"]
    block_id: str = Field(description="The block (or the piece of it) now holding the serials.")
    status: Literal["locked", "held"] = Field(description="Its status after the call.")


class CreditAnswer(Strict):
    result: Literal["ok"]
    credited: list[str] = Field(description="The ids of the blocks now held at the platform.")


class SerialRange(Strict):
    block_id: str | None = None
    serial_start: int = Field(ge=0)
    serial_end: int = Field(ge=0)
    quantity: int = Field(ge=1)


class RetirementNotice(Strict):
    """Serials the platform issued were retired (at the hub, by their holder): the origin's cue
    for a corresponding adjustment. Sent to each origin platform other than the retiring one."""

    retirement_id: str = Field(description="The retiring platform's id of the retirement.")
    registry: str | None = Field(default=None, description="The retiring platform's registry code.")
    purpose: str = Field(description="ets-compliance, voluntary-neutralization, points-redemption…")
    quantity: int = Field(ge=1)
    retired_at: str = Field(description="RFC 3339 time of the retirement at the hub.")
    blocks: list[SerialRange] = Field(description="The retired serials (all of the notice's).")


class TransferCompletedNotice(Strict):
    """Serials the platform locked for a transfer are now held at the destination: it finalizes
    the export (those serials never come back, an unlock of them is not to be expected)."""

    transfer_id: str
    destination: str = Field(description="Registry code of the platform now holding the serials.")
    completed_at: str = Field(description="RFC 3339 time the hub completed the transfer.")
    blocks: list[SerialRange] = Field(description="The locked pieces, now exported.")


class NoticeAnswer(Strict):
    result: Literal["ok"]
    received: str = Field(description="The id of the retirement or transfer acknowledged.")


class Refusal(Strict):
    """A 4xx answer: why the platform refuses (the hub records it and does not repeat the call)."""

    error: str | None = Field(default=None, description="The reason, in words.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="A local payload's errors (record, field, reason, code)."
    )


class BlockBatchItem(BlockCall):
    idempotency_key: str = Field(description="This item's own key (as its single call's header).")


class ImportBatchItem(Strict):
    idempotency_key: str
    content_type: str = Field(description="The media type of the local payload.")
    payload_base64: str = Field(description="The local payload (as the single call's body), base64.")


class TransferNoticeBatchItem(TransferCompletedNotice):
    idempotency_key: str = Field(description="This notice's own key (as its single call's header).")


class BlockBatch(Strict):
    items: list[BlockBatchItem]


class TransferNoticeBatch(Strict):
    items: list[TransferNoticeBatchItem]


class ImportBatch(Strict):
    items: list[ImportBatchItem]


class BatchResult(Strict):
    status: int = Field(description="The status the item's single call would have had.")
    body: dict[str, Any] = Field(description="The body the item's single call would have had.")
    idempotency_key: str | None = Field(
        default=None,
        description="The item's key, if named: a result naming another item's key (or a key two "
        "results name) answers nothing for its item (the hub calls it again later, same key).",
    )


class BatchAnswer(Strict):
    results: list[BatchResult] = Field(description="One per item, in the items' order.")


@dataclass(frozen=True)
class Operation:
    """One call the hub makes: its canonical path, where a ClientSpec keeps the region's."""

    id: str
    spec_attr: str
    summary: str
    request: type[BaseModel] | None
    answer: type[BaseModel] | None
    state_changing: bool = True
    local_body: bool = False  # the body is a payload in the platform's own format


OPERATIONS = (
    Operation(
        "pullIssuances",
        "issuances_path",
        "Issuances after a cursor, in the platform's format; the next cursor in a header",
        None,
        None,
        state_changing=False,
    ),
    Operation("lock", "lock_path", "Lock serials of a held block for export", BlockCall, BlockAnswer),
    Operation("unlock", "unlock_path", "Release a lock (a transfer was terminated)", BlockCall, BlockAnswer),
    Operation(
        "credit",
        "import_path",
        "Credit a block arriving from another registry (local format)",
        None,
        CreditAnswer,
        local_body=True,
    ),
    Operation(
        "notifyRetirement",
        "retirement_path",
        "Take a notice that serials it issued were retired",
        RetirementNotice,
        NoticeAnswer,
    ),
    Operation(
        "notifyTransferCompleted",
        "transfer_notice_path",
        "Take a notice that serials it locked were credited at the destination (finalize the export)",
        TransferCompletedNotice,
        NoticeAnswer,
    ),
    Operation(
        "lockBatch",
        "lock_batch_path",
        "Many locks in one request, answered per item",
        BlockBatch,
        BatchAnswer,
    ),
    Operation(
        "unlockBatch",
        "unlock_batch_path",
        "Many unlocks in one request, answered per item",
        BlockBatch,
        BatchAnswer,
    ),
    Operation(
        "creditBatch",
        "import_batch_path",
        "Many credits in one request, answered per item",
        ImportBatch,
        BatchAnswer,
    ),
    Operation(
        "notifyTransferCompletedBatch",
        "transfer_notice_batch_path",
        "Many transfer-completed notices in one request, answered per item",
        TransferNoticeBatch,
        BatchAnswer,
    ),
)

MODELS: tuple[type[BaseModel], ...] = (
    BlockCall,
    BlockAnswer,
    CreditAnswer,
    SerialRange,
    RetirementNotice,
    TransferCompletedNotice,
    NoticeAnswer,
    Refusal,
    BlockBatchItem,
    ImportBatchItem,
    TransferNoticeBatchItem,
    BlockBatch,
    ImportBatch,
    TransferNoticeBatch,
    BatchResult,
    BatchAnswer,
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model)}}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": (
        "32 lowercase hex digits: sha256 of the operation and its object (e.g. lock, the transfer's id "
        "and the serials), truncated. The same key is the same call: answer it as the first time "
        "(status and body), and act once. A batch item carries its key in the item."
    ),
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}


def _responses(operation: Operation) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "Done (or done already under this Idempotency-Key)."}
    if operation.answer is not None:
        ok["content"] = _json(operation.answer)
    else:
        ok["description"] = "A page of issuances in the platform's format."
        ok["headers"] = {
            "Next-Cursor": {"description": "The cursor of the next page", "schema": {"type": "string"}}
        }
    refusal = {"description": "Refused, final: the reason in the body.", "content": _json(Refusal)}
    retry = {"description": "Failed for now: the hub retries with the same key and body."}
    answers: dict[str, Any] = {"200": ok}
    if operation.state_changing:
        answers |= {
            "400": refusal,
            "404": {**refusal, "description": "Unknown block (or, for a batch route: no batch route)."},
            "409": {**refusal, "description": "Refused by the block's state (locked, pledged, retired…)."},
            "422": {**refusal, "description": "A local payload the platform cannot read (its errors)."},
            "429": retry,
            "5XX": retry,
        }
    return answers


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the calls the hub makes to a platform (canonical form)."""
    paths: dict[str, Any] = {}
    for operation in OPERATIONS:
        path = getattr(CANONICAL, operation.spec_attr)
        call: dict[str, Any] = {
            "operationId": operation.id,
            "summary": operation.summary,
            "responses": _responses(operation),
        }
        parameters: list[dict[str, Any]] = []
        if "{block_id}" in path:
            parameters.append(
                {"name": "block_id", "in": "path", "required": True, "schema": {"type": "string"}}
            )
        if operation.state_changing and not operation.id.endswith("Batch"):
            parameters.append(IDEMPOTENCY_KEY)
        if operation.id == "pullIssuances":
            parameters.append(
                {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}}
            )
        if parameters:
            call["parameters"] = parameters
        if operation.request is not None:
            call["requestBody"] = {"required": True, "content": _json(operation.request)}
        elif operation.local_body:
            call["requestBody"] = {
                "required": True,
                "description": "One credit block in the platform's own format (its adapter's media type).",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        paths[path] = {"get" if not operation.state_changing else "post": call}
    schemas = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Puhui platform API: the calls the hub makes to a platform",
            "version": API_VERSION,
            "description": __doc__,
        },
        "x-retryable-statuses": [*sorted(RETRYABLE_STATUSES), "5XX"],
        "paths": paths,
        "webhooks": {
            "logEvent": {
                "post": {
                    "summary": "A log event concerning the platform (recognition decided, transfer moved…), "
                    "Standard Webhooks headers, signed by the hub's key (see docs/log.md)",
                    "responses": {"2XX": {"description": "Received (kept once by webhook-id)."}},
                }
            }
        },
        "components": {"schemas": schemas},
    }


def layout(spec: ClientSpec) -> dict[str, Any]:
    """Where a region keeps each canonical operation, and how it spells each canonical field."""
    return {
        "operations": {op.id: getattr(spec, op.spec_attr) for op in OPERATIONS},
        "cursor": {"param": spec.cursor_param, "header": spec.cursor_header},
        "fields": {name: spec.fields.get(name, name) for name in CANONICAL.fields},
    }


def region_layouts(specs: Mapping[str, ClientSpec]) -> dict[str, Any]:
    return {"canonical": layout(CANONICAL), "regions": {code: layout(specs[code]) for code in sorted(specs)}}


def registered_specs() -> dict[str, ClientSpec]:
    from adapters.base import BaseAdapter
    from adapters.registry import available, get

    return {code: adapter.spec for code in available() if isinstance(adapter := get(code), BaseAdapter)}


def rendered() -> dict[Path, str]:
    """The two documents' text, as written."""
    return {
        DOCUMENT: json.dumps(openapi_document(), ensure_ascii=False, indent=2) + "\n",
        REGIONS: json.dumps(region_layouts(registered_specs()), ensure_ascii=False, indent=2) + "\n",
    }


def main() -> None:
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
