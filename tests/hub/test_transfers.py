"""The transfer saga against the sandbox platforms: exactly once, idempotent on the client's key,
restart-safe, compensated when it cannot finish."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from hub.client import PlatformClient, Refused
from hub.transfers.worker import TransferWorker
from tests.hub.conftest import platform_client, run_worker

BLOCK = "JS-B-2025-000001"


_client = platform_client
_run = run_worker


def _propose(platform: PlatformClient, key: str, destination: str = "SH", transfer_id: str = "TR-1"):
    body = {
        "transfer_id": transfer_id,
        "destination": destination,
        "to_account": {"registry": destination, "account_id": f"{destination}-A-1"},
        "blocks": [{"block_id": BLOCK, "namespace": "JS"}],
    }
    return platform.request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": key})


def _run(hub, database, rounds: int = 5) -> None:
    worker = TransferWorker(database, hub[1], transport=hub[0]._transport)
    for n in range(rounds):
        worker.run_once(datetime.now(UTC) + timedelta(seconds=n))


def test_a_transfer_completes_exactly_once(hub, database, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    proposed = _propose(jiangsu, "k-1")
    assert proposed.status_code == 201
    assert proposed.json()["state"] == "accepted"
    _run(hub, database)
    done = jiangsu.get("/v1/transfers/TR-1")
    assert done["state"] == "completed"
    assert done["itl_status"] == 4
    assert [h["state"] for h in done["history"]] == [
        "proposed",
        "checked",
        "accepted",
        "origin_locked",
        "destination_credited",
        "completed",
    ]
    assert jiangsu.get(f"/v1/blocks/{BLOCK}")["status"] == "exported"
    shanghai = _client(hub, federation, "sh")
    assert shanghai.get(f"/v1/blocks/SH:{BLOCK}")["status"] == "imported"
    sandbox_js = hub[0].get("/sandbox/js/_sandbox/state").json()
    assert sandbox_js["blocks"][BLOCK] == "locked"
    assert BLOCK in hub[0].get("/sandbox/sh/_sandbox/state").json()["imports"]
    with pytest.raises(Refused) as again:
        _propose(jiangsu, "k-2", transfer_id="TR-2")
    assert "3022" in [e["code"] for e in again.value.errors]


def test_the_idempotency_key_replays_or_refuses(hub, database, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    first = _propose(jiangsu, "k-1").json()
    replay = _propose(jiangsu, "k-1")
    assert replay.status_code == 200
    assert replay.json()["transfer_id"] == first["transfer_id"]
    with pytest.raises(Refused) as other:
        _propose(jiangsu, "k-1", destination="ZJ")
    assert (other.value.status, other.value.code) == (422, "6004")  # the IETF draft: 422
    with pytest.raises(Refused) as taken:
        _propose(jiangsu, "k-3", transfer_id="TR-3")
    assert "3024" in [e["code"] for e in taken.value.errors]


def test_a_crash_between_the_call_and_its_record_repeats_the_call_not_the_step(
    hub, database, federation, monkeypatch
) -> None:
    jiangsu = _client(hub, federation, "js")
    _propose(jiangsu, "k-1")
    worker = TransferWorker(database, hub[1], transport=hub[0]._transport)
    applied = TransferWorker._apply
    crashes = iter([True])

    def crashing(self, session, transfer, target, job):
        if next(crashes, False):
            raise RuntimeError("the process died after the platform answered")
        return applied(self, session, transfer, target, job)

    monkeypatch.setattr(TransferWorker, "_apply", crashing)
    assert worker.run_once(datetime.now(UTC)) == 0  # the step's record rolled back (and is logged)
    assert jiangsu.get("/v1/transfers/TR-1")["state"] == "accepted"
    for n in range(1, 6):
        worker.run_once(datetime.now(UTC) + timedelta(minutes=n))  # after the lease
    assert jiangsu.get("/v1/transfers/TR-1")["state"] == "completed"
    assert hub[0].get("/sandbox/sh/_sandbox/state").json()["imports"].count(BLOCK) == 1


def test_a_destination_that_cannot_take_the_block_terminates_and_compensates(
    hub, database, federation
) -> None:
    jiangsu = _client(hub, federation, "js")
    _propose(jiangsu, "k-1", destination="CCER")  # the CCER format takes only units it issued
    _run(hub, database)
    terminated = jiangsu.get("/v1/transfers/TR-1")
    assert terminated["state"] == "terminated"
    assert terminated["itl_status"] == 5
    assert jiangsu.get(f"/v1/blocks/{BLOCK}")["status"] == "held"
    assert hub[0].get("/sandbox/js/_sandbox/state").json()["blocks"][BLOCK] == "held"
    assert _propose(jiangsu, "k-2", transfer_id="TR-2").json()["state"] == "accepted"


def test_fifty_concurrent_transfers_of_one_block_exactly_one_is_accepted(hub, database, federation) -> None:
    import threading

    from tests.hub.concurrent_proposals import propose_concurrently

    outcomes = propose_concurrently(database, "C", 50, threading.Barrier(50), BLOCK)
    assert outcomes.count("accepted") == 1
    assert len(outcomes) == 50


@pytest.mark.parametrize("crash_at", ["origin_locked", "destination_credited", "completed"])
def test_a_crash_at_any_step_loses_and_duplicates_nothing(
    hub, database, federation, monkeypatch, crash_at
) -> None:
    jiangsu = _client(hub, federation, "js")
    _propose(jiangsu, "k-1")
    worker = TransferWorker(database, hub[1], transport=hub[0]._transport)
    applied = TransferWorker._apply
    crashed: list[str] = []

    def crashing(self, session, transfer, target, job):
        if str(target) == crash_at and not crashed:
            crashed.append(crash_at)
            raise RuntimeError(f"the worker died applying {crash_at}")
        return applied(self, session, transfer, target, job)

    monkeypatch.setattr(TransferWorker, "_apply", crashing)
    for n in range(8):  # each round after a crash is the restarted worker, once the lease expired
        with contextlib.suppress(RuntimeError):
            worker.run_once(datetime.now(UTC) + timedelta(minutes=2 * n))
    assert crashed == [crash_at]
    assert jiangsu.get("/v1/transfers/TR-1")["state"] == "completed"
    shanghai = _client(hub, federation, "sh")
    held = [b for b in shanghai.get("/v1/blocks") if b["block_id"].endswith(BLOCK)]
    assert len(held) == 1
    assert hub[0].get("/sandbox/sh/_sandbox/state").json()["imports"].count(BLOCK) == 1
    assert jiangsu.get(f"/v1/blocks/{BLOCK}")["status"] == "exported"


def test_the_origin_cancels_before_anything_moved_and_not_after(hub, database, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    _propose(jiangsu, "k-1")
    cancelled = jiangsu.post("/v1/transfers/TR-1/cancel", {})
    assert (cancelled["state"], cancelled["itl_status"]) == ("cancelled", 7)
    _run(hub, database)
    assert jiangsu.get("/v1/transfers/TR-1")["state"] == "cancelled"
    assert jiangsu.get(f"/v1/blocks/{BLOCK}")["status"] == "held"
    _propose(jiangsu, "k-2", transfer_id="TR-2")
    _run(hub, database)
    with pytest.raises(Refused) as late:
        jiangsu.post("/v1/transfers/TR-2/cancel", {})
    assert late.value.code == "6002"


def test_fifty_transfers_of_one_block_from_five_processes_exactly_one_is_accepted(hub, database_url) -> None:
    import multiprocessing

    from tests.hub.concurrent_proposals import propose_many

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(50)
        with context.Pool(5) as pool:
            results = pool.starmap(propose_many, [(database_url, p, 10, barrier, BLOCK) for p in range(5)])
    outcomes = [outcome for result in results for outcome in result]
    assert len(outcomes) == 50
    assert outcomes.count("accepted") == 1


def test_a_partial_transfer_splits_the_block_and_preserves_the_sum(hub, database, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    body = {
        "transfer_id": "TR-P",
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": [{"block_id": BLOCK, "namespace": "JS", "start": 100001, "end": 100100}],
    }
    proposed = jiangsu.request(
        "POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": "k-p"}
    ).json()
    assert proposed["quantity"] == 100
    with pytest.raises(Refused) as pledged:
        jiangsu.post(f"/v1/blocks/{BLOCK}/pledge", {"reason": "not while it moves"})
    assert pledged.value.code == "3024"
    _run(hub, database)
    assert jiangsu.get("/v1/transfers/TR-P")["state"] == "completed"
    mine = {b["block_id"]: (b["status"], b["quantity"]) for b in jiangsu.get("/v1/blocks")}
    assert mine[f"{BLOCK}:100001-100100"] == ("exported", 100)
    assert mine[f"{BLOCK}:100101-100350"] == ("held", 250)
    shanghai = _client(hub, federation, "sh")
    assert shanghai.get(f"/v1/blocks/SH:{BLOCK}:100001-100100")["quantity"] == 100
    sandbox = hub[0].get("/sandbox/js/_sandbox/state").json()["blocks"]
    assert sandbox[f"{BLOCK}:100001-100100"] == "locked"
    assert sandbox[f"{BLOCK}:100101-100350"] == "held"


def test_one_step_that_fails_to_apply_holds_back_no_other_transfer(
    hub, database, federation, monkeypatch
) -> None:
    js = _client(hub, federation, "js")
    for key, transfer_id, block in [
        ("k-1", "TR-GOOD", "JS-B-2025-000001"),
        ("k-2", "TR-BAD", "JS-B-2025-000002"),
    ]:
        body = {
            "transfer_id": transfer_id,
            "destination": "SH",
            "to_account": {"registry": "SH", "account_id": "SH-A-1"},
            "blocks": [{"block_id": block, "namespace": "JS"}],
        }
        js.request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": key})
    worker = TransferWorker(database, hub[1], transport=hub[0]._transport)
    applied = TransferWorker._apply

    def poisoned(self, session, transfer, target, job):
        if transfer.id == "TR-BAD":
            raise AssertionError("a step that cannot be applied")
        return applied(self, session, transfer, target, job)

    monkeypatch.setattr(TransferWorker, "_apply", poisoned)
    for round_number in range(6):
        worker.run_once(datetime.now(UTC) + timedelta(minutes=2 * round_number))  # nothing escapes
    assert js.get("/v1/transfers/TR-GOOD")["state"] == "completed"
    stuck = js.get("/v1/transfers/TR-BAD")
    assert stuck["state"] == "accepted"  # never applied, never terminated: its call may have acted


@pytest.mark.parametrize(
    ("block", "destination", "codes"),
    [
        pytest.param(BLOCK, "SH", None, id="known-block-active-destination"),
        pytest.param(BLOCK, "suspended", ["2002"], id="known-block-suspended-destination"),
        pytest.param(BLOCK, "ZZ", ["2002"], id="known-block-unknown-destination"),
        pytest.param("JS-B-NOPE", "SH", ["3020"], id="unknown-block-active-destination"),
        pytest.param("JS-B-NOPE", "suspended", ["2002", "3020"], id="unknown-block-suspended-destination"),
        pytest.param("JS-B-NOPE", "ZZ", ["2002", "3020"], id="unknown-block-unknown-destination"),
    ],
)
def test_the_destination_is_read_with_the_blocks_or_without_them_alike(
    hub, database, federation, block: str, destination: str, codes: list[str] | None
) -> None:
    """The destination's status rides on the blocks' read (one statement) and is read on its
    own when no named block exists: either way a proposal is accepted or refused the same."""
    from sqlalchemy import text

    if destination == "suspended":  # as another process would: only the database knows
        destination = "SH"
        with database.unit_of_work() as session:
            session.execute(text("UPDATE platform SET status = 'suspended' WHERE code = 'SH'"))
    jiangsu = _client(hub, federation, "js")
    body = {
        "transfer_id": "TR-1",
        "destination": destination,
        "to_account": {"registry": destination, "account_id": f"{destination}-A-1"},
        "blocks": [{"block_id": block, "namespace": "JS"}],
    }
    if codes is None:
        accepted = jiangsu.request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": "k"})
        assert accepted.status_code == 201 and accepted.json()["state"] == "accepted"
    else:
        with pytest.raises(Refused) as refused:
            jiangsu.request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": "k"})
        assert refused.value.status == 422
        assert sorted({error["code"] for error in refused.value.problem["errors"]}) == codes
    jiangsu.close()
