"""For every pair of claim kinds (recognition, transfer, pledge, retirement), threads of two
processes race on the same serials: exactly one operation wins, every other is refused with a
check code (never a constraint error, never a 5xx), and the serials end under exactly the winner's
claim. On PostgreSQL and SQLite."""

from __future__ import annotations

import multiprocessing
from itertools import combinations_with_replacement
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.database import Database
from hub.seed import seed_demo
from hub.settings import Settings
from tests.hub.concurrent_claims import race
from tests.hub.conftest import ingest_fixtures
from tests.hub.test_conservation import fresh_database

KINDS = ["recognition", "transfer", "pledge", "retirement"]
PAIRS = list(combinations_with_replacement(KINDS, 2))
CLAIM_OF = {
    "recognition": "recognition",
    "transfer": "transfer",
    "pledge": "pledge",
    "retirement": "retirement",
}


def _seeded(database: Database, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, public_url="http://127.0.0.1:8000")
    seed_demo(database, settings, with_issuances=False)
    ingest_fixtures(database, settings, "JS")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_one_hold_wins_for_every_pair_of_claim_kinds(backend: str, request: pytest.FixtureRequest) -> None:
    context = multiprocessing.get_context("spawn")
    tmp: Path = request.getfixturevalue("tmp_path")
    failures = []
    with context.Manager() as manager, context.Pool(2) as pool:
        for first, second in PAIRS:
            with fresh_database(backend, request) as database:
                data_dir = tmp / f"{first}-{second}"
                _seeded(database, data_dir)
                url = database.engine.url.render_as_string(hide_password=False)
                barrier = manager.Barrier(4)
                tasks = [(url, str(data_dir), [first, second], p, barrier) for p in range(2)]
                outcomes = [o for result in pool.starmap(race, tasks) for o in result]
                winners = [o for o in outcomes if o.endswith(":ok")]
                with database.unit_of_work() as session:
                    claims = session.execute(
                        text("SELECT kind FROM serial_claim WHERE active AND serial_end >= 100050"
                             " AND serial_start <= 100120")
                    ).scalars().all()  # fmt: skip
                refused_cleanly = all(o.split(":")[1].isdigit() for o in outcomes if o not in winners)
                if len(winners) != 1 or not refused_cleanly or claims != [CLAIM_OF[winners[0].split(":")[0]]]:
                    failures.append((first, second, outcomes, claims))
    assert not failures, failures
