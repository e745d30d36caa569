"""Conservation under random sequences of issuance, partial retirement (splits), pledges,
releases and partial transfers (completed, or refused by the destination and compensated), on
SQLite and on PostgreSQL: for every issued serial range the registry's blocks always
tile it exactly — no serial lost, none counted twice, quantities summing to what was issued."""

from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from adapters.contract import PlatformRefused
from hub.database import Database
from hub.problems import HubError
from hub.registry.encumbrance import pledge_block, release_block
from hub.registry.ingest import IngestService, Records
from hub.registry.models import CreditBlock
from hub.retirement.service import RetirementService
from hub.settings import Settings
from hub.transfers.service import TransferService
from hub.transfers.worker import TransferWorker
from tests.hub.conftest import example

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.integers(1, 40)),
        st.tuples(st.just("retire"), st.integers(0, 20), st.integers(0, 39), st.integers(0, 39)),
        st.tuples(st.just("pledge"), st.integers(0, 20)),
        st.tuples(st.just("release"), st.integers(0, 20)),
        st.tuples(
            st.just("transfer"), st.integers(0, 20), st.integers(0, 39), st.integers(0, 39), st.booleans()
        ),
    ),
    min_size=1,
    max_size=25,
)


@contextmanager
def fresh_database(backend: str, request: pytest.FixtureRequest):
    if backend == "sqlite":
        path = Path(request.getfixturevalue("tmp_path")) / f"{uuid.uuid4().hex}.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        database = Database.from_url(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    from tests.conftest import scratch_postgres

    with scratch_postgres(request.getfixturevalue("postgres_template"), "puhui_cons") as url:
        database = Database.from_url(url)
        try:
            yield database
        finally:
            database.dispose()


def _block(number: int, start: int, size: int) -> dict:
    block = example("credit-block", "anhui-afforestation-pledged")
    block.update(
        {
            "block_id": f"AH-B-{number}",
            "serial_start": start,
            "serial_end": start + size - 1,
            "quantity": size,
            "status": "held",
        }
    )
    return block


class FakePlatforms:
    """Platform APIs that answer at once; the destination refuses when told to (then the hub must
    unlock at the origin and hold the serials there again)."""

    def __init__(self) -> None:
        self.refuse = False
        self.locked: set[str] = set()

    def client(self, base_url: str, transport: object = None, *, timeout: float = 10.0) -> FakePlatforms:
        return self

    def lock(self, block: dict, *, idempotency_key: str | None = None) -> None:
        self.locked.add(f"{block['serial_start']}-{block['serial_end']}")

    def unlock(self, block: dict, *, idempotency_key: str | None = None) -> None:
        self.locked.discard(f"{block['serial_start']}-{block['serial_end']}")

    def credit_import(self, block: dict, *, idempotency_key: str | None = None) -> None:
        if self.refuse:
            raise PlatformRefused("SH", 409, "refused by the property test")

    def close(self) -> None:
        pass


def _transfer(
    database: Database, block: CreditBlock, a: int, b: int, platforms: FakePlatforms, refuse: bool
) -> None:
    with database.unit_of_work() as session:
        body = {
            "transfer_id": uuid.uuid4().hex[:12],
            "destination": "SH",
            "to_account": {"registry": "SH", "account_id": "SH-A-1"},
            "blocks": [{"block_id": block.block_id, "namespace": "AH", "start": a, "end": b}],
        }
        TransferService(session, timedelta(hours=1)).propose(
            body, key=body["transfer_id"], client_id="ah", sender="AH"
        )
    platforms.refuse = refuse
    worker = TransferWorker(database, Settings(data_dir=Path("/nonexistent")))
    for minute in range(5):
        worker.run_once(datetime.now(UTC) + timedelta(minutes=2 * minute))


