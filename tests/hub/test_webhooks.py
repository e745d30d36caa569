"""Signed webhooks (Standard Webhooks, v1a/Ed25519) from the outbox: retries with backoff, stable
ids, dead letters, re-sending; delivery failures mocked with respx."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from hub.keystore import KeyStore
from hub.log.webhooks import WebhookWorker
from schemas.jwk import JWKSet

HOOK = "https://js.example/hooks/puhui"


def _verify(request: httpx.Request, jwks: dict) -> dict:
    """What a receiver does: check the Standard Webhooks v1a signature with the hub's JWKS."""
    msg_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    scheme, signature = request.headers["webhook-signature"].split(",", 1)
    assert scheme == "v1a"
    key = JWKSet.from_dict(jwks).get(request.headers["webhook-key-id"])
    assert key is not None
    assert key.verify(base64.b64decode(signature), f"{msg_id}.{timestamp}.".encode() + request.content)
    event = json.loads(request.content)
    assert event["event_id"] == msg_id
    return event


@pytest.fixture
def worker(database, settings) -> WebhookWorker:
    return WebhookWorker(database, KeyStore(settings.resolved_keys_dir), settings)


def _subscribe(as_client) -> None:
    as_client("js").put("/v1/platforms/JS/webhook", {"url": HOOK})


def test_a_receiver_failing_twice_gets_each_event_once_by_id_with_a_valid_signature(
    client, as_client, worker
) -> None:
    jwks = client.get("/.well-known/jwks.json").json()
    _subscribe(as_client)  # the subscription event itself is delivered too
    received: dict[str, int] = {}
    answers = iter([500, 503])

    def receiver(request: httpx.Request) -> httpx.Response:
        event = _verify(request, jwks)
        status = next(answers, 200)
        if status == 200:
            received[event["event_id"]] = received.get(event["event_id"], 0) + 1
        return httpx.Response(status)

    now = datetime.now(UTC)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(HOOK).mock(side_effect=receiver)
        assert worker.run_once(now) == 0
        assert worker.run_once(now) == 0  # not due yet: backing off
        assert worker.run_once(now + timedelta(seconds=6)) == 0
        assert worker.run_once(now + timedelta(seconds=30)) == 1
        assert worker.run_once(now + timedelta(hours=1)) == 0  # delivered: never again
    assert route.call_count == 3
    ids = {call.request.headers["webhook-id"] for call in route.calls}
    assert len(ids) == 1
    assert received == {ids.pop(): 1}
    deliveries = as_client("js").get("/v1/webhooks/deliveries")
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 3)]


def test_after_the_last_attempt_a_delivery_is_dead_until_an_operator_resends_it(
    client, as_client, worker, settings
) -> None:
    _subscribe(as_client)
    now = datetime.now(UTC)
    with respx.mock() as mock:
        mock.post(HOOK).mock(side_effect=httpx.ConnectError("refused"))
        for attempt in range(settings.webhook_max_attempts):
            worker.run_once(now + timedelta(days=attempt))
    dead = as_client("js").get("/v1/webhooks/deliveries", status="dead")
    assert len(dead) == 1
    assert "ConnectError" in dead[0]["last_error"]
    operator = as_client("operator-js")
    resent = operator.post(f"/v1/webhooks/deliveries/{dead[0]['log_index']}/JS/redeliver", {})
    assert resent["status"] == "pending"
    with respx.mock() as mock:
        route = mock.post(HOOK).mock(return_value=httpx.Response(204))
        assert worker.run_once(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert route.calls[0].request.headers["webhook-id"] == dead[0]["event_id"]


def test_only_subscribed_recipients_get_deliveries(client, as_client, worker) -> None:
    _subscribe(as_client)
    as_client("sh").put(
        "/v1/platforms/SH/jwks",
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]},
    )
    with respx.mock() as mock:
        route = mock.post(HOOK).mock(return_value=httpx.Response(200))
        worker.run_once(datetime.now(UTC))
    events = [json.loads(call.request.content)["type"] for call in route.calls]
    assert events == ["platform.webhook_set"]
    assert as_client("sh").get("/v1/webhooks/deliveries") == []


def test_a_platform_may_not_set_anothers_webhook(as_client) -> None:
    from hub.client import PermissionDenied

    with pytest.raises(PermissionDenied):
        as_client("js").put("/v1/platforms/SH/webhook", {"url": HOOK})


def test_end_to_end_delivery_to_the_sandbox_platform(database, settings, federation) -> None:
    from fastapi.testclient import TestClient

    from hub.app import create_app
    from hub.client import PlatformClient

    demo = settings.model_copy(update={"demo": True})
    with TestClient(create_app(demo, database)) as hub:
        jwks = hub.get("/.well-known/jwks.json").json()
        hub.post("/sandbox/js/_sandbox/webhook-failures", json={"count": 2})
        jiangsu = PlatformClient.from_credentials(federation / "js.json", transport=hub._transport)
        jiangsu.put("/v1/platforms/JS/webhook", {"url": "http://127.0.0.1:8000/sandbox/js/webhooks"})
        worker = WebhookWorker(database, KeyStore(demo.resolved_keys_dir), demo, transport=hub._transport)
        now = datetime.now(UTC)
        for minutes in (0, 1, 2, 3):
            worker.run_once(now + timedelta(minutes=minutes))
        received = hub.get("/sandbox/js/_sandbox/webhooks").json()
        assert [json.loads(item["body"])["type"] for item in received] == ["platform.webhook_set"]
        request = httpx.Request(
            "POST", "http://sandbox", content=received[0]["body"].encode(), headers=received[0]["headers"]
        )
        _verify(request, jwks)
        assert jiangsu.get("/v1/webhooks/deliveries")[0]["attempts"] == 3
        jiangsu.close()
        kept = worker.client  # one client for the worker's rounds, not one per round
        assert kept is not None and not kept.is_closed
        worker.run_once(now + timedelta(minutes=10))
        assert worker.client is kept
        worker.close()
        assert kept.is_closed and worker.client is None


def test_an_idle_round_builds_no_client(worker) -> None:
    assert worker.run_once(datetime.now(UTC) + timedelta(days=1)) == 0
    assert worker.client is None


@pytest.mark.parametrize(
    "url",
    ["https://js.example/" + "a" * 490, "https://js.example/" + "é" * 100],  # é is stored as %C3%A9
    ids=["long", "longer-once-normalized"],
)
def test_a_webhook_url_longer_than_its_column_is_refused(as_client, url: str) -> None:
    """The URL as stored (normalized: percent-encoded, punycode) fits ``platform.webhook_url``
    (500 characters) or is refused with 1002 — not a 500 from PostgreSQL's VARCHAR(500), nor kept
    whole by SQLite; the webhook set before stays."""
    from hub.client import Refused

    jiangsu = as_client("js")
    jiangsu.put("/v1/platforms/JS/webhook", {"url": HOOK})
    with pytest.raises(Refused) as refused:
        jiangsu.put("/v1/platforms/JS/webhook", {"url": url})
    assert refused.value.status == 422
    assert [(e["pointer"], e["code"]) for e in refused.value.problem["errors"]] == [("/url", "1002")]
    assert jiangsu.get("/v1/platforms/JS")["webhook_url"] == HOOK
    longest = "https://js.example/" + "a" * (500 - len("https://js.example/"))
    assert jiangsu.put("/v1/platforms/JS/webhook", {"url": longest})["webhook_url"] == longest
