"""`puhui demo traffic`: the pace it keeps (never more than N requests in any second) and a short
run against a demo hub in process, on both backends: activity of several kinds, no 5xx, refusals
only as 4xx with a check code, the log still auditing and the serials still conserved."""

from __future__ import annotations

import re

import httpx
import pytest
import typer
from sqlmodel import select

from hub.app import create_app
from hub.cli.audit import run_audit
from hub.cli.serve import parse_duration
from hub.database import Database
from hub.demo.actors import in_process, worker_rounds
from hub.demo.pacing import PacedTransport, busiest_second
from hub.demo.traffic import run_traffic
from hub.registry.models import CreditBlock
from hub.seed import seed_demo
from hub.settings import Settings


class FakeClock:
    """Time that passes only when slept, or by ``step`` per reading (requests arriving that fast)."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(
    ("rate", "arrival"),
    [
        pytest.param(10, 0.0, id="a burst all at once"),
        pytest.param(10, 0.05, id="arriving twice as fast as allowed"),
        pytest.param(3, 0.001, id="a low rate"),
        pytest.param(25, 0.2, id="arriving slower than allowed: never held back"),
    ],
)
def test_the_pace_never_exceeds_the_rate(rate: int, arrival: float) -> None:
    clock = FakeClock(arrival)
    paced = PacedTransport(
        httpx.MockTransport(lambda request: httpx.Response(200)), rate, clock=clock, sleep=clock.sleep
    )
    with httpx.Client(transport=paced) as client:
        for _ in range(60):
            client.get("http://hub.test/healthz")
    assert len(paced.started) == 60
    assert busiest_second(paced.started) <= rate
    if arrival * rate >= 1:
        assert busiest_second(paced.started) == pytest.approx(1 / arrival, abs=1)


@pytest.mark.parametrize(
    ("started", "most"),
    [
        pytest.param([], 0, id="nothing"),
        pytest.param([0.0, 0.5, 0.999], 3, id="inside one second"),
        pytest.param([0.0, 1.0, 2.0], 1, id="a second apart: half-open windows"),
        pytest.param([0.0, 0.9, 1.1, 1.2, 1.85], 4, id="the busiest window is later"),
    ],
)
def test_busiest_second(started: list[float], most: int) -> None:
    assert busiest_second(started) == most


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PacedTransport(httpx.MockTransport(lambda request: httpx.Response(200)), 0)


def test_traffic_moves_the_federation(database: Database, settings: Settings) -> None:
    demo = settings.model_copy(update={"demo": True})
    seeded = seed_demo(database, demo)
    app = create_app(demo, database)
    with in_process(app) as transport:
        advance = worker_rounds(database, demo, transport)
        summary = run_traffic(
            seeded.credentials_dir,
            rate=30,
            seconds=3,
            seed=5,
            transport=transport,
            federation_key=demo.resolved_federation_key_file,
            advance=advance,
        )
        while advance():  # the transfers still under way settle
            pass
        assert summary.ok, summary.failures
        assert summary.busiest_second <= 30
        kinds = {kind for kind, count in summary.done.items() if count and kind != "skipped"}
        assert len(kinds) >= 4, summary.lines()
        # which kinds a few seconds hold depends on the machine's pace (the rate is an upper bound):
        # some credits always move
        assert kinds & {"transfer", "stray-transfer", "retire"}, summary.lines()
        for refusal in summary.refusals:
            assert re.fullmatch(r"4\d\d \d{4}", refusal), summary.lines()
        with httpx.Client(base_url="http://127.0.0.1:8000", transport=transport) as public:
            audit, _ = run_audit(public)
        assert audit.ok, audit.findings
    with database.unit_of_work() as session:
        blocks = session.exec(select(CreditBlock)).all()
    imported = sorted(
        (b.serial_namespace, b.serial_start, b.serial_end)
        for b in blocks
        if b.current_registry != b.origin_registry
    )
    exported = sorted(
        (b.serial_namespace, b.serial_start, b.serial_end) for b in blocks if b.status == "exported"
    )
    assert imported == exported
    assert all(b.quantity == b.serial_end - b.serial_start + 1 for b in blocks)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("60s", 60, id="seconds"),
        pytest.param("2m", 120, id="minutes"),
        pytest.param("1h", 3600, id="an hour"),
        pytest.param("1.5", 1.5, id="a plain number is seconds"),
        pytest.param(" 90S ", 90, id="spaces and capitals"),
    ],
)
def test_a_duration_reads(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("soon", id="not a number"),
        pytest.param("0s", id="zero"),
        pytest.param("-5s", id="negative"),
        pytest.param("25h", id="over a day"),
        pytest.param("nan", id="not a number at all"),
    ],
)
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_duration(text)
