"""The two-hub fixture: the YRD hub on the parametrized ``database`` (SQLite, PostgreSQL) and the
GD hub on the other backend (PostgreSQL when the YRD hub is on SQLite and a server is available,
SQLite otherwise), so both roles run on both backends; and ``other_database``, a second fresh
database of the same backend as ``database`` (the witness tests' hub B)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.database import Database
from tests.conftest import POSTGRES_UNAVAILABLE, scratch_postgres
from tests.federation.two_hubs import TwoHubs, open_two_hubs
from tests.hub.conftest import cli_hub  # noqa: F401  (the `puhui` command tests' hub)


@pytest.fixture
def gd_database(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Database]:
    if database_url.startswith("sqlite") and not POSTGRES_UNAVAILABLE:
        with scratch_postgres(request.getfixturevalue("postgres_template")) as url:
            other = Database.from_url(url)
            yield other
            other.dispose()
        return
    path = tmp_path / "gd.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    other = Database.from_url(f"sqlite:///{path}")
    yield other
    other.dispose()


@pytest.fixture
def two_hubs(database: Database, gd_database: Database, tmp_path: Path) -> Iterator[TwoHubs]:
    """Two hubs, not yet peered (``two_hubs.peer()`` peers them)."""
    with open_two_hubs(database, gd_database, tmp_path) as hubs:
        yield hubs


@pytest.fixture
def peered(two_hubs: TwoHubs) -> TwoHubs:
    """Two hubs whose administrators registered each other."""
    two_hubs.peer()
    return two_hubs


@pytest.fixture
def other_database(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    if database_url.startswith("sqlite"):
        path = tmp_path / "other.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        database = Database.from_url(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    with scratch_postgres(request.getfixturevalue("postgres_template")) as url:
        database = Database.from_url(url)
        yield database
        database.dispose()
