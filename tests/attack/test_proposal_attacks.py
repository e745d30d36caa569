"""The attacker's pass over the lean proposal paths (issue #14): the single proposal's Core
statements (``hub.transfers.repository``) and the batch (``POST /v1/transfer-batches``). Every
refusal is a 4xx problem naming the field and the check, the same on SQLite and PostgreSQL, and
leaves every table as it was."""

from __future__ import annotations

import itertools
import json
from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel

from hub.client import PlatformClient, Refused
from hub.database import Database
from tests.hub.conftest import platform_client

BLOCK = "JS-B-2025-000001"  # serials 100001-100350, held by JS
OTHER = "JS-B-2025-000002"  # serials 100351-100398
BATCHES = "/v1/transfer-batches"


def part(start: int | None = None, end: int | None = None, block_id: str = BLOCK, **extra: Any) -> dict:
    found: dict[str, Any] = {"block_id": block_id, "namespace": "JS", **extra}
    if start is not None:
        found["start"] = start
    if end is not None:
        found["end"] = end
    return found


def transfer(transfer_id: str, *parts: dict, **extra: Any) -> dict:
    return {
        "transfer_id": transfer_id,
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": list(parts) or [part()],
        **extra,
    }


T = transfer


def snapshot(database: Database) -> dict[str, int]:
    """How many rows each table holds."""
    with database.engine.connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in sorted(SQLModel.metadata.tables.items())
        }


def answer(platform: PlatformClient, path: str, body: bytes, key: str = "k-1") -> tuple[int, str, list]:
    """The status, code and (pointer, code) issues of a signed request sending ``body``."""
    try:
        sent = platform.request(
            "POST", path, content=body, content_type="application/json", headers={"Idempotency-Key": key}
        )
    except Refused as refused:
        issues = [(error.get("pointer") or error.get("parameter"), error["code"]) for error in refused.errors]
        return refused.status, str(refused.code), issues
    return sent.status_code, "", []


def dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _hundreds(count: int) -> list[dict]:
    """``count`` transfers of 100 one-serial parts each (the same 100 serials)."""
    return [T(f"P-{n}", *[part(100001 + k, 100001 + k) for k in range(100)]) for n in range(count)]


def _huge_end(digits: int) -> bytes:
    return dumps({"transfers": [transfer("H-0", part(100001, 7))]}).replace(
        b'"end": 7', b'"end": ' + b"9" * digits
    )


def _float_start() -> bytes:
    return dumps({"transfers": [transfer("F-0", part(100001, 7))]}).replace(
        b'"start": 100001', b'"start": 1e5'
    )


