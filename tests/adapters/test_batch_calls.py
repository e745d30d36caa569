"""Batch calls of the platform clients against every sandbox: many locks, unlocks, credits and
transfer-completed notices in one request, each answered as its single call would be; and the same
through a transport that answers 404 to the batch routes (a platform without them), where the
client falls back to single calls."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.contract import (
    CREDIT_BLOCK,
    BatchNoticeAPI,
    BatchPlatformAPI,
    PlatformMalformedAnswer,
    PlatformRefused,
    PlatformUnreachable,
    RenderError,
)
from adapters.sandbox import create_sandbox
from tests.adapters.support import ADAPTERS, PSEUDONYMIZER

BLOCK_PLATFORMS = sorted(code for code, a in ADAPTERS.items() if CREDIT_BLOCK in a.record_kinds)


class Counting(httpx.BaseTransport):
    """Passes requests to ``inner``, counting them by path; answers 404 to ``missing`` paths (a
    platform without those routes), fails ``failing`` paths as unreachable and refuses
    ``refusing`` ones as a whole (422: a platform whose batch route validates every item first)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        missing: set[str] = frozenset(),
        failing: set[str] = frozenset(),
        refusing: set[str] = frozenset(),
    ):
        self.inner, self.missing, self.failing = inner, set(missing), set(failing)
        self.refusing = set(refusing)
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path in self.failing:
            raise httpx.ConnectError("the platform is down", request=request)
        if request.url.path in self.missing:
            return httpx.Response(404, json={"detail": "Not Found"})
        if request.url.path in self.refusing:
            return httpx.Response(422, json={"detail": [{"loc": ["body", "items", 2], "msg": "unknown"}]})
        return self.inner.handle_request(request)


class Platform:
    def __init__(
        self,
        code: str,
        *,
        batch_routes: bool = True,
        failing: set[str] = frozenset(),
        refusing: set[str] = frozenset(),
    ) -> None:
        self.adapter = ADAPTERS[code]
        spec = self.adapter.spec
        self.http = TestClient(create_sandbox(code))
        batch = {
            spec.lock_batch_path,
            spec.unlock_batch_path,
            spec.import_batch_path,
            spec.transfer_notice_batch_path,
        } - {None}
        self.transport = Counting(self.http._transport, set() if batch_routes else batch, failing, refusing)
        self.client = self.adapter.client("http://sandbox", self.transport, pseudonymizer=PSEUDONYMIZER)

    def state(self) -> dict:
        return self.http.get("/_sandbox/state").json()

    def held(self) -> list[dict]:
        result, _ = self.client.issuances_since(None)
        return [r for r in result.blocks if r["status"] == "held"]


@pytest.fixture(params=[True, False], ids=["batch-routes", "no-batch-routes"])
def routes(request) -> bool:
    return request.param


@pytest.fixture(params=BLOCK_PLATFORMS)
def platform(request, routes) -> Iterator[Platform]:
    found = Platform(request.param, batch_routes=routes)
    yield found
    found.client.close()


def test_every_client_offers_batch_calls(platform: Platform) -> None:
    assert isinstance(platform.client, BatchPlatformAPI) and isinstance(platform.client, BatchNoticeAPI)
    spec = platform.adapter.spec
    paths = (spec.lock_batch_path, spec.unlock_batch_path, spec.import_batch_path)
    assert None not in (*paths, spec.transfer_notice_batch_path)


def _notice(block: dict, transfer_id: str) -> dict:
    return {
        "transfer_id": transfer_id,
        "destination": "SH",
        "completed_at": "2026-12-01T00:00:00Z",
        "blocks": [block],
    }


