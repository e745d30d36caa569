"""Operations of every claim kind racing on the same serials, from threads of several processes
(spawned by tests/hub/test_claim_races.py): each thread makes one operation once a barrier lets
them all go, in its own unit of work, and reports "ok" or the refusal's check code."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

BLOCK = "JS-B-2025-000001"  # serials 100001-100350


def operate(kind: str, name: str, database: Any, data_dir: Path) -> None:
    """One operation of ``kind`` on serials 100050-100120 of BLOCK (the pledge takes the block)."""
    from hub.keystore import KeyStore
    from hub.recognition.service import RecognitionService
    from hub.registry.encumbrance import pledge_block
    from hub.retirement.service import RetirementService
    from hub.settings import Settings
    from hub.transfers.service import TransferService
    from tests.hub.conftest import example

    part = {"block_id": BLOCK, "namespace": "JS", "start": 100050, "end": 100120}
    counted = part | {"quantity": 71, "unit": "tCO2e"}
    with database.unit_of_work() as session:
        if kind == "recognition":
            settings = Settings(data_dir=data_dir, public_url="http://127.0.0.1:8000")
            request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
            request |= {"request_id": f"RR-{name}", "blocks": [counted], "quantity": 71}
            service = RecognitionService(session, settings, KeyStore(settings.resolved_keys_dir))
            service.submit(request, sender="JS", actor="race", verified_emissions=20000)
        elif kind == "transfer":
            body = {
                "transfer_id": f"TR-{name}",
                "destination": "SH",
                "to_account": {"registry": "SH", "account_id": "SH-A-1"},
                "blocks": [part],
            }
            TransferService(session, timedelta(hours=1)).propose(body, key=name, client_id="js", sender="JS")
        elif kind == "pledge":
            pledge_block(session, BLOCK, "JS", actor="race", reason="race")
        else:
            retirement = example("retirement", "event-neutralization")
            retirement |= {
                "retirement_id": f"RT-{name}",
                "registry": "JS",
                "blocks": [counted],
                "quantity": 71,
                "beneficiary": {"registry": "JS", "account_id": "JS-A-1"},
            }
            RetirementService(session).retire(retirement, sender="JS", actor="race")


def race(url: str, data_dir: str, kinds: list[str], process: int, barrier: Any) -> list[str]:
    """Each kind of ``kinds`` in its own thread of this process, all released by ``barrier``."""
    from hub.database import Database
    from hub.problems import HubError

    database = Database.from_url(url)
    outcomes: list[str] = []

    def one(kind: str, n: int) -> None:
        barrier.wait()
        try:
            operate(kind, f"{process}-{n}", database, Path(data_dir))
            outcomes.append(f"{kind}:ok")
        except HubError as error:
            outcomes.append(f"{kind}:{error.code or error.errors[0]['code']}")
        except Exception as error:  # a constraint the race hit instead of a clean refusal
            outcomes.append(f"{kind}:{type(error).__name__}")

    threads = [threading.Thread(target=one, args=(kind, n)) for n, kind in enumerate(kinds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database.dispose()
    return outcomes