S = "/transfers/0/blocks/0/start"
E = "/transfers/0/blocks/0/end"
ID = "/transfers/0/transfer_id"
# (name, the batch's transfers or its body's bytes, the status and issues of its refusal)
REFUSED: list[tuple[str, Any, int, list[tuple[str, str]]]] = [
    # acting for another platform: the sender is the token's platform, no member may name one
    ("origin-named", [T("A-0", origin="SH")], 422, [("/transfers/0/origin", "1002")]),
    (
        "account-names-a-platform",
        [T("A-0", to_account={"registry": "SH", "account_id": "SH-A-1", "platform": "JS"})],
        422,
        [("/transfers/0/to_account/platform", "1002")],
    ),
    (
        "namespace-of-another",
        [T("A-0", part(100001, 100010, namespace="SH"))],
        422,
        [("/transfers/0/blocks/0/block_id", "3020")],
    ),
    # quantities: zero, negative, beyond 2^53, far beyond int64, thousands of digits, not integers
    ("start-zero", [T("A-0", part(0, 10))], 422, [(S, "1002")]),
    ("start-negative", [T("A-0", part(-5, 10))], 422, [(S, "1002")]),
    ("end-2^53", [T("A-0", part(100001, 2**53))], 422, [(E, "1002")]),
    ("end-2^64", [T("A-0", part(100001, 2**64))], 422, [(E, "1002")]),
    ("end-5000-digits", _huge_end(5000), 422, [(E, "1002")]),
    ("end-20-digits", _huge_end(20), 422, [(E, "1002")]),
    ("start-exponent", _float_start(), 422, [(S, "1002")]),
    ("start-true", [T("A-0", part(True, 100010))], 422, [(S, "1002")]),
    ("start-text", [T("A-0", part("100001", 100010))], 422, [(S, "1002")]),
    # serial ranges: reversed, outside the block, overlapping within a transfer and across
    ("reversed", [T("A-0", part(100010, 100001))], 422, [("/transfers/0/blocks/0", "3001")]),
    ("end-past-the-block", [T("A-0", part(100001, 100351))], 422, [("/transfers/0/blocks/0", "3025")]),
    ("start-before-the-block", [T("A-0", part(100000, 100010))], 422, [("/transfers/0/blocks/0", "3025")]),
    (
        "overlapping-parts-of-one-transfer",
        [T("A-0", part(100001, 100010), part(100005, 100020))],
        422,
        [("/transfers/0/blocks/1", "3027")],
    ),
    (
        "one-part-twice",
        [T("A-0", part(100001, 100010), part(100001, 100010))],
        422,
        [("/transfers/0/blocks/1", "3027")],
    ),
    (
        "whole-block-and-a-part",
        [T("A-0", part(), part(100001, 100010))],
        422,
        [("/transfers/0/blocks/1", "3027")],
    ),
    (
        "a-later-transfer-reaching-down-into-two",
        [T("A-0", part(100011, 100020)), T("A-1", part(100001, 100010)), T("A-2", part(100005, 100015))],
        422,
        [("/transfers/2/blocks/0", "3024")],
    ),
    (
        "whole-then-part",
        [T("A-0", part()), T("A-1", part(100340, 100350))],
        422,
        [("/transfers/1/blocks/0", "3024")],
    ),
    (
        "part-then-whole",
        [T("A-0", part(100340, 100350)), T("A-1", part())],
        422,
        [("/transfers/1/blocks/0", "3024")],
    ),
    (
        "open-ended-parts-meeting",
        [T("A-0", part(100300)), T("A-1", part(None, 100300))],
        422,
        [("/transfers/1/blocks/0", "3024")],
    ),
    (
        "one-id-twice-apart",
        [T("A-0", part(100001, 100010)), T("A-1", part(100011, 100020)), T("A-0", part(100021, 100030))],
        422,
        [("/transfers/2/transfer_id", "3012")],
    ),
    # identifiers: NUL, look-alike digits, a trailing newline, empty, too long
    ("id-with-nul", [T("A-\x00", part(100001, 100010))], 400, [(ID, "1049")]),
    ("id-with-fullwidth-digit", [T("A-１", part(100001, 100010))], 422, [(ID, "1002")]),
    ("id-with-arabic-digit", [T("A-١", part(100001, 100010))], 422, [(ID, "1002")]),
    ("id-ending-in-newline", [T("A-1\n", part(100001, 100010))], 422, [(ID, "1002")]),
    ("id-empty", [T("", part(100001, 100010))], 422, [(ID, "1002")]),
    ("id-of-129", [T("A" * 129, part(100001, 100010))], 422, [(ID, "1002")]),
    (
        "block-id-ending-in-newline",
        [T("A-0", part(1, 2, block_id=BLOCK + "\n"))],
        422,
        [("/transfers/0/blocks/0/block_id", "1002")],
    ),
    (
        "block-id-unicode",
        [T("A-0", part(block_id="JS-B-2025-00000１"))],
        422,
        [("/transfers/0/blocks/0/block_id", "1002")],
    ),
    (
        "namespace-lowercase",
        [T("A-0", part(1, 2, namespace="js"))],
        422,
        [("/transfers/0/blocks/0/namespace", "1002")],
    ),
    (
        "unknown-block",
        [T("A-0", part(block_id="JS-B-9999-999999"))],
        422,
        [("/transfers/0/blocks/0/block_id", "3020")],
    ),
    # shapes
    ("no-parts", [T("A-0") | {"blocks": []}], 422, [("/transfers/0/blocks", "1002")]),
    (
        "1001-parts",
        [T("A-0", *[part(100001 + n % 350, 100001 + n % 350) for n in range(1001)])],
        422,
        [("/transfers/0/blocks", "1002")],
    ),
    ("transfers-as-object", {"transfers": {"A-0": T("A-0")}}, 422, [("/transfers", "1002")]),
    # 100 transfers of 100 parts and one more part: over the batch's 10,000 (it cost ~4 s of CPU
    # to refuse 1,000 transfers of 100 parts each, 100,000 issues listed)
    ("10001-parts", [*_hundreds(100), T("P-x", part(100001, 100001))], 422, [("/transfers", "1002")]),
    (
        "1001-transfers",
        [T(f"A-{n}", part(100001 + n % 350, 100001 + n % 350)) for n in range(1001)],
        422,
        [("/transfers", "1002")],
    ),
]


