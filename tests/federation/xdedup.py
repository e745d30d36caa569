"""Helpers of the cross-hub deduplication tests (``test_xdedup*.py``): the hubs sharing a
federation key and pulling each other's claim feed, the records they ingest, the claims they
store of each other."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from hub.keystore import replace_private_file
from hub.registry.federation_key import federation_key
from hub.registry.ingest import BatchRefused, IngestService, Records
from hub.registry.models import IssuanceClaim, PersonalActivity
from hub.xdedup.models import PeerClaimCursor
from hub.xdedup.worker import ClaimPuller
from tests.federation.two_hubs import Hub, TwoHubs
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
