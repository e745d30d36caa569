"""Test fixtures: a fresh, migrated database per test, on SQLite and on PostgreSQL.

Storage tests take the ``database`` (or ``client``) fixture, which runs each of them twice: on an
embedded SQLite file and on PostgreSQL. PostgreSQL is found through ``PUHUI_TEST_DATABASE_URL`` or
on 127.0.0.1:5432; without a server those runs are skipped (and the run says so), unless
``PUHUI_REQUIRE_POSTGRES=1`` makes that a failure (CI). Every test gets its own database, copied
from a template that the migrations built once per worker (``copied_database``: or from one a seed filled
once per worker, as the two-hub tests' hubs); nothing is shared between tests.

Browser tests (marker ``browser``) drive the system Chromium through Playwright; without Chromium
they are skipped (and the run says so), unless ``PUHUI_REQUIRE_BROWSER=1`` makes that a failure (CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from hub.app import create_app
from hub.client import PlatformClient
from hub.database import Database
from hub.migrate import upgrade
from hub.seed import seed_demo
from hub.settings import Settings

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REQUIRE_POSTGRES = os.environ.get("PUHUI_REQUIRE_POSTGRES") == "1"


def _reachable(url: str) -> str | None:
    """None when a PostgreSQL server answers at ``url``, else why not."""
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout=1):
            pass
    except OSError as exc:
        return f"no PostgreSQL server at {parsed.host}:{parsed.port or 5432} ({exc.strerror or exc})"
    return None


POSTGRES_URL = os.environ.get("PUHUI_TEST_DATABASE_URL") or DEFAULT_POSTGRES
POSTGRES_UNAVAILABLE = _reachable(POSTGRES_URL)
REQUIRE_BROWSER = os.environ.get("PUHUI_REQUIRE_BROWSER") == "1"


def chromium_path() -> str | None:
    """The system Chromium: PUHUI_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH."""
    named = os.environ.get("PUHUI_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    return next(filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])), None)


def _browser_unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    if chromium_path() is None:
        return "no Chromium (apt-get install chromium, or set PUHUI_CHROMIUM)"
    return None


BROWSER_UNAVAILABLE = _browser_unavailable()


def pytest_sessionstart(session: pytest.Session) -> None:
    if POSTGRES_UNAVAILABLE and REQUIRE_POSTGRES:
        raise pytest.UsageError(
            f"PUHUI_REQUIRE_POSTGRES=1 but {POSTGRES_UNAVAILABLE}; start PostgreSQL or unset it"
        )
    if BROWSER_UNAVAILABLE and REQUIRE_BROWSER:
        raise pytest.UsageError(f"PUHUI_REQUIRE_BROWSER=1 but {BROWSER_UNAVAILABLE}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BROWSER_UNAVAILABLE:
        skip = pytest.mark.skip(reason=f"browser tests skipped: {BROWSER_UNAVAILABLE}")
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(skip)


def pytest_report_header() -> list[str]:
    storage = (
        f"storage: sqlite only; PostgreSQL tests will be SKIPPED: {POSTGRES_UNAVAILABLE}"
        if POSTGRES_UNAVAILABLE
        else f"storage backends: sqlite and postgresql ({make_url(POSTGRES_URL).render_as_string()})"
    )
    browser = (
        f"browser tests will be SKIPPED: {BROWSER_UNAVAILABLE}"
        if BROWSER_UNAVAILABLE
        else (f"browser: {chromium_path()} (Playwright)")
    )
    return [storage, browser]


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if POSTGRES_UNAVAILABLE and not hasattr(terminalreporter.config, "workerinput"):
        terminalreporter.write_line(
            f"NOTE: the PostgreSQL storage tests were SKIPPED ({POSTGRES_UNAVAILABLE}). "
            "Set PUHUI_TEST_DATABASE_URL to run them.",
            yellow=True,
            bold=True,
        )
    if BROWSER_UNAVAILABLE and not hasattr(terminalreporter.config, "workerinput"):
        terminalreporter.write_line(
            f"NOTE: the browser tests were SKIPPED ({BROWSER_UNAVAILABLE}).", yellow=True, bold=True
        )


def _admin(url: str) -> psycopg.Connection:
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname=parsed.database or "postgres",
        autocommit=True,
    )


RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:10]


def _worker() -> str:
    """This run's worker name: unique even when several test runs share one server."""
    return f"{RUN_ID}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@contextmanager