def test_a_batch_of_transfer_notices_is_answered_per_notice_and_replayed_by_key(
    platform: Platform, routes: bool
) -> None:
    block = next(b for b in platform.held() if b["serial_end"] > b["serial_start"])
    first = block["serial_start"]
    locked = {**block, "serial_end": first, "quantity": 1}  # its first serial, locked alone
    left = {**block, "serial_start": first + 1, "quantity": block["serial_end"] - first}
    assert platform.client.lock_many([(locked, "lock-it")]) == [None]
    unknown = {**locked, "block_id": "NO-SUCH-BLOCK"}
    calls = [
        (_notice(locked, "TR-1"), "notice-1"),
        (_notice(left, "TR-2"), "notice-2"),  # held, never locked: not to be finalized
        (_notice(unknown, "TR-3"), "notice-3"),
    ]
    outcomes = platform.client.notify_transfer_completed_many(calls)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], PlatformRefused) and outcomes[1].status == 409
    assert isinstance(outcomes[2], PlatformRefused) and outcomes[2].status == 404
    pieces = platform.state()["blocks"]
    root = block["block_id"]
    assert pieces[f"{root}:{first}-{first}"] == "exported"
    assert pieces[f"{root}:{first + 1}-{block['serial_end']}"] == "held"
    again = platform.client.notify_transfer_completed_many(calls)  # the same keys: the same answers
    assert again[0] is None
    assert [(o.status, o.body) for o in again[1:] if isinstance(o, PlatformRefused)] == [
        (o.status, o.body) for o in outcomes[1:] if isinstance(o, PlatformRefused)
    ]
    assert platform.state()["transfer_notices"] == ["TR-1"]  # taken once
    path = platform.adapter.spec.transfer_notice_batch_path
    sent = [p for p in platform.transport.paths if p == path]
    assert sent == ([path] * 2 if routes else [path])  # without the route: asked once, then singly
    assert (path in platform.client.lacking) is not routes
    assert platform.client.notify_transfer_completed_many([]) == []


