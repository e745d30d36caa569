"""Transfers across peered hubs: Jiangsu (YRD hub) sends Kunshan PV serials to a Guangdong account
(GD hub). The YRD hub locks them at JS, the GD hub credits them at GD after the YRD hub commits;
each logs its half; a refusal by the platform, a cut network, lost answers and a crash between a
credit and its record never leave the serials in two places (docs/federation-transfers.md).
Deadlines and races: test_crosshub_transfer_deadlines.py; forged and refused requests:
test_crosshub_transfer_refusals.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from hub.registry.models import CreditBlock
from hub.xtransfer.models import FederatedTransfer
from tests.federation import xtransfers as xt
from tests.federation.two_hubs import TwoHubs


def test_a_transfer_from_jiangsu_to_a_guangdong_account_completes_on_both_hubs(peered: TwoHubs) -> None:
    proposed = xt.propose(peered)
    assert (proposed["state"], proposed["destination_registry"]) == ("accepted", "GD")
    assert xt.where(peered) == "held"
    peered.settle()
    assert xt.where(peered) == "moved"
    at_yrd = peered.yrd.as_client("js").get("/v1/transfers/XT-1")
    assert at_yrd["state"] == "completed"
    assert [h["state"] for h in at_yrd["history"]] == [
        "proposed", "checked", "accepted", "origin_locked", "destination_credited", "completed",
    ]  # fmt: skip
    credited = f"GD:JS-B-2025-000001:{xt.START}-{xt.END}"
    assert at_yrd["credited_blocks"] == [credited]
    at_gd = peered.gd.as_client("gd").get("/v1/transfers/XT-1")
    assert (at_gd["state"], at_gd["credited_blocks"], at_gd["quantity"]) == ("completed", [credited], 120)
    assert (at_yrd["destination_hub"], at_gd["origin_hub"]) == (peered.gd.origin, peered.yrd.origin)
    # each platform was driven by its own hub: locked at JS, credited once at GD
    assert xt.sandbox(peered.yrd, "JS")["blocks"][xt.piece(peered)] == "exported"  # JS was told
    assert xt.sandbox(peered.gd, "GD")["imports"] == [xt.piece(peered)]
    # each hub logged its half
    assert xt.logged_types(peered.yrd) == [
        "transfer.accepted", "transfer.origin_locked", "transfer.offered", "transfer.committed",
        "transfer.credited_at_destination", "transfer.destination_credited", "transfer.completed",
    ]  # fmt: skip
    assert xt.logged_types(peered.gd) == ["transfer.offered", "transfer.committed", "transfer.imported"]
    (imported,) = peered.gd.logged("transfer.imported")
    assert imported["data"]["hub"] == peered.yrd.origin
    assert imported["data"]["blocks"] == [credited]
    # the block at GD is held by the Guangdong account, its provenance kept
    gd_block = peered.gd.as_client("gd").get(f"/v1/blocks/{credited}")
    assert (gd_block["status"], gd_block["holder"]["account_id"]) == ("imported", "GD-A-ORG-0007")
    (half,) = xt.halves(peered.gd)
    assert (half.peer_origin, half.transfer_id, half.phase) == (peered.yrd.origin, "XT-1", "completed")


def test_the_destination_platform_refusing_the_credit_unlocks_at_the_origin(peered: TwoHubs) -> None:
    from tests.federation.two_hubs import GuangdongSandboxAdapter
    from tests.hub.conftest import example

    # the GD platform holds a block of that id already: it refuses the import (409), definitively
    taken = example("credit-block", "kunshan-pv-399kw")
    taken.update(
        block_id=xt.piece(peered), serial_start=xt.START, serial_end=xt.END, quantity=xt.END - xt.START + 1,
        current_registry="GD", holder={"registry": "GD", "account_id": "GD-A-OTHER"},
    )  # fmt: skip
    adapter = GuangdongSandboxAdapter()
    added = peered.gd.client.post(
        "/sandbox/gd/_sandbox/issuances",
        content=adapter.render(taken),
        headers={"content-type": adapter.media_types[0]},
    )
    assert added.status_code < 300, added.text
    xt.propose(peered)
    xt.rounds(peered, 10, datetime.now(UTC))
    terminated = xt.transfer(peered)
    assert (terminated["state"], terminated["itl_status"]) == ("terminated", 5)
    assert "refused the credit" in terminated["history"][-1]["reason"]
    assert xt.where(peered) == "held"
    assert xt.sandbox(peered.yrd, "JS")["blocks"][xt.piece(peered)] == "held"  # unlocked at JS
    assert [h.phase for h in xt.halves(peered.gd)] == ["refused"]
    assert [h.phase for h in xt.halves(peered.yrd)] == ["refused"]
    assert xt.logged_types(peered.gd) == ["transfer.offered", "transfer.committed", "transfer.refused"]
    assert xt.logged_types(peered.yrd)[-2:] == ["transfer.refused", "transfer.terminated"]
    assert peered.gd.as_client("gd").get("/v1/transfers/XT-1")["state"] == "terminated"
    # the serials move again, to another destination
    again = xt.propose(peered, "XT-2", destination="SH", account="SH-A-1", block_id=xt.piece(peered))
    assert again["state"] == "accepted"


def test_an_unreachable_destination_hub_gets_the_transfer_once_when_back(peered: TwoHubs) -> None:
    xt.propose(peered)
    peered.network.cut(peered.gd)
    moment = xt.rounds(peered, 6, datetime.now(UTC))
    assert xt.where(peered) == "locked"
    (offer,) = xt.messages(peered.yrd, "transfer.offer")
    assert offer.status == "pending" and offer.attempts >= 2
    peered.network.restore(peered.gd)
    xt.rounds(peered, 10, moment)
    assert xt.where(peered) == "moved"
    assert xt.transfer(peered)["state"] == "completed"
    assert xt.sandbox(peered.gd, "GD")["imports"] == [xt.piece(peered)]
    assert [h.phase for h in xt.halves(peered.gd)] == ["completed"]


@pytest.mark.parametrize("deaf", ["gd", "yrd", "both"])
def test_lost_answers_repeat_messages_and_calls_never_their_effects(peered: TwoHubs, deaf: str) -> None:
    hubs = {"gd": [peered.gd], "yrd": [peered.yrd], "both": [peered.gd, peered.yrd]}[deaf]
    xt.propose(peered)
    for hub in hubs:  # they act on what they receive; their answers are lost (platforms' too)
        peered.network.lose_answers(hub)
    moment = xt.rounds(peered, 8, datetime.now(UTC))
    for hub in hubs:
        peered.network.restore(hub)
    xt.rounds(peered, 12, moment)
    assert xt.where(peered) == "moved"
    assert xt.transfer(peered)["state"] == "completed"
    assert xt.sandbox(peered.gd, "GD")["imports"] == [xt.piece(peered)]  # credited once
    assert len(peered.gd.logged("transfer.imported")) == 1
    assert len(peered.yrd.logged("transfer.completed")) == 1
    with peered.gd.database.unit_of_work() as session:
        assert len(session.exec(select(CreditBlock).where(CreditBlock.current_registry == "GD")).all()) == 1
    sent = [*xt.messages(peered.yrd, "transfer.offer"), *xt.messages(peered.yrd, "transfer.decision")]
    assert [m.status for m in sent] == ["delivered", "delivered"]
    assert [m.status for m in xt.messages(peered.gd, "transfer.outcome")] == ["delivered"]
    if deaf == "gd":
        assert sent[0].attempts > 1  # the offer was sent again under its jti, answered as the first
    else:  # JS's answers were lost: the lock was called again under its key, locked once
        assert xt.sandbox(peered.yrd, "JS")["blocks"][xt.piece(peered)] == "exported"


def test_a_crash_between_the_credit_and_its_record_repeats_the_call_not_the_credit(
    peered: TwoHubs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.xtransfer.service import TransferExchange

    credited = TransferExchange.credited
    crashes = iter([True])

    def crashing(self: TransferExchange, row: FederatedTransfer) -> None:
        if next(crashes, False):
            raise RuntimeError("the GD hub's worker died after its platform answered")
        credited(self, row)

    monkeypatch.setattr(TransferExchange, "credited", crashing)
    xt.propose(peered)
    xt.rounds(peered, 12, datetime.now(UTC))
    assert xt.where(peered) == "moved" and xt.transfer(peered)["state"] == "completed"
    assert xt.sandbox(peered.gd, "GD")["imports"] == [xt.piece(peered)]  # the repeated call: same key
    (half,) = xt.halves(peered.gd)
    assert half.phase == "completed"


def test_a_batch_of_proposals_mixes_local_and_cross_hub_transfers(peered: TwoHubs) -> None:
    transfers = [
        {
            "transfer_id": "XT-B1",
            "destination": "GD",
            "to_account": {"registry": "GD", "account_id": "GD-A-ORG-0007"},
            "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS", "start": xt.START, "end": xt.END}],
        },
        {
            "transfer_id": "XT-B2",
            "destination": "SH",
            "to_account": {"registry": "SH", "account_id": "SH-A-1"},
            "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS", "start": 100200, "end": 100209}],
        },
    ]
    peered.yrd.as_client("js").request(
        "POST", "/v1/transfer-batches", json_body={"transfers": transfers}, headers={"Idempotency-Key": "b-1"}
    )
    xt.rounds(peered, 10, datetime.now(UTC))
    js = peered.yrd.as_client("js")
    assert [js.get(f"/v1/transfers/{t}")["state"] for t in ("XT-B1", "XT-B2")] == ["completed", "completed"]
    assert xt.where(peered) == "moved"
    assert xt.sandbox(peered.gd, "GD")["imports"] == [xt.piece(peered)]
    assert [h.transfer_id for h in xt.halves(peered.gd)] == ["XT-B1"]  # the local one never crossed
