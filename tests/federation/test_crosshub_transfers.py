"""Transfers across peered hubs: Jiangsu (YRD hub) sends Kunshan PV serials to a Guangdong account
(GD hub). The YRD hub locks them at JS, the GD hub credits them at GD after the YRD hub commits;
each logs its half; a refusal, a cut network, lost answers, a foreign or forged hub and a passed
deadline never leave the serials in two places (docs/federation-transfers.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from hub.client import Refused
from hub.crosshub.models import PeerMessage
from hub.peering.client import PeerCallFailed
from hub.registry.models import CreditBlock
from hub.xtransfer.models import FederatedTransfer
from tests.federation.two_hubs import Hub, TwoHubs

START, END = 100001, 100120
Sides = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]  # (YRD's, GD's) blocks


def _propose(
    hubs: TwoHubs,
    transfer_id: str = "XT-1",
    *,
    destination: str = "GD",
    account: str = "GD-A-ORG-0007",
    start: int = START,
    end: int = END,
    key: str | None = None,
    block_id: str = "JS-B-2025-000001",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "transfer_id": transfer_id,
        "destination": destination,
        "to_account": {"registry": destination, "account_id": account},
        "blocks": [{"block_id": block_id, "namespace": "JS", "start": start, "end": end}],
        **extra,
    }
    answer: dict[str, Any] = (
        hubs.yrd.as_client("js")
        .request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": key or transfer_id})
        .json()
    )
    return answer


def _blocks(hub: Hub, start: int = START, end: int = END) -> list[tuple[str, str, str]]:
    """(registry, status, block id) of every block of ``hub`` overlapping JS serials [start, end]."""
    with hub.database.unit_of_work() as session:
        rows = session.exec(
            select(CreditBlock)
            .where(
                CreditBlock.serial_namespace == "JS",
                col(CreditBlock.serial_start) <= end,
                col(CreditBlock.serial_end) >= start,
            )
            .order_by(col(CreditBlock.serial_start))
        ).all()
        return [(b.current_registry, b.status, b.block_id) for b in rows]


def where(hubs: TwoHubs, start: int = START, end: int = END) -> str:
    """Where serials [start, end] are, across both hubs' databases: ``held`` at JS; ``locked`` at
    JS (in flight); ``arriving`` (credited at GD, still locked at JS: the YRD hub not told yet,
    nothing can move them); or ``moved`` (exported at JS, imported at GD). Any other combination
    — held at JS and at GD, credited twice, held at JS while credited at GD — fails the test."""
    yrd = [(registry, status) for registry, status, _ in _blocks(hubs.yrd, start, end)]
    gd = [(registry, status) for registry, status, _ in _blocks(hubs.gd, start, end)]
    states: dict[Sides, str] = {
        ((("JS", "held"),), ()): "held",
        ((("JS", "locked"),), ()): "locked",
        ((("JS", "locked"),), (("GD", "imported"),)): "arriving",
        ((("JS", "exported"),), (("GD", "imported"),)): "moved",
    }
    found = states.get((tuple(yrd), tuple(gd)))
    assert found is not None, (yrd, gd)
    return found


def _sandbox(hub: Hub, code: str) -> dict[str, Any]:
    state: dict[str, Any] = hub.client.get(f"/sandbox/{code.lower()}/_sandbox/state").json()
    return state


def _piece(hubs: TwoHubs) -> str:
    return f"JS-B-2025-000001:{START}-{END}"


def _halves(hub: Hub) -> list[FederatedTransfer]:
    with hub.database.unit_of_work() as session:
        return list(session.exec(select(FederatedTransfer)).all())


def _messages(hub: Hub, kind: str) -> list[PeerMessage]:
    with hub.database.unit_of_work() as session:
        return list(session.exec(select(PeerMessage).where(PeerMessage.kind == kind)).all())


def _types(hub: Hub, transfer_id: str = "XT-1") -> list[str]:
    from sqlmodel import select as sel

    from hub.log.models import LogEntry

    with hub.database.unit_of_work() as session:
        rows = session.exec(
            sel(LogEntry).where(LogEntry.subject_id == transfer_id).order_by(col(LogEntry.index))
        )
        return [row.type for row in rows]


def test_a_transfer_from_jiangsu_to_a_guangdong_account_completes_on_both_hubs(peered: TwoHubs) -> None:
    proposed = _propose(peered)
    assert (proposed["state"], proposed["destination_registry"]) == ("accepted", "GD")
    assert where(peered) == "held"
    peered.settle()
    assert where(peered) == "moved"
    at_yrd = peered.yrd.as_client("js").get("/v1/transfers/XT-1")
    assert at_yrd["state"] == "completed"
    assert [h["state"] for h in at_yrd["history"]] == [
        "proposed", "checked", "accepted", "origin_locked", "destination_credited", "completed",
    ]  # fmt: skip
    credited = f"GD:JS-B-2025-000001:{START}-{END}"
    assert at_yrd["credited_blocks"] == [credited]
    at_gd = peered.gd.as_client("gd").get("/v1/transfers/XT-1")
    assert (at_gd["state"], at_gd["credited_blocks"], at_gd["quantity"]) == ("completed", [credited], 120)
    assert (at_yrd["destination_hub"], at_gd["origin_hub"]) == (peered.gd.origin, peered.yrd.origin)
    # each platform was driven by its own hub: locked at JS, credited once at GD
    assert _sandbox(peered.yrd, "JS")["blocks"][_piece(peered)] == "exported"  # JS was told
    assert _sandbox(peered.gd, "GD")["imports"] == [_piece(peered)]
    # each hub logged its half
    assert _types(peered.yrd) == [
        "transfer.accepted", "transfer.origin_locked", "transfer.offered", "transfer.committed",
        "transfer.credited_at_destination", "transfer.destination_credited", "transfer.completed",
    ]  # fmt: skip
    assert _types(peered.gd) == ["transfer.offered", "transfer.committed", "transfer.imported"]
    (imported,) = peered.gd.logged("transfer.imported")
    assert imported["data"]["hub"] == peered.yrd.origin
    assert imported["data"]["blocks"] == [credited]
    # the block at GD is held by the Guangdong account, its provenance kept
    gd_block = peered.gd.as_client("gd").get(f"/v1/blocks/{credited}")
    assert (gd_block["status"], gd_block["holder"]["account_id"]) == ("imported", "GD-A-ORG-0007")
    (half,) = _halves(peered.gd)
    assert (half.peer_origin, half.transfer_id, half.phase) == (peered.yrd.origin, "XT-1", "completed")


def _rounds(hubs: TwoHubs, count: int, start: datetime, step: timedelta = timedelta(seconds=30)) -> datetime:
    """Every worker of both hubs ``count`` times, ``step`` apart, conservation checked after each."""
    moment = start
    for _ in range(count):
        for work in [*hubs.workers, *hubs.transfer_workers]:
            work(moment)
            where(hubs)
        moment += step
    return moment


def _transfer(hubs: TwoHubs, transfer_id: str = "XT-1") -> dict[str, Any]:
    found: dict[str, Any] = hubs.yrd.as_client("js").get(f"/v1/transfers/{transfer_id}")
    return found


def test_the_destination_platform_refusing_the_credit_unlocks_at_the_origin(peered: TwoHubs) -> None:
    from tests.federation.two_hubs import GuangdongSandboxAdapter
    from tests.hub.conftest import example

    # the GD platform holds a block of that id already: it refuses the import (409), definitively
    taken = example("credit-block", "kunshan-pv-399kw")
    taken.update(
        block_id=_piece(peered), serial_start=START, serial_end=END, quantity=END - START + 1,
        current_registry="GD", holder={"registry": "GD", "account_id": "GD-A-OTHER"},
    )  # fmt: skip
    adapter = GuangdongSandboxAdapter()
    added = peered.gd.client.post(
        "/sandbox/gd/_sandbox/issuances",
        content=adapter.render(taken),
        headers={"content-type": adapter.media_types[0]},
    )
    assert added.status_code < 300, added.text
    _propose(peered)
    _rounds(peered, 10, datetime.now(UTC))
    terminated = _transfer(peered)
    assert (terminated["state"], terminated["itl_status"]) == ("terminated", 5)
    assert "refused the credit" in terminated["history"][-1]["reason"]
    assert where(peered) == "held"
    assert _sandbox(peered.yrd, "JS")["blocks"][_piece(peered)] == "held"  # unlocked at JS
    assert [h.phase for h in _halves(peered.gd)] == ["refused"]
    assert [h.phase for h in _halves(peered.yrd)] == ["refused"]
    assert _types(peered.gd) == ["transfer.offered", "transfer.committed", "transfer.refused"]
    assert _types(peered.yrd)[-2:] == ["transfer.refused", "transfer.terminated"]
    assert peered.gd.as_client("gd").get("/v1/transfers/XT-1")["state"] == "terminated"
    # the serials move again, to another destination
    again = _propose(peered, "XT-2", destination="SH", account="SH-A-1", block_id=_piece(peered))
    assert again["state"] == "accepted"


def test_an_unreachable_destination_hub_gets_the_transfer_once_when_back(peered: TwoHubs) -> None:
    _propose(peered)
    peered.network.cut(peered.gd)
    moment = _rounds(peered, 6, datetime.now(UTC))
    assert where(peered) == "locked"
    (offer,) = _messages(peered.yrd, "transfer.offer")
    assert offer.status == "pending" and offer.attempts >= 2
    peered.network.restore(peered.gd)
    _rounds(peered, 10, moment)
    assert where(peered) == "moved"
    assert _transfer(peered)["state"] == "completed"
    assert _sandbox(peered.gd, "GD")["imports"] == [_piece(peered)]
    assert [h.phase for h in _halves(peered.gd)] == ["completed"]


@pytest.mark.parametrize("deaf", ["gd", "yrd", "both"])
def test_lost_answers_repeat_messages_and_calls_never_their_effects(peered: TwoHubs, deaf: str) -> None:
    hubs = {"gd": [peered.gd], "yrd": [peered.yrd], "both": [peered.gd, peered.yrd]}[deaf]
    _propose(peered)
    for hub in hubs:  # they act on what they receive; their answers are lost (platforms' too)
        peered.network.lose_answers(hub)
    moment = _rounds(peered, 8, datetime.now(UTC))
    for hub in hubs:
        peered.network.restore(hub)
    _rounds(peered, 12, moment)
    assert where(peered) == "moved"
    assert _transfer(peered)["state"] == "completed"
    assert _sandbox(peered.gd, "GD")["imports"] == [_piece(peered)]  # credited once
    assert len(peered.gd.logged("transfer.imported")) == 1
    assert len(peered.yrd.logged("transfer.completed")) == 1
    with peered.gd.database.unit_of_work() as session:
        assert len(session.exec(select(CreditBlock).where(CreditBlock.current_registry == "GD")).all()) == 1
    sent = [*_messages(peered.yrd, "transfer.offer"), *_messages(peered.yrd, "transfer.decision")]
    assert [m.status for m in sent] == ["delivered", "delivered"]
    assert [m.status for m in _messages(peered.gd, "transfer.outcome")] == ["delivered"]
    if deaf == "gd":
        assert sent[0].attempts > 1  # the offer was sent again under its jti, answered as the first
    else:  # JS's answers were lost: the lock was called again under its key, locked once
        assert _sandbox(peered.yrd, "JS")["blocks"][_piece(peered)] == "exported"


def test_the_deadline_passing_before_the_destination_answers_aborts_and_compensates(
    peered: TwoHubs,
) -> None:
    _propose(peered)
    peered.network.cut(peered.gd)
    now = datetime.now(UTC)
    _rounds(peered, 4, now)
    assert where(peered) == "locked"
    late = now + timedelta(seconds=peered.yrd.settings.transfer_deadline + 60)
    _rounds(peered, 3, late)  # the deadline passed with the offer unanswered: aborted, unlocked
    terminated = _transfer(peered)
    assert terminated["state"] == "terminated"
    assert where(peered) == "held"
    assert _sandbox(peered.yrd, "JS")["blocks"][_piece(peered)] == "held"
    assert [h.phase for h in _halves(peered.yrd)] == ["aborted"]
    # the destination comes back: the offer (sent first) and the abort arrive; nothing is credited
    peered.network.restore(peered.gd)
    _rounds(peered, 8, late + timedelta(minutes=10))
    assert [h.phase for h in _halves(peered.gd)] == ["aborted"]
    assert _sandbox(peered.gd, "GD")["imports"] == []
    assert where(peered) == "held" and _transfer(peered)["state"] == "terminated"
    assert "transfer.committed" not in _types(peered.yrd) + _types(peered.gd)


def test_an_abort_overtaking_its_offer_keeps_the_late_offer_aborted(peered: TwoHubs) -> None:
    from tests.federation.test_crosshub_recognition import _post

    yrd, gd, network = peered.yrd, peered.gd, peered.network
    abort = {
        "transfer_id": "XT-9",
        "decision": "abort",
        "origin_registry": "JS",
        "destination_registry": "GD",
    }
    assert _post(yrd, gd, "/federation/v1/transfers/XT-9/decision", abort, network)["phase"] == "aborted"
    _propose(peered, "XT-9")
    peered.network.cut(gd)
    _rounds(peered, 3, datetime.now(UTC))
    (offer,) = _messages(yrd, "transfer.offer")
    peered.network.restore(gd)
    assert _post(yrd, gd, "/federation/v1/transfers", offer.body, network)["phase"] == "aborted"
    commit = {**abort, "decision": "commit"}
    with pytest.raises(PeerCallFailed) as refused:
        _post(yrd, gd, "/federation/v1/transfers/XT-9/decision", commit, network)
    assert (refused.value.status, (refused.value.problem or {}).get("code")) == (409, "6013")
    assert _sandbox(gd, "GD")["imports"] == []


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
                _propose(peered, "XT-R", key=f"k-{row.name}", **body)
        assert refused.value.status == row.status, row.name
        assert row.code in [e["code"] for e in refused.value.errors], row.name
    admin = peered.yrd.as_client("admin-1")
    (peer,) = admin.get("/v1/peers")
    admin.post(f"/v1/peers/{peer['id']}/suspend", {})
    with pytest.raises(Refused) as suspended:
        _propose(peered, "XT-S")
    assert "2020" in [e["code"] for e in suspended.value.errors]
    assert where(peered) == "held" and _halves(peered.yrd) == []


def test_outcomes_from_another_hub_forged_or_replayed_change_nothing(peered: TwoHubs, tmp_path: Any) -> None:
    from tests.federation.test_crosshub_recognition import _post, _refusal, _third_peer

    yrd, gd, network = peered.yrd, peered.gd, peered.network
    _propose(peered)
    network.cut(yrd)  # GD's outcome cannot reach the YRD hub (nor can YRD's workers reach JS)
    network.restore(yrd)
    moment = datetime.now(UTC)
    for _ in range(6):  # up to GD's credit, the outcome not delivered
        for work in peered.workers[:1] + peered.transfer_workers[:1]:  # the YRD hub's side
            work(moment)
        for work in peered.workers[1:] + peered.transfer_workers[3:5]:  # the GD hub's side
            work(moment)
        if _messages(gd, "transfer.outcome"):
            break
        moment += timedelta(seconds=30)
    (message,) = _messages(gd, "transfer.outcome")
    assert message.status == "pending" and where(peered) == "arriving"
    path = "/federation/v1/transfers/XT-1/outcome"
    body = message.body
    third = _third_peer(peered, tmp_path)
    cases = [
        ("a hub that is not the destination", lambda: _post(third, yrd, path, body, network), (403, "6012")),
        (
            "an unknown transfer",
            lambda: _post(
                gd, yrd, "/federation/v1/transfers/XT-0/outcome", {**body, "transfer_id": "XT-0"}, network
            ),
            (404, "6010"),
        ),
        (
            "the path names another transfer",
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
    assert where(peered) == "moved" and _transfer(peered)["state"] == "completed"
    assert len(yrd.logged("transfer.completed")) == 1


def _held_block(hubs: TwoHubs, start: int, end: int) -> str:
    """The YRD hub's block holding JS serials [start, end] now (splits rename it)."""
    (block,) = [b for registry, status, b in _blocks(hubs.yrd, start, end) if status == "held"]
    return block


