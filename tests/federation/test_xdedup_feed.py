"""The claim feed between peered hubs (cross-hub deduplication): a suspended peer is neither
pulled nor served, the feed answers registered hubs only, claims of a registry the peering does not
name are refused (4010); hostile, malformed, foreign and misdirected feed answers store nothing
(each with its code). Both hubs on both backends (tests/federation)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.client.errors import PermissionDenied
from hub.keystore import KeyStore
from hub.peering.requests import HUB_SIGNATURE_HEADER, sign_hub_request
from hub.platforms.models import PlatformCreate, PlatformKind
from hub.platforms.service import PlatformService
from hub.xdedup.endpoints import FEED_PATH
from hub.xdedup.worker import ClaimPuller
from tests.federation.two_hubs import GD_ORIGIN, YRD_ORIGIN, Hub, TwoHubs
from tests.federation.xdedup import (
    CONFLICT,
    cursor_of,
    ingest,
    kunshan_at_gd,
    line11,
    peer_claims,
    share_federation_key,
    sync,
)

# -- who is pulled, and what is stored from whom --------------------------------------------------


def feed_requests(hubs: TwoHubs, to: Hub) -> int:
    return sum(1 for _, host, path in hubs.network.sent if host == to.host and path.endswith(FEED_PATH))


def test_a_suspended_peer_is_neither_pulled_nor_served(federated: TwoHubs) -> None:
    admin = federated.yrd.as_client("admin-1")
    (peer,) = admin.get("/v1/peers")
    admin.post(f"/v1/peers/{peer['id']}/suspend", {})
    ingest(federated.gd, "GD", kunshan_at_gd(owner="ab" * 32))
    sync(federated)
    assert feed_requests(federated, federated.gd) == 0  # YRD does not pull GD
    assert peer_claims(federated.yrd, GD_ORIGIN) == ([], [])
    assert peer_claims(federated.gd, YRD_ORIGIN) == ([], [])  # nor serves it: 403, 2020
    cursor = cursor_of(federated.gd, YRD_ORIGIN)
    assert cursor is not None and (cursor.last_code, cursor.log_index, cursor.failures) == ("2020", -1, 1)
    admin.post(f"/v1/peers/{peer['id']}/reactivate", {})
    sync(federated)
    assert peer_claims(federated.yrd, GD_ORIGIN)[0] == [f"@{GD_ORIGIN}/GD-B-1"]
    assert peer_claims(federated.gd, YRD_ORIGIN)[0] == [f"@{YRD_ORIGIN}/JS-B-2025-000001"]
    cursor = cursor_of(federated.gd, YRD_ORIGIN)
    assert cursor is not None and (cursor.last_code, cursor.failures) == (None, 0)


def test_the_feed_answers_registered_hubs_only(federated: TwoHubs, tmp_path: Path) -> None:
    body = {"after": None, "limit": 10}
    stranger = KeyStore(tmp_path / "stranger")

    def signed(keystore: KeyStore, issuer: str) -> str:
        return sign_hub_request(
            body, keystore, issuer=issuer, audience=GD_ORIGIN, method="POST", path=FEED_PATH
        )

    cases = [
        ("no signature", None, (401, "1060")),
        ("an unregistered hub", signed(stranger, "x.hub.test/log"), (401, "1061")),
        ("the YRD hub's name with another key", signed(stranger, YRD_ORIGIN), (401, "1012")),
        ("the YRD hub", signed(federated.yrd.keystore, YRD_ORIGIN), (200, None)),
    ]
    for name, signature, expected in cases:
        headers = {"content-type": "application/json"}
        if signature is not None:
            headers[HUB_SIGNATURE_HEADER] = signature
        response = federated.gd.client.post(FEED_PATH, content=json.dumps(body), headers=headers)
        answer = response.json()
        assert (response.status_code, answer.get("code")) == expected, name
    assert answer["origin"] == GD_ORIGIN and HUB_SIGNATURE_HEADER in response.headers


def test_claims_of_a_registry_the_peering_does_not_name_are_refused_with_4010(federated: TwoHubs) -> None:
    with federated.gd.database.unit_of_work() as session:  # GD's hub starts serving Shenzhen
        PlatformService(session).register(
            PlatformCreate(
                code="SZ", name="Shenzhen (test)", name_zh="深圳（测试）", region="CN-GD",
                kind=PlatformKind.MUNICIPAL, api_base_url="http://127.0.0.1:8102/sandbox/sz",
                demonstration=True, scopes=[],
            ),
            actor="test",
        )  # fmt: skip
    ingest(federated.gd, "GD", kunshan_at_gd(owner="ab" * 32))
    ingest(federated.gd, "SZ", line11("SZ", "SZ-PB-1"))
    sync(federated)
    # YRD's peering says GD's hub serves GD only: the page naming SZ is refused whole
    assert peer_claims(federated.yrd, GD_ORIGIN) == ([], [])
    cursor = cursor_of(federated.yrd, GD_ORIGIN)
    assert cursor is not None and cursor.last_code == "4010" and "SZ" in (cursor.last_error or "")
    assert (cursor.log_index, cursor.position) == (-1, -1)
    (status,) = federated.yrd.as_client("admin-1").get("/v1/claim-feeds")
    assert (status["peer"], status["last_code"], status["after"]) == (GD_ORIGIN, "4010", None)
    with pytest.raises(PermissionDenied):  # administrators only
        federated.yrd.as_client("js").get("/v1/claim-feeds")
    admin = federated.yrd.as_client("admin-1")  # the administrators register it afresh
    (peer,) = admin.get("/v1/peers")
    admin.delete(f"/v1/peers/{peer['id']}")
    federated.register(federated.yrd, federated.gd)
    sync(federated)
    blocks, activities = peer_claims(federated.yrd, GD_ORIGIN)
    assert blocks == [f"@{GD_ORIGIN}/GD-B-1"] and len(activities) > 0
    (status,) = admin.get("/v1/claim-feeds")  # what the administrators see
    assert (status["peer"], status["peer_status"], status["last_code"], status["failures"]) == (
        GD_ORIGIN, "active", None, 0,
    )  # fmt: skip
    assert (status["issuance_claims"], status["activity_claims"]) == (1, len(activities))


# -- hostile, malformed, foreign answers store nothing --------------------------------------------

Change = Callable[[bytes, str | None], tuple[bytes, str | None]]


class Tamper(httpx.BaseTransport):
    """The hubs' network, with the claim-feed answers of ``host`` rewritten by ``change``."""

    def __init__(self, network: httpx.BaseTransport, host: str) -> None:
        self.network = network
        self.host = host
        self.change: Change | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.network.handle_request(request)
        if self.change is None or request.url.netloc.decode() != self.host:
            return response
        if not request.url.path.endswith(FEED_PATH):
            return response
        content, signature = self.change(response.read(), response.headers.get(HUB_SIGNATURE_HEADER))
        headers = {"content-type": "application/json"}
        if signature is not None:
            headers[HUB_SIGNATURE_HEADER] = signature
        return httpx.Response(response.status_code, headers=headers, content=content)


