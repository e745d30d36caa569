"""Safe retries on every state-changing route (hub.idempotency): the same request sent again
under its Idempotency-Key — its first answer lost — gets that answer and changes nothing more;
the same key with another body is refused (422, 6004) and changes nothing; two copies racing get
one effect (a copy that arrives while the first runs is told to retry: 409, 6005); and no
state-changing route is left out."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.client import PlatformClient, Refused
from hub.database import Database
from hub.idempotency.route import IDEMPOTENT
from hub.settings import Settings
from tests.hub.conftest import example

AsClient = Callable[[str], PlatformClient]
KUNSHAN = "kunshan-pv-for-shanghai-ets"
# routes with idempotency of their own (keyed by their records), and dry runs that change nothing
OWN_OR_NONE = {
    ("POST", "/v1/transfers"), ("POST", "/v1/transfer-batches"), ("POST", "/v1/dedup/check"),
    ("POST", "/v1/rulesets/evaluate"), ("POST", "/v1/schemas/{name}/validate"),
}  # fmt: skip


def test_every_state_changing_route_is_safe_to_retry(settings: Settings, database: Database) -> None:
    app = create_app(settings, database)
    routes = [
        (context.path_format or context.original_route.path_format, context.original_route)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
    ]
    changing = {
        (method, path, getattr(route.endpoint, IDEMPOTENT, False))
        for path, route in routes
        for method in route.methods
        if method in {"POST", "PUT", "PATCH", "DELETE"} and path.startswith("/v1/")
    }
    left_out = {(method, path) for method, path, kept in changing if not kept} - OWN_OR_NONE
    assert left_out == set()
    assert len(changing) > 20


@dataclass(frozen=True)
class Call:
    name: str
    caller: str
    method: str
    path: str
    body: dict[str, Any]
    other: dict[str, Any] = field(default_factory=dict)  # another body under the same key


def _retirement(retirement_id: str, start: int, end: int) -> dict[str, Any]:
    return {
        "retirement_id": retirement_id, "registry": "JS",
        "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS", "start": start, "end": end,
                    "quantity": end - start + 1, "unit": "tCO2e"}],
        "quantity": end - start + 1, "unit": "tCO2e",
        "purpose": {"kind": "voluntary-neutralization", "event": "a conference"},
        "beneficiary": {"registry": "JS", "account_id": "JS-A-EVENT-1"},
    }  # fmt: skip


CALLS = [
    Call(name="retirement", caller="js", method="POST", path="/v1/retirements",
         body=_retirement("RT-R1", 100301, 100310), other=_retirement("RT-R1", 100311, 100320)),
    Call(name="pledge", caller="js", method="POST", path="/v1/blocks/JS-B-2025-000001/pledge",
         body={"reason": "loan 1"}, other={"reason": "loan 2"}),
    Call(name="recognition", caller="js", method="POST", path="/v1/recognitions",
         body={"request": example("recognition-request", KUNSHAN), "verified_emissions": 20000},
         other={"request": example("recognition-request", KUNSHAN), "verified_emissions": 30000}),
    Call(name="operator", caller="admin-1", method="POST", path="/v1/operators",
         body={"username": "retry-op", "region": "SH"}, other={"username": "retry-op", "region": "JS"}),
    Call(name="webhook", caller="js", method="PUT", path="/v1/platforms/JS/webhook",
         body={"url": "https://js.example/hooks"}, other={"url": "https://js.example/other"}),
]  # fmt: skip


def _send(caller: PlatformClient, call: Call, body: dict[str, Any], key: str) -> Any:
    return caller.request(call.method, call.path, json_body=body, headers={"Idempotency-Key": key})


def _log_size(client: TestClient) -> int:
    return int(client.get("/v1/log/tree-head").json()["tree_size"])


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.name)
def test_a_retry_after_a_lost_answer_has_one_effect(
    call: Call, client: TestClient, jiangsu: PlatformClient, as_client: AsClient
) -> None:
    caller = as_client(call.caller)
    key = f"retry-{uuid.uuid4()}"
    before = _log_size(client)
    first = _send(caller, call, call.body, key)  # its answer is "lost": the client sends again
    after_first = _log_size(client)
    assert after_first > before
    again = _send(caller, call, call.body, key)
    assert again.status_code == first.status_code and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _log_size(client) == after_first  # nothing happened again
    with pytest.raises(Refused) as reused:
        _send(caller, call, call.other, key)
    assert (reused.value.status, reused.value.code) == (422, "6004")
    assert _log_size(client) == after_first


def test_the_same_key_of_another_client_is_another_key(
    client: TestClient, jiangsu: PlatformClient, as_client: AsClient
) -> None:
    """Keys are per client: Shanghai's key never answers with Jiangsu's stored answer."""
    key = "shared-key"
    mine = jiangsu.request("PUT", "/v1/platforms/JS/webhook", json_body={"url": "https://js.example/a"},
                           headers={"Idempotency-Key": key})  # fmt: skip
    theirs = as_client("sh").request("PUT", "/v1/platforms/SH/webhook", json_body={"url": "https://sh.example/a"},
                                     headers={"Idempotency-Key": key})  # fmt: skip
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["code"] == "SH" and mine.json()["code"] == "JS"


def test_racing_copies_get_one_answer_and_one_effect(
    client: TestClient, jiangsu: PlatformClient, as_client: AsClient
) -> None:
    key = f"race-{uuid.uuid4()}"
    body = _retirement("RT-RACE", 100321, 100330)
    before = _log_size(client)
    answers: list[Any] = []
    busy: list[Refused] = []
    errors: list[BaseException] = []

    def send() -> None:
        # one client per thread, over the app's shared transport, left open (closing a client
        # closes the transport under the other threads)
        platform = PlatformClient.from_credentials(_credentials(jiangsu), transport=client._transport)
        try:
            headers = {"Idempotency-Key": key}
            answers.append(platform.request("POST", "/v1/retirements", json_body=body, headers=headers))
        except Refused as refused:  # a copy arriving while the first runs is told so
            busy.append(refused)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {(refused.status, refused.code) for refused in busy} <= {(409, "6005")}  # PostgreSQL only
    done = [answer.text for answer in answers]
    assert done and {answer.status_code for answer in answers} == {201} and len(set(done)) == 1
    later = jiangsu.request("POST", "/v1/retirements", json_body=body, headers={"Idempotency-Key": key})
    assert later.text == done[0]  # and once the first is done, every copy gets its answer
    assert _log_size(client) == before + 1


def _credentials(platform: PlatformClient) -> dict[str, Any]:
    return {
        "client_id": platform.client_id,
        "private_jwk": platform.key.private_jwk(),
        "token_endpoint": platform.token_endpoint,
        "issuer": platform.base_url,
    }


def test_an_unkeyed_unsigned_request_is_not_kept(
    client: TestClient, jiangsu: PlatformClient, as_client: AsClient
) -> None:
    """An operator's unsigned request without a key: nothing to key it by, so nothing stored."""
    pending = jiangsu.post("/v1/recognitions", CALLS[2].body)
    operator = as_client("operator-sh")
    token = operator.access_token()
    decided = client.post(
        f"/v1/recognitions/{pending['id']}/decision",
        json={"decision": "approve", "reason": "meets the rules"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert decided.status_code == 200 and "Idempotent-Replayed" not in decided.headers
    again = client.post(
        f"/v1/recognitions/{pending['id']}/decision",
        json={"decision": "approve", "reason": "meets the rules"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.status_code == 409  # decided already: the request ran again, and was refused
