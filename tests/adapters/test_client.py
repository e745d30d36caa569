"""The platform clients with single httpx calls mocked (respx): requests in local terms, and every
failure mapped into the one PlatformAPIError family."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from adapters.client import idempotency_key_for
from adapters.contract import (
    PlatformAPIError,
    PlatformMalformedAnswer,
    PlatformRefused,
    PlatformUnreachable,
)
from tests.adapters.support import ADAPTERS, PSEUDONYMIZER

BASE = "https://platform.example.test"
SH = ADAPTERS["SH"]
JS = ADAPTERS["JS"]
BLOCK = {
    "block_id": "SH-B-2025-000101",
    "serial_start": 200001,
    "serial_end": 200120,
    "quantity": 120,
}
RETIREMENT = {
    "retirement_id": "RET-2026-0001",
    "registry": "SH",
    "blocks": [
        {
            "block_id": "JS-B-2025-000001",
            "namespace": "JS",
            "start": 100001,
            "end": 100100,
            "quantity": 100,
            "unit": "tCO2e",
        }
    ],
    "quantity": 100,
    "unit": "tCO2e",
    "purpose": {"kind": "charitable-retirement"},
    "beneficiary": {"registry": "SH", "account_id": "SH-A-1"},
    "retired_at": "2026-03-01T10:00:00+08:00",
    "origin_notified": False,
}


def fixture_bytes(adapter, name: str) -> bytes:
    return next(f for f in adapter.fixtures() if f.name == name).read()


@pytest.fixture
def sh():
    with SH.client(BASE, pseudonymizer=PSEUDONYMIZER) as client:
        yield client


@respx.mock
def test_issuances_since_a_cursor_parse_the_local_page(sh) -> None:
    route = respx.get(f"{BASE}/api/v1/issuances", params={"since": "7"}).respond(
        200,
        content=fixture_bytes(SH, "good/credits-2026-01.json"),
        headers={"Content-Type": "application/json", "X-Next-Cursor": "8"},
    )
    result, cursor = sh.issuances_since("7")
    assert route.called and cursor == "8"
    assert [b["block_id"] for b in result.blocks] == [
        "SH-B-2025-000101",
        "SH-B-2025-000102",
        "SH-B-2024-000077",
    ]


@respx.mock
def test_the_first_page_is_asked_without_a_cursor(sh) -> None:
    route = respx.get(f"{BASE}/api/v1/issuances").respond(
        200, content=SH.render_many([]), headers={"X-Next-Cursor": "0"}
    )
    result, cursor = sh.issuances_since(None)
    assert route.calls.last.request.url.query == b"" and len(result) == 0 and cursor == "0"


@respx.mock
def test_a_page_without_a_cursor_is_a_malformed_answer(sh) -> None:
    respx.get(f"{BASE}/api/v1/issuances").respond(200, content=SH.render_many([]))
    with pytest.raises(PlatformMalformedAnswer, match="X-Next-Cursor"):
        sh.issuances_since(None)


@respx.mock
def test_a_page_that_does_not_parse_is_a_malformed_answer_with_the_errors(sh) -> None:
    respx.get(f"{BASE}/api/v1/issuances").respond(
        200,
        content=fixture_bytes(SH, "broken/negative-amount.json"),
        headers={"X-Next-Cursor": "1", "Content-Type": "application/json"},
    )
    with pytest.raises(PlatformMalformedAnswer) as caught:
        sh.issuances_since(None)
    assert [(e.field, e.code) for e in caught.value.errors] == [("减排量(吨)", "3006")]


@respx.mock
def test_a_page_in_another_format_is_a_malformed_answer(sh) -> None:
    respx.get(f"{BASE}/api/v1/issuances").respond(
        200, text="<html>maintenance</html>", headers={"X-Next-Cursor": "1", "Content-Type": "text/html"}
    )
    with pytest.raises(PlatformMalformedAnswer):
        sh.issuances_since(None)


def test_fetching_issuances_needs_a_pseudonymizer() -> None:
    with SH.client(BASE) as client, pytest.raises(ValueError, match="pseudonymizer"):
        client.issuances_since(None)


@respx.mock
def test_lock_sends_the_block_in_local_terms_with_the_idempotency_key(sh) -> None:
    route = respx.post(f"{BASE}/api/v1/blocks/SH-B-2025-000101/freeze").respond(200, json={"result": "ok"})
    key = idempotency_key_for("lock", "TR-2026-0001")
    sh.lock(BLOCK, idempotency_key=key)
    sh.lock(BLOCK)
    first, second = route.calls
    assert json.loads(first.request.content) == {
        "签发编号": "SH-B-2025-000101",
        "序列号起": 200001,
        "序列号止": 200120,
        "减排量(吨)": 120,
    }
    assert first.request.headers["Idempotency-Key"] == key
    assert "Idempotency-Key" not in second.request.headers


@respx.mock
def test_unlock_has_its_own_path(sh) -> None:
    unlock = respx.post(f"{BASE}/api/v1/blocks/SH-B-2025-000101/unfreeze").respond(200, json={})
    sh.unlock(BLOCK, idempotency_key=idempotency_key_for("unlock", "TR-2026-0001"))
    assert unlock.calls.last.request.headers["Idempotency-Key"] != idempotency_key_for("lock", "TR-2026-0001")


@respx.mock
def test_credit_import_posts_the_rendered_local_payload() -> None:
    block = JS.parse(fixture_bytes(JS, "good/credits-2025.csv"), pseudonymizer=PSEUDONYMIZER).blocks[0]
    route = respx.post(f"{BASE}/openapi/credits/import").respond(200, json={"result": "ok"})
    with JS.client(BASE) as client:
        client.credit_import(block)
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "text/csv; charset=gbk"
    assert request.content == JS.render(block)


@respx.mock
def test_retirement_notice_in_local_terms(sh) -> None:
    route = respx.post(f"{BASE}/api/v1/retirement-notices").respond(200, json={"result": "ok"})
    sh.notify_retirement(RETIREMENT)
    assert route.calls.last.request.headers["Idempotency-Key"] == idempotency_key_for(
        "retirement", "RET-2026-0001"
    )
    body = json.loads(route.calls.last.request.content)
    assert body["注销编号"] == "RET-2026-0001" and body["注销用途"] == "charitable-retirement"
    assert body["注销序列号段"] == [
        {"签发编号": "JS-B-2025-000001", "序列号起": 100001, "序列号止": 100100, "减排量(吨)": 100}
    ]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(503, text="busy"), PlatformUnreachable),
        (httpx.Response(500, json={"error": "boom"}), PlatformUnreachable),
        (httpx.ConnectError("connection refused"), PlatformUnreachable),
        (httpx.ReadTimeout("timed out"), PlatformUnreachable),
        (httpx.Response(409, json={"error": "block is 质押"}), PlatformRefused),
        (httpx.Response(404, text="no such block"), PlatformRefused),
        (httpx.Response(200, text="OK"), PlatformMalformedAnswer),
        (httpx.Response(200, json=["ok"]), PlatformMalformedAnswer),
        (httpx.Response(302, headers={"Location": "/login"}), PlatformMalformedAnswer),
    ],
)
@respx.mock
def test_every_failure_is_one_error_family(sh, answer, error) -> None:
    route = respx.post(f"{BASE}/api/v1/blocks/SH-B-2025-000101/freeze")
    if isinstance(answer, Exception):
        route.side_effect = answer
    else:
        route.return_value = answer
    with pytest.raises(error) as caught:
        sh.lock(BLOCK)
    assert isinstance(caught.value, PlatformAPIError) and caught.value.platform == "SH"
    assert caught.value.retryable is (error is PlatformUnreachable)


@respx.mock
def test_a_refusal_carries_status_and_body(sh) -> None:
    respx.post(f"{BASE}/api/v1/blocks/SH-B-2025-000101/freeze").respond(409, json={"error": "already locked"})
    with pytest.raises(PlatformRefused) as caught:
        sh.lock(BLOCK)
    assert caught.value.status == 409 and caught.value.body == {"error": "already locked"}
