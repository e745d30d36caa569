"""The worker's batched rounds against the sandbox platforms: one batch call per platform and step,
one record transaction per round; a refused item fails alone; a lost answer repeats the batch
harmlessly; a platform without batch routes is served call by call. Faults are injected through
the worker's transport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.registry import get
from hub.transfers.worker import TransferWorker
from tests.hub.conftest import platform_client

BLOCK = "JS-B-2025-000001"  # serials 100001-100350, held by JS


class Transport(httpx.BaseTransport):
    """The hub's transport to its sandboxes, recording the platform calls; it can answer 404 to
    the batch routes (platforms without them) and lose the answer of the first ``lose`` calls to
    a path after the platform acted (a crash between the call and its record)."""

    def __init__(self, inner: httpx.BaseTransport, *, no_batches: bool = False) -> None:
        self.inner = inner
        self.no_batches = no_batches
        self.calls: list[str] = []
        self.lose: dict[str, int] = {}
        self.batch_paths = {
            path
            for code in ("JS", "SH", "CCER")
            for path in (get(code).spec.lock_batch_path, get(code).spec.import_batch_path)
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(path)
        if self.no_batches and path.split("/", 3)[-1] in {p.lstrip("/") for p in self.batch_paths}:
            return httpx.Response(404, json={"detail": "Not Found"})
        response = self.inner.handle_request(request)
        if self.lose.get(path, 0) > 0:
            self.lose[path] -= 1
            response.read()
            raise httpx.ReadError("the connection dropped after the platform acted", request=request)
        return response

    def count(self, fragment: str) -> int:
        return sum(fragment in path for path in self.calls)


def propose(jiangsu, transfers: list[dict]) -> None:
    jiangsu.request(
        "POST", "/v1/transfer-batches", json_body={"transfers": transfers}, headers={"Idempotency-Key": "b"}
    )


def part(transfer_id: str, n: int, destination: str = "SH") -> dict:
    return {
        "transfer_id": transfer_id,
        "destination": destination,
        "to_account": {"registry": destination, "account_id": f"{destination}-A-1"},
        "blocks": [{"block_id": BLOCK, "namespace": "JS", "start": 100001 + 10 * n, "end": 100010 + 10 * n}],
    }


def rounds(worker: TransferWorker, count: int = 6, step: timedelta = timedelta(minutes=2)) -> None:
    now = datetime.now(UTC)
    for n in range(count):
        worker.run_once(now + n * step)


def test_a_round_makes_one_call_per_platform_and_step_and_completes_every_transfer(
    hub, database, federation
) -> None:
    jiangsu = platform_client(hub, federation, "js")
    propose(jiangsu, [part(f"TR-{n}", n) for n in range(30)])
    transport = Transport(hub[0]._transport)
    worker = TransferWorker(database, hub[1], transport=transport)
    # all locked at the origin (one batch request), then credited at the destination (one batch
    # request) and completed, in one round
    assert worker.run_once() == 30
    clients = dict(worker.clients)
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(30)} == {"completed"}
    assert worker.run_once() == 0
    assert transport.count(get("JS").spec.lock_batch_path) == 1
    assert transport.count(get("SH").spec.import_batch_path) == 1
    assert {code: client for code, (_, client) in worker.clients.items()} == {
        code: client for code, (_, client) in clients.items()
    }  # the clients live as long as the worker
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(30)} == {"completed"}
    imports = hub[0].get("/sandbox/sh/_sandbox/state").json()["imports"]
    assert len(imports) == len(set(imports)) == 30
    events = [e["type"] for e in jiangsu.get("/v1/events", limit=500)["events"]]
    assert events.count("transfer.completed") == 30
    worker.close()


def test_one_item_refused_by_its_platform_fails_alone(hub, database, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    # CCER takes only units it issued: its credit is refused (compensated: unlocked at the origin)
    propose(jiangsu, [part("TR-0", 0), part("TR-CCER", 1, "CCER"), part("TR-2", 2)])
    worker = TransferWorker(database, hub[1], transport=Transport(hub[0]._transport))
    rounds(worker)
    assert jiangsu.get("/v1/transfers/TR-0")["state"] == "completed"
    assert jiangsu.get("/v1/transfers/TR-2")["state"] == "completed"
    refused = jiangsu.get("/v1/transfers/TR-CCER")
    assert refused["state"] == "terminated" and refused["last_error"]
    pieces = {b["block_id"]: b["status"] for b in jiangsu.get("/v1/blocks")}
    assert pieces[f"{BLOCK}:100011-100020"] == "held"
    assert pieces[f"{BLOCK}:100001-100010"] == pieces[f"{BLOCK}:100021-100030"] == "exported"
    sandbox = hub[0].get("/sandbox/js/_sandbox/state").json()["blocks"]
    assert sandbox[f"{BLOCK}:100011-100020"] == "held", "unlocked at the origin"


def test_a_lost_batch_answer_repeats_the_calls_not_the_steps(hub, database, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    propose(jiangsu, [part(f"TR-{n}", n) for n in range(5)])
    transport = Transport(hub[0]._transport)
    lock_path = "/sandbox/js" + get("JS").spec.lock_batch_path
    credit_path = "/sandbox/sh" + get("SH").spec.import_batch_path
    transport.lose = {lock_path: 1, credit_path: 1}
    worker = TransferWorker(database, hub[1], transport=transport)
    now = datetime.now(UTC)
    assert worker.run_once(now) == 0  # locked at the origin, but the hub never heard it
    waiting = jiangsu.get("/v1/transfers/TR-0")
    assert (waiting["state"], waiting["attempts"]) == ("accepted", 1)
    assert "unreachable" in waiting["last_error"]
    for n in range(1, 8):
        worker.run_once(now + timedelta(minutes=2 * n))
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(5)} == {"completed"}
    assert transport.calls.count(lock_path) == 2 and transport.calls.count(credit_path) == 2
    imports = hub[0].get("/sandbox/sh/_sandbox/state").json()["imports"]
    assert sorted(imports) == sorted(f"{BLOCK}:{100001 + 10 * n}-{100010 + 10 * n}" for n in range(5))
    shanghai = platform_client(hub, federation, "sh")
    held = [b for b in shanghai.get("/v1/blocks") if BLOCK in b["block_id"]]
    assert len(held) == 5 and sum(b["quantity"] for b in held) == 50


def test_platforms_without_batch_routes_are_called_once_per_part(hub, database, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    propose(jiangsu, [part(f"TR-{n}", n) for n in range(4)])
    transport = Transport(hub[0]._transport, no_batches=True)
    worker = TransferWorker(database, hub[1], transport=transport)
    rounds(worker, 4, timedelta(seconds=1))
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(4)} == {"completed"}
    assert transport.count("/lock") == 1 + 4  # the batch route asked once (404), then one call each
    assert transport.count("/imports") == 1 + 4
    assert len(hub[0].get("/sandbox/sh/_sandbox/state").json()["imports"]) == 4


OTHER = "JS-B-2025-000002"  # serials 100351-100398, held by JS


def two_blocks(transfer_id: str, n: int) -> dict:
    """A transfer of 10 serials of BLOCK (every other ten) and 5 of OTHER (adjacent ranges)."""
    return {
        "transfer_id": transfer_id,
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": [
            {"block_id": BLOCK, "namespace": "JS", "start": 100001 + 20 * n, "end": 100010 + 20 * n},
            {"block_id": OTHER, "namespace": "JS", "start": 100351 + 5 * n, "end": 100355 + 5 * n},
        ],
    }


def test_a_round_splits_several_blocks_of_one_namespace_at_once(hub, database, federation) -> None:
    from sqlalchemy import text

    jiangsu = platform_client(hub, federation, "js")
    propose(jiangsu, [two_blocks(f"TR-{n}", n) for n in range(5)])
    worker = TransferWorker(database, hub[1], transport=Transport(hub[0]._transport))
    assert worker.run_once() == 5  # every lock of the round: both blocks split in one pass, then
    # every credit and completion
    blocks = {b["block_id"]: (b["status"], b["quantity"]) for b in jiangsu.get("/v1/blocks")}
    expected = {}
    for n in range(5):  # each taken range its own piece, the gaps held, adjacent ranges kept apart
        expected[f"{BLOCK}:{100001 + 20 * n}-{100010 + 20 * n}"] = ("exported", 10)
        if n < 4:
            expected[f"{BLOCK}:{100011 + 20 * n}-{100020 + 20 * n}"] = ("held", 10)
        expected[f"{OTHER}:{100351 + 5 * n}-{100355 + 5 * n}"] = ("exported", 5)
    expected[f"{BLOCK}:100091-100350"] = ("held", 260)
    expected[f"{OTHER}:100376-100398"] = ("held", 23)
    assert {k: v for k, v in blocks.items() if k.startswith((BLOCK, OTHER))} == expected
    assert BLOCK not in blocks and OTHER not in blocks
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(5)} == {"completed"}
    assert worker.run_once() == 0
    with database.engine.connect() as connection:  # the round's completions ended every claim
        active = connection.execute(
            text("SELECT count(*) FROM serial_claim WHERE kind = 'transfer' AND active")
        ).scalar_one()
    assert active == 0
    shanghai = platform_client(hub, federation, "sh")
    arrived = [b for b in shanghai.get("/v1/blocks") if BLOCK in b["block_id"] or OTHER in b["block_id"]]
    assert sorted(b["quantity"] for b in arrived) == [5] * 5 + [10] * 5
    worker.close()


def refuse_inserting(database, block_id: str) -> None:
    """A fault at the database: inserting the block ``block_id`` locked fails."""
    from sqlalchemy import text

    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_block() RETURNS trigger AS $$ BEGIN"
                    f" IF NEW.block_id = '{block_id}' AND NEW.status = 'locked'"
                    " THEN RAISE EXCEPTION 'refused by the test'; END IF;"
                    " RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_block BEFORE INSERT ON credit_block"
                    " FOR EACH ROW EXECUTE FUNCTION refuse_block()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_block BEFORE INSERT ON credit_block"
                    f" WHEN NEW.block_id = '{block_id}' AND NEW.status = 'locked'"
                    " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )


def test_a_failing_set_based_write_holds_back_only_its_own_step(hub, database, federation) -> None:
    """The round's splits are written together; when that write fails, the round is recorded again
    step by step: the step at fault fails alone (counted, retried), the others are recorded."""
    jiangsu = platform_client(hub, federation, "js")
    propose(jiangsu, [part(f"TR-{n}", n) for n in range(4)])
    refuse_inserting(database, f"{BLOCK}:100021-100030")  # TR-2's locked piece
    worker = TransferWorker(database, hub[1], transport=Transport(hub[0]._transport))
    assert worker.run_once() == 3
    states = {n: jiangsu.get(f"/v1/transfers/TR-{n}") for n in range(4)}
    assert [states[n]["state"] for n in range(4)] == ["completed", "completed", "accepted", "completed"]
    assert states[2]["attempts"] == 1 and "refused by the test" in states[2]["last_error"]
    blocks = {b["block_id"]: b["status"] for b in jiangsu.get("/v1/blocks")}
    assert blocks[f"{BLOCK}:100001-100010"] == blocks[f"{BLOCK}:100031-100040"] == "exported"
    assert blocks[f"{BLOCK}:100021-100030"] == "held"
    assert sum(b["quantity"] for b in jiangsu.get("/v1/blocks") if b["block_id"].startswith(BLOCK)) == 350
    worker.close()


class Crash(BaseException):
    """The worker's process dies (not an error the worker records)."""