def _claims_of(header: str) -> dict[str, Any]:
    encoded = header.split(".", 1)[0]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return claims


def resigned(keystore: KeyStore, edit: Callable[[dict[str, Any]], None], **override: str) -> Change:
    """The answer edited by ``edit``, then signed with ``keystore`` (the signed claims of the
    original but for ``override``)."""

    def change(content: bytes, signature: str | None) -> tuple[bytes, str | None]:
        answer = json.loads(content)
        edit(answer)
        claims = {**_claims_of(signature or ""), **override}
        token = sign_hub_request(
            answer, keystore, issuer=claims["iss"], audience=claims["aud"], method=claims["htm"],
            path=claims["htu"], jti=claims["jti"],
        )  # fmt: skip
        return json.dumps(answer).encode(), token

    return change


def edited(edit: Callable[[dict[str, Any]], None]) -> Change:
    """The answer edited, its signature kept."""

    def change(content: bytes, signature: str | None) -> tuple[bytes, str | None]:
        answer = json.loads(content)
        edit(answer)
        return json.dumps(answer).encode(), signature

    return change


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(answer: dict[str, Any]) -> None:
        target: Any = answer
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


def _nothing(answer: dict[str, Any]) -> None:
    return None


def _reverse(answer: dict[str, Any]) -> None:
    answer["claims"].reverse()
    answer["next"] = {k: answer["claims"][-1][k] for k in ("log_index", "position")}


