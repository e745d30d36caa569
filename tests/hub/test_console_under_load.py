"""A hub served by `puhui serve` in a child process, on SQLite and on PostgreSQL, under 50 concurrent
failed console sign-ins: /healthz keeps answering within a second the whole time, the account is
locked, and afterwards the hub serves as usual (another operator signs in, the API answers) with no
database connection left "idle in transaction". Every wait is bounded, so it cannot hang a run."""

from __future__ import annotations

import os
import re
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hub.client import PlatformClient
from hub.console.accounts import Accounts
from hub.console.models import OperatorAccount
from hub.database import Database
from hub.seed import seed_demo
from hub.settings import Settings
from tests.demo_hub import free_port, serving

ATTEMPTS = 50
HEALTH_LIMIT = 1.0  # seconds


class HealthProbe(threading.Thread):
    """GET /healthz every 50 ms until stopped: how long each answer took (or that none came)."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stopped, self.answers = base, threading.Event(), list[tuple[int, float]]()

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stopped.is_set():
                started = time.monotonic()
                try:
                    status = client.get(f"{self.base}/healthz").status_code
                except httpx.TransportError:
                    status = 0
                self.answers.append((status, time.monotonic() - started))
                self.stopped.wait(0.05)


TLS = ssl.create_default_context()  # unused over http, but each client would build one: share it


def _sign_in_form(base: str) -> tuple[httpx.Client, str]:
    """A browser with the sign-in page open: its client (holding the form's cookie) and CSRF token.
    The connection is not kept (the server closes idle ones after a few seconds)."""
    browser = httpx.Client(base_url=base, timeout=60, verify=TLS)
    form = browser.get("/console/login", headers={"Connection": "close"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    return browser, csrf.group(1)


def _post(browser: httpx.Client, csrf: str, username: str, password: str) -> int:
    data = {"username": username, "password": password, "csrf": csrf}
    return browser.post("/console/login", data=data).status_code


def _idle_in_transaction(database: Database) -> int:
    if database.engine.dialect.name != "postgresql":
        return 0
    name = make_url(str(database.engine.url)).database
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND state LIKE 'idle in%'")
    with database.engine.connect() as connection:
        return int(connection.execute(query, {"name": name}).scalar_one())


def test_fifty_failed_sign_ins_leave_the_hub_responsive(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, public_url=f"http://127.0.0.1:{port}", webhook_worker=False)
    credentials = seed_demo(database, settings, with_issuances=False).credentials_dir
    with database.unit_of_work() as session:
        accounts = Accounts(session)
        accounts.add("alice", "SH")
        bob = accounts.add("bob", "JS")
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PUHUI_DATABASE_URL": database_url, "PUHUI_DATA_DIR": str(data_dir)}
    env.update(PUHUI_PORT=str(port), PUHUI_LOG_LEVEL="warning")
    env.pop("PUHUI_DEMO", None)
    with serving(["serve"], env, base):
        browsers = [_sign_in_form(base) for _ in range(ATTEMPTS)]  # set up first: the load is the posts
        barrier = threading.Barrier(ATTEMPTS)

        def wrong(browser: httpx.Client, csrf: str) -> int:
            barrier.wait(timeout=60)  # all fifty posts leave together
            return _post(browser, csrf, "alice", "not her password")

        probe = HealthProbe(base)
        probe.start()
        started = time.monotonic()
        with ThreadPoolExecutor(ATTEMPTS) as pool:
            futures = [pool.submit(wrong, browser, csrf) for browser, csrf in browsers]
            statuses = [future.result(timeout=120) for future in futures]
        took = time.monotonic() - started
        for browser, _ in browsers:
            browser.close()
        time.sleep(0.3)  # and a little after
        probe.stopped.set()
        probe.join(timeout=10)

        assert statuses == [401] * ATTEMPTS
        slowest = max(seconds for _, seconds in probe.answers)
        print(f"\n{database.engine.dialect.name}: {ATTEMPTS} failed sign-ins in {took:.2f} s;"
              f" {len(probe.answers)} health checks, the slowest {slowest * 1000:.0f} ms")  # fmt: skip
        assert len(probe.answers) >= 5
        assert {status for status, _ in probe.answers} == {200}
        assert slowest < HEALTH_LIMIT

        with database.unit_of_work() as session:
            alice = session.get(OperatorAccount, "alice")
            assert alice is not None and alice.locked_until is not None
            assert alice.locked_until.replace(tzinfo=UTC) > datetime.now(UTC)
        browser, csrf = _sign_in_form(base)
        assert _post(browser, csrf, "bob", bob) == 303
        assert browser.get("/console").status_code == 200
        browser.close()
        with PlatformClient.from_credentials(credentials / "js.json", base_url=base) as jiangsu:
            token = jiangsu.access_token()
        bearer = {"Authorization": f"Bearer {token}"}
        platforms = httpx.get(f"{base}/v1/platforms", headers=bearer, timeout=30)
        assert platforms.status_code == 200 and len(platforms.json()) == 5
        assert _idle_in_transaction(database) == 0
