"""Concurrent transfer proposals of one block, from threads of this process or (run by
tests/hub/test_transfers.py in separate processes) from several processes at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any


def propose_concurrently(database: Any, prefix: str, threads: int, barrier: Any, block_id: str) -> list[str]:
    """Each of ``threads`` threads proposes a transfer of ``block_id`` once ``barrier`` lets them
    all go; one outcome per thread: "accepted" or the refusal's check code."""
    from hub.problems import HubError
    from hub.transfers.service import TransferService

    outcomes: list[str] = []

    def propose(n: int) -> None:
        body = {
            "transfer_id": f"TR-{prefix}{n}",
            "destination": "SH",
            "to_account": {"registry": "SH", "account_id": "SH-A-1"},
            "blocks": [{"block_id": block_id, "namespace": "JS"}],
        }
        barrier.wait()
        try:
            with database.unit_of_work() as session:
                TransferService(session, timedelta(hours=1)).propose(
                    body, key=f"k-{prefix}{n}", client_id="js", sender="JS"
                )
            outcomes.append("accepted")
        except HubError as error:
            outcomes.append(str(error.code or error.errors[0]["code"]))

    workers = [threading.Thread(target=propose, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


def propose_many(url: str, process: int, threads: int, barrier: Any, block_id: str) -> list[str]:
    """propose_concurrently from a fresh process with its own connection pool."""
    from hub.database import Database

    database = Database.from_url(url)
    try:
        return propose_concurrently(database, f"P{process}-", threads, barrier, block_id)
    finally:
        database.dispose()
