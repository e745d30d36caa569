"""Fresh demo hubs for tests that need many: each a copy of one seeded database (Jiangsu's
fixture issuances ingested), on SQLite or PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from hub.app import create_app
from hub.client import PlatformClient
from hub.database import Database
from hub.settings import Settings
from tests.conftest import scratch_postgres
from tests.hub.conftest import ingest_fixtures


@dataclass
class Hub:
    client: TestClient
    database: Database
    settings: Settings
    credentials: Path

    def platform(self, name: str) -> PlatformClient:
        return PlatformClient.from_credentials(
            self.credentials / f"{name}.json", transport=self.client._transport
        )


@contextmanager
def seeded_copies(backend: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    """A factory of fresh demo hubs (Jiangsu's blocks ingested), each a copy of one seeded database."""
    from hub.seed import seed_demo

    tmp: Path = request.getfixturevalue("tmp_path")
    settings = Settings(
        data_dir=tmp / "data", public_url="http://127.0.0.1:8000", webhook_worker=False, demo=True
    )

    @contextmanager
    def copy_of(source: str) -> Iterator[str]:
        """A new database holding what ``source`` (a SQLite file or a PostgreSQL database) holds."""
        if backend == "sqlite":
            path = tmp / f"{uuid.uuid4().hex}.sqlite3"
            shutil.copyfile(source, path)
            yield f"sqlite:///{path}"
        else:
            with scratch_postgres(source, "puhui_model") as url:
                yield url

    template = request.getfixturevalue("sqlite_template" if backend == "sqlite" else "postgres_template")
    with copy_of(str(template)) as golden_url:
        database = Database.from_url(golden_url)
        credentials = seed_demo(database, settings, with_issuances=False).credentials_dir
        ingest_fixtures(database, settings, "JS")
        database.dispose()
        golden = make_url(golden_url).database or ""

        @contextmanager
        def fresh() -> Iterator[Hub]:
            with copy_of(golden) as url:
                copy = Database.from_url(url)
                try:
                    with TestClient(create_app(settings, copy), raise_server_exceptions=False) as client:
                        yield Hub(client, copy, settings, credentials)
                finally:
                    copy.dispose()

        yield fresh
