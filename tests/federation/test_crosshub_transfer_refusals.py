"""Transfers across peered hubs, refused: a destination no hub serves (as for a single hub), a
suspended peering, and offers or outcomes forged, misdirected or replayed by another hub are
refused with their codes and change nothing (docs/federation-transfers.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.client import Refused
from tests.federation import xtransfers as xt
from tests.federation.two_hubs import TwoHubs


@dataclass(frozen=True)
class Refusal:
    name: str
    body: dict[str, Any]
    status: int
    code: str


def test_a_transfer_to_a_registry_no_hub_serves_is_refused_as_today(peered: TwoHubs) -> None:
    rows = [
        Refusal("no peer serves CD", {"destination": "CD", "account": "CD-A-1"}, 422, "2002"),
        Refusal("a certificate across hubs", {"certificate_id": "CERT-1"}, 422, "6016"),
        Refusal("an account elsewhere", {"account": "GD-A-1", "to_account_registry": "SH"}, 422, "2005"),
    ]
    for row in rows:
        body = dict(row.body)
        registry = body.pop("to_account_registry", None)
        with pytest.raises(Refused) as refused:
            if registry:
                peered.yrd.as_client("js").request(
                    "POST",
                    "/v1/transfers",
                    json_body={
                        "transfer_id": "XT-R",
                        "destination": "GD",
                        "to_account": {"registry": registry, "account_id": body["account"]},
                        "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS"}],
                    },
                    headers={"Idempotency-Key": f"k-{row.name}"},
                )
            else:
                xt.propose(peered, "XT-R", key=f"k-{row.name}", **body)
        assert refused.value.status == row.status, row.name
        assert row.code in [e["code"] for e in refused.value.errors], row.name
    admin = peered.yrd.as_client("admin-1")
    (peer,) = admin.get("/v1/peers")
    admin.post(f"/v1/peers/{peer['id']}/suspend", {})
    with pytest.raises(Refused) as suspended:
        xt.propose(peered, "XT-S")
    assert "2020" in [e["code"] for e in suspended.value.errors]
    assert xt.where(peered) == "held" and xt.halves(peered.yrd) == []


def test_outcomes_from_another_hub_forged_or_replayed_change_nothing(peered: TwoHubs, tmp_path: Any) -> None:
    from tests.federation.test_crosshub_recognition import _post, _refusal, _third_peer

    yrd, gd, network = peered.yrd, peered.gd, peered.network
    xt.propose(peered)
    network.cut(yrd)  # GD's outcome cannot reach the YRD hub (nor can YRD's workers reach JS)
    network.restore(yrd)
    moment = datetime.now(UTC)
    for _ in range(6):  # up to GD's credit, the outcome not delivered
        for work in peered.workers[:1] + peered.transfer_workers[:1]:  # the YRD hub's side
            work(moment)
        for work in peered.workers[1:] + peered.transfer_workers[3:5]:  # the GD hub's side
            work(moment)
        if xt.messages(gd, "transfer.outcome"):
            break
        moment += timedelta(seconds=30)
    (message,) = xt.messages(gd, "transfer.outcome")
    assert message.status == "pending" and xt.where(peered) == "arriving"
    path = "/federation/v1/transfers/XT-1/outcome"
    body = message.body
    third = _third_peer(peered, tmp_path)
    cases = [
        ("a hub that is not the destination", lambda: _post(third, yrd, path, body, network), (403, "6012")),
        (
            "an unknown xt.transfer",
            lambda: _post(
                gd, yrd, "/federation/v1/transfers/XT-0/outcome", {**body, "transfer_id": "XT-0"}, network
            ),
            (404, "6010"),
        ),
        (
            "the path names another xt.transfer",
            lambda: _post(gd, yrd, "/federation/v1/transfers/XT-0/outcome", body, network),
            (422, "6010"),
        ),
        (
            "its jti replayed with another body",
            lambda: _post(
                gd, yrd, path, {**body, "outcome": "refused", "blocks": []}, network, jti=message.id
            ),
            (409, "1017"),
        ),
    ]
    first = _post(gd, yrd, path, body, network, jti=message.id)  # the genuine outcome, once
    for name, call, expected in cases:
        assert _refusal(call) == expected, name
    assert first["phase"] == "completed"
    assert _post(gd, yrd, path, body, network)["phase"] == "completed"  # told again: the same
    refused = {**body, "outcome": "refused", "blocks": [], "reason": "changed its mind"}
    assert _refusal(lambda: _post(gd, yrd, path, refused, network)) == (409, "6014")
    peered.settle(start=moment)
    assert xt.where(peered) == "moved" and xt.transfer(peered)["state"] == "completed"
    assert len(yrd.logged("transfer.completed")) == 1


def test_forged_or_misdirected_offers_are_refused_and_store_nothing(peered: TwoHubs) -> None:
    import copy

    from tests.federation.test_crosshub_recognition import _post, _refusal

    yrd, gd, network = peered.yrd, peered.gd, peered.network
    xt.propose(peered)
    network.cut(gd)
    xt.rounds(peered, 3, datetime.now(UTC))
    (message,) = xt.messages(yrd, "transfer.offer")
    network.restore(gd)
    genuine = message.body

    def changed(change: Any) -> dict[str, Any]:
        body = copy.deepcopy(genuine)
        change(body)
        return body

    def record(**fields: Any) -> Any:
        return lambda body: body["blocks"][0]["record"].update(fields)

    rows = [
        Refusal(
            "a registry GD does not serve",
            changed(lambda b: b.update(destination_registry="SH")),
            422,
            "2024",
        ),
        Refusal(
            "an account elsewhere", changed(lambda b: b["to_account"].update(registry="SH")), 422, "2005"
        ),
        Refusal(
            "an origin YRD does not serve", changed(lambda b: b.update(origin_registry="CD")), 422, "2004"
        ),
        Refusal("a block that is not locked", changed(record(status="held")), 422, "6015"),
        Refusal("a block held elsewhere", changed(record(current_registry="SH")), 422, "6015"),
        Refusal("another quantity", changed(lambda b: b.update(quantity=121)), 422, "6015"),
        Refusal("not a credit block", changed(record(serial_start="one")), 422, "1002"),
    ]
    for row in rows:
        status, code = _refusal(
            lambda body=row.body: _post(yrd, gd, "/federation/v1/transfers", body, network)
        )
        assert status == row.status, row.name
        assert code == row.code, (row.name, code)
    assert xt.halves(gd) == []
    first = _post(yrd, gd, "/federation/v1/transfers", genuine, network, jti=message.id)
    assert first["phase"] == "offered"
    other = changed(lambda b: b["to_account"].update(account_id="GD-A-OTHER"))
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/transfers", other, network, jti=message.id)) == (
        409,
        "1017",
    )
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/transfers", other, network)) == (409, "6011")
    assert _post(yrd, gd, "/federation/v1/transfers", genuine, network)["phase"] == "offered"  # again
    assert [h.phase for h in xt.halves(gd)] == ["offered"]
    commit = {
        "transfer_id": "XT-1",
        "decision": "commit",
        "origin_registry": "JS",
        "destination_registry": "GD",
    }
    unknown = {**commit, "transfer_id": "XT-0"}
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/transfers/XT-0/decision", unknown, network)) == (
        404,
        "6010",
    )
    peered.settle(start=datetime.now(UTC) + timedelta(minutes=10))  # the genuine exchange: completed once
    assert xt.where(peered) == "moved" and xt.sandbox(gd, "GD")["imports"] == [xt.piece(peered)]
    abort = {**commit, "decision": "abort"}
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/transfers/XT-1/decision", abort, network)) == (
        409,
        "6013",
    )
