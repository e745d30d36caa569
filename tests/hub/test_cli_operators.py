"""``puhui operators``: add (region checked), list, reset-password (unlocks, signs out), remove."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app
from hub.console.accounts import MAX_FAILURES, Accounts, SignIn
from hub.database import Database
from hub.log.repository import LogRepository
from hub.settings import Settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _demo(cli_hub: Path) -> None:
    assert runner.invoke(app, ["demo", "seed"]).exit_code == 0


def _database() -> Database:
    return Database.from_url(Settings().resolved_database_url)


def _password(output: str) -> str:
    found = re.search(r"shown once: (\S+)", output)
    assert found, output
    return found.group(1)


def test_add_checks_the_region_and_prints_the_password_once() -> None:
    added = runner.invoke(app, ["operators", "add", "alice", "--region", "SH"])
    assert added.exit_code == 0, added.output
    password = _password(added.output)
    database = _database()
    assert not isinstance(SignIn(database).sign_in("alice", password), str)
    database.dispose()
    unknown = runner.invoke(app, ["operators", "add", "bob", "--region", "XX"])
    assert unknown.exit_code == 1 and "no platform XX" in unknown.output
    again = runner.invoke(app, ["operators", "add", "alice", "--region", "SH"])
    assert again.exit_code == 1 and "exists" in again.output
    listing = runner.invoke(app, ["operators", "list"]).output
    assert "alice" in listing and "operator-sh" in listing and "operator-js" in listing
    assert password not in listing
    database = _database()
    with database.unit_of_work() as session:
        log = LogRepository(session)
        entries = [json.loads(e.entry) for e in log.entries(0, log.size())]
    database.dispose()
    added = [e for e in entries if e["type"] == "operator.added"]
    assert [e["subject"]["id"] for e in added] == ["alice"]  # the refused adds logged nothing
    assert added[0]["data"]["actor"].startswith("host:") and password not in str(entries)


def test_reset_password_unlocks_and_signs_out() -> None:
    old = _password(runner.invoke(app, ["operators", "add", "alice", "--region", "SH"]).output)
    database = _database()
    signing_in = SignIn(database)
    token, _ = signing_in.sign_in("alice", old)  # type: ignore[misc]
    for _ in range(MAX_FAILURES):
        signing_in.sign_in("alice", "wrong")
    assert signing_in.sign_in("alice", old) == "locked"
    reset = runner.invoke(app, ["operators", "reset-password", "alice"])
    assert reset.exit_code == 0, reset.output
    new = _password(reset.output)
    with database.unit_of_work() as session:
        assert Accounts(session).current(token) is None  # the old session ended
    assert signing_in.sign_in("alice", old) == "wrong_credentials"
    assert not isinstance(signing_in.sign_in("alice", new), str)  # unlocked, the new password works
    database.dispose()
    assert runner.invoke(app, ["operators", "reset-password", "nobody"]).exit_code == 1


def test_remove_deletes_the_account_and_its_sessions() -> None:
    password = _password(runner.invoke(app, ["operators", "add", "alice", "--region", "SH"]).output)
    database = _database()
    token, _ = SignIn(database).sign_in("alice", password)  # type: ignore[misc]
    removed = runner.invoke(app, ["operators", "remove", "alice"])
    assert removed.exit_code == 0, removed.output
    with database.unit_of_work() as session:
        assert Accounts(session).current(token) is None
    assert SignIn(database).sign_in("alice", password) == "wrong_credentials"
    database.dispose()
    assert "alice" not in runner.invoke(app, ["operators", "list"]).output
    assert runner.invoke(app, ["operators", "remove", "alice"]).exit_code == 1
