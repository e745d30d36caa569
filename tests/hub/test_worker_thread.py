"""The background worker thread: back to back while rounds do work, then one round per interval."""

from __future__ import annotations

import threading

from hub.log.webhooks import WorkerThread


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