def test_interleaved_rounds_cuts_and_deadlines_keep_the_serials_in_one_place(peered: TwoHubs) -> None:
    """A state machine over both hubs' worker rounds, network cuts, lost answers, restores and the
    clock passing the deadline, one transfer of fresh serials per example, compared with a
    reference model: the serials are held, locked, arriving or moved (never two places); GD
    credits only what the YRD hub committed; once everything is restored and settled, a committed
    transfer completed (credited once at GD) and any other is terminated with its serials held."""
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

    hubs = peered
    yrd_work = [hubs.workers[0], *hubs.transfer_workers[:3]]
    gd_work = [hubs.workers[1], *hubs.transfer_workers[3:]]
    counter = iter(range(100))
    deadline = timedelta(seconds=hubs.yrd.settings.transfer_deadline)

    class Exchange(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            number = next(counter)
            self.start, self.end = 100001 + number * 10, 100010 + number * 10
            self.id = f"XT-H{number}"
            for hub in hubs.hubs():
                hubs.network.restore(hub)
            self.now = datetime.now(UTC) + timedelta(days=number)  # past earlier examples' backoffs
            _propose(
                hubs,
                self.id,
                start=self.start,
                end=self.end,
                block_id=_held_block(hubs, self.start, self.end),
            )
            self.born = datetime.now(UTC)
            self.seen: set[str] = set()

        def _phase(self, hub: Hub) -> str | None:
            with hub.database.unit_of_work() as session:
                row = session.exec(
                    select(FederatedTransfer).where(FederatedTransfer.transfer_id == self.id)
                ).first()
                return row.phase if row is not None else None

        @rule(side=st.sampled_from(["yrd", "gd"]))
        def round(self, side: str) -> None:
            for work in yrd_work if side == "yrd" else gd_work:
                work(self.now)

        @rule(side=st.sampled_from(["yrd", "gd"]), how=st.sampled_from(["cut", "deaf", "restore"]))
        def network(self, side: str, how: str) -> None:
            hub = hubs.yrd if side == "yrd" else hubs.gd
            {"cut": hubs.network.cut, "deaf": hubs.network.lose_answers, "restore": hubs.network.restore}[
                how
            ](hub)

        @rule(seconds=st.sampled_from([30, 600]))
        def time_passes(self, seconds: int) -> None:
            self.now += timedelta(seconds=seconds)

        @rule()
        def deadline_passes(self) -> None:
            self.now = max(self.now, self.born + deadline + timedelta(seconds=1))

        @invariant()
        def in_one_place(self) -> None:
            place = where(hubs, self.start, self.end)
            self.seen.add(place)
            origin, destination = self._phase(hubs.yrd), self._phase(hubs.gd)
            if destination in ("committed", "completed"):
                assert origin in ("committed", "completed"), (origin, destination)  # GD acts on a commit only
            if origin == "aborted":
                assert destination in (None, "offered", "aborted") and place in ("held", "locked")
            if place in ("arriving", "moved"):
                assert destination == "completed"

        def teardown(self) -> None:
            for hub in hubs.hubs():
                hubs.network.restore(hub)
            moment = self.now
            for _ in range(40):
                for work in yrd_work + gd_work:
                    work(moment)
                moment += timedelta(minutes=5)
            state = _transfer(hubs, self.id)["state"]
            imports = _sandbox(hubs.gd, "GD")["imports"].count(f"JS-B-2025-000001:{self.start}-{self.end}")
            if self._phase(hubs.yrd) == "completed":
                assert (state, where(hubs, self.start, self.end), imports) == ("completed", "moved", 1)
            else:
                assert state == "terminated" and where(hubs, self.start, self.end) == "held" and imports == 0

    run_state_machine_as_test(
        Exchange, settings=hypothesis_settings(max_examples=12, stateful_step_count=15, deadline=None)
    )


def test_forged_or_misdirected_offers_are_refused_and_store_nothing(peered: TwoHubs) -> None:
    import copy

    from tests.federation.test_crosshub_recognition import _post, _refusal

    yrd, gd, network = peered.yrd, peered.gd, peered.network
    _propose(peered)
    network.cut(gd)
    _rounds(peered, 3, datetime.now(UTC))
    (message,) = _messages(yrd, "transfer.offer")
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
    assert _halves(gd) == []
    first = _post(yrd, gd, "/federation/v1/transfers", genuine, network, jti=message.id)
    assert first["phase"] == "offered"
    other = changed(lambda b: b["to_account"].update(account_id="GD-A-OTHER"))
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/transfers", other, network, jti=message.id)) == (
        409,
        "1017",
    )
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/transfers", other, network)) == (409, "6011")
    assert _post(yrd, gd, "/federation/v1/transfers", genuine, network)["phase"] == "offered"  # again
    assert [h.phase for h in _halves(gd)] == ["offered"]
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
    assert where(peered) == "moved" and _sandbox(gd, "GD")["imports"] == [_piece(peered)]
    abort = {**commit, "decision": "abort"}
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/transfers/XT-1/decision", abort, network)) == (
        409,
        "6013",
    )


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
    _propose(peered)
    _rounds(peered, 12, datetime.now(UTC))
    assert where(peered) == "moved" and _transfer(peered)["state"] == "completed"
    assert _sandbox(peered.gd, "GD")["imports"] == [_piece(peered)]  # the repeated call: same key
    (half,) = _halves(peered.gd)
    assert half.phase == "completed"