def scratch_postgres(template: str | None = None, prefix: str = "puhui_test") -> Iterator[str]:
    """The URL of a new PostgreSQL database (a copy of ``template``, or empty), dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with _admin(POSTGRES_URL) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin(POSTGRES_URL) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    if POSTGRES_UNAVAILABLE:
        pytest.skip(f"PostgreSQL tests skipped: {POSTGRES_UNAVAILABLE}")
    name = f"puhui_template_{_worker()}"
    with _admin(POSTGRES_URL) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    upgrade(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    yield name
    with _admin(POSTGRES_URL) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


Seed = Callable[[Database, Path], object]
"""Fills a migrated database (its first argument); the files it writes for its hub (credentials)
go below the data directory it is given (its second)."""


class SeededTemplates:
    """Seeded template databases, built once per session (per worker) and backend: a copy of the
    migrated template that a :data:`Seed` filled, with the data directory the seed wrote to."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[tuple[str, Seed], tuple[str, Path]] = {}
        self.postgres: list[str] = []

    def source(self, request: pytest.FixtureRequest, backend: str, seed: Seed) -> tuple[str, Path]:
        """The template (a SQLite file, or a PostgreSQL database's name) and its data directory."""
        if (backend, seed) not in self.built:
            folder = self.root / f"{backend}-{len(self.built)}"
            folder.mkdir()
            if backend == "sqlite":
                source = str(folder / "template.sqlite3")
                shutil.copyfile(request.getfixturevalue("sqlite_template"), source)
                url = f"sqlite:///{source}"
            else:
                migrated = request.getfixturevalue("postgres_template")
                source = f"puhui_seeded_{len(self.built)}_{_worker()}"
                with _admin(POSTGRES_URL) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{source}" WITH (FORCE)')
                    admin.execute(f'CREATE DATABASE "{source}" TEMPLATE "{migrated}"')
                self.postgres.append(source)
                url = make_url(POSTGRES_URL).set(database=source).render_as_string(hide_password=False)
            database = Database.from_url(url)
            try:
                seed(database, folder / "data")
            finally:
                database.dispose()  # a template takes no connections
            self.built[backend, seed] = (source, folder / "data")
        return self.built[backend, seed]

    def drop(self) -> None:
        with _admin(POSTGRES_URL) as admin:
            for name in self.postgres:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def seeded_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededTemplates]:
    templates = SeededTemplates(tmp_path_factory.mktemp("seeded"))
    yield templates
    if templates.postgres:
        templates.drop()


@contextmanager
def copied_database(
    request: pytest.FixtureRequest,
    backend: str,
    path: Path,
    seed: Seed | None = None,
    data_dir: Path | None = None,
) -> Iterator[str]:
    """The URL of a new database of ``backend`` (``"sqlite"``: the file ``path``), dropped after: a
    copy of the migrated template, or, given ``seed``, of the template it seeded once per session
    (the files it wrote copied into ``data_dir``)."""
    if seed is None:
        source = str(
            request.getfixturevalue("sqlite_template" if backend == "sqlite" else "postgres_template")
        )
    else:
        templates: SeededTemplates = request.getfixturevalue("seeded_templates")
        source, files = templates.source(request, backend, seed)
        if data_dir is not None:
            shutil.copytree(files, data_dir, dirs_exist_ok=True)
    if backend == "sqlite":
        shutil.copyfile(source, path)
        yield f"sqlite:///{path}"
        return
    with scratch_postgres(source) as url:
        yield url


@contextmanager
def opened(urls: AbstractContextManager[str]) -> Iterator[Database]:
    """The database of the URL ``urls`` gives (:func:`copied_database`), disposed of after."""
    with urls as url:
        database = Database.from_url(url)
        try:
            yield database
        finally:
            database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of the test: each storage test runs on both."""
    param: str = request.param
    return param


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated database of each backend; for a test that takes the ``federation``
    fixture with the suite's settings, a copy of one that ``seed_federation`` seeded (so that
    fixture finds it seeded, its credentials in the test's data directory)."""
    seed = data_dir = None
    if "federation" in request.fixturenames:
        settings: Settings = request.getfixturevalue("settings")
        if settings == hub_settings(settings.data_dir):
            seed, data_dir = seed_federation, settings.data_dir
    with copied_database(request, backend, tmp_path / "hub.sqlite3", seed, data_dir) as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    yield db
    db.dispose()


def hub_settings(data_dir: Path) -> Settings:
    """Test settings: the hub at a loopback URL; client_secret_basic off (as outside the demo);
    webhooks are delivered by the tests calling the worker, not by a background thread, to
    receivers at any address (hub.receivers; tests/hub/test_webhook_receivers.py refuses them)."""
    return Settings(
        data_dir=data_dir,
        public_url="http://127.0.0.1:8000",
        webhook_worker=False,
        webhook_private_addresses=True,  # the suite's receivers are on loopback or fake hosts
    )


def seed_federation(database: Database, data_dir: Path) -> None:
    """The ``federation`` fixture's seed with the suite's settings (``hub_settings``)."""
    seed_demo(database, hub_settings(data_dir), with_issuances=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return hub_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def federation(database: Database, settings: Settings) -> Path:
    """The demo federation seeded (without the demo's issuances, so each test starts with empty
    registries); the directory of its clients' credentials files. With the suite's settings the
    database is already seeded (``database_url``) and this finds it so."""
    return seed_demo(database, settings, with_issuances=False).credentials_dir


@pytest.fixture
def as_client(client: TestClient, federation: Path) -> Iterator[Callable[[str], PlatformClient]]:
    """``as_client("js")``: a PlatformClient with a demo client's credentials, talking to the app."""
    made: list[PlatformClient] = []

    def make(name: str) -> PlatformClient:
        credentials = federation / f"{name}.json"
        made.append(PlatformClient.from_credentials(credentials, transport=client._transport))
        return made[-1]

    yield make
    for platform_client in made:
        platform_client.close()
