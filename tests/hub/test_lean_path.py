"""The lean signed-request path, tried the ways it could break: one signed request replayed to
another hub process (another engine on the same database), sequentially and racing; expired
single-use identifiers purged while live ones stay; the hub's keys rotated and retired by another
process while this one caches its key set; the rate limit under a burst of concurrent requests."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from hub.app import create_app
from hub.auth.ratelimit import RateLimiter
from hub.auth.repository import AuthRepository
from hub.client import PlatformClient
from hub.database import Database
from hub.keystore import KeyStore
from hub.log.reader import LogReader
from hub.transfers.models import Transfer
from schemas.jws import sign_detached
from tests.hub.conftest import platform_client

BLOCK = "JS-B-2025-000001"
PATH = "/v1/transfers"
ROOT = Path(__file__).resolve().parents[2]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _signed(platform: PlatformClient, transfer_id: str, key: str) -> tuple[bytes, dict[str, str]]:
    """One signed proposal of the fixture's block, exactly as the platform client sends it."""
    body = {
        "transfer_id": transfer_id,
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": [{"block_id": BLOCK, "namespace": "JS"}],
    }
    content = json.dumps(body, separators=(",", ":")).encode()
    headers = {
        **_bearer(platform.access_token()),
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "Puhui-Signature": platform.signature("POST", PATH, content),
    }
    return content, headers


def _second_process(database: Database) -> Database:
    """Another engine on the same database, as a second hub process has."""
    return Database.from_url(database.engine.url.render_as_string(hide_password=False))


def _same_jti(platform: PlatformClient, headers: dict[str, str], content: bytes) -> dict[str, str]:
    """Another body signed under the jti (and time) of ``headers``' signature: a replay, not a retry."""
    encoded = headers["Puhui-Signature"].split(".", 1)[0]
    protected = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    fields = {name: protected[name] for name in ("jti", "iat", "htm", "htu")}
    return {**headers, "Puhui-Signature": sign_detached(content, platform.key, headers=fields)}


def test_a_signed_request_sent_again_to_another_hub_process_is_answered_once(
    hub, database, federation
) -> None:
    """The identical request sent again (to any process) is a retry: the first answer, no second
    effect; another body under the same jti is a replay, refused (1017) in every process."""
    first, settings = hub
    other = _second_process(database)
    try:
        with TestClient(create_app(settings, other), raise_server_exceptions=False) as second:
            jiangsu = platform_client(hub, federation, "js")
            content, headers = _signed(jiangsu, "TR-1", "k-1")
            created = first.post(PATH, content=content, headers=headers)
            assert created.status_code == 201
            resent = second.post(PATH, content=content, headers=headers)
            assert resent.status_code == 200, resent.text  # the transfer of the first request
            assert resent.json()["transfer_id"] == created.json()["transfer_id"]
            forged, _ = _signed(jiangsu, "TR-2", "k-1")
            replayed = _same_jti(jiangsu, headers, forged)
            for process in (second, first):
                refused = process.post(PATH, content=forged, headers=replayed)
                assert (refused.status_code, refused.json()["code"]) == (409, "1017"), refused.text
            with other.unit_of_work() as session:
                assert len(AuthRepository(session).signed_requests("JS", 10)) == 1
            assert first.get("/v1/transfers/TR-2", headers=_bearer(jiangsu.access_token())).status_code == 404
            jiangsu.close()
    finally:
        other.dispose()


def test_one_signed_request_racing_into_two_hub_processes_is_taken_once(hub, database, federation) -> None:
    first, settings = hub
    other = _second_process(database)
    try:
        with TestClient(create_app(settings, other), raise_server_exceptions=False) as second:
            jiangsu = platform_client(hub, federation, "js")
            content, headers = _signed(jiangsu, "TR-1", "k-1")
            start = threading.Barrier(2)

            def send(test_client: TestClient) -> httpx.Response:
                start.wait()
                return test_client.post(PATH, content=content, headers=headers)

            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(send, [first, second]))
            # one runs; the copy waits for it and gets the transfer it made
            assert sorted(answer.status_code for answer in answers) == [200, 201], [a.text for a in answers]
            assert len({answer.json()["transfer_id"] for answer in answers}) == 1
            with other.unit_of_work() as session:
                assert len(AuthRepository(session).signed_requests("JS", 10)) == 1
            jiangsu.close()
    finally:
        other.dispose()


