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
    from tests.conftest import POSTGRES_URL, _admin

    tmp: Path = request.getfixturevalue("tmp_path")
    settings = Settings(
        data_dir=tmp / "data", public_url="http://127.0.0.1:8000", webhook_worker=False, demo=True
    )
    if backend == "sqlite":
        golden_path = tmp / "golden.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), golden_path)
        golden_url = f"sqlite:///{golden_path}"
    else:
        golden = f"puhui_model_{uuid.uuid4().hex[:10]}"
        with _admin(POSTGRES_URL) as admin:
            admin.execute(
                f'CREATE DATABASE "{golden}" TEMPLATE "{request.getfixturevalue("postgres_template")}"'
            )
        golden_url = make_url(POSTGRES_URL).set(database=golden).render_as_string(hide_password=False)
    database = Database.from_url(golden_url)
    credentials = seed_demo(database, settings, with_issuances=False).credentials_dir
    ingest_fixtures(database, settings, "JS")
    database.dispose()
    made: list[str] = []

    @contextmanager
    def fresh() -> Iterator[Hub]:
        if backend == "sqlite":
            path = tmp / f"{uuid.uuid4().hex}.sqlite3"
            shutil.copyfile(golden_path, path)
            url = f"sqlite:///{path}"
        else:
            name = f"puhui_model_{uuid.uuid4().hex[:10]}"
            with _admin(POSTGRES_URL) as admin:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{golden}"')
            made.append(name)
            url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        copy = Database.from_url(url)
        try:
            with TestClient(create_app(settings, copy), raise_server_exceptions=False) as client:
                yield Hub(client, copy, settings, credentials)
        finally:
            copy.dispose()
            if backend != "sqlite":
                with _admin(POSTGRES_URL) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{made.pop()}" WITH (FORCE)')

    try:
        yield fresh
    finally:
        if backend != "sqlite":
            with _admin(POSTGRES_URL) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{golden}" WITH (FORCE)')
