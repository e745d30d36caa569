"""Adapters in the hub: local-format ingest over HTTP (all or nothing, errors in local terms),
personal formats kept on the platform's side, pull-mode sync from a sandbox platform, and no
identifier from any fixture in what the hub stores or returns."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from adapters.contract import PERSONAL_BATCH
from adapters.registry import available, get
from hub.app import create_app
from hub.cli.main import app as cli
from hub.client import PlatformClient, Refused
from hub.registry.federation_key import pseudonymizer
from hub.registry.ingest import IngestService, Records
from hub.registry.sync import sync_platform

HUB_PARSED = [code for code, adapter in available().items() if PERSONAL_BATCH not in adapter.record_kinds]


def _fixtures(code: str, good: bool):
    return [fixture for fixture in get(code).fixtures() if fixture.good is good]


def test_adapters_list_shows_the_five_with_formats_and_units() -> None:
    output = CliRunner().invoke(cli, ["adapters", "list"], env={"COLUMNS": "200"}).output
    for code in ["SH", "JS", "ZJ", "AH", "CCER"]:
        assert f"{code} " in output
    assert "GBK" in output
    assert "1 point = 1 g" in output
    assert "points not convertible" in output


@pytest.mark.parametrize("code", HUB_PARSED)
def test_good_local_fixtures_ingest_over_http(as_client, code: str) -> None:
    platform = as_client(code.lower())
    for fixture in _fixtures(code, good=True):
        path = f"/v1/platforms/{code}/batches"
        report = platform.request(
            "POST", path, content=fixture.read(), content_type=fixture.content_type
        ).json()
        assert report["blocks"] + report["projects"] > 0, fixture.name


@pytest.mark.parametrize(
    ("code", "fixture"),
    [(code, fixture) for code in HUB_PARSED for fixture in _fixtures(code, good=False)],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_broken_local_fixtures_are_refused_whole_naming_the_local_field(
    as_client, code: str, fixture
) -> None:
    platform = as_client(code.lower())
    with pytest.raises(Refused) as refused:
        platform.request(
            "POST", f"/v1/platforms/{code}/batches", content=fixture.read(), content_type=fixture.content_type
        )
    problem = refused.value
    assert problem.status == 422
    assert {e["code"] for e in problem.errors} >= set(fixture.expected_codes)
    assert all(e.get("field") for e in problem.errors)
    assert platform.get("/v1/blocks") == []


@pytest.mark.parametrize("code", ["SH", "ZJ"])
def test_formats_with_personal_identifiers_are_not_accepted_in_local_form(as_client, code: str) -> None:
    fixture = _fixtures(code, good=True)[0]
    with pytest.raises(Refused) as refused:
        as_client(code.lower()).request(
            "POST", f"/v1/platforms/{code}/batches", content=fixture.read(), content_type=fixture.content_type
        )
    assert refused.value.status == 415
    assert "puhui import" in refused.value.problem["detail"]


def test_no_fixture_identifier_is_stored_or_returned(
    client: TestClient, database, settings, federation, as_client
) -> None:
    identifiers: set[str] = set()
    for code, adapter in available().items():
        for fixture in adapter.fixtures():
            identifiers.update(fixture.identifiers)
        for fixture in _fixtures(code, good=True):
            result = adapter.parse(
                fixture.read(),
                content_type=fixture.content_type,
                pseudonymizer=pseudonymizer(settings.resolved_federation_key_file),
            )
            assert result.ok, (fixture.name, result.errors)
            with database.unit_of_work() as session:
                records = Records(result.projects, result.blocks, result.batches)
                IngestService(session).ingest(code, records, actor="test", source="fixture")
    assert identifiers
    stored: list[str] = []
    with database.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                stored.append(
                    " ".join(
                        bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else str(v)
                        for v in row
                    )
                )
    returned = []
    for name in ["sh", "js", "zj", "ah", "ccer"]:
        platform = as_client(name)
        returned.append(json.dumps(platform.get("/v1/blocks", limit=1000), ensure_ascii=False))
        returned.append(json.dumps(platform.get("/v1/events", limit=1000), ensure_ascii=False))
    returned.append(
        json.dumps(client.get("/v1/log/entries", params={"start": 0, "end": 1000}).json(), ensure_ascii=False)
    )
    everything = "\n".join(stored + returned)
    digits = everything.replace(" ", "").replace("-", "")
    leaked = sorted(
        i for i in identifiers if i in everything or i.replace(" ", "").replace("-", "") in digits
    )
    assert leaked == []


def test_sync_pulls_new_issuances_from_the_sandbox_once(database, settings, federation) -> None:
    demo = settings.model_copy(update={"demo": True})
    with TestClient(create_app(demo, database)) as hub:
        reports, cursor = sync_platform(database, demo, "JS", transport=hub._transport)
        assert sum(r.blocks for r in reports) > 0
        again, same = sync_platform(database, demo, "JS", transport=hub._transport)
        assert again == []
        assert same == cursor
        jiangsu = PlatformClient.from_credentials(federation / "js.json", transport=hub._transport)
        assert len(jiangsu.get("/v1/blocks")) == sum(r.blocks for r in reports)
        jiangsu.close()


@pytest.mark.parametrize("code", HUB_PARSED)
def test_a_local_file_refused_after_parsing_names_its_own_rows_and_fields(as_client, code: str) -> None:
    """Sent twice, a good file is refused the second time by the registry's checks (ids and serials
    already registered): each entry names the record and the field as the platform's file has them,
    beside the pointer into the exchange form — and nothing is stored the second time."""
    platform = as_client(code.lower())
    fixture = next(f for f in _fixtures(code, good=True) if "project" not in f.name)
    path = f"/v1/platforms/{code}/batches"
    platform.request("POST", path, content=fixture.read(), content_type=fixture.content_type)
    stored = platform.get("/v1/blocks")
    with pytest.raises(Refused) as refused:
        platform.request("POST", path, content=fixture.read(), content_type=fixture.content_type)
    entries = refused.value.errors
    assert refused.value.status == 422 and entries
    adapter = get(code)
    named = [e for e in entries if e["pointer"].startswith("/blocks/")]
    assert named, entries
    for entry in named:
        assert entry["record"] and not entry["record"].startswith("/"), entry  # e.g. "row 2"
        assert not entry["field"].startswith("(exchange"), entry  # the local column, e.g. 签发编号
    block_ids = {e["field"] for e in named if e["code"] == "3012"}
    assert block_ids <= {adapter.block_id_field, *dict(adapter.spec.fields).values()}  # type: ignore[attr-defined]
    assert platform.get("/v1/blocks") == stored