def test_a_nonce_is_taken_once_across_engines_and_only_expired_ones_are_purged(database) -> None:
    other = _second_process(database)
    now = datetime.now(UTC)
    try:
        with database.unit_of_work() as session:
            repository = AuthRepository(session)
            assert repository.consume_nonce("request", "js", "fresh", now + timedelta(minutes=10))
            assert repository.consume_nonce("request", "js", "stale", now - timedelta(minutes=10))
            assert not repository.consume_nonce("request", "js", "fresh", now + timedelta(minutes=10))
            assert repository.consume_nonce("request", "sh", "fresh", now + timedelta(minutes=10))
            assert repository.consume_nonce("assertion", "js", "fresh", now + timedelta(minutes=10))
        with other.unit_of_work() as session:
            repository = AuthRepository(session)
            assert not repository.consume_nonce("request", "js", "fresh", now + timedelta(minutes=10))
            assert not repository.consume_nonce("request", "js", "stale", now + timedelta(minutes=10))
            repository.purge_nonces(now)
        with database.unit_of_work() as session:
            repository = AuthRepository(session)
            assert not repository.consume_nonce("request", "js", "fresh", now + timedelta(minutes=10))
            assert repository.consume_nonce("request", "js", "stale", now + timedelta(minutes=10))
    finally:
        other.dispose()


def _in_another_process(keys_dir: Path, statement: str) -> None:
    code = "from pathlib import Path\nfrom hub.keystore import KeyStore\n"
    code += f"store = KeyStore(Path({str(keys_dir)!r}))\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code + statement], check=True, env=env, cwd=ROOT, timeout=60)


def _kid(token: str) -> str:
    protected = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))["kid"])