def test_a_batch_of_ten_thousand_parts_is_checked_part_by_part(hub, database, federation) -> None:
    """The bound is inclusive: 10,000 parts are read and checked (here each later transfer's parts
    overlap the first's: 99 transfers refused, 100 issues each)."""
    jiangsu = platform_client(hub, federation, "js")
    status, code, issues = answer(jiangsu, BATCHES, dumps({"transfers": _hundreds(100)}), key="ten-thousand")
    assert (status, code, len(issues)) == (422, "3024", 9900)
    assert issues[0] == ("/transfers/1/blocks/0", "3024")
    assert issues[-1] == ("/transfers/99/blocks/99", "3024")


def _body(sent: Any) -> bytes:
    if isinstance(sent, bytes):
        return sent
    return dumps(sent if isinstance(sent, dict) else {"transfers": sent})


def _single(sent: Any) -> bytes | None:
    """The single proposal of a one-transfer batch (None for any other batch)."""
    if isinstance(sent, bytes):
        document = json.loads(sent, parse_int=str, parse_float=str)
        return sent[sent.index(b"[") + 1 : sent.rindex(b"]")] if len(document["transfers"]) == 1 else None
    if isinstance(sent, list) and len(sent) == 1:
        return dumps(sent[0])
    return None


def test_every_refused_batch_names_its_field_and_check_and_changes_nothing(hub, database, federation) -> None:
    """Each batch is refused with exactly the expected issues (the same on both backends: the
    expectation is one list); a one-transfer batch's transfer sent alone is refused with the same
    issues, pointing into the transfer; no table gains or loses a row."""
    jiangsu = platform_client(hub, federation, "js")
    jiangsu.access_token()
    before = snapshot(database)
    for name, sent, status, issues in REFUSED:
        found = answer(jiangsu, BATCHES, _body(sent), key=f"batch-{name}")
        assert found == (status, issues[0][1], issues), name
        single = _single(sent)
        if single is not None:
            alone = [(pointer.removeprefix("/transfers/0"), code) for pointer, code in issues]
            assert answer(jiangsu, "/v1/transfers", single, key=f"one-{name}") == (
                status,
                alone[0][1],
                alone,
            ), name
        assert snapshot(database) == before, name
    # and the serials are all free: the whole block moves in one transfer
    assert answer(jiangsu, BATCHES, _body([T("A-0")]), key="whole")[0] == 201


def _claims(database: Database) -> tuple[dict[str, int], list[tuple[int, int, str]]]:
    """Each transfer's quantity, and the active transfer claims (start, end, owner) in serial order."""
    transfer, claim = (SQLModel.metadata.tables[name] for name in ("transfer", "serial_claim"))
    with database.engine.connect() as connection:
        quantities = {
            str(i): int(q) for i, q in connection.execute(select(transfer.c.id, transfer.c.quantity))
        }
        held = select(claim.c.serial_start, claim.c.serial_end, claim.c.owner_id).where(
            claim.c.active.is_(True), claim.c.kind == "transfer"
        )
        spans = sorted((int(a), int(b), str(o)) for a, b, o in connection.execute(held))
    return quantities, spans


def test_singles_and_batches_from_two_processes_racing_for_one_block(hub, database, federation) -> None:
    """Eight threads, half on a second engine (another hub process on the same database), half
    proposing batches and half single transfers, all over the same serials. Every serial is held
    by at most one transfer, a batch is all or nothing, each transfer's claims add up to its
    quantity, and the refused ones are refused for the serials (3024) and nothing else."""
    import threading
    from datetime import timedelta

    from hub.problems import HubError
    from hub.transfers.batches import TransferBatches
    from hub.transfers.service import TransferService

    other = Database.from_url(database.engine.url.render_as_string(hide_password=False))
    threads = 8
    barrier = threading.Barrier(threads)
    outcomes: dict[int, str] = {}

    def proposals(n: int) -> list[dict]:
        # thread n wants slots [3n, 3n+6) of 8 serials each: it shares three with thread n+1
        return [T(f"R-{n}-{s}", part(100001 + 8 * s, 100008 + 8 * s)) for s in range(3 * n, 3 * n + 6)]

    def run(n: int) -> None:
        engine = database if n % 2 else other
        barrier.wait()
        try:
            with engine.unit_of_work() as session:
                if n < threads // 2:
                    TransferBatches(session, timedelta(hours=1)).propose(
                        {"transfers": proposals(n)}, key=f"race-{n}", client_id="js", sender="JS"
                    )
                else:  # one transfer holding the same serials as the batch would, in six parts
                    parts = [p for t in proposals(n) for p in t["blocks"]]
                    TransferService(session, timedelta(hours=1)).propose(
                        T(f"R-{n}", *parts), key=f"race-{n}", client_id="js", sender="JS"
                    )
            outcomes[n] = "accepted"
        except HubError as error:
            outcomes[n] = str(error.code)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    other.dispose()
    assert len(outcomes) == threads
    assert set(outcomes.values()) <= {"accepted", "3024"}, outcomes
    winners = {n for n, outcome in outcomes.items() if outcome == "accepted"}
    assert winners
    quantities, spans = _claims(database)
    expected = {f"R-{n}-{s}" for n in winners if n < threads // 2 for s in range(3 * n, 3 * n + 6)}
    expected |= {f"R-{n}" for n in winners if n >= threads // 2}
    assert set(quantities) == expected
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))  # no serial held twice
    held: dict[str, int] = {}
    for start, end, owner in spans:
        held[owner] = held.get(owner, 0) + end - start + 1
    assert held == quantities  # each transfer holds exactly its quantity