class CreditTransport(Transport):
    """``Transport``, running ``during_credit`` when the round's credit batch goes out."""

    def __init__(self, inner: httpx.BaseTransport, during_credit) -> None:
        super().__init__(inner)
        self.during_credit = during_credit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(get("SH").spec.import_batch_path):
            self.during_credit()
        return super().handle_request(request)


def test_a_round_keeps_its_lease_from_the_lock_to_the_credit(hub, database, federation) -> None:
    """The transfers a round locked go on to their credit in the same round, still leased: another
    worker finds none of them due meanwhile (once recorded as locked they are not due at once)."""
    jiangsu = platform_client(hub, federation, "js")
    propose(jiangsu, [part(f"TR-{n}", n) for n in range(3)])
    other = TransferWorker(database, hub[1], transport=Transport(hub[0]._transport))
    seen: list[int] = []

    def look() -> None:
        seen.append(other.run_once(datetime.now(UTC) + timedelta(seconds=30)))
        seen.append(sum(jiangsu.get(f"/v1/transfers/TR-{n}")["state"] == "origin_locked" for n in range(3)))

    worker = TransferWorker(database, hub[1], transport=CreditTransport(hub[0]._transport, look))
    assert worker.run_once() == 3
    assert seen == [0, 3]  # locked and recorded, but leased: the other worker took none of them
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(3)} == {"completed"}
    worker.close()
    other.close()