def test_keys_rotated_and_retired_by_another_process_reach_this_ones_cached_key_set(
    client: TestClient, as_client, settings
) -> None:
    keys_dir = settings.resolved_keys_dir
    before = as_client("js").access_token()
    assert client.get("/v1/platforms", headers=_bearer(before)).status_code == 200  # the key set is cached
    old = _kid(before)
    _in_another_process(keys_dir, "print(store.generate().kid)")
    after = as_client("js").access_token()
    assert _kid(after) != old  # this process signs with the key the other one activated
    assert client.get("/v1/platforms", headers=_bearer(after)).status_code == 200  # and verifies it
    assert client.get("/v1/platforms", headers=_bearer(before)).status_code == 200  # the old one too
    _in_another_process(keys_dir, f"store.retire({old!r})")
    refused = client.get("/v1/platforms", headers=_bearer(before))
    assert refused.status_code == 401
    assert refused.json()["code"] == "1031"
    assert client.get("/v1/platforms", headers=_bearer(after)).status_code == 200
    assert old not in {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
    assert KeyStore(keys_dir).active().kid == _kid(after)


def _away_from_a_minute_boundary(margin: float = 5.0) -> None:
    """The limit is per fixed minute: start a burst where it cannot straddle two of them."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)


def test_the_rate_limit_is_not_exceeded_by_a_burst_of_concurrent_requests(
    database, settings, federation
) -> None:
    limit, burst = 10, 48
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": limit}), database)
    with TestClient(app) as test_client:
        jiangsu = PlatformClient.from_credentials(federation / "js.json", transport=test_client._transport)
        token = jiangsu.access_token()
        jiangsu.close()

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as hub:
            return await asyncio.gather(
                *[hub.get("/v1/platforms", headers=_bearer(token)) for _ in range(burst)]
            )

    _away_from_a_minute_boundary()
    answers = asyncio.run(send_all())
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == limit
    assert statuses.count(429) == burst - limit
    for refused in (answer for answer in answers if answer.status_code == 429):
        assert refused.json()["code"] == "1034"
        assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_the_rate_limiter_counts_every_hit_of_many_threads_exactly() -> None:
    limiter, moment = RateLimiter(per_minute=500), 1_800_000_000.0  # a minute's first second
    answers: list[int | None] = []
    lock = threading.Lock()

    def hammer() -> None:
        mine = [limiter.hit("js", moment) for _ in range(100)]
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(None) == 500
    assert set(answers) - {None} == {60}  # refused ones wait for the next minute
    assert limiter.hit("sh", moment) is None  # clients are counted apart
    assert limiter.hit("js", moment + 60) is None  # a new minute starts afresh


@pytest.mark.parametrize(
    ("second", "retry"),
    [pytest.param(0.0, 60, id="first-second"), pytest.param(59.5, 1, id="last-half-second")],
)
def test_retry_after_counts_the_seconds_left_in_the_minute(second: float, retry: int) -> None:
    limiter = RateLimiter(per_minute=1)
    moment = 1_800_000_000.0 + second
    assert limiter.hit("js", moment) is None
    assert limiter.hit("js", moment) == retry


def _revoked(platform: PlatformClient) -> str:
    token = platform.access_token()
    platform.revoke()
    return token


def _bad_signature(platform: PlatformClient, content: bytes) -> str:
    return platform.signature("POST", PATH, content + b" ")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        pytest.param("revoked-token-and-no-signature", 401, "1032", id="token-before-signature"),
        pytest.param("suspended-client", 401, "2003", id="suspended"),
        pytest.param("no-scope-and-no-signature", 403, "1033", id="scope-before-signature"),
        pytest.param("no-signature", 401, "1016", id="unsigned"),
        pytest.param("signature-over-other-bytes", 401, "1011", id="bad-signature"),
        pytest.param("signed-for-another-path", 401, "1019", id="other-path"),
    ],
)
def test_a_proposal_run_in_one_hop_refuses_in_the_usual_order_and_changes_nothing(
    hub, database, federation, case: str, status: int, code: str
) -> None:
    test_client, _ = hub
    jiangsu = platform_client(hub, federation, "js")
    content, headers = _signed(jiangsu, "TR-1", "k-1")
    if case == "revoked-token-and-no-signature":
        headers = {**headers, **_bearer(_revoked(platform_client(hub, federation, "js")))}
        del headers["Puhui-Signature"]
    elif case == "suspended-client":  # as another process would: only the database knows
        with database.unit_of_work() as session:
            session.execute(text("UPDATE oauth_client SET status = 'suspended' WHERE platform_code = 'JS'"))
    elif case == "no-scope-and-no-signature":
        headers = {**headers, **_bearer(platform_client(hub, federation, "admin-1").access_token())}
        del headers["Puhui-Signature"]
    elif case == "no-signature":
        del headers["Puhui-Signature"]
    elif case == "signature-over-other-bytes":
        headers["Puhui-Signature"] = _bad_signature(jiangsu, content)
    elif case == "signed-for-another-path":
        headers["Puhui-Signature"] = jiangsu.signature("POST", "/v1/transfers/TR-1/cancel", content)
    _refused_leaving_nothing(test_client, database, PATH, content, headers, status=status, code=code)
    with database.unit_of_work() as session:
        assert session.get(Transfer, "TR-1") is None
    jiangsu.close()


def _recorded(database: Database) -> tuple[int, int]:
    """The log's size and the signed requests recorded of Jiangsu."""
    with database.unit_of_work() as session:
        return LogReader(session).size(), len(AuthRepository(session).signed_requests("JS", 100))


def _refused_leaving_nothing(
    test_client: TestClient,
    database: Database,
    path: str,
    content: bytes,
    headers: dict[str, str],
    *,
    status: int,
    code: str,
) -> None:
    """The request is refused with ``status`` and ``code``, without a receipt, and neither the log
    nor the recorded signed requests grow."""
    before = _recorded(database)
    refused = test_client.post(path, content=content, headers=headers)
    assert refused.status_code == status, refused.text
    assert refused.json()["code"] == code
    assert "puhui-receipt" not in refused.headers
    assert _recorded(database) == before


def test_a_proposal_takes_one_thread_pool_hop_and_answers_with_its_receipt(hub, federation) -> None:
    """Structure, not time: every blocking step of a proposal runs in one worker-thread call."""
    test_client, _ = hub
    jiangsu = platform_client(hub, federation, "js")
    content, headers = _signed(jiangsu, "TR-1", "k-1")
    original, hops = anyio.to_thread.run_sync, []

    async def counted(*args, **kwargs):
        hops.append(args[0])
        return await original(*args, **kwargs)

    anyio.to_thread.run_sync = counted
    try:
        accepted = test_client.post(PATH, content=content, headers=headers)
    finally:
        anyio.to_thread.run_sync = original
    assert accepted.status_code == 201, accepted.text
    assert len(hops) == 1
    receipt = jiangsu.get(f"/v1/receipts/{accepted.headers['puhui-receipt']}")
    assert receipt["path"] == PATH
    jiangsu.close()


BATCHES = "/v1/transfer-batches"


def _signed_batch(platform: PlatformClient, transfer_id: str, key: str) -> tuple[bytes, dict[str, str]]:
    """A signed batch of one proposal of the fixture's block."""
    content, headers = _signed(platform, transfer_id, key)
    batch = json.dumps({"transfers": [json.loads(content)]}, separators=(",", ":")).encode()
    return batch, {**headers, "Puhui-Signature": platform.signature("POST", BATCHES, batch)}


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        pytest.param("revoked-token-and-no-signature", 401, "1032", id="token-before-signature"),
        pytest.param("no-scope-and-no-signature", 403, "1033", id="scope-before-signature"),
        pytest.param("no-signature", 401, "1016", id="unsigned"),
        pytest.param("signature-over-other-bytes", 401, "1011", id="bad-signature"),
        pytest.param("signed-for-the-single-path", 401, "1019", id="other-path"),
        pytest.param("replayed-jti-other-body", 409, "1017", id="replay"),
    ],
)
def test_a_batch_checks_token_scope_and_signature_in_one_dependency_in_the_usual_order(
    hub, database, federation, case: str, status: int, code: str
) -> None:
    """The batch route's one dependency (``signed_caller``) refuses as the three it replaces did,
    and a refused batch leaves nothing behind (no transfer, no log entry, no recorded request)."""
    test_client, _ = hub
    jiangsu = platform_client(hub, federation, "js")
    content, headers = _signed_batch(jiangsu, "TR-1", "k-1")
    if case == "revoked-token-and-no-signature":
        headers = {**headers, **_bearer(_revoked(platform_client(hub, federation, "js")))}
        del headers["Puhui-Signature"]
    elif case == "no-scope-and-no-signature":
        headers = {**headers, **_bearer(platform_client(hub, federation, "admin-1").access_token())}
        del headers["Puhui-Signature"]
    elif case == "no-signature":
        del headers["Puhui-Signature"]
    elif case == "signature-over-other-bytes":
        headers["Puhui-Signature"] = jiangsu.signature("POST", BATCHES, content + b" ")
    elif case == "signed-for-the-single-path":
        headers["Puhui-Signature"] = jiangsu.signature("POST", PATH, content)
    elif case == "replayed-jti-other-body":
        first = test_client.post(BATCHES, content=content, headers=headers)
        assert first.status_code == 201, first.text
        content, _ = _signed_batch(jiangsu, "TR-2", "k-2")
        headers = {**_same_jti(jiangsu, headers, content), "Idempotency-Key": "k-2"}
    _refused_leaving_nothing(test_client, database, BATCHES, content, headers, status=status, code=code)
    with database.unit_of_work() as session:
        assert session.get(Transfer, "TR-2") is None
        assert (session.get(Transfer, "TR-1") is not None) == (case == "replayed-jti-other-body")
    jiangsu.close()