def test_one_batch_key_raced_with_two_bodies_keeps_one(hub, database, federation) -> None:
    """Two processes send one batch key at once, with the same body and with another: one batch
    is stored; the same body gets its answer again, the other body 6004."""
    import threading
    from datetime import timedelta

    from hub.problems import HubError
    from hub.transfers.batches import TransferBatches

    other = Database.from_url(database.engine.url.render_as_string(hide_password=False))
    bodies = [
        [T("K-0", part(100001, 100010))],
        [T("K-0", part(100001, 100010))],
        [T("K-0", part(100001, 100010)), T("K-1", part(100011, 100020))],
        [T("K-0", part(100001, 100010)), T("K-1", part(100011, 100020))],
    ]
    barrier = threading.Barrier(len(bodies))
    outcomes: dict[int, Any] = {}

    def run(n: int) -> None:
        engine = database if n % 2 else other
        barrier.wait()
        try:
            with engine.unit_of_work() as session:
                answer_, created = TransferBatches(session, timedelta(hours=1)).propose(
                    {"transfers": bodies[n]}, key="one-key", client_id="js", sender="JS"
                )
            outcomes[n] = ("created" if created else "replayed", answer_["count"])
        except HubError as error:
            outcomes[n] = str(error.code)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(len(bodies))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    other.dispose()
    made = [n for n, outcome in outcomes.items() if outcome != "6004" and outcome[0] == "created"]
    assert len(made) == 1, outcomes
    count = outcomes[made[0]][1]
    for n, outcome in outcomes.items():
        if len(bodies[n]) == count:
            assert outcome in (("created", count), ("replayed", count)), outcomes
        else:
            assert outcome == "6004", outcomes
    quantities, spans = _claims(database)
    assert len(quantities) == count
    assert len(spans) == count


KEYS = {
    "nul": "k\x00",  # was a 500 on PostgreSQL (its text cannot hold a NUL), stored on SQLite
    "batch-item-separator": "\x1fbatch\x1fB-0",  # the key the hub derives for a batch's B-0
    "delete": "k\x7f",
    "tab": "k\tk",
    "201-characters": "k" * 201,
}


def test_an_idempotency_key_with_a_control_character_is_a_400_naming_the_header(
    hub, database, federation
) -> None:
    """On the single proposal, the batch and a route of the generic idempotency (a cancel): 400,
    1004, the header named, nothing changed. A client's key can no longer take the key the hub
    derives for a batch's transfer (the batch was then refused 6001 for a conflict of its own)."""
    jiangsu = platform_client(hub, federation, "js")
    accepted = answer(jiangsu, "/v1/transfers", dumps(T("C-0", part(100301, 100310))), key="c-0")
    assert accepted[0] == 201
    before = snapshot(database)
    header = [("Idempotency-Key", "1004")]
    for name, key in KEYS.items():
        single = dumps(T(f"S-{name}", part(100001, 100010)))
        batch = dumps({"transfers": [T(f"B-{name}", part(100011, 100020))]})
        for path, body in [("/v1/transfers", single), (BATCHES, batch), ("/v1/transfers/C-0/cancel", b"{}")]:
            assert answer(jiangsu, path, body, key=key) == (400, "1004", header), (name, path)
        assert snapshot(database) == before, name
    assert answer(jiangsu, BATCHES, dumps({"transfers": [T("B-0", part(100011, 100020))]}), key="b")[0] == 201
