"""``puhui platforms`` and ``puhui clients`` against the hub's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("cli_hub")


def _add_guangdong(*extra: str):
    return runner.invoke(
        app,
        [
            "platforms", "add", "GD", "--name", "Guangdong", "--name-zh", "广东碳普惠",
            "--region", "CN-GD", "--api-base-url", "https://gd.example/api", *extra,
        ],
    )  # fmt: skip


def test_platforms_add_list_suspend_reactivate() -> None:
    assert _add_guangdong().exit_code == 0
    listing = runner.invoke(app, ["platforms", "list"]).output
    assert "GD" in listing and "active" in listing
    assert runner.invoke(app, ["platforms", "suspend", "GD"]).exit_code == 0
    assert "suspended" in runner.invoke(app, ["platforms", "list"]).output
    assert runner.invoke(app, ["platforms", "reactivate", "GD"]).exit_code == 0
    again = runner.invoke(app, ["platforms", "reactivate", "GD"])
    assert again.exit_code == 1
    assert "already active" in again.output


def test_platforms_add_reports_the_failing_member() -> None:
    result = runner.invoke(
        app,
        ["platforms", "add", "GD", "--name", "x", "--name-zh", "x", "--region", "Guangdong",
         "--api-base-url", "https://gd.example"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "/region" in result.output


def test_clients_create_prints_credentials_once_and_registers_the_key(tmp_path: Path) -> None:
    _add_guangdong()
    result = runner.invoke(
        app, ["clients", "create", "--kind", "platform", "--name", "GD main", "--platform", "GD"]
    )
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert credentials["platform"] == "GD"
    assert credentials["token_endpoint"].endswith("/oauth/token")
    assert "d" in credentials["private_jwk"]
    kid = credentials["private_jwk"]["kid"]
    assert "1 key(s)" in runner.invoke(app, ["platforms", "list"]).output
    out = tmp_path / "op.json"
    operator = runner.invoke(
        app,
        [
            "clients",
            "create",
            "--kind",
            "operator",
            "--name",
            "GD op",
            "--region",
            "GD",
            "--out",
            str(out),
        ],
    )
    assert operator.exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["scopes"] == [
        "recognitions:decide",
        "platforms:manage",
        "reports:read",
    ]
    assert kid


def test_clients_create_refuses_a_scope_outside_the_kind() -> None:
    result = runner.invoke(
        app,
        ["clients", "create", "--kind", "committee", "--name", "c", "--scope", "platforms:manage"],
    )
    assert result.exit_code == 1
    assert "may not hold platforms:manage" in result.output


def test_clients_assertion_makes_a_private_key_jwt(tmp_path: Path) -> None:
    from joserfc import jwt
    from joserfc.jwk import OKPKey

    _add_guangdong()
    out = tmp_path / "gd.json"
    runner.invoke(
        app,
        ["clients", "create", "--kind", "platform", "--name", "GD", "--platform", "GD", "--out", str(out)],
    )
    result = runner.invoke(app, ["clients", "assertion", "--credentials", str(out)])
    assert result.exit_code == 0, result.output
    credentials = json.loads(out.read_text())
    key = OKPKey.import_key({k: v for k, v in credentials["private_jwk"].items() if k != "d"})
    claims = jwt.decode(result.stdout.strip(), key, algorithms=["Ed25519"]).claims
    assert claims["iss"] == claims["sub"] == credentials["client_id"]
    assert claims["aud"] == credentials["token_endpoint"]
    assert claims["exp"] - claims["iat"] == 300


def test_clients_create_makes_a_federation_administrator() -> None:
    result = runner.invoke(app, ["clients", "create", "--kind", "admin", "--name", "federation admin"])
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert (credentials["kind"], credentials["scopes"]) == ("admin", ["federation:admin"])


@pytest.mark.parametrize("kind", ["operator", "platform", "committee"])
def test_only_an_admin_client_holds_the_administrators_scope(kind: str) -> None:
    args = ["clients", "create", "--kind", kind, "--name", "x", "--scope", "federation:admin"]
    if kind == "platform":
        assert _add_guangdong().exit_code == 0
        args += ["--platform", "GD"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "may not hold federation:admin" in result.output


def test_an_administrator_has_no_region() -> None:
    result = runner.invoke(app, ["clients", "create", "--kind", "admin", "--name", "a", "--region", "SH"])
    assert result.exit_code == 1
    assert "not for a region" in result.output
