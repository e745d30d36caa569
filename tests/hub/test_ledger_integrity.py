"""The classes of ledger breakage an attacker's pass found, one named test each, on both backends:
malformed and overlapping parts, serials under a pending recognition, unknown or foreign
certificates, stuck sagas. Every refusal is a 4xx naming the part and the code, and changes
nothing (the log does not grow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hub.client import PlatformClient, Refused
from hub.transfers.worker import TransferWorker
from tests.hub.conftest import example
from tests.hub.conftest import platform_client as _client
from tests.hub.conftest import run_worker as _run

BLOCK = "JS-B-2025-000001"  # serials 100001-100350, held by JS
OTHER = "JS-B-2025-000002"  # serials 100351-100398, held by JS


def tree_size(hub: Any) -> int:
    return int(hub[0].get("/v1/log/tree-head").json()["tree_size"])


def transfer_body(parts: list[dict[str, Any]], transfer_id: str = "TR-X", **extra: Any) -> dict[str, Any]:
    return {
        "transfer_id": transfer_id,
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": parts,
        **extra,
    }


def part(block: str = BLOCK, start: int | None = None, end: int | None = None) -> dict[str, Any]:
    named: dict[str, Any] = {"block_id": block, "namespace": "JS"}
    if start is not None:
        named["start"] = start
    if end is not None:
        named["end"] = end
    return named


def propose(platform: PlatformClient, body: dict[str, Any], key: str = "k-x") -> httpx.Response:
    return platform.request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": key})


@dataclass(frozen=True)
class BadParts:
    """A transfer request whose parts must be refused: the code and the part it points at."""

    name: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    code: str = ""
    pointer: str = ""


BAD_PARTS = [
    BadParts("reversed", [part(start=100010, end=100001)], code="3001", pointer="/blocks/0"),
    BadParts("outside its block", [part(start=100300, end=100400)], code="3025", pointer="/blocks/0"),
    BadParts("before its block", [part(start=1, end=5)], code="3025", pointer="/blocks/0"),
    BadParts(
        "overlapping parts of one block",
        [part(start=100001, end=100010), part(start=100005, end=100020)],
        code="3027",
        pointer="/blocks/1",
    ),
    BadParts("one block named twice", [part(), part()], code="3027", pointer="/blocks/1"),
    BadParts(
        "a whole block and a part of it",
        [part(start=100100, end=100100), part()],
        code="3027",
        pointer="/blocks/1",
    ),
    BadParts("unknown block", [part(block="JS-NOPE")], code="3020", pointer="/blocks/0/block_id"),
    BadParts(
        "wrong namespace", [{"block_id": BLOCK, "namespace": "SH"}], code="3020", pointer="/blocks/0/block_id"
    ),
    BadParts("a pledged block", [part(block="JS-B-2024-000310")], code="3023", pointer="/blocks/0"),
]


@pytest.mark.parametrize("case", BAD_PARTS, ids=[case.name for case in BAD_PARTS])
def test_malformed_parts_are_refused_naming_the_part_and_change_nothing(
    hub, federation, case: BadParts
) -> None:
    jiangsu = _client(hub, federation, "js")
    before = tree_size(hub)
    with pytest.raises(Refused) as refused:
        propose(jiangsu, transfer_body(case.parts))
    assert refused.value.status == 422
    assert (case.pointer, case.code) in [(e["pointer"], e["code"]) for e in refused.value.errors]
    assert tree_size(hub) == before
    assert jiangsu.get(f"/v1/blocks/{BLOCK}")["status"] == "held"


def test_two_disjoint_parts_of_one_block_complete_and_count_each_serial_once(
    hub, database, federation
) -> None:
    jiangsu = _client(hub, federation, "js")
    parts = [part(start=100201, end=100210), part(start=100001, end=100005)]
    proposed = propose(jiangsu, transfer_body(parts)).json()
    assert proposed["quantity"] == 15
    _run(hub, database)
    done = jiangsu.get("/v1/transfers/TR-X")
    assert done["state"] == "completed", done["last_error"]
    assert sorted(done["locked_blocks"]) == [f"{BLOCK}:100001-100005", f"{BLOCK}:100201-100210"]
    assert sorted(done["credited_blocks"]) == [f"SH:{BLOCK}:100001-100005", f"SH:{BLOCK}:100201-100210"]
    mine = {b["block_id"]: (b["status"], b["quantity"]) for b in jiangsu.get("/v1/blocks")}
    assert mine[f"{BLOCK}:100006-100200"] == ("held", 195)
    assert mine[f"{BLOCK}:100211-100350"] == ("held", 140)
    assert sum(quantity for _, quantity in mine.values() if _ != "exported") >= 335


def test_piece_ids_stay_flat_after_repeated_splits(hub, database, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    retire = example("retirement", "event-neutralization")
    for n, (start, end) in enumerate([(100001, 100010), (100011, 100020), (100100, 100100)]):
        holder = jiangsu.get("/v1/blocks", namespace="JS", serial=start)
        held = next(b for b in holder if b["status"] == "held")
        body = {
            **retire,
            "retirement_id": f"RT-{n}",
            "registry": "JS",
            "blocks": [
                {"block_id": held["block_id"], "namespace": "JS", "start": start, "end": end,
                 "quantity": end - start + 1, "unit": "tCO2e"}
            ],
            "quantity": end - start + 1,
            "beneficiary": {"registry": "JS", "account_id": "JS-A-1"},
        }  # fmt: skip
        answer = jiangsu.post("/v1/retirements", body)
        assert answer["retired_blocks"] == [f"{BLOCK}:{start}-{end}"]
    ids = [b["block_id"] for b in jiangsu.get("/v1/blocks") if b["block_id"].startswith(BLOCK)]
    assert all(block_id.count(":") <= 1 for block_id in ids), ids
    found = jiangsu.get("/v1/blocks", namespace="JS", serial=100050)
    assert [(b["block_id"], b["status"]) for b in found] == [(f"{BLOCK}:100021-100099", "held")]


def _recognize(jiangsu: PlatformClient, request_id: str = "RR-T-1") -> dict[str, Any]:
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets") | {"request_id": request_id}
    return jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})


def test_serials_under_a_pending_recognition_cannot_move_or_be_pledged_and_approval_stays_true(
    hub,
    federation,
) -> None:
    jiangsu = _client(hub, federation, "js")
    pending = _recognize(jiangsu)  # serials 100001-100120
    before = tree_size(hub)
    with pytest.raises(Refused) as moved:
        propose(jiangsu, transfer_body([part(start=100100, end=100130)]))
    assert [(e["pointer"], e["code"]) for e in moved.value.errors] == [("/blocks/0", "3026")]
    with pytest.raises(Refused) as pledged:
        jiangsu.post(f"/v1/blocks/{BLOCK}/pledge", {"reason": "collateral"})
    assert pledged.value.code == "3026"
    assert tree_size(hub) == before
    operator = _client(hub, federation, "operator-sh")
    approved = operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    assert approved["status"] == "approved"
    with pytest.raises(Refused) as reserved:  # the certificate's serials: only under the certificate
        propose(jiangsu, transfer_body([part(start=100001, end=100120)]), key="k-2")
    assert [e["code"] for e in reserved.value.errors] == ["3029"]


def test_a_transfer_under_a_certificate_uses_it_once_when_it_completes(hub, database, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    pending = _recognize(jiangsu)
    operator = _client(hub, federation, "operator-sh")
    operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    certificate = f"RC-{pending['id']}"
    with pytest.raises(Refused) as partial:
        propose(jiangsu, transfer_body([part(start=100001, end=100050)], certificate_id=certificate))
    assert [e["code"] for e in partial.value.errors] == ["5014"]  # a certificate is used whole
    to_zhejiang = transfer_body([part(start=100001, end=100120)], certificate_id=certificate)
    with pytest.raises(Refused) as elsewhere:
        propose(
            jiangsu,
            to_zhejiang | {"destination": "ZJ", "to_account": {"registry": "ZJ", "account_id": "Z-1"}},
        )
    assert "5014" in [e["code"] for e in elsewhere.value.errors]
    propose(jiangsu, transfer_body([part(start=100001, end=100120)], certificate_id=certificate), key="k-c")
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "approved"
    _run(hub, database)
    assert jiangsu.get("/v1/transfers/TR-X")["state"] == "completed"
    used = jiangsu.get(f"/v1/recognitions/{pending['id']}")
    assert (used["status"], used["used_by"]) == ("used", "transfer:TR-X")
    with pytest.raises(Refused) as twice:
        propose(jiangsu, transfer_body([part(block=OTHER)], "TR-Y", certificate_id=certificate), key="k-y")
    assert twice.value.errors[0]["code"] == "5015"


def test_a_retirement_naming_an_unknown_certificate_is_refused(hub, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    body = example("retirement", "event-neutralization") | {
        "registry": "JS",
        "retirement_id": "RT-C",
        "certificate_id": "RC-does-not-exist",
        "blocks": [{"block_id": BLOCK, "namespace": "JS", "start": 100001, "end": 100010, "quantity": 10,
                    "unit": "tCO2e"}],
        "quantity": 10,
    }  # fmt: skip
    before = tree_size(hub)
    with pytest.raises(Refused) as refused:
        jiangsu.post("/v1/retirements", body)
    assert ("/certificate_id", "5013") in [(e["pointer"], e["code"]) for e in refused.value.errors]
    assert tree_size(hub) == before


def test_a_withdrawn_certificate_frees_its_serials(hub, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    pending = _recognize(jiangsu)
    operator = _client(hub, federation, "operator-sh")
    with pytest.raises(Refused) as early:
        jiangsu.post(f"/v1/recognitions/{pending['id']}/withdraw", {"reason": "not approved yet"})
    assert early.value.code == "6002"
    operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    assert (
        jiangsu.post(f"/v1/recognitions/{pending['id']}/withdraw", {"reason": "plans changed"})["status"]
        == "withdrawn"
    )
    assert propose(jiangsu, transfer_body([part(start=100001, end=100120)])).status_code == 201


class FaultyTransport(httpx.BaseTransport):
    """Forwards to the hub's sandboxes, but a credit call fails inside the hub's side of the
    call (not a platform's answer): the kind of fault that used to be retried for ever."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.credits = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/sandbox/sh/" in request.url.path and request.method == "POST" and "import" in request.url.path:
            self.credits += 1
            raise RuntimeError("injected: the hub cannot build the credit call")
        return self.inner.handle_request(request)


def test_a_saga_failing_inside_the_hub_is_counted_and_terminated_compensated_at_its_deadline(
    hub,
    database,
    federation,
) -> None:
    jiangsu = _client(hub, federation, "js")
    propose(jiangsu, transfer_body([part(start=100001, end=100010)]))
    transport = FaultyTransport(hub[0]._transport)
    worker = TransferWorker(database, hub[1], transport=transport)
    now = datetime.now(UTC)
    worker.run_once(now)  # locked at the origin; its credit call, in the same round, fails inside the hub
    worker.run_once(datetime.now(UTC) + timedelta(seconds=1))  # backed off: not yet again
    waiting = jiangsu.get("/v1/transfers/TR-X")
    assert waiting["state"] == "origin_locked"
    assert waiting["attempts"] == 1 and "internal error" in waiting["last_error"]
    worker.run_once(now + timedelta(hours=2))  # past the deadline: terminated and compensated
    done = jiangsu.get("/v1/transfers/TR-X")
    assert done["state"] == "terminated", done
    assert transport.credits == 2
    pieces = {b["block_id"]: b["status"] for b in jiangsu.get("/v1/blocks")}
    assert pieces[f"{BLOCK}:100001-100010"] == "held"
    state = hub[0].get("/sandbox/js/_sandbox/state").json()["blocks"]
    assert state[f"{BLOCK}:100001-100010"] == "held", "unlocked at the origin"
    assert (
        propose(jiangsu, transfer_body([part(block=f"{BLOCK}:100001-100010")], "TR-Z"), key="k-z").status_code
        == 201
    )


# Found by an attacker's pass against `make run` (SQLite) and a hub on PostgreSQL.


def test_a_certificate_in_use_by_a_transfer_cannot_be_withdrawn(hub, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    pending = _recognize(jiangsu)
    operator = _client(hub, federation, "operator-sh")
    operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    certificate = f"RC-{pending['id']}"
    propose(jiangsu, transfer_body([part(start=100001, end=100120)], certificate_id=certificate))
    with pytest.raises(Refused) as in_use:
        jiangsu.post(f"/v1/recognitions/{pending['id']}/withdraw", {"reason": "changed my mind"})
    assert in_use.value.code == "6002"
    jiangsu.post("/v1/transfers/TR-X/cancel", {})  # the serials go back to the certificate
    withdrawn = jiangsu.post(f"/v1/recognitions/{pending['id']}/withdraw", {"reason": "changed my mind"})
    assert withdrawn["status"] == "withdrawn"
    assert (
        propose(jiangsu, transfer_body([part(start=100001, end=100120)], "TR-2"), key="k-2").status_code
        == 201
    )


def test_operations_on_other_parts_of_a_block_do_not_strand_a_transfer(hub, database, federation) -> None:
    jiangsu = _client(hub, federation, "js")
    propose(jiangsu, transfer_body([part(start=100200, end=100201)], "TR-A"), key="k-a")
    propose(jiangsu, transfer_body([part(start=100210, end=100211)], "TR-B"), key="k-b")
    retire = example("retirement", "event-neutralization") | {
        "registry": "JS",
        "retirement_id": "RT-S",
        "blocks": [{"block_id": BLOCK, "namespace": "JS", "start": 100300, "end": 100301, "quantity": 2,
                    "unit": "tCO2e"}],
        "quantity": 2,
        "beneficiary": {"registry": "JS", "account_id": "JS-A-1"},
    }  # fmt: skip
    jiangsu.post("/v1/retirements", retire)  # splits the block both transfers named
    _run(hub, database)
    for transfer in ("TR-A", "TR-B"):
        done = jiangsu.get(f"/v1/transfers/{transfer}")
        assert (done["state"], done["last_error"]) == ("completed", None)


def test_a_pending_recognition_is_approved_after_another_part_of_its_block_moved(
    hub, database, federation
) -> None:
    jiangsu = _client(hub, federation, "js")
    pending = _recognize(jiangsu)  # 100001-100120
    propose(jiangsu, transfer_body([part(start=100340, end=100350)]))
    _run(hub, database)
    assert jiangsu.get("/v1/transfers/TR-X")["state"] == "completed"
    operator = _client(hub, federation, "operator-sh")
    approved = operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "still ok"}
    )
    assert approved["status"] == "approved"


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        ({"to_account": {"registry": "ZJ", "account_id": "ZJ-A-1"}}, "/to_account/registry", "2005"),
        ({"blocks": [part(start="100200", end="100210")]}, "/blocks/0/start", "1002"),  # type: ignore[arg-type]
        ({"blocks": [part(start=True, end=True)]}, "/blocks/0/start", "1002"),
    ],
    ids=["account elsewhere", "digits as a string", "a boolean"],
)
def test_a_transfer_names_a_destination_account_and_integer_serials(
    hub, federation, change, pointer, code
) -> None:
    jiangsu = _client(hub, federation, "js")
    before = tree_size(hub)
    with pytest.raises(Refused) as refused:
        propose(jiangsu, transfer_body([part(start=100001, end=100010)]) | change)
    assert (pointer, code) in [(e["pointer"], e["code"]) for e in refused.value.errors]
    assert tree_size(hub) == before


