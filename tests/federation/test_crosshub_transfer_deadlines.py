"""Transfers across peered hubs, deadlines and races: the deadline passing before the destination
answers, an abort overtaking its offer, a ready answer after the deadline, the answer and the
deadline racing in two threads, and a state machine interleaving both hubs' rounds, cuts, lost
answers and the clock: one decision each time, the serials never in two places
(docs/federation-transfers.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from hub.peering.client import PeerCallFailed
from hub.xtransfer.models import FederatedTransfer
from tests.federation import xtransfers as xt
from tests.federation.two_hubs import Hub, TwoHubs


def test_the_deadline_passing_before_the_destination_answers_aborts_and_compensates(
    peered: TwoHubs,
) -> None:
    xt.propose(peered)
    peered.network.cut(peered.gd)
    now = datetime.now(UTC)
    xt.rounds(peered, 4, now)
    assert xt.where(peered) == "locked"
    late = now + timedelta(seconds=peered.yrd.settings.transfer_deadline + 60)
    xt.rounds(peered, 3, late)  # the deadline passed with the offer unanswered: aborted, unlocked
    terminated = xt.transfer(peered)
    assert terminated["state"] == "terminated"
    assert xt.where(peered) == "held"
    assert xt.sandbox(peered.yrd, "JS")["blocks"][xt.piece(peered)] == "held"
    assert [h.phase for h in xt.halves(peered.yrd)] == ["aborted"]
    # the destination comes back: the offer (sent first) and the abort arrive; nothing is credited
    peered.network.restore(peered.gd)
    xt.rounds(peered, 8, late + timedelta(minutes=10))
    assert [h.phase for h in xt.halves(peered.gd)] == ["aborted"]
    assert xt.sandbox(peered.gd, "GD")["imports"] == []
    assert xt.where(peered) == "held" and xt.transfer(peered)["state"] == "terminated"
    assert "transfer.committed" not in xt.logged_types(peered.yrd) + xt.logged_types(peered.gd)


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
    xt.propose(peered, "XT-9")
    peered.network.cut(gd)
    xt.rounds(peered, 3, datetime.now(UTC))
    (offer,) = xt.messages(yrd, "transfer.offer")
    peered.network.restore(gd)
    assert _post(yrd, gd, "/federation/v1/transfers", offer.body, network)["phase"] == "aborted"
    commit = {**abort, "decision": "commit"}
    with pytest.raises(PeerCallFailed) as refused:
        _post(yrd, gd, "/federation/v1/transfers/XT-9/decision", commit, network)
    assert (refused.value.status, (refused.value.problem or {}).get("code")) == (409, "6013")
    assert xt.sandbox(gd, "GD")["imports"] == []


def test_a_ready_answer_arriving_after_the_deadline_aborts_and_nothing_is_credited(peered: TwoHubs) -> None:
    yrd_saga, yrd_peer = peered.transfer_workers[0], peered.workers[0]
    xt.propose(peered)
    now = datetime.now(UTC)
    yrd_saga(now)  # locked at JS
    yrd_saga(now + timedelta(seconds=1))  # offered (in the outbox)
    assert xt.where(peered) == "locked"
    late = now + timedelta(seconds=peered.yrd.settings.transfer_deadline + 1)
    yrd_peer(late)  # the offer reaches GD, its "ready" comes back after the deadline
    assert [h.phase for h in xt.halves(peered.gd)] == ["offered"]
    assert [h.phase for h in xt.halves(peered.yrd)] == ["aborted"]  # decided: abort, not commit
    xt.rounds(peered, 8, late)
    assert [h.phase for h in xt.halves(peered.gd)] == ["aborted"]
    assert xt.transfer(peered)["state"] == "terminated" and xt.where(peered) == "held"
    assert (
        xt.sandbox(peered.gd, "GD")["imports"] == []
        and xt.messages(peered.yrd, "transfer.decision")[0].body["decision"] == "abort"
    )


@pytest.mark.parametrize("repeat", range(3))
def test_the_answer_and_the_deadline_racing_decide_once(peered: TwoHubs, repeat: int) -> None:
    """The offer's answer (processed before the deadline: commit) and the saga's round (after it:
    abort) at the same time, in two threads: one decision, one decision message, and the end
    agrees with it."""
    import threading

    yrd_saga, yrd_peer = peered.transfer_workers[0], peered.workers[0]
    xt.propose(peered)
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
    (decided,) = xt.halves(peered.yrd)
    assert decided.phase in ("committed", "aborted")
    assert len(xt.messages(peered.yrd, "transfer.decision")) == 1
    xt.rounds(peered, 12, late + timedelta(minutes=1))
    if decided.phase == "committed":
        assert xt.transfer(peered)["state"] == "completed" and xt.where(peered) == "moved"
    else:
        assert xt.transfer(peered)["state"] == "terminated" and xt.where(peered) == "held"
        assert xt.sandbox(peered.gd, "GD")["imports"] == []


def test_interleaved_rounds_cuts_and_deadlines_keep_the_serials_in_one_place(peered: TwoHubs) -> None:
    """A state machine over both hubs' worker xt.rounds, network cuts, lost answers, restores and the
    clock passing the deadline, one xt.transfer of fresh serials per example, compared with a
    reference model: the serials are held, locked, arriving or moved (never two places); GD
    credits only what the YRD hub committed; once everything is restored and settled, a committed
    xt.transfer completed (credited once at GD) and any other is terminated with its serials held."""
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
            xt.propose(
                hubs,
                self.id,
                start=self.start,
                end=self.end,
                block_id=xt.held_block(hubs, self.start, self.end),
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
            place = xt.where(hubs, self.start, self.end)
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
            state = xt.transfer(hubs, self.id)["state"]
            imports = xt.sandbox(hubs.gd, "GD")["imports"].count(f"JS-B-2025-000001:{self.start}-{self.end}")
            if self._phase(hubs.yrd) == "completed":
                assert (state, xt.where(hubs, self.start, self.end), imports) == ("completed", "moved", 1)
            else:
                assert (
                    state == "terminated" and xt.where(hubs, self.start, self.end) == "held" and imports == 0
                )

    run_state_machine_as_test(
        Exchange, settings=hypothesis_settings(max_examples=12, stateful_step_count=15, deadline=None)
    )
