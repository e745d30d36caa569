"""Deduplication across peered hubs: each hub pulls the other's claim feed (project fingerprints
and periods, pseudonymous personal activities) and refuses a local ingest that collides with a
claim of the other hub's registries (4001, 4002, naming the hub); a collision accepted on both
sides before a sync is recorded (4013, 4014); hostile, malformed, foreign and misdirected feed
answers store nothing (each with its code). Both hubs on both backends (tests/federation)."""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from hub.client.errors import PermissionDenied, Refused
from hub.keystore import KeyStore, replace_private_file
from hub.peering.requests import HUB_SIGNATURE_HEADER, sign_hub_request
from hub.platforms.models import PlatformCreate, PlatformKind
from hub.platforms.service import PlatformService
from hub.registry.federation_key import federation_key
from hub.registry.ingest import BatchRefused, IngestService, Records
from hub.registry.models import IssuanceClaim, PersonalActivity
from hub.xdedup.endpoints import FEED_PATH
from hub.xdedup.intake import ClaimIntake
from hub.xdedup.models import ClaimFeedEntry, PeerClaimCursor
from hub.xdedup.worker import ClaimPuller
from tests.federation.two_hubs import GD_ORIGIN, YRD_ORIGIN, Hub, TwoHubs
from tests.hub.conftest import example

CONFLICT = "dedup.cross_hub_conflict"


# -- the hubs, their pullers, their records ------------------------------------------------------


def share_federation_key(hubs: TwoHubs) -> None:
    """Both hubs pseudonymize with the YRD hub's federation key (a federation has one key)."""
    key = federation_key(hubs.yrd.settings.resolved_federation_key_file)
    replace_private_file(hubs.gd.settings.resolved_federation_key_file, key.hex())


def add_pullers(hubs: TwoHubs, transport: httpx.BaseTransport | None = None) -> dict[str, ClaimPuller]:
    pullers = {}
    for hub in hubs.hubs():
        puller = ClaimPuller(hub.database, hub.keystore, hub.settings, transport or hubs.network, page=2)
        hubs.add_worker(puller.run_once)
        pullers[hub.name] = puller
    return pullers


_DAYS = itertools.count(1)


def sync(hubs: TwoHubs) -> None:
    """Run both hubs' workers until idle, on a clock past every earlier pull's lease."""
    hubs.drain(start=datetime.now(UTC) + timedelta(days=next(_DAYS)))


@pytest.fixture
def federated(peered: TwoHubs) -> TwoHubs:
    """Peered hubs sharing the federation key, each pulling the other's claim feed."""
    share_federation_key(peered)
    add_pullers(peered)
    return peered


def kunshan_at_gd(block_id: str = "GD-B-1", period: tuple[str, str] = ("2025-06-01", "2025-12-31"),
                  serials: tuple[int, int] = (1, 100), owner: str | None = None) -> Records:  # fmt: skip
    """The Kunshan PV plant (the JS block's project, same fingerprint) listed by GD as well."""
    project = example("project", "kunshan-pv-399kw")
    project.update(registry="GD", project_id="GD-P-KS-0399")
    if owner is not None:
        project["owner_uscc_hash"] = owner
    block = example("credit-block", "kunshan-pv-399kw")
    block.update(
        block_id=block_id,
        origin_registry="GD",
        current_registry="GD",
        serial_namespace="GD",
        serial_start=serials[0],
        serial_end=serials[1],
        quantity=serials[1] - serials[0] + 1,
        project={"registry": "GD", "project_id": "GD-P-KS-0399"},
        holder={"registry": "GD", "account_id": "GD-A-1"},
        monitoring_period={"start": period[0], "end": period[1]},
    )
    return Records([project], [block])


def line11(platform: str, batch_id: str) -> Records:
    batch = copy.deepcopy(example("personal-reduction-batch", "shanghai-line11-anting-huaqiao"))
    batch.update(platform=platform, batch_id=batch_id)
    return Records(batches=[batch])


def ingest(hub: Hub, platform: str, records: Records) -> None:
    with hub.database.unit_of_work() as session:
        IngestService(session).ingest(platform, records, actor="test", source="test")


def refused(hub: Hub, platform: str, records: Records) -> list[dict[str, str]]:
    with pytest.raises(BatchRefused) as caught:
        ingest(hub, platform, records)
    return caught.value.errors


