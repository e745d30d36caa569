"""The platform API as a specification: the written documents are current, well-formed, and each
sandbox serves exactly the operations its region's layout names — no more, no fewer."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from adapters.client import RETRYABLE_STATUSES, ClientSpec
from adapters.platform_api import (
    CANONICAL,
    OPERATIONS,
    openapi_document,
    region_layouts,
    registered_specs,
    rendered,
)
from adapters.registry import available
from adapters.sandbox import create_sandbox


def test_the_written_documents_are_current() -> None:
    for path, text in rendered().items():
        assert path.read_text("utf-8") == text, f"{path.name} is stale: python -m adapters.platform_api"


def test_the_document_is_openapi_3_1_whose_references_resolve() -> None:
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    schemas = document["components"]["schemas"]
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    text = json.dumps(document)
    for name in re.findall(r'"#/components/schemas/([^"]+)"', text):
        assert name in schemas, name
    assert {op.id for op in OPERATIONS} == {
        call["operationId"] for item in document["paths"].values() for call in item.values()
    }


def _each_item_carries_a_key(document: dict, body: dict) -> bool:
    """A batch body: ``items`` whose schema requires each item's ``idempotency_key``."""
    schemas = document["components"]["schemas"]
    reference = body.get("application/json", {}).get("schema", {}).get("$ref", "")
    batch = schemas.get(reference.rpartition("/")[2], {})
    item_reference = batch.get("properties", {}).get("items", {}).get("items", {}).get("$ref", "")
    item = schemas.get(item_reference.rpartition("/")[2], {})
    return "items" in batch.get("required", []) and "idempotency_key" in item.get("required", [])


def test_every_state_changing_call_takes_an_idempotency_key_and_says_what_is_retried() -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, call in item.items():
            if method == "get":
                continue
            names = {p["name"] for p in call.get("parameters", [])}
            body = call["requestBody"]["content"]
            carries_key = "Idempotency-Key" in names or _each_item_carries_a_key(document, body)
            assert carries_key, path
            assert {"429", "5XX"} <= set(call["responses"]), path
    assert document["x-retryable-statuses"] == [*sorted(RETRYABLE_STATUSES), "5XX"]


@pytest.mark.parametrize("code", sorted(available()))
def test_each_sandbox_serves_exactly_its_regions_layout(code: str) -> None:
    layout = region_layouts(registered_specs())["regions"][code]
    app = create_sandbox(code)
    served = {
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", set()) - {"HEAD"}
        if not route.path.startswith("/_sandbox") and route.path not in ("/webhooks", "/openapi.json")
    }
    wanted = {
        ("GET" if operation == "pullIssuances" else "POST", path)
        for operation, path in layout["operations"].items()
        if path is not None
    }
    assert served == wanted


def test_the_canonical_layout_names_every_operation_under_puhui_v1() -> None:
    for operation in OPERATIONS:
        assert getattr(CANONICAL, operation.spec_attr).startswith("/puhui/v1/")
    spec: ClientSpec = CANONICAL
    assert spec.name("transfer_id") == "transfer_id"


# (the platform's status, whether the hub tries the call again)
STATUSES = [
    pytest.param(400, False, id="400-refused"),
    pytest.param(404, False, id="404-refused"),
    pytest.param(409, False, id="409-refused"),
    pytest.param(422, False, id="422-refused"),
    pytest.param(408, True, id="408-retried"),
    pytest.param(425, True, id="425-retried"),
    pytest.param(429, True, id="429-retried"),
    pytest.param(500, True, id="500-retried"),
    pytest.param(503, True, id="503-retried"),
]


@pytest.mark.parametrize(("status", "retried"), STATUSES)
def test_the_hub_retries_exactly_the_statuses_the_specification_names(status: int, retried: bool) -> None:
    import httpx

    from adapters.contract import PlatformAPIError, PlatformRefused, PlatformUnreachable
    from adapters.registry import get

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": "no"})

    client = get("JS").client("http://platform", httpx.MockTransport(answer))
    notice = {
        "transfer_id": "T",
        "destination": "SH",
        "completed_at": "2026-01-01T00:00:00+00:00",
        "blocks": [],
    }
    with pytest.raises(PlatformAPIError) as failed:
        client.notify_transfer_completed(notice)
    assert failed.value.retryable is retried
    assert isinstance(failed.value, PlatformUnreachable if retried else PlatformRefused)
    batch = client.lock_many([({"block_id": "B", "serial_start": 1, "serial_end": 1, "quantity": 1}, "k")])
    if status not in (404, 405, 501):  # those mean "no batch route": single calls follow
        assert [outcome.retryable for outcome in batch if outcome is not None] == [retried]
