"""A second fresh, migrated database of the same backend as ``database`` (hub B's)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.database import Database
from tests.conftest import scratch_postgres


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