def peer_claims(hub: Hub, origin: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The claims of hub ``origin`` stored at ``hub``: issuance ids, activity (batch, record)."""
    prefix = f"@{origin}/%"
    with hub.database.unit_of_work() as session:
        blocks = session.exec(select(IssuanceClaim.block_id).where(IssuanceClaim.block_id.like(prefix)))  # type: ignore[attr-defined]
        found = sorted(blocks.all())
        rows = session.exec(
            select(PersonalActivity.batch_id, PersonalActivity.record_id).where(
                PersonalActivity.batch_id.like(prefix)  # type: ignore[attr-defined]
            )
        )
        return found, sorted(rows.all())


def cursor_of(hub: Hub, origin: str) -> PeerClaimCursor | None:
    with hub.database.unit_of_work() as session:
        return session.get(PeerClaimCursor, origin)


# -- across hubs, the registry's checks see the other hub's claims --------------------------------


def test_double_issuance_of_one_project_across_the_two_hubs_is_refused_with_4001(federated: TwoHubs) -> None:
    sync(federated)
    assert peer_claims(federated.gd, YRD_ORIGIN)[0] == [f"@{YRD_ORIGIN}/JS-B-2025-000001"]
    errors = refused(federated.gd, "GD", kunshan_at_gd())
    assert [(e["pointer"], e["code"]) for e in errors] == [("/blocks/0/project", "4001")]
    assert "JS" in errors[0]["detail"] and f"at hub {YRD_ORIGIN}" in errors[0]["detail"]
    # as the GD platform sees it through its hub's API: 422, 4001
    listing = kunshan_at_gd()
    body = json.dumps({"projects": listing.projects, "blocks": listing.blocks}).encode()
    with pytest.raises(Refused) as answer:
        federated.gd.as_client("gd").request(
            "POST",
            "/v1/platforms/GD/batches",
            content=body,
            content_type="application/vnd.puhui.records+json",
        )
    assert (answer.value.status, answer.value.problem["code"]) == (422, "4001")
    # a later period of the same plant is no double issuance
    ingest(federated.gd, "GD", kunshan_at_gd(period=("2026-01-01", "2026-06-30")))
    sync(federated)
    assert peer_claims(federated.yrd, GD_ORIGIN)[0] == [f"@{GD_ORIGIN}/GD-B-1"]
    assert federated.yrd.logged(CONFLICT) == [] and federated.gd.logged(CONFLICT) == []


def test_a_personal_activity_counted_at_the_other_hub_is_refused_with_4002(federated: TwoHubs) -> None:
    ingest(federated.yrd, "SH", line11("SH", "SH-PB-1"))
    sync(federated)
    assert len(peer_claims(federated.gd, YRD_ORIGIN)[1]) > 0
    errors = refused(federated.gd, "GD", line11("GD", "GD-PB-1"))
    assert {e["code"] for e in errors} == {"4002"}
    assert errors[0]["pointer"].startswith("/batches/0/records/")
    assert "SH" in errors[0]["detail"] and f"at hub {YRD_ORIGIN}" in errors[0]["detail"]


def in_utc_without_trips(
    records: Records, platform: str, batch_id: str, shift: timedelta = timedelta()
) -> Records:
    """The same activities as another platform counts them: no trip ids, instants in UTC."""
    batch = copy.deepcopy(records.batches[0])
    batch.update(platform=platform, batch_id=batch_id)
    for record in batch["records"]:
        record.pop("trip_id", None)
        record["record_id"] = record["record_id"].replace("SH-", f"{platform}-")
        for end in ("start", "end"):
            moment = datetime.fromisoformat(record["activity_window"][end]).astimezone(UTC) + shift
            record["activity_window"][end] = moment.isoformat()
    for end in ("start", "end"):
        moment = datetime.fromisoformat(batch["period"][end]).astimezone(UTC) + shift
        batch["period"][end] = moment.isoformat()
    return Records(batches=[batch])


def test_activities_without_trip_ids_are_compared_by_their_instants_across_offsets(
    federated: TwoHubs,
) -> None:
    shanghai = line11("SH", "SH-PB-1")  # +08:00, with trip ids
    ingest(federated.yrd, "SH", shanghai)
    sync(federated)
    errors = refused(federated.gd, "GD", in_utc_without_trips(shanghai, "GD", "GD-PB-1"))
    assert {e["code"] for e in errors} == {"4002"}
    assert len(errors) == len(shanghai.batches[0]["records"])
    ingest(federated.gd, "GD", in_utc_without_trips(shanghai, "GD", "GD-PB-2", timedelta(hours=3)))


def test_activities_without_trip_ids_accepted_on_both_hubs_are_recorded(federated: TwoHubs) -> None:
    shanghai = line11("SH", "SH-PB-1")
    ingest(federated.yrd, "SH", shanghai)
    ingest(federated.gd, "GD", in_utc_without_trips(shanghai, "GD", "GD-PB-1"))
    ingest(federated.gd, "GD", in_utc_without_trips(shanghai, "GD", "GD-PB-2", timedelta(hours=3)))
    sync(federated)
    for hub in federated.hubs():
        codes = [e["data"]["code"] for e in hub.logged(CONFLICT)]
        assert codes == ["4014"] * len(shanghai.batches[0]["records"]), hub.name


def test_only_pseudonyms_cross_and_each_hub_serves_only_its_own_claims(federated: TwoHubs) -> None:
    ingest(federated.yrd, "SH", line11("SH", "SH-PB-1"))
    ingest(federated.gd, "GD", kunshan_at_gd(owner="ab" * 32))
    sync(federated)
    with federated.gd.database.unit_of_work() as session:
        stored = session.exec(
            select(PersonalActivity).where(PersonalActivity.batch_id.like(f"@{YRD_ORIGIN}/%"))  # type: ignore[attr-defined]
        ).all()
        batch = line11("SH", "SH-PB-1").batches[0]
        assert {(a.platform, a.record_id, a.subject) for a in stored} == {
            ("SH", r["record_id"], r["subject"]) for r in batch["records"]
        }
    # a hub's feed holds its own claims only: the GD claims YRD stored are not served back to GD
    with federated.yrd.database.unit_of_work() as session:
        refs = set(session.exec(select(ClaimFeedEntry.ref)).all())
    assert "GD-B-1" not in refs and not any(ref.startswith("@") for ref in refs)
    assert peer_claims(federated.gd, GD_ORIGIN) == ([], [])


def test_the_same_feed_pulled_twice_changes_nothing(federated: TwoHubs) -> None:
    ingest(federated.yrd, "SH", line11("SH", "SH-PB-1"))
    ingest(federated.gd, "GD", kunshan_at_gd(owner="ab" * 32))
    sync(federated)
    before = {hub.name: (peer_claims(hub, federated.other(hub).origin)) for hub in federated.hubs()}
    assert all(blocks and len(blocks) == 1 for blocks, _ in before.values())
    for hub in federated.hubs():  # forget how far each feed was read: everything comes again
        with hub.database.unit_of_work() as session:
            cursor = session.get(PeerClaimCursor, federated.other(hub).origin)
            assert cursor is not None and cursor.claims > 0
            cursor.log_index, cursor.position = -1, -1
            session.add(cursor)
    sync(federated)
    sync(federated)
    assert {hub.name: (peer_claims(hub, federated.other(hub).origin)) for hub in federated.hubs()} == before
    assert federated.yrd.logged(CONFLICT) == [] and federated.gd.logged(CONFLICT) == []


def test_one_page_stored_twice_is_stored_once(peered: TwoHubs) -> None:
    """Two pullers racing on one page: the cursor moved under the second, which stores nothing."""
    share_federation_key(peered)
    puller = ClaimPuller(peered.gd.database, peered.gd.keystore, peered.gd.settings, peered.network)
    (target,) = puller._due(datetime.now(UTC))
    fetched = puller._fetch(target, target.after)
    for expected in (1, 0):
        with peered.gd.database.unit_of_work() as session:
            assert ClaimIntake(session, peered.gd.settings).store(fetched).claims == expected
    assert peer_claims(peered.gd, YRD_ORIGIN)[0] == [f"@{YRD_ORIGIN}/JS-B-2025-000001"]


# -- both hubs accepted before they synced: recorded, not dropped ---------------------------------


def test_a_collision_accepted_on_both_hubs_before_a_sync_is_recorded_on_both(federated: TwoHubs) -> None:
    ingest(federated.gd, "GD", kunshan_at_gd())  # the JS block of the same plant is at YRD already
    ingest(federated.yrd, "SH", line11("SH", "SH-PB-1"))
    ingest(federated.gd, "GD", line11("GD", "GD-PB-1"))
    sync(federated)
    records = line11("SH", "SH-PB-1").batches[0]["records"]
    for hub, mine, theirs in ((federated.yrd, "JS", "GD"), (federated.gd, "GD", "JS")):
        events = hub.logged(CONFLICT)
        projects = [e for e in events if e["data"]["code"] == "4013"]
        activities = [e for e in events if e["data"]["code"] == "4014"]
        assert len(projects) == 1 and len(activities) == len(records), hub.name
        data = projects[0]["data"]
        block = {"JS": "JS-B-2025-000001", "GD": "GD-B-1"}
        assert data["local"]["registry"] == mine and data["local"]["block_id"] == block[mine]
        assert data["peer"] == {
            "hub": federated.other(hub).origin,
            "registry": theirs,
            "block_id": block[theirs],
            "period": data["peer"]["period"],
        }
        assert projects[0]["subject"] == {"kind": "credit-block", "id": block[mine]}
    # a third issuance of the plant is refused on either side now
    errors = refused(federated.gd, "GD", kunshan_at_gd("GD-B-2", ("2025-03-01", "2025-04-30"), (101, 110)))
    assert {e["code"] for e in errors} == {"4001"}
    # and pulling again records nothing more
    sync(federated)
    assert len(federated.yrd.logged(CONFLICT)) == 1 + len(records)


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


# -- a model: any interleaving of ingests on either hub and syncs ----------------------------------

_EXAMPLE = itertools.count()
Op = tuple[str, int, int]  # ("JS" or "GD", first month, months) of an ingest; ("sync", 0, 0)


def _month(offset: int) -> date:
    return date(2030 + offset // 12, offset % 12 + 1, 1)


def _overlap(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _records(registry: str, example_no: int, i: int, start: int, months: int) -> tuple[str, Records]:
    """A block of the same plant (one owner per example) for months [start, start + months)."""
    owner = hashlib.sha256(f"xdedup-owner-{example_no}".encode()).hexdigest()
    block_id = f"{registry}-X{example_no}-{i}"
    project = example("project", "kunshan-pv-399kw")
    project.update(registry=registry, project_id=f"{registry}-P-X{example_no}", owner_uscc_hash=owner)
    block = example("credit-block", "kunshan-pv-399kw")
    low = 10_000_000 + example_no * 1_000 + i * 10
    end = _month(start + months) - timedelta(days=1)
    block.update(
        block_id=block_id, origin_registry=registry, current_registry=registry, serial_namespace=registry,
        serial_start=low, serial_end=low + 9, quantity=10, vintage=2030,
        project={"registry": registry, "project_id": project["project_id"]},
        holder={"registry": registry, "account_id": f"{registry}-A-1"},
        monitoring_period={"start": _month(start).isoformat(), "end": end.isoformat()},
    )  # fmt: skip
    return block_id, Records([project], [block])


OPS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["JS", "GD"]), st.integers(0, 11), st.integers(1, 4)),
        st.just(("sync", 0, 0)),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_any_interleaving_credits_a_period_once_or_records_the_conflict(
    federated: TwoHubs, ops: list[Op]
) -> None:
    """Reference model: a hub refuses an ingest overlapping a claim of the other registry that it
    knows (its own, or the other hub's as of the last sync); after a final sync, every overlapping
    pair accepted on both sides is recorded as a conflict by both hubs, and no other."""
    n = next(_EXAMPLE)
    hubs = {"JS": federated.yrd, "GD": federated.gd}
    accepted: dict[str, dict[str, tuple[date, date]]] = {"JS": {}, "GD": {}}
    known: dict[str, dict[str, tuple[date, date]]] = {"JS": {}, "GD": {}}  # the other side's, as synced
    for i, (registry, start, months) in enumerate([*ops, ("sync", 0, 0)]):
        if registry == "sync":
            sync(federated)
            known = {"JS": dict(accepted["GD"]), "GD": dict(accepted["JS"])}
            continue
        block_id, records = _records(registry, n, i, start, months)
        period = (
            records.blocks[0]["monitoring_period"]["start"],
            records.blocks[0]["monitoring_period"]["end"],
        )
        span = (date.fromisoformat(period[0]), date.fromisoformat(period[1]))
        expected = not any(_overlap(span, other) for other in known[registry].values())
        codes: set[str] = set()
        try:
            ingest(hubs[registry], registry, records)
        except BatchRefused as exc:
            codes = {e["code"] for e in exc.errors}
        actual = not codes
        assert codes <= {"4001"}, (ops, i, codes)
        assert actual == expected, (ops, i)
        if actual:
            accepted[registry][block_id] = span
    pairs = {
        (js, gd) for js, a in accepted["JS"].items() for gd, b in accepted["GD"].items() if _overlap(a, b)
    }
    for registry, hub in hubs.items():
        recorded = {
            (e["data"]["local"]["block_id"], e["data"]["peer"]["block_id"])
            for e in hub.logged(CONFLICT)
            if e["data"]["local"]["block_id"].startswith(f"{registry}-X{n}-")
        }
        assert recorded == {(js, gd) if registry == "JS" else (gd, js) for js, gd in pairs}, (ops, registry)