def test_a_lock_batch_answered_with_no_json_is_raised_not_read_as_outcomes() -> None:
    """Unlike a notice batch (tried again), a lock batch's unreadable answer is raised, as ever:
    the transfer worker records it as a fault of the round's calls, tried again until the deadline."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>ok</html>")

    client = ADAPTERS["JS"].client("http://sandbox", httpx.MockTransport(answer))
    block = {"block_id": "B", "serial_start": 1, "serial_end": 2, "quantity": 2}
    with pytest.raises(PlatformMalformedAnswer):
        client.lock_many([(block, "k1"), (block, "k2")])
    notice = {
        "transfer_id": "T",
        "destination": "SH",
        "completed_at": "2026-12-01T00:00:00Z",
        "blocks": [block],
    }
    outcomes = client.notify_transfer_completed_many([(notice, "k3")])
    assert isinstance(outcomes[0], PlatformUnreachable) and outcomes[0].retryable


def test_a_batch_of_locks_is_answered_per_block_and_replayed_by_key(platform: Platform, routes: bool) -> None:
    held = platform.held()
    unknown = {**held[0], "block_id": "NO-SUCH-BLOCK"}
    calls = [(block, f"lock-{block['block_id']}") for block in held] + [(unknown, "lock-unknown")]
    outcomes = platform.client.lock_many(calls)
    assert outcomes[:-1] == [None] * len(held)
    assert isinstance(outcomes[-1], PlatformRefused) and outcomes[-1].status == 404
    assert {platform.state()["blocks"][b["block_id"]] for b in held} == {"locked"}
    assert platform.client.lock_many(calls[:-1]) == [None] * len(held)  # the same keys: replayed
    again = platform.client.lock_many([(held[0], "another-transfer")])
    assert isinstance(again[0], PlatformRefused) and again[0].status == 409
    assert platform.client.unlock_many([(b, f"unlock-{b['block_id']}") for b in held]) == [None] * len(held)
    assert {platform.state()["blocks"][b["block_id"]] for b in held} == {"held"}
    batch_paths = {platform.adapter.spec.lock_batch_path, platform.adapter.spec.unlock_batch_path}
    sent = [path for path in platform.transport.paths if path in batch_paths]
    if routes:
        assert len(sent) == 4  # one request per batch
    else:
        assert sent == [platform.adapter.spec.lock_batch_path, platform.adapter.spec.unlock_batch_path]
        assert set(platform.client.lacking) == batch_paths  # asked once each, then single calls


def test_a_batch_of_credits_fails_only_the_block_that_cannot_be_taken(routes: bool) -> None:
    origin = Platform("JS")
    blocks = origin.held()
    target = Platform("SH", batch_routes=routes)
    arriving = [
        {
            **b,
            "current_registry": "SH",
            "status": "imported",
            "holder": {"registry": "SH", "account_id": "SH-A-1"},
        }
        for b in blocks
    ]
    calls = [(block, f"credit-{block['block_id']}") for block in arriving]
    outcomes = target.client.credit_import_many(calls)
    assert outcomes == [None] * len(calls)
    assert target.client.credit_import_many(calls) == [None] * len(calls)  # replayed by key
    again = target.client.credit_import_many([(arriving[0], "another-credit")])
    assert isinstance(again[0], PlatformRefused) and again[0].status == 409  # held there already
    assert sorted(target.state()["imports"]) == sorted(b["block_id"] for b in blocks)
    ccer = Platform("CCER", batch_routes=routes)  # takes only the units it issued: fails per block
    refused = ccer.client.credit_import_many(calls)
    assert all(isinstance(outcome, RenderError | PlatformRefused) for outcome in refused)


def test_an_unreachable_platform_fails_every_call_of_the_batch_retryably() -> None:
    spec = ADAPTERS["JS"].spec
    platform = Platform("JS", failing={spec.lock_batch_path})
    held = platform.held()
    outcomes = platform.client.lock_many([(b, f"k-{b['block_id']}") for b in held])
    assert all(isinstance(o, PlatformUnreachable) and o.retryable for o in outcomes)
    assert {platform.state()["blocks"][b["block_id"]] for b in held} == {"held"}


def test_a_batch_refused_as_a_whole_is_asked_call_by_call_each_answered_alone() -> None:
    """Finding: a batch route's refusal of the whole request (a 422 of a platform that validates
    every item first and refuses the batch for one it cannot take) was every call's answer — the
    round's locks refused for good (their transfers terminated), the round's notices refused for
    good — though no call but one was refused. No item's answer, it is asked call by call now, as
    a 413 is: each call answered on its own, and the batch route asked again next time."""
    spec = ADAPTERS["JS"].spec
    platform = Platform("JS", refusing={spec.lock_batch_path, spec.transfer_notice_batch_path})
    held = platform.held()[:2]
    unknown = {**held[0], "block_id": "NO-SUCH-BLOCK"}
    calls = [(held[0], "k-1"), (held[1], "k-2"), (unknown, "k-3")]
    outcomes = platform.client.lock_many(calls)
    assert outcomes[:2] == [None, None]
    assert isinstance(outcomes[2], PlatformRefused) and outcomes[2].status == 404
    assert {platform.state()["blocks"][b["block_id"]] for b in held} == {"locked"}
    notices = [(_notice(block, f"TR-{n}"), f"n-{n}") for n, (block, _) in enumerate(calls)]
    told = platform.client.notify_transfer_completed_many(notices)
    assert told[:2] == [None, None]
    assert isinstance(told[2], PlatformRefused) and told[2].status == 404
    assert platform.state()["transfer_notices"] == ["TR-0", "TR-1"]
    assert not platform.client.lacking  # not taken for a platform without the routes
    assert platform.transport.paths.count(spec.lock_path.format(block_id="NO-SUCH-BLOCK")) == 1


def test_a_platform_that_gains_its_batch_route_is_asked_it_again_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding: a batch route answered 404 once was remembered as lacking for the client's life —
    since the workers keep their clients, for the hub's: a platform deploying its batch route
    later (or whose proxy answered one 404 during a deploy) was called once per item until the
    hub restarted. It is asked again after ``ASK_AGAIN`` seconds."""
    import time

    from adapters.client import ASK_AGAIN

    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    spec = ADAPTERS["JS"].spec
    platform = Platform("JS", batch_routes=False)
    held = platform.held()
    calls = [(block, f"k-{block['block_id']}") for block in held[:2]]
    assert platform.client.lock_many(calls[:1]) == [None]  # 404: told by a single call
    platform.transport.missing.clear()  # the platform deploys its batch route
    assert platform.client.lock_many(calls[1:]) == [None]  # not asked yet: a single call
    assert platform.transport.paths.count(spec.lock_batch_path) == 1
    now[0] += ASK_AGAIN + 1
    platform.transport.paths.clear()
    assert platform.client.lock_many(calls) == [None, None]  # replayed by key, in one batch
    assert platform.transport.paths == [spec.lock_batch_path]
    assert not platform.client.lacking


def test_a_malformed_batch_is_refused_by_the_sandbox() -> None:
    platform = Platform("JS")
    spec = platform.adapter.spec
    assert platform.http.post(spec.lock_batch_path, json={"not": "items"}).status_code == 400
    answer = platform.http.post(spec.import_batch_path, json={"items": [{"payload_base64": "***"}]}).json()
    assert answer["results"][0]["status"] == 400