@dataclass(frozen=True)
class Hostile:
    name: str
    change: Callable[[KeyStore, KeyStore], Change]  # (the GD hub's keystore, a stranger's)
    code: str


HOSTILE = [
    Hostile("no signature", lambda gd, other: lambda content, _: (content, None), "1060"),
    Hostile("a claim changed under the peer's signature",
            lambda gd, other: edited(_set("claims", 0, "fingerprint", value="0" * 64)), "1011"),
    Hostile("signed by a key the peering does not list", lambda gd, other: resigned(other, _nothing), "1012"),
    Hostile("signed as another hub", lambda gd, other: resigned(gd, _nothing, iss="x.hub.test/log"), "1061"),
    Hostile("signed for another hub", lambda gd, other: resigned(gd, _nothing, aud="x.hub.test/log"), "1062"),
    Hostile("the answer to another request",
            lambda gd, other: resigned(gd, _nothing, jti="other-jti"), "1019"),
    Hostile("signed for another path",
            lambda gd, other: resigned(gd, _nothing, htu="/federation/v1/hello"), "1019"),
    Hostile("a claim of a registry the peering does not name",
            lambda gd, other: resigned(gd, _set("claims", 0, "registry", value="SZ")), "4010"),
    Hostile("a claim of a registry this hub serves",
            lambda gd, other: resigned(gd, _set("claims", 0, "registry", value="JS")), "4010"),
    Hostile("a raw identifier beside the pseudonym",
            lambda gd, other: resigned(gd, _set("claims", 1, "phone", value="13800000000")), "4011"),
    Hostile("a subject that is no pseudonym",
            lambda gd, other: resigned(gd, _set("claims", 1, "subject", value="13800000000")), "4011"),
    Hostile("a reversed period", lambda gd, other: resigned(
        gd, _set("claims", 0, "period", value={"start": "2025-12-31", "end": "2025-01-01"})), "4011"),
    Hostile("claims out of order", lambda gd, other: resigned(gd, _reverse), "4011"),
    Hostile("a cursor past the claims served",
            lambda gd, other: resigned(gd, _set("next", "log_index", value=10**9)), "4011"),
    Hostile("another hub's origin",
            lambda gd, other: resigned(gd, _set("origin", value="x.hub.test/log")), "4011"),
    Hostile("no claims member", lambda gd, other: resigned(gd, lambda a: a.pop("claims")), "4011"),
    Hostile("not JSON", lambda gd, other: lambda content, sig: (b"{not json", sig), "1001"),
    Hostile("another federation key",
            lambda gd, other: resigned(gd, _set("key_check", value="0" * 64)), "4012"),
]  # fmt: skip


def test_hostile_malformed_and_foreign_feed_answers_store_nothing(peered: TwoHubs, tmp_path: Path) -> None:
    share_federation_key(peered)
    ingest(peered.gd, "GD", kunshan_at_gd(owner="ab" * 32))
    ingest(peered.gd, "GD", line11("GD", "GD-PB-1"))
    tamper = Tamper(peered.network, peered.gd.host)
    puller = ClaimPuller(peered.yrd.database, peered.yrd.keystore, peered.yrd.settings, tamper, page=10)
    stranger = KeyStore(tmp_path / "stranger")
    stranger.active()
    clock = datetime.now(UTC)
    for row in HOSTILE:
        tamper.change = row.change(peered.gd.keystore, stranger)
        clock += timedelta(days=1)
        assert puller.run_once(clock) == 0, row.name
        cursor = cursor_of(peered.yrd, GD_ORIGIN)
        assert cursor is not None
        assert cursor.last_code == row.code, (row.name, cursor.last_error)
        assert (cursor.log_index, cursor.position, cursor.claims) == (-1, -1, 0), row.name
        assert peer_claims(peered.yrd, GD_ORIGIN) == ([], []), row.name
    assert peered.yrd.logged(CONFLICT) == []
    tamper.change = None  # the answers as GD's hub sent them: stored
    assert puller.run_once(clock + timedelta(days=1)) > 0
    blocks, activities = peer_claims(peered.yrd, GD_ORIGIN)
    assert blocks == [f"@{GD_ORIGIN}/GD-B-1"] and len(activities) > 0
