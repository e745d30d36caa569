"""`puhui work`: the hub's background workers in a process of their own, beside a hub served
without them (`puhui serve --no-workers`), the saga driving the Jiangsu and Shanghai sandbox
platforms (each its own process) over HTTP. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bench.transfer import completed, prepare, propose_batches
from hub.client import PlatformClient
from hub.database import Database
from tests.demo_hub import free_port, serving

TRANSFERS = 24
# the workers' idle look: on PostgreSQL longer than the test waits for any transfer, so what wakes
# them there is the proposals' NOTIFY (hub.transfers.listener)
POLL = {"sqlite": "0.1", "postgresql": "30"}
WAIT = 20


@contextmanager
def sandbox(code: str) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child = subprocess.Popen(
        [sys.executable, "-m", "adapters.sandbox", code, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        until(lambda: _answers(f"{base}/_sandbox/state"), 30, f"the {code} sandbox did not start")
        yield base
    finally:
        child.terminate()
        child.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def until(condition: Callable[[], bool], seconds: float, failure: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


def worker(env: dict[str, str]) -> subprocess.Popen[str]:
    """`puhui work`, once it says it runs (its signal handlers installed)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", "work"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    banner = process.stdout.readline()
    assert "workers on" in banner and f"idle poll {env['PUHUI_WORKER_POLL_INTERVAL']} s" in banner, banner
    return process


def stopped(process: subprocess.Popen[str]) -> str:
    """SIGTERM ``process``; what it printed once it exited by itself (status 0)."""
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=20)[0]
    assert process.returncode == 0, output
    return output


def states(database: Database) -> dict[str, int]:
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT state, count(*) FROM transfer GROUP BY state"))
        return {str(state): int(count) for state, count in rows}


@pytest.fixture
def hub(
    backend: str, database_url: str, tmp_path: Path
) -> Iterator[tuple[Database, dict[str, str], Path, list[Any], dict[str, str]]]:
    """The hub's database with Jiangsu holding blocks on its sandbox, served without workers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database, _, credentials, page, blocks = prepare(database_url, tmp_path, TRANSFERS, base)
    with ExitStack() as stack:
        sandboxes = {code: stack.enter_context(sandbox(code)) for code in ("JS", "SH")}
        with database.engine.begin() as connection:
            for code, address in sandboxes.items():
                connection.execute(
                    text("UPDATE platform SET api_base_url = :url WHERE code = :code"),
                    {"url": address, "code": code},
                )
        page_type = {"content-type": "text/csv; charset=gbk"}
        httpx.post(
            f"{sandboxes['JS']}/_sandbox/issuances", content=page, headers=page_type
        ).raise_for_status()
        env = {
            **os.environ,
            "PUHUI_DATA_DIR": str(tmp_path),
            "PUHUI_DATABASE_URL": database_url,
            "PUHUI_PORT": str(port),
            "PUHUI_PUBLIC_URL": base,
            "PUHUI_DEMO": "1",
            "PUHUI_LOG_LEVEL": "warning",
            "PUHUI_WORKER_POLL_INTERVAL": POLL[backend],
            "PUHUI_CHECKPOINT_INTERVAL": "0.5",
        }
        env.pop("PUHUI_WEBHOOK_WORKER", None)  # the option alone turns the served workers off
        served = stack.enter_context(serving(["serve", "--no-workers"], env, base, timeout=60))
        try:
            yield database, env, credentials, blocks, sandboxes
        finally:
            database.dispose()
        stack.close()
        assert "workers    none in this process (run them: puhui work)" in served.output


def propose(env: dict[str, str], credentials: Path, blocks: list[Any], name: str) -> None:
    base = env["PUHUI_PUBLIC_URL"]
    with PlatformClient.from_credentials(credentials / "js.json", base_url=base) as jiangsu:
        propose_batches(jiangsu, blocks, 4, name)


def checkpoints(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM log_checkpoint")).scalar_one())


def test_a_hub_served_without_workers_runs_none_and_puhui_work_completes_its_transfers(hub: Any) -> None:
    database, env, credentials, blocks, sandboxes = hub
    half = TRANSFERS // 2
    propose(env, credentials, blocks[:half], "first")
    signed = checkpoints(database)
    time.sleep(1.5)  # three checkpoint intervals (and a NOTIFY, or fifteen looks): a worker would have moved
    assert states(database) == {"accepted": half}  # as proposed: no saga step ran
    assert checkpoints(database) == signed  # no checkpointer either
    assert httpx.get(f"{sandboxes['SH']}/_sandbox/state").json()["imports"] == []

    first = worker(env)
    until(lambda: completed(database) == half, WAIT, "the work process did not complete the transfers")
    # in flight: proposed while the worker runs, which is stopped at once (SIGTERM) ...
    propose(env, credentials, blocks[half:], "second")
    time.sleep(0.15)
    output = stopped(first)
    assert "SIGTERM, stopping after the current rounds" in output and "puhui work: stopped" in output
    # ... and a worker started again finishes them: each credited once, each debited
    expected = sorted(block["block_id"] for block in blocks)

    def debited() -> set[str]:
        held = httpx.get(f"{sandboxes['JS']}/_sandbox/state").json()["blocks"]
        return {held[block_id] for block_id in expected}

    second = worker(env)
    try:
        until(lambda: completed(database) == TRANSFERS, WAIT, "the restarted worker did not finish")
        # the origin learns of each completion by a notice the worker sends after it
        until(lambda: debited() == {"exported"}, WAIT, "the origin was not told of every completion")
    finally:
        stopped(second)
    assert states(database) == {"completed": TRANSFERS}
    credited = httpx.get(f"{sandboxes['SH']}/_sandbox/state").json()["imports"]
    assert sorted(credited) == expected  # none lost, none twice
    assert debited() == {"exported"}
