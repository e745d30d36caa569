"""Protocol tests: each adapter's client against its platform sandbox (in-process ASGI transport)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from adapters.contract import CREDIT_BLOCK, PlatformRefused
from adapters.sandbox import create_sandbox
from adapters.sandbox.__main__ import main
from tests.adapters.support import ADAPTERS, PSEUDONYMIZER

RETIREMENT = {
    "retirement_id": "RET-2026-0042",
    "registry": "SH",
    "blocks": [
        {"block_id": "X-1", "namespace": "SH", "start": 1, "end": 10, "quantity": 10, "unit": "tCO2e"}
    ],
    "quantity": 10,
    "unit": "tCO2e",
    "purpose": {"kind": "voluntary-neutralization", "event": "demo conference (demonstration)"},
    "beneficiary": {"registry": "SH", "account_id": "SH-A-9"},
    "retired_at": "2026-03-01T10:00:00+08:00",
    "origin_notified": False,
}


class Platform:
    def __init__(self, code: str) -> None:
        self.adapter = ADAPTERS[code]
        self.http = TestClient(create_sandbox(code))
        self.client = self.adapter.client("http://sandbox", self.http._transport, pseudonymizer=PSEUDONYMIZER)

    def state(self) -> dict:
        return self.http.get("/_sandbox/state").json()

    def issued(self) -> list:
        cursor, records = None, []
        while True:
            result, following = self.client.issuances_since(cursor)
            records.extend(result.records())
            if following == cursor:
                return records
            cursor = following


@pytest.fixture(params=sorted(ADAPTERS))
def platform(request) -> Iterator[Platform]:
    found = Platform(request.param)
    yield found
    found.client.close()


def test_issuances_page_through_every_good_fixture(platform: Platform) -> None:
    expected = [
        record
        for fixture in platform.adapter.fixtures()
        if fixture.good
        for record in platform.adapter.parse(fixture.read(), pseudonymizer=PSEUDONYMIZER).records()
    ]
    assert platform.issued() == expected
    result, cursor = platform.client.issuances_since("99")
    assert len(result) == 0 and cursor == "99"


def test_new_issuances_appear_after_the_last_cursor(platform: Platform) -> None:
    pages = platform.state()["pages"]
    fixture = next(f for f in platform.adapter.fixtures() if f.good)
    assert platform.http.post("/_sandbox/issuances", content=b"not the format").status_code == 422
    if CREDIT_BLOCK in platform.adapter.record_kinds:
        assert platform.http.post("/_sandbox/issuances", content=fixture.read()).status_code == 409
    else:
        assert platform.http.post("/_sandbox/issuances", content=fixture.read()).json() == {
            "cursor": str(pages)
        }
        result, _ = platform.client.issuances_since(str(pages))
        assert len(result) > 0


BLOCK_PLATFORMS = sorted(code for code, a in ADAPTERS.items() if CREDIT_BLOCK in a.record_kinds)


@pytest.mark.parametrize("code", BLOCK_PLATFORMS)
def test_lock_and_unlock_a_block(code: str) -> None:
    platform = Platform(code)
    block = next(r for k, r in platform.issued() if k == CREDIT_BLOCK and r["status"] == "held")
    platform.client.lock(block, idempotency_key="TR-1:lock")
    assert platform.state()["blocks"][block["block_id"]] == "locked"
    platform.client.lock(block, idempotency_key="TR-1:lock")  # a retry gets the first answer
    with pytest.raises(PlatformRefused) as caught:
        platform.client.lock(block, idempotency_key="TR-2:lock")  # another transfer: already locked
    assert caught.value.status == 409
    with pytest.raises(PlatformRefused):
        platform.client.unlock({**block, "serial_end": block["serial_end"] + 1})
    platform.client.unlock(block, idempotency_key="TR-1:unlock")
    assert platform.state()["blocks"][block["block_id"]] == "held"
    with pytest.raises(PlatformRefused):
        platform.client.unlock(block)
    platform.client.lock(block, idempotency_key="TR-3:lock")
    assert platform.state()["blocks"][block["block_id"]] == "locked"


def test_an_unknown_block_is_refused(platform: Platform) -> None:
    with pytest.raises(PlatformRefused) as caught:
        platform.client.lock({"block_id": "NO-SUCH-BLOCK", "serial_start": 1, "serial_end": 1, "quantity": 1})
    assert caught.value.status == 404


def test_a_pledged_anhui_block_cannot_be_locked() -> None:
    anhui = Platform("AH")
    pledged = next(r for k, r in anhui.issued() if k == CREDIT_BLOCK and r["status"] == "encumbered")
    with pytest.raises(PlatformRefused) as caught:
        anhui.client.lock(pledged)
    assert caught.value.status == 409 and "质押" in caught.value.body["error"]


@pytest.mark.parametrize("destination", ["SH", "AH"])
def test_a_jiangsu_block_is_credited_at_the_destination(destination: str) -> None:
    origin = Platform("JS")
    block = next(r for k, r in origin.issued() if k == CREDIT_BLOCK)
    arriving = {**block, "current_registry": destination, "status": "imported"}
    arriving["holder"] = {"registry": destination, "account_id": f"{destination}-A-IMPORT-1"}
    target = Platform(destination)
    target.client.credit_import(arriving, idempotency_key="TR-9:credit")
    target.client.credit_import(arriving, idempotency_key="TR-9:credit")  # retried: answered once
    state = target.state()
    assert state["imports"] == [block["block_id"]] and state["blocks"][block["block_id"]] == "imported"
    with pytest.raises(PlatformRefused) as caught:
        target.client.credit_import(arriving, idempotency_key="TR-10:credit")
    assert caught.value.status == 409


def test_a_block_cannot_be_imported_where_it_is_already_held() -> None:
    origin = Platform("JS")
    block = next(r for k, r in origin.issued() if k == CREDIT_BLOCK)
    with pytest.raises(PlatformRefused) as caught:
        origin.client.credit_import(block)
    assert caught.value.status == 409


def test_a_payload_that_does_not_parse_is_refused_with_the_local_errors() -> None:
    target = Platform("SH")
    answer = target.http.post("/api/v1/imports", content=b"{}", headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["code"] == "1044"


def test_retirement_notices_are_taken(platform: Platform) -> None:
    platform.client.notify_retirement(RETIREMENT)
    platform.client.notify_retirement(RETIREMENT)
    assert platform.state()["retirements"] == ["RET-2026-0042"]


def test_a_bad_cursor_is_refused() -> None:
    sandbox = Platform("SH")
    with pytest.raises(PlatformRefused) as caught:
        sandbox.client.issuances_since("last-week")
    assert caught.value.status == 400


def test_the_command_line_names_the_platforms(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "CCER" in capsys.readouterr().out


@pytest.mark.parametrize("code", sorted(ADAPTERS))
def test_a_body_that_is_not_json_is_refused_on_every_route(code: str) -> None:
    """Finding: every JSON route of the sandboxes answered a body that is not JSON with 500 — a
    platform failing, which the hub tries again — where the platform API has it refused (400).
    The sandboxes are the reference the platforms are checked against."""
    spec = ADAPTERS[code].spec
    http = TestClient(create_sandbox(code), raise_server_exceptions=False)
    routes = [
        spec.lock_path.format(block_id="X-1"),
        spec.unlock_path.format(block_id="X-1"),
        spec.retirement_path,
        spec.transfer_notice_path,
        *(p for p in (spec.lock_batch_path, spec.unlock_batch_path, spec.import_batch_path) if p),
        *([spec.transfer_notice_batch_path] if spec.transfer_notice_batch_path else []),
    ]
    for route in routes:
        for body in (b"<html>", b"[" * 100_000, b'{"count": "many"}'):
            answer = http.post(route, content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 400 or (body.startswith(b"{") and answer.status_code < 500), (
                route,
                body[:10],
                answer.status_code,
            )
    for route in ("/_sandbox/notice-failures", "/_sandbox/webhook-failures"):  # the test controls
        assert http.post(route, json={"count": "many"}).status_code == 400
        assert http.post(route, content=b"<html>").status_code < 500
