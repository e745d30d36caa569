"""Shared by the hub tests: schema examples, Jiangsu holding the Kunshan PV block, and a migrated
hub for the `puhui` command tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
RECORDS_FORM = "application/vnd.puhui.records+json"


def example(kind: str, name: str) -> dict:
    """A fresh copy of a valid example instance of the exchange schema."""
    return json.loads((EXAMPLES / kind / "valid" / f"{name}.json").read_text())["instance"]


@pytest.fixture
def jiangsu(as_client):
    """Jiangsu's client, after it ingested the Kunshan 399 kW PV project and its 350 t block."""
    platform = as_client("js")
    records = {
        "projects": [example("project", "kunshan-pv-399kw")],
        "blocks": [example("credit-block", "kunshan-pv-399kw")],
    }
    platform.request(
        "POST", "/v1/platforms/JS/batches", content=json.dumps(records).encode(), content_type=RECORDS_FORM
    )
    return platform


@pytest.fixture
def operators(database, federation) -> dict[str, str]:
    """Two console operators, alice (Shanghai) and bob (Jiangsu): their passwords."""
    from hub.console.accounts import Accounts

    with database.unit_of_work() as session:
        accounts = Accounts(session)
        return {name: accounts.add(name, region) for name, region in [("alice", "SH"), ("bob", "JS")]}


@pytest.fixture
def english(client):
    """The test client, its console language English."""
    from hub.console.i18n import LANGUAGE_COOKIE

    client.cookies.set(LANGUAGE_COOKIE, "en")
    return client


@pytest.fixture
def cli_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded hub database migrated by `puhui db upgrade`, which the `puhui` commands of the
    test then use (PUHUI_DATA_DIR); its data directory."""
    from typer.testing import CliRunner

    from hub.cli.main import app

    data_dir = tmp_path / "data"
    monkeypatch.setenv("PUHUI_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PUHUI_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    return data_dir


@pytest.fixture
def hub(database, settings, federation):
    """A demo hub (sandbox platforms mounted) where Jiangsu holds its fixture's blocks; the test
    client and the hub's settings."""
    from fastapi.testclient import TestClient

    from hub.app import create_app

    demo = settings.model_copy(update={"demo": True})
    ingest_fixtures(database, demo, "JS")
    with TestClient(create_app(demo, database)) as client:
        yield client, demo


def ingest_fixtures(database, settings, code: str) -> list[dict]:
    """Ingest the good fixtures of region ``code``'s adapter as that platform would; the blocks."""
    from adapters.registry import get
    from hub.registry.federation_key import pseudonymizer
    from hub.registry.ingest import IngestService, Records

    adapter = get(code)
    blocks: list[dict] = []
    for fixture in (f for f in adapter.fixtures() if f.good):
        parsed = adapter.parse(
            fixture.read(),
            content_type=fixture.content_type,
            pseudonymizer=pseudonymizer(settings.resolved_federation_key_file),
        )
        with database.unit_of_work() as session:
            IngestService(session).ingest(
                code, Records(parsed.projects, parsed.blocks), actor="test", source="test"
            )
        blocks += parsed.blocks
    return blocks


def platform_client(hub, federation, name: str):
    """A demo client's PlatformClient talking to ``hub``."""
    from hub.client import PlatformClient

    return PlatformClient.from_credentials(federation / f"{name}.json", transport=hub[0]._transport)


def run_worker(hub, database, rounds: int = 5) -> None:
    """Run the transfer worker ``rounds`` times, a second apart, against the hub's sandboxes."""
    from datetime import UTC, datetime, timedelta

    from hub.transfers.worker import TransferWorker

    worker = TransferWorker(database, hub[1], transport=hub[0]._transport)
    for n in range(rounds):
        worker.run_once(datetime.now(UTC) + timedelta(seconds=n))