def test_a_batch_of_proposals_mixes_local_and_cross_hub_transfers(peered: TwoHubs) -> None:
    transfers = [
        {
            "transfer_id": "XT-B1",
            "destination": "GD",
            "to_account": {"registry": "GD", "account_id": "GD-A-ORG-0007"},
            "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS", "start": START, "end": END}],
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
    _rounds(peered, 10, datetime.now(UTC))
    js = peered.yrd.as_client("js")
    assert [js.get(f"/v1/transfers/{t}")["state"] for t in ("XT-B1", "XT-B2")] == ["completed", "completed"]
    assert where(peered) == "moved"
    assert _sandbox(peered.gd, "GD")["imports"] == [_piece(peered)]
    assert [h.transfer_id for h in _halves(peered.gd)] == ["XT-B1"]  # the local one never crossed


def test_a_ready_answer_arriving_after_the_deadline_aborts_and_nothing_is_credited(peered: TwoHubs) -> None:
    yrd_saga, yrd_peer = peered.transfer_workers[0], peered.workers[0]
    _propose(peered)
    now = datetime.now(UTC)
    yrd_saga(now)  # locked at JS
    yrd_saga(now + timedelta(seconds=1))  # offered (in the outbox)
    assert where(peered) == "locked"
    late = now + timedelta(seconds=peered.yrd.settings.transfer_deadline + 1)
    yrd_peer(late)  # the offer reaches GD, its "ready" comes back after the deadline
    assert [h.phase for h in _halves(peered.gd)] == ["offered"]
    assert [h.phase for h in _halves(peered.yrd)] == ["aborted"]  # decided: abort, not commit
    _rounds(peered, 8, late)
    assert [h.phase for h in _halves(peered.gd)] == ["aborted"]
    assert _transfer(peered)["state"] == "terminated" and where(peered) == "held"
    assert (
        _sandbox(peered.gd, "GD")["imports"] == []
        and _messages(peered.yrd, "transfer.decision")[0].body["decision"] == "abort"
    )