def test_one_idempotency_key_sent_by_many_threads_at_once_is_one_transfer(hub, database) -> None:
    import threading

    from hub.problems import HubError
    from hub.transfers.service import TransferService

    body = transfer_body([part(start=100001, end=100010)], "TR-I")
    barrier, outcomes = threading.Barrier(8), []

    def send() -> None:
        barrier.wait()
        try:
            with database.unit_of_work() as session:
                found, created = TransferService(session, timedelta(hours=1)).propose(
                    body, key="same-key", client_id="js-client", sender="JS"
                )
                outcomes.append((found.id, created))
        except HubError as error:
            outcomes.append((str(error.code), False))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [("TR-I", False)] * 7 + [("TR-I", True)]


def test_a_withdrawal_racing_a_transfer_under_the_certificate_is_one_or_the_other(
    hub, database, federation
) -> None:
    """Found on PostgreSQL by the second attacker's pass: both won, or deadlocked into a 500."""
    import threading

    from hub.problems import HubError
    from hub.recognition.models import Recognition
    from hub.recognition.use import Certificates
    from hub.transfers.service import TransferService

    jiangsu = _client(hub, federation, "js")
    pending = _recognize(jiangsu)
    operator = _client(hub, federation, "operator-sh")
    operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    certificate = f"RC-{pending['id']}"
    barrier, outcomes = threading.Barrier(6), []

    def withdraw() -> None:
        barrier.wait()
        with database.unit_of_work() as session:
            found = session.get(Recognition, pending["id"])
            assert found is not None
            Certificates(session).withdraw(found, actor="js", reason="race")

    def transfer(n: int) -> None:
        barrier.wait()
        body = transfer_body([part(start=100001, end=100120)], f"TR-R{n}", certificate_id=certificate)
        with database.unit_of_work() as session:
            TransferService(session, timedelta(hours=1)).propose(
                body, key=f"k-r{n}", client_id="js", sender="JS"
            )

    def run(target: Any, *args: Any) -> None:
        try:
            target(*args)
            outcomes.append(f"{target.__name__}:ok")
        except HubError as error:
            outcomes.append(f"{target.__name__}:{error.code or error.errors[0]['code']}")
        except Exception as error:  # a deadlock or a constraint, not a refusal by a check
            outcomes.append(f"{target.__name__}:{type(error).__name__}")

    threads = [threading.Thread(target=run, args=(withdraw,)) for _ in range(3)]
    threads += [threading.Thread(target=run, args=(transfer, n)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o.endswith(":ok")]
    assert len(winners) == 1, outcomes
    assert all(o.split(":")[1].isdigit() for o in outcomes if o not in winners), outcomes
    status = jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"]
    assert status == ("withdrawn" if winners[0].startswith("withdraw") else "approved"), (status, outcomes)
