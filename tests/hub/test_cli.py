"""The ``puhui`` command line, offline: schemas, envelopes, keys, database, demo seed."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import httpx
import pytest
import respx
from joserfc import jws
from joserfc.jwk import OKPKey
from typer.testing import CliRunner

from hub.cli.main import app
from hub.migrate import current_revision, head_revision
from schemas.canonical import canonicalize

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUHUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PUHUI_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def _instance(path: Path, tmp_path: Path) -> Path:
    out = tmp_path / path.name
    out.write_text(json.dumps(json.loads(path.read_text("utf-8"))["instance"], ensure_ascii=False))
    return out


def test_schemas_list_names_every_document() -> None:
    result = runner.invoke(app, ["schemas", "list"])
    assert result.exit_code == 0
    assert "credit-block" in result.output and "https://schemas.puhui-hub.org/v1/" in result.output


def test_schemas_validate_accepts_a_valid_record(tmp_path: Path) -> None:
    record = _instance(EXAMPLES / "credit-block" / "valid" / "kunshan-pv-399kw.json", tmp_path)
    result = runner.invoke(app, ["schemas", "validate", "credit-block", str(record)])
    assert result.exit_code == 0, result.output
    assert "valid credit-block record" in result.output


def test_schemas_validate_prints_pointer_and_code_of_each_failure(tmp_path: Path) -> None:
    case = EXAMPLES / "credit-block" / "invalid" / "missing-fields-and-unknown-status.json"
    result = runner.invoke(app, ["schemas", "validate", "credit-block", str(_instance(case, tmp_path))])
    assert result.exit_code == 1
    for pointer in ["/holder", "/vintage", "/status", "/price"]:
        assert f"{pointer}  [1002]" in result.output


def test_schemas_validate_refuses_an_unknown_schema_and_a_non_json_file(tmp_path: Path) -> None:
    assert runner.invoke(app, ["schemas", "validate", "nope", "x.json"]).exit_code == 1
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    result = runner.invoke(app, ["schemas", "validate", "credit-block", str(garbage)])
    assert result.exit_code == 1 and "not JSON" in result.output


def _keypair(tmp_path: Path) -> tuple[Path, Path]:
    key_file = tmp_path / "member.jwk.json"
    result = runner.invoke(app, ["keys", "generate", "--out", str(key_file)])
    assert result.exit_code == 0, result.output
    assert key_file.stat().st_mode & 0o777 == 0o600
    private = json.loads(key_file.read_text())
    public = {k: v for k, v in private.items() if k != "d"}
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [public]}))
    return key_file, jwks_file


def test_envelope_sign_then_verify_round_trip(tmp_path: Path) -> None:
    key_file, jwks_file = _keypair(tmp_path)
    document = tmp_path / "doc.json"
    document.write_text('{"b": 2, "a": "碳普惠"}')
    signed = runner.invoke(app, ["envelope", "sign", str(document), "--key", str(key_file)])
    assert signed.exit_code == 0, signed.output
    token_file = tmp_path / "doc.jws"
    token_file.write_text(signed.stdout)
    verified = runner.invoke(app, ["envelope", "verify", str(token_file), "--jwks", str(jwks_file)])
    assert verified.exit_code == 0, verified.output
    assert "valid signature" in verified.output and "碳普惠" in verified.output


def test_envelope_detached_verify_canonicalizes_the_payload(tmp_path: Path) -> None:
    key_file, jwks_file = _keypair(tmp_path)
    document = tmp_path / "doc.json"
    document.write_text('{"b": 2, "a": 1}')
    signed = runner.invoke(app, ["envelope", "sign", str(document), "--key", str(key_file), "--detached"])
    token_file = tmp_path / "doc.jws"
    token_file.write_text(signed.stdout)
    reformatted = tmp_path / "same.json"
    reformatted.write_text('{\n  "a": 1,\n  "b": 2\n}\n')

    def verify_with(payload: Path):
        command = ["envelope", "verify", str(token_file), "--jwks", str(jwks_file)]
        return runner.invoke(app, [*command, "--payload", str(payload)])

    ok = verify_with(reformatted)
    assert ok.exit_code == 0, ok.output
    changed = tmp_path / "changed.json"
    changed.write_text('{"a": 1, "b": 3}')
    bad = verify_with(changed)
    assert bad.exit_code == 1 and "[1011]" in bad.output


def _joserfc_token(tmp_path: Path) -> tuple[str, Path]:
    key = OKPKey.generate_key("Ed25519")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jws.serialize_compact(
            {"alg": "EdDSA", "kid": key.thumbprint()},
            canonicalize({"certificate_id": "C-1", "quantity": 84}),
            key,
            algorithms=["EdDSA"],
        )
    jwks_file = tmp_path / "independent-jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    return token, jwks_file


def test_envelope_verify_accepts_a_jws_made_by_an_independent_library(tmp_path: Path) -> None:
    token, jwks_file = _joserfc_token(tmp_path)
    token_file = tmp_path / "independent.jws"
    token_file.write_text(token)
    result = runner.invoke(app, ["envelope", "verify", str(token_file), "--jwks", str(jwks_file)])
    assert result.exit_code == 0, result.output
    assert "C-1" in result.output


def test_envelope_verify_rejects_a_tampered_jws(tmp_path: Path) -> None:
    token, jwks_file = _joserfc_token(tmp_path)
    header, payload, signature = token.split(".")
    forged = payload.replace(payload[-4:], "AAAA")
    token_file = tmp_path / "tampered.jws"
    token_file.write_text(f"{header}.{forged}.{signature}")
    result = runner.invoke(app, ["envelope", "verify", str(token_file), "--jwks", str(jwks_file)])
    assert result.exit_code == 1
    assert "[1011]" in result.output


@respx.mock
def test_envelope_verify_fetches_the_jwks_from_a_hub_url(tmp_path: Path) -> None:
    token, jwks_file = _joserfc_token(tmp_path)
    url = "https://hub.example/.well-known/jwks.json"
    respx.get(url).mock(return_value=httpx.Response(200, content=jwks_file.read_bytes()))
    token_file = tmp_path / "t.jws"
    token_file.write_text(token)
    result = runner.invoke(app, ["envelope", "verify", str(token_file), "--jwks", url])
    assert result.exit_code == 0, result.output


@respx.mock
def test_envelope_verify_reports_an_unreachable_jwks_url(tmp_path: Path) -> None:
    url = "https://hub.example/.well-known/jwks.json"
    respx.get(url).mock(side_effect=httpx.ConnectError("refused"))
    token_file = tmp_path / "t.jws"
    token_file.write_text("a.b.c")
    result = runner.invoke(app, ["envelope", "verify", str(token_file), "--jwks", url])
    assert result.exit_code == 1 and "cannot fetch" in result.output


def test_hub_keys_generate_rotates_and_list_shows_both(tmp_path: Path) -> None:
    first = runner.invoke(app, ["keys", "list"])
    assert first.exit_code == 0 and "active" in first.output
    assert runner.invoke(app, ["keys", "generate"]).exit_code == 0
    listing = runner.invoke(app, ["keys", "list"]).output.splitlines()
    assert [line.split()[1] for line in listing] == ["active", "published"]


def test_db_upgrade_then_demo_seed_is_idempotent(tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert current_revision(f"sqlite:///{(tmp_path / 'data' / 'hub.sqlite3').resolve()}") == head_revision()
    seeded = runner.invoke(app, ["demo", "seed"])
    assert seeded.exit_code == 0 and "SH, JS, ZJ, AH, CCER" in seeded.output
    again = runner.invoke(app, ["demo", "seed"])
    assert again.exit_code == 0 and "not seeding" in again.output


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PUHUI_WORKER_POLL_INTERVAL", "1e-9"),
        ("PUHUI_WEBHOOK_TIMEOUT", "inf"),
        ("PUHUI_CHECKPOINT_INTERVAL", "soon"),
    ],
)
def test_a_setting_the_hub_cannot_run_with_is_said_in_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    """Found by the attacker's pass: a bad setting ended `puhui work` with a pydantic traceback."""
    from hub.cli.main import main

    monkeypatch.setenv(variable, value)
    monkeypatch.setattr("sys.argv", ["puhui", "work"])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 2
    said = capsys.readouterr().err
    assert said.startswith(f"puhui: {variable}={value!r}: ") and "Traceback" not in said
    assert said.count("\n") == 1
