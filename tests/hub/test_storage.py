"""Storage on SQLite and PostgreSQL: migrations, the unit of work, the platform directory."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.database import Database
from hub.migrate import current_revision, head_revision
from hub.platforms.models import PlatformCreate, PlatformKind
from hub.platforms.records import platform_record
from hub.platforms.service import PlatformService
from hub.problems import Conflict, SchemaViolation
from hub.seed import seed_demo
from schemas import validate


def _platform(code: str = "GD", **changes: object) -> PlatformCreate:
    data: dict[str, object] = {
        "code": code,
        "name": "Guangdong Carbon Inclusion (test)",
        "name_zh": "广东碳普惠（测试）",
        "region": "CN-GD",
        "kind": PlatformKind.PROVINCIAL,
        "api_base_url": "https://gd.example/api",
        "grams_per_point": 1,
        "scopes": ["blocks:read"],
    }
    data.update(changes)
    return PlatformCreate.model_validate(data)


def test_the_tests_run_on_a_database_migrated_to_head(database_url: str) -> None:
    assert current_revision(database_url) == head_revision() is not None


def test_a_registered_platform_is_stored_as_a_valid_exchange_record(database: Database) -> None:
    with database.unit_of_work() as session:
        PlatformService(session).register(_platform(), actor="test")
    with database.unit_of_work() as session:
        stored = PlatformService(session).get("GD")
        record = platform_record(stored)
    assert validate("platform", record) == []
    assert record["points"] == {"grams_per_point": 1}
    assert record["kind"] == "provincial"


def test_a_failing_unit_of_work_changes_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError), database.unit_of_work() as session:
        PlatformService(session).register(_platform(), actor="test")
        raise RuntimeError("crash after the write")
    with database.unit_of_work() as session:
        assert PlatformService(session).is_empty()


def test_registering_a_code_twice_is_a_conflict(database: Database) -> None:
    with database.unit_of_work() as session:
        PlatformService(session).register(_platform(), actor="test")
    with pytest.raises(Conflict) as raised, database.unit_of_work() as session:
        PlatformService(session).register(_platform(name="another"), actor="test")
    assert raised.value.code == "2001"


def test_a_platform_that_is_not_a_valid_record_is_refused(database: Database) -> None:
    with pytest.raises(SchemaViolation) as raised, database.unit_of_work() as session:
        PlatformService(session).register(_platform(region="Guangdong"), actor="test")
    assert [e["pointer"] for e in raised.value.errors] == ["/region"]
    with database.unit_of_work() as session:
        assert PlatformService(session).is_empty()


def test_the_demo_federation_is_seeded_once(database: Database, settings) -> None:
    first = seed_demo(database, settings)
    second = seed_demo(database, settings)
    assert first.seeded and not second.seeded
    assert sorted(first.platforms) == ["AH", "CCER", "JS", "SH", "ZJ"]
    assert sorted(second.platforms) == sorted(first.platforms)
    names = sorted(path.name for path in first.credentials_dir.iterdir())
    assert names == [
        f"{name}.json"
        for name in [
            "admin-1",
            "admin-2",
            "ah",
            "ccer",
            "committee-1",
            "committee-2",
            "committee-3",
            "js",
            "operator-js.console",
            "operator-js",
            "operator-sh.console",
            "operator-sh",
            "sh",
            "zj",
        ]
    ]
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in first.credentials_dir.iterdir())


def test_platform_directory_over_http(as_client) -> None:
    zhejiang = as_client("zj")
    listed = zhejiang.get("/v1/platforms")
    assert [p["code"] for p in listed] == ["AH", "CCER", "JS", "SH", "ZJ"]
    assert all(p["demonstration"] for p in listed)
    assert all(validate("platform", p) == [] for p in listed)
    assert zhejiang.get("/v1/platforms/ZJ")["points"] == {"grams_per_point": 1}


def test_readyz_is_a_503_problem_when_the_database_is_unreachable(settings) -> None:
    broken = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with TestClient(create_app(settings, broken), raise_server_exceptions=False) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


def test_the_demo_ingests_every_platforms_issuances_and_awaits_a_recognition(
    database: Database, settings
) -> None:
    from sqlmodel import select

    from hub.recognition.models import Recognition

    result = seed_demo(database, settings)
    assert set(result.ingested) == {"SH", "JS", "ZJ", "AH", "CCER"}
    assert all(count > 0 for count in result.ingested.values())
    with database.unit_of_work() as session:
        pending = session.exec(select(Recognition)).all()
    assert sorted((r.origin, r.destination, r.status, r.converted_quantity) for r in pending) == [
        ("AH", "SH", "pending_review", 40),
        ("JS", "SH", "pending_review", 84),
    ]
    assert set(result.console_passwords) == {"operator-sh", "operator-js"}


def test_a_sqlite_unit_of_work_holds_the_write_lock_from_its_first_read(tmp_path) -> None:
    """BEGIN IMMEDIATE: a transaction that has only read yet already excludes another process's
    writer (which waits, then gives up), and a read-only unit of work still reads and ends."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from hub.database import make_engine

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    first, other = Database.from_url(url), Database(make_engine(url))
    with first.engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (n INTEGER)"))
    with first.unit_of_work() as session:
        assert session.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0  # a read only
        plain = create_engine(url, connect_args={"timeout": 0.05})  # the module's own transactions
        with pytest.raises(OperationalError, match="locked"), plain.begin() as connection:
            connection.execute(text("INSERT INTO probe VALUES (1)"))
        plain.dispose()
        session.execute(text("INSERT INTO probe VALUES (2)"))
    with other.unit_of_work() as session:  # the first has ended: the other writes now
        session.execute(text("INSERT INTO probe VALUES (3)"))
        assert session.execute(text("SELECT n FROM probe ORDER BY n")).scalars().all() == [2, 3]
    first.dispose()
    other.dispose()
