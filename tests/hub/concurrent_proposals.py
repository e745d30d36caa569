"""Run in separate processes by tests/hub/test_transfers.py: each proposes transfers of one block."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any


def propose_many(url: str, process: int, threads: int, barrier: Any, block_id: str) -> list[str]:
    from hub.database import Database
    from hub.problems import HubError
    from hub.transfers.service import TransferService

    database = Database.from_url(url)
    outcomes: list[str] = []

    def propose(n: int) -> None:
        body = {
            "transfer_id": f"TR-P{process}-{n}",
            "destination": "SH",
            "to_account": {"registry": "SH", "account_id": "SH-A-1"},
            "blocks": [{"block_id": block_id, "namespace": "JS"}],
        }
        barrier.wait()
        try:
            with database.unit_of_work() as session:
                TransferService(session, timedelta(hours=1)).propose(
                    body, key=f"k-{process}-{n}", client_id="js", sender="JS"
                )
            outcomes.append("accepted")
        except HubError as error:
            outcomes.append(str(error.code))

    workers = [threading.Thread(target=propose, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    database.dispose()
    return outcomes
