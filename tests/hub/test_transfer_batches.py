"""Batch proposals (``POST /v1/transfer-batches``): all or nothing, idempotent on the batch's key,
each transfer checked as a single proposal is; on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest

from hub.client import PlatformClient, Refused
from hub.client.errors import NotFound
from tests.hub.conftest import platform_client, run_worker

BLOCK = "JS-B-2025-000001"  # serials 100001-100350, held by JS
OTHER = "JS-B-2025-000002"  # serials 100351-100398


def transfer(transfer_id: str, start: int | None = None, end: int | None = None, **extra) -> dict:
    part: dict = {"block_id": extra.pop("block_id", BLOCK), "namespace": "JS"}
    if start is not None:
        part |= {"start": start, "end": end}
    return {
        "transfer_id": transfer_id,
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": [part],
        **extra,
    }


def tens(count: int, prefix: str = "TR-") -> list[dict]:
    """``count`` transfers of 10 serials each, from the start of BLOCK."""
    return [transfer(f"{prefix}{n}", 100001 + 10 * n, 100010 + 10 * n) for n in range(count)]


def send(platform: PlatformClient, transfers: list[dict], key: str = "b-1"):
    return platform.request(
        "POST", "/v1/transfer-batches", json_body={"transfers": transfers}, headers={"Idempotency-Key": key}
    )


def codes(refusal: Refused) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in refusal.errors]


def nothing_proposed(platform: PlatformClient) -> None:
    """Nothing of a refused batch remains: no transfer, and the block's serials are free."""
    with pytest.raises(NotFound):
        platform.get("/v1/transfers/TR-0")
    single = transfer("TR-SINGLE")
    accepted = platform.request(
        "POST", "/v1/transfers", json_body=single, headers={"Idempotency-Key": "single"}
    ).json()
    assert accepted["quantity"] == 350


def test_a_batch_is_proposed_whole_and_each_transfer_completes(hub, database, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    answer = send(jiangsu, tens(20))
    assert answer.status_code == 201
    body = answer.json()
    assert (body["count"], body["quantity"]) == (20, 200)
    assert [t["transfer_id"] for t in body["transfers"]] == [f"TR-{n}" for n in range(20)]
    assert {t["state"] for t in body["transfers"]} == {"accepted"}
    assert jiangsu.get("/v1/transfers/TR-7")["blocks"][0]["start"] == 100071
    events = [e["type"] for e in jiangsu.get("/v1/events")["events"]]
    assert events.count("transfer.accepted") == 20
    run_worker(hub, database)
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(20)} == {"completed"}
    mine = {b["block_id"]: b["status"] for b in jiangsu.get("/v1/blocks")}
    assert mine[f"{BLOCK}:100001-100010"] == "exported"
    assert mine[f"{BLOCK}:100201-100350"] == "held"