def die_between_lock_and_credit(hub, database, federation, settings) -> tuple[Any, datetime]:
    """Three transfers proposed by Jiangsu, and a worker that dies as its round's credit batch goes
    out (the three locked at the origin, recorded, not credited): Jiangsu's client and when."""
    jiangsu = platform_client(hub, federation, "js")
    propose(jiangsu, [part(f"TR-{n}", n) for n in range(3)])
    crashes = iter([True])

    def die() -> None:
        if next(crashes, False):
            raise Crash

    worker = TransferWorker(database, settings, transport=CreditTransport(hub[0]._transport, die))
    now = datetime.now(UTC)
    with pytest.raises(Crash):
        worker.run_once(now)
    return jiangsu, now


def test_a_crash_between_the_lock_and_the_credit_credits_once_after_the_lease(
    hub, database, federation
) -> None:
    jiangsu, now = die_between_lock_and_credit(hub, database, federation, hub[1])
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(3)} == {"origin_locked"}
    restarted = TransferWorker(database, hub[1], transport=Transport(hub[0]._transport))
    assert restarted.run_once(now + timedelta(seconds=30)) == 0  # still leased by the dead worker
    assert restarted.run_once(now + timedelta(minutes=2)) == 3  # its lease expired: credited once
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(3)} == {"completed"}
    imports = hub[0].get("/sandbox/sh/_sandbox/state").json()["imports"]
    assert sorted(imports) == sorted(f"{BLOCK}:{100001 + 10 * n}-{100010 + 10 * n}" for n in range(3))
    shanghai = platform_client(hub, federation, "sh")
    assert sum(b["quantity"] for b in shanghai.get("/v1/blocks") if BLOCK in b["block_id"]) == 30
    restarted.close()


