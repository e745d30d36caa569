"""Deduplication across peered hubs: each hub pulls the other's claim feed (project fingerprints
and periods, pseudonymous personal activities) and refuses a local ingest that collides with a
claim of the other hub's registries (4001, 4002, naming the hub); a collision accepted on both
sides before a sync is recorded (4013, 4014); a model of any interleaving of ingests and syncs.
The claim feed itself (who is pulled, hostile answers): test_xdedup_feed.py. Both hubs on both
backends (tests/federation)."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from hub.client.errors import Refused
from hub.registry.ingest import BatchRefused, Records
from hub.registry.models import PersonalActivity
from hub.xdedup.intake import ClaimIntake
from hub.xdedup.models import PeerClaimCursor
from hub.xdedup.repository import FeedRepository
from hub.xdedup.worker import ClaimPuller
from tests.federation.two_hubs import GD_ORIGIN, YRD_ORIGIN, TwoHubs
from tests.federation.xdedup import (
    CONFLICT,
    ingest,
    kunshan_at_gd,
    line11,
    peer_claims,
    refused,
    share_federation_key,
    sync,
)
from tests.hub.conftest import example

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
        refs = {entry.ref for entry in FeedRepository(session).page((-1, -1), 1000)}
    assert "JS-B-2025-000001" in refs and any(ref.startswith("SH-PB-1/") for ref in refs)
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
