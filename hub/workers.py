"""The hub's background workers — the transfer saga's rounds, notices to origins, webhooks,
checkpoints, peers — built in one place for the two shapes that run them: threads of a served hub
(``hub.app``'s lifespan, unless ``PUHUI_WEBHOOK_WORKER=0``) or a process of their own
(``puhui work``). Every worker leases its work in the database, so any number of processes may run
them on one database; nothing another process needs is kept in this one's memory."""

from __future__ import annotations

import threading

import httpx

from hub.crosshub.worker import PeerWorker
from hub.database import Database
from hub.keystore import KeyStore
from hub.log.webhooks import WebhookWorker, WorkerThread
from hub.notices.worker import NoticeWorker
from hub.settings import Settings
from hub.tlog.checkpointer import Checkpointer, Cosigner
from hub.transfers.listener import DueListener
from hub.transfers.worker import TransferWorker
from hub.witness.collector import CosignatureCollector
from hub.witness.monitor import PeerMonitor
from hub.xdedup.worker import ClaimPuller
from hub.xtransfer.worker import InboundTransferWorker


class Workers:
    """The workers' threads, started and stopped together. ``transfers_due`` wakes the idle
    transfer worker: set by a proposal committed in this process and, on PostgreSQL, by a
    listener of the proposals' NOTIFY (a proposal committed in any process); otherwise the
    work-finding workers look every ``settings.worker_poll_interval`` seconds once a round found
    nothing. A transfer round that did work wakes the notice worker of its process (the origins of
    the transfers it completed are told at once)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        keystore: KeyStore,
        cosigners: list[Cosigner],
        transfers_due: threading.Event,
        peer_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.cosigners = cosigners
        self.collector = CosignatureCollector(database, settings, keystore)
        cosigners.append(self.collector)
        poll = settings.worker_poll_interval
        notices_due = threading.Event()  # a transfer round completed transfers: tell their origins now
        self.threads = [
            WorkerThread(WebhookWorker(database, keystore, settings), poll),
            WorkerThread(TransferWorker(database, settings), poll, wakeup=transfers_due, wakes=notices_due),
            WorkerThread(InboundTransferWorker(database, settings), poll),
            WorkerThread(NoticeWorker(database, settings), poll, wakeup=notices_due),
            WorkerThread(Checkpointer(database, settings, keystore, cosigners), settings.checkpoint_interval),
            WorkerThread(PeerWorker(database, keystore, settings, peer_transport)),
            WorkerThread(ClaimPuller(database, keystore, settings, peer_transport)),
        ]
        self.listener: DueListener | None = None
        if database.engine.dialect.name == "postgresql":
            url = database.engine.url.render_as_string(hide_password=False)
            self.listener = DueListener(url, transfers_due, retry=poll)
        self.monitor: PeerMonitor | None = None
        if settings.witness_monitor:
            self.monitor = PeerMonitor(database, settings, keystore)
            self.threads.append(WorkerThread(self.monitor, interval=settings.checkpoint_interval))

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """Stop every thread after its current round (what a round leased and did not finish is
        left to its lease's expiry, as after a crash), then close the workers' clients."""
        for thread in self.threads:
            thread.stop()
        if self.listener is not None:
            self.listener.stop()
        if self.monitor is not None:
            self.monitor.close()
        self.cosigners.remove(self.collector)
        self.collector.close()