class TimeoutTransport(Transport):
    """``Transport``, recording the read timeout each platform call was sent with."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        super().__init__(inner)
        self.timeouts: set[float | None] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.add(request.extensions["timeout"]["read"])
        return super().handle_request(request)


def test_the_platform_calls_wait_the_configured_timeout_and_the_lease_covers_them(
    hub, database, federation
) -> None:
    """PUHUI_WEBHOOK_TIMEOUT is every receiver's timeout, the platforms' APIs included: the
    worker's calls carry it, and a round's lease outlasts its two steps' calls (4 × 45 s here,
    not the 60 s floor), so a worker that died between the lock and the credit is taken over only
    after that."""
    slow = hub[1].model_copy(update={"webhook_timeout": 45.0})
    jiangsu, now = die_between_lock_and_credit(hub, database, federation, slow)
    transport = TimeoutTransport(hub[0]._transport)
    restarted = TransferWorker(database, slow, transport=transport)
    assert restarted.run_once(now + timedelta(seconds=100)) == 0  # past 60 s, inside 180 s: leased
    assert restarted.run_once(now + timedelta(seconds=181)) == 3
    assert {jiangsu.get(f"/v1/transfers/TR-{n}")["state"] for n in range(3)} == {"completed"}
    assert transport.timeouts == {45.0}
    restarted.close()