def _run(database: Database, operations: list[tuple], platforms: FakePlatforms) -> list[tuple[int, int]]:
    issued: list[tuple[int, int]] = []
    next_serial = 1
    for operation in operations:
        with database.unit_of_work() as session:
            blocks = session.exec(
                select(CreditBlock).where(CreditBlock.current_registry == "AH").order_by(CreditBlock.block_id)
            ).all()
        try:
            with database.unit_of_work() as session:
                if operation[0] == "issue":
                    size = operation[1]
                    block = _block(len(issued), next_serial, size)
                    IngestService(session).ingest("AH", Records(blocks=[block]), actor="t", source="t")
                    issued.append((next_serial, next_serial + size - 1))
                    next_serial += size
                elif blocks and operation[0] == "retire":
                    block = blocks[operation[1] % len(blocks)]
                    a, b = sorted(block.serial_start + x % block.quantity for x in operation[2:])
                    RetirementService(session).retire(
                        {
                            "retirement_id": uuid.uuid4().hex[:12],
                            "registry": "AH",
                            "blocks": [
                                {
                                    "block_id": block.block_id,
                                    "namespace": "AH",
                                    "start": a,
                                    "end": b,
                                    "quantity": b - a + 1,
                                    "unit": "tCO2e",
                                }
                            ],
                            "quantity": b - a + 1,
                            "unit": "tCO2e",
                            "purpose": {"kind": "charitable-retirement"},
                            "beneficiary": {"registry": "AH", "account_id": "AH-A-1"},
                        },
                        sender="AH",
                        actor="t",
                    )
                elif blocks and operation[0] in ("pledge", "release"):
                    block = blocks[operation[1] % len(blocks)]
                    change = pledge_block if operation[0] == "pledge" else release_block
                    change(session, block.block_id, "AH", actor="t", reason="property test")
            if blocks and operation[0] == "transfer":
                block = blocks[operation[1] % len(blocks)]
                a, b = sorted(block.serial_start + x % block.quantity for x in operation[2:4])
                _transfer(database, block, a, b, platforms, operation[4])
        except HubError:
            pass  # a refused operation changes nothing; the invariant must still hold
    return issued


def _check(database: Database, issued: list[tuple[int, int]], platforms: FakePlatforms) -> None:
    with database.unit_of_work() as session:
        everything = session.exec(select(CreditBlock)).all()
    blocks = sorted((b for b in everything if b.current_registry == "AH"), key=lambda b: b.serial_start)
    imported = sorted((b.serial_start, b.serial_end) for b in everything if b.current_registry != "AH")
    exported = sorted((b.serial_start, b.serial_end) for b in blocks if b.status == "exported")
    assert imported == exported, "every exported serial is held once at the destination, and only those"
    assert all(b.status != "locked" for b in blocks), "no transfer left a block locked"
    assert not platforms.locked - {f"{s}-{e}" for s, e in exported}, "the origin unlocked what did not move"
    for block in blocks:
        assert block.quantity == block.serial_end - block.serial_start + 1
    for first, second in pairwise(blocks):
        assert first.serial_end < second.serial_start, "a serial is in two blocks"
    covered = sum(block.quantity for block in blocks)
    assert covered == sum(end - start + 1 for start, end in issued)
    for start, end in issued:
        inside = [b for b in blocks if start <= b.serial_start and b.serial_end <= end]
        assert sum(b.quantity for b in inside) == end - start + 1, "an issued range is not tiled exactly"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_conservation(backend: str, request: pytest.FixtureRequest) -> None:
    @settings(
        max_examples=12 if backend == "postgresql" else 25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(OPERATIONS)
    def check(operations: list[tuple]) -> None:
        with fresh_database(backend, request) as database:
            from hub.seed import seed_demo

            data = Path(request.getfixturevalue("tmp_path")) / uuid.uuid4().hex
            seed_demo(
                database, Settings(data_dir=data, public_url="http://127.0.0.1:8000"), with_issuances=False
            )
            platforms = FakePlatforms()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr("hub.transfers.worker.get", lambda code: platforms)
                _check(database, _run(database, operations, platforms), platforms)

    check()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_one_transfer_moves_and_one_refused_is_compensated(
    backend: str, request: pytest.FixtureRequest
) -> None:
    from hub.seed import seed_demo

    with fresh_database(backend, request) as database, pytest.MonkeyPatch.context() as patch:
        data = Path(request.getfixturevalue("tmp_path")) / "demo"
        seed_demo(database, Settings(data_dir=data, public_url="http://127.0.0.1:8000"), with_issuances=False)
        platforms = FakePlatforms()
        patch.setattr("hub.transfers.worker.get", lambda code: platforms)
        operations = [("issue", 20), ("transfer", 0, 3, 10, False), ("transfer", 0, 0, 1, True)]
        issued = _run(database, operations, platforms)
        _check(database, issued, platforms)
        with database.unit_of_work() as session:
            moved = session.exec(select(CreditBlock).where(CreditBlock.current_registry == "SH")).all()
        assert [(b.serial_start, b.serial_end, b.status) for b in moved] == [(4, 11, "imported")]