def test_a_batch_answers_with_its_receipt(hub, federation) -> None:
    test_client, _ = hub
    jiangsu = platform_client(hub, federation, "js")
    content, headers = _signed_batch(jiangsu, "TR-1", "k-1")
    accepted = test_client.post(BATCHES, content=content, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert jiangsu.get(f"/v1/receipts/{accepted.headers['puhui-receipt']}")["path"] == BATCHES
    again = test_client.post(BATCHES, content=content, headers=headers)  # the identical request: a retry
    assert again.status_code == 200, again.text
    assert again.json() == accepted.json()
    jiangsu.close()


def test_signed_proposals_beyond_the_rate_limit_are_refused_before_anything_is_recorded(
    hub, database, federation
) -> None:
    """A burst of distinct signed proposals of one block: exactly ``limit`` get past the rate
    limit (the one dependency counts each request once) — one takes the block, the others are
    refused by the route's checks — and the rest are 429 and record no signed request."""
    limit, burst = 4, 12
    app = create_app(hub[1].model_copy(update={"rate_limit_per_minute": limit}), database)
    with TestClient(app) as test_client:
        jiangsu = PlatformClient.from_credentials(federation / "js.json", transport=test_client._transport)
        token = jiangsu.access_token()
        requests = [_signed(jiangsu, f"TR-{n}", f"k-{n}") for n in range(burst)]
        jiangsu.close()
    with database.unit_of_work() as session:
        recorded = len(AuthRepository(session).signed_requests("JS", 100))

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as hub:
            return await asyncio.gather(
                *[
                    hub.post(PATH, content=content, headers={**headers, **_bearer(token)})
                    for content, headers in requests
                ]
            )

    _away_from_a_minute_boundary()
    answers = asyncio.run(send_all())
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(refused) == burst - limit
    assert {answer.json()["code"] for answer in refused} == {"1034"}
    assert all("puhui-receipt" not in answer.headers for answer in refused)
    passed = sorted(answer.status_code for answer in answers if answer.status_code != 429)
    assert passed == [201] + [422] * (limit - 1), [answer.text for answer in answers]
    with database.unit_of_work() as session:
        assert len(AuthRepository(session).signed_requests("JS", 100)) == recorded + 1  # refused: rolled back


def test_the_proposals_document_every_refusal_of_their_one_dependency(hub) -> None:
    """``hub.openapi`` derives a route's problems from its dependencies: the proposals' one
    dependency is documented as the token, scope and signature checks it replaces."""
    test_client, _ = hub
    paths = test_client.get("/openapi.json").json()["paths"]
    problems = {"400", "401", "403", "404", "409", "413", "422", "429"}
    for path in (PATH, BATCHES):
        assert (
            set(paths[path]["post"]["responses"])
            == {"200", "201"} & set(paths[path]["post"]["responses"]) | problems
        ), path
    assert set(paths[PATH]["post"]["responses"]) - {"200", "201"} == set(
        paths["/v1/transfers/{transfer_id}/cancel"]["post"]["responses"]
    ) - {"200", "201"}