def test_the_batch_key_replays_the_stored_answer_or_refuses_another_body(hub, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    first = send(jiangsu, tens(3)).json()
    again = send(jiangsu, tens(3))
    assert again.status_code == 200
    assert again.json() == first
    with pytest.raises(Refused) as other:
        send(jiangsu, tens(4))
    assert (other.value.status, other.value.code) == (422, "6004")  # the IETF draft: 422


REFUSED_BATCHES = [
    pytest.param(
        [*tens(2), transfer("TR-X", 100391, 100399, block_id=OTHER)],
        [("/transfers/2/blocks/0", "3025")],
        id="one-item-outside-its-block",
    ),
    pytest.param(
        [transfer("TR-0", 100001, 100010), transfer("TR-0", 100011, 100020)],
        [("/transfers/1/transfer_id", "3012")],
        id="a-transfer-id-twice",
    ),
    pytest.param(
        [transfer("TR-0", 100001, 100010), transfer("TR-1", 100005, 100020)],
        [("/transfers/1/blocks/0", "3024")],
        id="two-items-claiming-overlapping-serials",
    ),
    pytest.param(
        [transfer("TR-0", 100001, 100010), transfer("TR-1", block_id="JS-B-2024-000310")],
        [("/transfers/1/blocks/0", "3023")],
        id="a-pledged-block",
    ),
    pytest.param(
        [transfer("TR-0", 100001, 100010), transfer("TR-1", destination="JS")],
        [("/transfers/1/destination", "5011"), ("/transfers/1/to_account/registry", "2005")],
        id="a-transfer-to-itself",
    ),
]


@pytest.mark.parametrize(("transfers", "expected"), REFUSED_BATCHES)
def test_one_refused_transfer_refuses_the_batch_and_changes_nothing(hub, federation, transfers, expected):
    jiangsu = platform_client(hub, federation, "js")
    with pytest.raises(Refused) as refused:
        send(jiangsu, transfers)
    assert refused.value.status == 422
    found = codes(refused.value)
    for item in expected:
        assert item in found
    nothing_proposed(jiangsu)


def test_a_transfer_id_that_exists_refuses_the_batch(hub, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    send(jiangsu, tens(1), key="b-1")
    with pytest.raises(Refused) as refused:
        send(jiangsu, [transfer("TR-0", 100101, 100110), transfer("TR-9", 100111, 100120)], key="b-2")
    assert ("/transfers/0/transfer_id", "3012") in codes(refused.value)
    with pytest.raises(NotFound):
        jiangsu.get("/v1/transfers/TR-9")


def test_a_foreign_platforms_blocks_are_refused(hub, federation) -> None:
    shanghai = platform_client(hub, federation, "sh")
    to_zhejiang = {"destination": "ZJ", "to_account": {"registry": "ZJ", "account_id": "ZJ-A-1"}}
    batch = [transfer("TR-0", 100001, 100010) | to_zhejiang]
    with pytest.raises(Refused) as refused:
        send(shanghai, batch)
    assert [pointer for pointer, _ in codes(refused.value)] == ["/transfers/0/blocks/0"]
    nothing_proposed(platform_client(hub, federation, "js"))


def test_a_reversed_range_is_refused_when_the_batch_is_read(hub, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    with pytest.raises(Refused) as refused:
        send(jiangsu, [*tens(2), transfer("TR-R", 100300, 100290)])
    assert refused.value.code == "3001"
    assert refused.value.errors[0]["pointer"].startswith("/transfers/2/blocks/0")
    nothing_proposed(jiangsu)


def test_an_oversized_or_empty_batch_is_refused(hub, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    for transfers in ([], tens(1001)):
        with pytest.raises(Refused) as refused:
            send(jiangsu, transfers, key=f"b-{len(transfers)}")
        assert refused.value.status == 422
        assert refused.value.errors[0]["pointer"] == "/transfers"
    nothing_proposed(jiangsu)


def test_a_batch_needs_its_idempotency_key(hub, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    with pytest.raises(Refused) as refused:
        jiangsu.request("POST", "/v1/transfer-batches", json_body={"transfers": tens(1)})
    assert refused.value.code == "1004"


def test_concurrent_batches_claiming_the_same_serials_exactly_one_wins_each(database, hub) -> None:
    """Eight threads each propose a batch of ten transfers; the batches overlap pairwise in one
    serial range each and otherwise not at all. Every serial is won exactly once, and no batch
    is half proposed (on PostgreSQL the threads really race; the lock order keeps them from
    deadlocking)."""
    from hub.problems import HubError
    from hub.transfers.batches import TransferBatches

    threads, per_batch = 8, 10
    barrier = threading.Barrier(threads)
    outcomes: dict[int, str] = {}

    def batch(n: int) -> list[dict]:
        # batch n covers serials of slots [5n, 5n+10): it shares five slots with batch n+1
        slots = range(5 * n, 5 * n + per_batch)
        return [transfer(f"TR-{n}-{s}", 100001 + 4 * s, 100004 + 4 * s) for s in slots]

    def propose(n: int) -> None:
        barrier.wait()
        try:
            with database.unit_of_work() as session:
                TransferBatches(session, timedelta(hours=1)).propose(
                    {"transfers": batch(n)}, key=f"k-{n}", client_id="js", sender="JS"
                )
            outcomes[n] = "accepted"
        except HubError as error:
            outcomes[n] = str(error.code)

    workers = [threading.Thread(target=propose, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(outcomes) == threads
    assert set(outcomes.values()) <= {"accepted", "3024"}
    winners = [n for n, outcome in outcomes.items() if outcome == "accepted"]
    assert winners
    for n in winners:  # no two winners share a serial
        assert n + 1 not in winners
    with database.unit_of_work() as session:
        from sqlmodel import select

        from hub.claims.models import SerialClaim
        from hub.transfers.models import Transfer

        ids = set(session.exec(select(Transfer.id)))
        claims = session.exec(select(SerialClaim).where(SerialClaim.active == True)).all()  # noqa: E712
    assert ids == {f"TR-{n}-{s}" for n in winners for s in range(5 * n, 5 * n + per_batch)}
    spans = sorted((c.serial_start, c.serial_end) for c in claims if c.kind == "transfer")
    assert len(spans) == len(ids)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


def test_a_batch_refuses_serials_held_by_stored_claims_as_single_proposals_do(hub, federation) -> None:
    """The batch reads the claims over all its parts at once: each part's verdict is the one a
    single proposal of it gets (the claim reaching into a range from below, one inside it, one
    covering it, a whole block holding claims, free serials between claims)."""
    jiangsu = platform_client(hub, federation, "js")
    stored = [
        transfer("S-0", 100001, 100010),
        transfer("S-1", 100031, 100040),
        transfer("S-2", 100101, 100105),
        transfer("S-3", 100361, 100370, block_id=OTHER),
    ]
    send(jiangsu, stored, key="stored")
    candidates = [  # none sharing a serial with another (the batch's own overlaps are refused too)
        transfer("C-0", 100021, 100030),  # free, between two claims
        transfer("C-1", 100005, 100012),  # a claim reaches in from below
        transfer("C-2", 100095, 100110),  # a claim inside
        transfer("C-3", 100033, 100034),  # inside a claim
        transfer("C-4", block_id=OTHER),  # the whole block, a claim inside
        transfer("C-5", 100200, 100350),  # free, after every claim of the block
    ]
    singly = []
    for n, candidate in enumerate(candidates):
        try:
            jiangsu.request(
                "POST",
                "/v1/transfers",
                json_body={**candidate, "transfer_id": f"ONE-{n}"},
                headers={"Idempotency-Key": f"one-{n}"},
            )
            singly.append([])
            jiangsu.request("POST", f"/v1/transfers/ONE-{n}/cancel")
        except Refused as refused:
            singly.append(codes(refused))
    assert [bool(s) for s in singly] == [False, True, True, True, True, False]
    with pytest.raises(Refused) as refused:
        send(jiangsu, candidates, key="candidates")
    expected = [
        (f"/transfers/{n}{pointer}", code) for n, found in enumerate(singly) for pointer, code in found
    ]
    assert codes(refused.value) == expected
    assert {code for _, code in expected} == {"3024"}
    accepted = send(jiangsu, [candidates[0], candidates[5]], key="free").json()
    assert accepted["quantity"] == 10 + 151


def test_a_key_is_for_one_request_a_single_proposals_key_is_not_a_batchs_nor_the_other_way(
    hub, federation
) -> None:
    """Found by the attacker's pass: a key used for a single proposal was taken again for a batch
    (and the other way), each answered 201 — against the key's contract (another path: 422, 6004)."""
    jiangsu = platform_client(hub, federation, "js")
    single = jiangsu.request(
        "POST",
        "/v1/transfers",
        json_body=transfer("TR-S", 100001, 100010),
        headers={"Idempotency-Key": "k-1"},
    )
    assert single.status_code == 201
    with pytest.raises(Refused) as reused:
        send(jiangsu, tens(2, prefix="TR-B-"), key="k-1")
    assert (reused.value.status, reused.value.code) == (422, "6004")
    assert "single transfer" in reused.value.problem["detail"]
    with pytest.raises(NotFound):
        jiangsu.get("/v1/transfers/TR-B-0")  # nothing of the batch

    batch = send(jiangsu, tens(2, prefix="TR-C-")[1:], key="k-2")
    assert batch.status_code == 201
    with pytest.raises(Refused) as taken:
        jiangsu.request(
            "POST",
            "/v1/transfers",
            json_body=transfer("TR-T", 100031, 100040),
            headers={"Idempotency-Key": "k-2"},
        )
    assert (taken.value.status, taken.value.code) == (422, "6004")
    assert "batch" in taken.value.problem["detail"]
    with pytest.raises(NotFound):
        jiangsu.get("/v1/transfers/TR-T")
    # each key still answers its own request
    assert (
        jiangsu.request(
            "POST",
            "/v1/transfers",
            json_body=transfer("TR-S", 100001, 100010),
            headers={"Idempotency-Key": "k-1"},
        ).status_code
        == 200
    )
    assert send(jiangsu, tens(2, prefix="TR-C-")[1:], key="k-2").status_code == 200
