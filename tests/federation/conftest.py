"""The two-hub fixture: the YRD hub on the parametrized ``backend`` (SQLite, PostgreSQL) and the
GD hub on the other backend (PostgreSQL when the YRD hub is on SQLite and a server is available,
SQLite otherwise), so both roles run on both backends; each hub's database a copy of a template
its seed filled once per session (``tests.conftest.copied_database``). ``other_database``: a second fresh
database of the same backend as ``database`` (the witness tests' hub B)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.database import Database
from tests.conftest import POSTGRES_UNAVAILABLE, copied_database, opened
from tests.federation.two_hubs import TwoHubs, open_two_hubs, seed_gd_hub, seed_yrd_hub
from tests.federation.xdedup import add_pullers, share_federation_key
from tests.hub.conftest import cli_hub  # noqa: F401  (the `puhui` command tests' hub)


@pytest.fixture
def yrd_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Database]:
    """The YRD hub's database (seeded: ``seed_yrd_hub``), its files under ``tmp_path / "yrd"``."""
    copy = copied_database(request, backend, tmp_path / "yrd.sqlite3", seed_yrd_hub, tmp_path / "yrd")
    with opened(copy) as database:
        yield database


@pytest.fixture
def gd_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Database]:
    """The GD hub's database (seeded: ``seed_gd_hub``), its files under ``tmp_path / "gd"``."""
    other = "postgresql" if backend == "sqlite" and not POSTGRES_UNAVAILABLE else "sqlite"
    copy = copied_database(request, other, tmp_path / "gd.sqlite3", seed_gd_hub, tmp_path / "gd")
    with opened(copy) as database:
        yield database


@pytest.fixture
def two_hubs(yrd_database: Database, gd_database: Database, tmp_path: Path) -> Iterator[TwoHubs]:
    """Two hubs, not yet peered (``two_hubs.peer()`` peers them)."""
    with open_two_hubs(yrd_database, gd_database, tmp_path) as hubs:
        yield hubs


@pytest.fixture
def peered(two_hubs: TwoHubs) -> TwoHubs:
    """Two hubs whose administrators registered each other."""
    two_hubs.peer()
    return two_hubs


@pytest.fixture
def federated(peered: TwoHubs) -> TwoHubs:
    """Peered hubs sharing the federation key, each pulling the other's claim feed."""
    share_federation_key(peered)
    add_pullers(peered)
    return peered


@pytest.fixture
def other_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Database]:
    with opened(copied_database(request, backend, tmp_path / "other.sqlite3")) as database:
        yield database
