"""``puhui work``: the hub's background workers in a process of their own, beside hubs served
without them (``puhui serve --no-workers``, or PUHUI_WEBHOOK_WORKER=0)."""

from __future__ import annotations

import gc
import signal
import threading
from types import FrameType

from hub.cli.common import console
from hub.database import Database
from hub.keystore import KeyStore
from hub.settings import Settings
from hub.tlog.checkpointer import Cosigner
from hub.workers import Workers


def work(settings: Settings, stop: threading.Event) -> None:
    """Run the workers the served hub runs, with the same settings and the same leases in the
    database, until ``stop`` is set; then stop them after their current rounds."""
    database = Database.from_url(settings.resolved_database_url)
    keystore = KeyStore(settings.resolved_keys_dir)
    keystore.active()  # webhooks and checkpoints are signed by the hub's key
    cosigners: list[Cosigner] = []
    # no proposal commits in this process: the transfer worker looks every poll interval
    workers = Workers(database, settings, keystore, cosigners, threading.Event())
    # as a served hub does (hub.app.freeze_startup_objects): the modules' objects, kept for the
    # process's life, out of the cyclic collector's reach; its full collections, which a round
    # building thousands of ORM objects triggers, then walk only what the rounds build
    gc.collect()
    gc.freeze()
    try:
        workers.start()
        stop.wait()
    finally:
        workers.stop()
        database.dispose()


def work_command() -> None:
    """Run the hub's background workers (transfers, notices, webhooks, checkpoints, peers) until
    SIGINT or SIGTERM; serve the hub with --no-workers beside it."""
    settings = Settings()
    stop = threading.Event()

    def stopping(signum: int, _frame: FrameType | None) -> None:
        console.print(f"puhui work: {signal.Signals(signum).name}, stopping after the current rounds")
        stop.set()

    signal.signal(signal.SIGINT, stopping)
    signal.signal(signal.SIGTERM, stopping)
    console.print(
        f"[bold]Puhui Hub[/] workers on {settings.resolved_database_url}"
        f" (idle poll {settings.worker_poll_interval:g} s)",
        soft_wrap=True,
        highlight=False,
    )
    work(settings, stop)
    console.print("puhui work: stopped")
