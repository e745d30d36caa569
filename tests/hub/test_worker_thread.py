"""The background worker thread: back to back while rounds do work, then one round per interval."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from hub.client.errors import Refused
from hub.database import after_commit
from hub.log.webhooks import WorkerThread
from tests.hub.conftest import platform_client


class Rounds:
    """A worker whose rounds do work three times, then find nothing; it counts its rounds."""

    def __init__(self, busy_rounds: int) -> None:
        self.left = busy_rounds
        self.rounds = 0
        self.idle = threading.Event()

    def run_once(self) -> int:
        self.rounds += 1
        if self.left == 0:
            self.idle.set()
            return 0
        self.left -= 1
        return 5


class Failing(Rounds):
    def run_once(self) -> int:
        self.rounds += 1
        self.idle.set()
        raise RuntimeError("a bug")


def test_busy_rounds_follow_each_other_without_waiting_the_interval() -> None:
    worker = Rounds(busy_rounds=3)
    thread = WorkerThread(worker, interval=3600)  # an hour between idle rounds
    thread.start()
    try:
        assert worker.idle.wait(10), "the busy rounds waited for the interval"
        assert worker.rounds == 4  # three that did work, then the idle one; now it waits
    finally:
        thread.stop()


def test_a_failing_round_waits_the_interval_and_the_thread_survives() -> None:
    worker = Failing(busy_rounds=0)
    thread = WorkerThread(worker, interval=3600)
    thread.start()
    try:
        assert worker.idle.wait(10)
        assert worker.rounds == 1 and thread._thread.is_alive()
    finally:
        thread.stop()
    assert thread._thread.name == "failing-thread"


def test_a_wakeup_ends_an_idle_wait_at_once_and_stop_ends_it_too() -> None:
    worker = Rounds(busy_rounds=0)
    wakeup = threading.Event()
    thread = WorkerThread(worker, interval=3600, wakeup=wakeup)
    thread.start()
    try:
        assert worker.idle.wait(10) and worker.rounds == 1  # idle now, for an hour
        worker.idle.clear()
        wakeup.set()  # work arrived
        assert worker.idle.wait(10), "the woken worker waited for its interval"
        assert worker.rounds == 2
    finally:
        thread.stop()
    assert not thread._thread.is_alive()  # stopping ends the idle wait


def test_a_round_that_did_work_wakes_the_next_worker_and_an_idle_one_does_not() -> None:
    """The transfer rounds wake the notice worker: only rounds that did work (a completion is
    a notice to send), so two idle workers do not keep each other awake."""
    between = threading.Event()
    first, second = Rounds(busy_rounds=2), Rounds(busy_rounds=0)
    feeding = WorkerThread(first, interval=3600, wakes=between)
    fed = WorkerThread(second, interval=3600, wakeup=between)
    fed.start()
    try:
        assert second.idle.wait(10) and second.rounds == 1  # idle now, for an hour
        second.idle.clear()
        feeding.start()
        assert first.idle.wait(10) and first.rounds == 3  # two that did work, then idle
        assert second.idle.wait(10), "the busy rounds did not wake the next worker"
        time.sleep(0.2)
        woken = second.rounds
        assert 2 <= woken <= 3  # each busy round woke it at most once; the idle round did not
        time.sleep(0.2)
        assert second.rounds == woken
    finally:
        feeding.stop()
        fed.stop()


def test_a_wakeup_during_a_round_is_not_lost() -> None:
    """Work committed while a round runs (after it looked) is taken by the next round at once."""
    wakeup = threading.Event()
    looked = threading.Event()
    go_on = threading.Event()

    class Slow(Rounds):
        def run_once(self) -> int:
            found = super().run_once()
            looked.set()
            go_on.wait(10)
            return found

    worker = Slow(busy_rounds=0)
    thread = WorkerThread(worker, interval=3600, wakeup=wakeup)
    thread.start()
    try:
        assert looked.wait(10)
        worker.idle.clear()
        wakeup.set()  # set while the round (which found nothing) is still running
        go_on.set()
        deadline = time.monotonic() + 10
        while worker.rounds < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert worker.rounds >= 2, "the wakeup set during the round was lost"
    finally:
        go_on.set()
        thread.stop()


def test_callbacks_after_a_commit_run_once_it_committed_and_never_after_a_rollback(database) -> None:
    called: list[str] = []
    with database.unit_of_work() as session:
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: called.append("committed"))
        assert called == []  # not before the commit
    assert called == ["committed"]
    with pytest.raises(RuntimeError), database.unit_of_work() as session:
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: called.append("rolled back"))
        raise RuntimeError("the unit of work fails")
    assert called == ["committed"]

    def failing() -> None:
        raise ValueError("a callback's bug")

    with database.unit_of_work() as session:  # a failing callback fails neither the commit nor the next
        session.execute(text("SELECT 1"))
        after_commit(session, failing)
        after_commit(session, lambda: called.append("after the failing one"))
    assert called == ["committed", "after the failing one"]


def test_a_committed_proposal_wakes_the_transfer_worker_and_a_refused_one_does_not(hub, federation) -> None:
    due = hub[0].app.state.transfers_due
    jiangsu = platform_client(hub, federation, "js")
    body = {
        "transfer_id": "TR-WAKE",
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS", "start": 100001, "end": 100010}],
    }
    due.clear()
    answer = jiangsu.request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": "w-1"})
    assert answer.status_code == 201 and due.is_set()
    due.clear()
    again = jiangsu.request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": "w-1"})
    assert again.status_code == 200 and not due.is_set()  # a replay proposes nothing new
    taken = {**body, "transfer_id": "TR-WAKE-2"}  # the same serials: refused, nothing committed
    with pytest.raises(Refused):
        jiangsu.request("POST", "/v1/transfers", json_body=taken, headers={"Idempotency-Key": "w-2"})
    assert not due.is_set()
    batch = [
        {**body, "transfer_id": f"TR-WAKE-B{n}", "blocks": [{**body["blocks"][0], "start": s, "end": s + 9}]}
        for n, s in enumerate((100011, 100021))
    ]
    answer = jiangsu.request(
        "POST", "/v1/transfer-batches", json_body={"transfers": batch}, headers={"Idempotency-Key": "w-3"}
    )
    assert answer.status_code == 201 and due.is_set()


WORKER_THREADS = {
    "transferworker-thread",
    "noticeworker-thread",
    "webhookworker-thread",
    "checkpointer-thread",
}


def _worker_threads() -> set[str]:
    return {thread.name for thread in threading.enumerate() if thread.is_alive()} & WORKER_THREADS


@pytest.mark.parametrize("on", [True, False])
def test_a_served_hub_runs_its_workers_only_when_they_are_on(database, settings, on: bool) -> None:
    from fastapi.testclient import TestClient

    from hub.app import create_app

    served = settings.model_copy(update={"webhook_worker": on, "witness_monitor": False})
    assert not _worker_threads()
    with TestClient(create_app(served, database)) as client:
        assert client.get("/healthz").status_code == 200
        assert _worker_threads() == (WORKER_THREADS if on else set())
    assert not _worker_threads()  # stopped with the app


# finding: any positive number was taken — 1e-9 (or 5e-324) set every idle worker spinning:
# two of them made ~770 empty rounds a second here (0.45 of a core); a look is 10 ms apart at least
@pytest.mark.parametrize("value", [0, -1, 61, "soon", float("nan"), 1e-9, 5e-324, "0.009"])
def test_a_poll_interval_out_of_bounds_is_refused(tmp_path, value: object) -> None:
    from pydantic import ValidationError

    from hub.settings import Settings

    with pytest.raises(ValidationError, match="worker_poll_interval"):
        Settings(data_dir=tmp_path, worker_poll_interval=value)


@pytest.mark.parametrize("value", [1e-9, 5e-324, "0.009"])
@pytest.mark.parametrize("name", ["checkpoint_interval", "claims_pull_interval"])
def test_the_other_intervals_below_ten_milliseconds_are_refused(tmp_path, name: str, value: object) -> None:
    """As the poll interval: the checkpointer's and the claim puller's rounds at most 100 a second."""
    from pydantic import ValidationError

    from hub.settings import Settings

    with pytest.raises(ValidationError, match=name):
        Settings(data_dir=tmp_path, **{name: value})


SECONDS = [
    "webhook_timeout",
    "webhook_backoff",
    "witness_timeout",
    "checkpoint_interval",
    "claims_pull_interval",
]


@pytest.mark.parametrize("value", ["inf", "1e308", float("inf"), 10**7])
@pytest.mark.parametrize("name", SECONDS)
def test_the_workers_seconds_beyond_the_calendar_are_refused(tmp_path, name: str, value: object) -> None:
    """Finding: these took any positive number, infinity too — PUHUI_WEBHOOK_TIMEOUT=inf started a
    hub whose notice worker failed every round (its lease, twice the timeout from now, fell past
    the calendar: no notice ever sent). Each has a ceiling now."""
    from pydantic import ValidationError

    from hub.settings import Settings

    with pytest.raises(ValidationError, match=name):
        Settings(data_dir=tmp_path, **{name: value})
    assert getattr(Settings(data_dir=tmp_path, **{name: 600}), name) == 600  # ten minutes: fine


def test_puhui_work_runs_the_workers_at_the_poll_interval_until_stopped(
    database_url, settings, monkeypatch
) -> None:
    from hub.cli.work import work
    from hub.workers import Workers

    quick = settings.model_copy(update={"database_url": database_url, "worker_poll_interval": 0.2})
    built: list[Workers] = []
    original = Workers.start

    def start(self: Workers) -> None:
        built.append(self)
        original(self)

    stop = threading.Event()
    monkeypatch.setattr(Workers, "start", start)
    runner = threading.Thread(target=work, args=(quick, stop))
    runner.start()
    deadline = time.monotonic() + 10
    while _worker_threads() != WORKER_THREADS:
        if time.monotonic() > deadline or not runner.is_alive():
            stop.set()
            pytest.fail("the workers did not start")
        time.sleep(0.02)
    stop.set()
    runner.join(timeout=10)
    assert not runner.is_alive() and not _worker_threads()
    (workers,) = built
    intervals = {type(thread.worker).__name__: thread.interval for thread in workers.threads}
    for name in ("TransferWorker", "NoticeWorker", "WebhookWorker", "InboundTransferWorker"):
        assert intervals[name] == 0.2


def test_a_proposal_s_notify_wakes_a_listener_only_once_it_commits(database) -> None:
    from hub.transfers.listener import DueListener
    from hub.transfers.repository import ProposalRepository

    if database.engine.dialect.name != "postgresql":
        with database.unit_of_work() as session:  # SQLite: no channel, nothing sent, nothing fails
            ProposalRepository(session).announce_due()
        return
    due = threading.Event()
    listener = DueListener(database.engine.url.render_as_string(hide_password=False), due)
    listener.start()
    try:
        assert listener.listening.wait(10)
        time.sleep(0.1)
        due.clear()
        with database.unit_of_work() as session:
            ProposalRepository(session).announce_due()
            assert not due.wait(0.5)  # not before the commit
        assert due.wait(5)
        due.clear()
        with pytest.raises(RuntimeError), database.unit_of_work() as session:
            ProposalRepository(session).announce_due()
            raise RuntimeError("rolled back")
        assert not due.wait(0.5)  # never for a rollback
    finally:
        listener.stop()
    assert not any(thread.name == "transfers-listener-thread" for thread in threading.enumerate())


def test_a_listener_whose_database_is_gone_retries_and_stops(tmp_path) -> None:
    from hub.transfers.listener import DueListener

    due = threading.Event()
    listener = DueListener("postgresql+psycopg://nobody@127.0.0.1:1/none", due, retry=0.05)
    listener.start()
    time.sleep(0.3)  # a few failed attempts, logged
    assert not listener.listening.is_set() and not due.is_set()
    listener.stop()
    assert not any(thread.name == "transfers-listener-thread" for thread in threading.enumerate())