@pytest.mark.parametrize("repeat", range(3))
def test_the_answer_and_the_deadline_racing_decide_once(peered: TwoHubs, repeat: int) -> None:
    """The offer's answer (processed before the deadline: commit) and the saga's round (after it:
    abort) at the same time, in two threads: one decision, one decision message, and the end
    agrees with it."""
    import threading

    yrd_saga, yrd_peer = peered.transfer_workers[0], peered.workers[0]
    _propose(peered)
    now = datetime.now(UTC)
    yrd_saga(now)
    yrd_saga(now + timedelta(seconds=1))
    late = now + timedelta(seconds=peered.yrd.settings.transfer_deadline + 1)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(work: Any, moment: datetime) -> None:
        try:
            barrier.wait()
            work(moment)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(yrd_peer, now + timedelta(seconds=2))),
        threading.Thread(target=run, args=(yrd_saga, late)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (decided,) = _halves(peered.yrd)
    assert decided.phase in ("committed", "aborted")
    assert len(_messages(peered.yrd, "transfer.decision")) == 1
    _rounds(peered, 12, late + timedelta(minutes=1))
    if decided.phase == "committed":
        assert _transfer(peered)["state"] == "completed" and where(peered) == "moved"
    else:
        assert _transfer(peered)["state"] == "terminated" and where(peered) == "held"
        assert _sandbox(peered.gd, "GD")["imports"] == []
