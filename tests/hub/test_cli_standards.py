"""``puhui standards``: offline signing by members, verification, diff, evaluation, init-root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app
from hub.seed_standards import root_payload
from schemas.jwk import Ed25519Key
from standards import default_ruleset_payload, make_envelope, sign_envelope

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUHUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PUHUI_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def members(tmp_path: Path) -> list[tuple[Ed25519Key, Path]]:
    made = []
    for number in (1, 2, 3):
        key = Ed25519Key.generate()
        path = tmp_path / f"member-{number}.jwk.json"
        path.write_text(json.dumps(key.private_jwk()))
        path.chmod(0o600)
        made.append((key, path))
    return made


def _root_file(tmp_path: Path, members) -> Path:
    envelope = make_envelope(root_payload([key for key, _ in members]))
    for key, _ in members:
        envelope = sign_envelope(envelope, key)
    path = tmp_path / "root.json"
    path.write_text(json.dumps(envelope))
    return path


def test_members_sign_one_after_another_and_verify_reports_the_threshold(tmp_path: Path, members) -> None:
    ruleset = tmp_path / "ruleset.json"
    ruleset.write_text(json.dumps(default_ruleset_payload(1)))
    root = _root_file(tmp_path, members)
    assert runner.invoke(app, ["standards", "sign", str(ruleset), "--key", str(members[0][1])]).exit_code == 0
    one = runner.invoke(app, ["standards", "verify", str(ruleset), "--root", str(root)])
    assert one.exit_code == 1
    assert "1 of 3 keys signed (threshold 2), 1 missing" in one.output
    assert runner.invoke(app, ["standards", "sign", str(ruleset), "--key", str(members[2][1])]).exit_code == 0
    two = runner.invoke(app, ["standards", "verify", str(ruleset), "--root", str(root)])
    assert two.exit_code == 0, two.output
    assert "2 of 3 keys signed" in two.output
    assert len(json.loads(ruleset.read_text())["signatures"]) == 2


def test_init_root_installs_once(tmp_path: Path, members) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    root = _root_file(tmp_path, members)
    first = runner.invoke(app, ["standards", "init-root", str(root)])
    assert first.exit_code == 0, first.output
    assert "installed root version 1 of committee yrd-committee" in first.output
    again = runner.invoke(app, ["standards", "init-root", str(root)])
    assert again.exit_code == 1
    assert "already has a root" in again.output


def test_init_root_refuses_a_root_below_its_own_threshold(tmp_path: Path, members) -> None:
    runner.invoke(app, ["db", "upgrade"])
    envelope = sign_envelope(make_envelope(root_payload([key for key, _ in members])), members[0][0])
    path = tmp_path / "weak-root.json"
    path.write_text(json.dumps(envelope))
    result = runner.invoke(app, ["standards", "init-root", str(path)])
    assert result.exit_code == 1
    assert "[1021]" in result.output


def test_diff_and_evaluate_offline(tmp_path: Path) -> None:
    old, new = tmp_path / "v1.json", tmp_path / "v2.json"
    old.write_text(json.dumps(default_ruleset_payload(1)))
    new.write_text(json.dumps(default_ruleset_payload(2)))
    diff = runner.invoke(app, ["standards", "diff", str(old), str(new)])
    assert diff.exit_code == 0
    assert "yrd-recognition" in diff.output
    block, project = tmp_path / "block.json", tmp_path / "project.json"
    block.write_text(
        json.dumps(
            json.loads((EXAMPLES / "credit-block/valid/kunshan-pv-399kw.json").read_text())["instance"]
        )
    )
    project.write_text(
        json.dumps(json.loads((EXAMPLES / "project/valid/kunshan-pv-399kw.json").read_text())["instance"])
    )
    result = runner.invoke(
        app,
        ["standards", "evaluate", str(block), "--ruleset", str(old), "--destination", "SH",
         "--purpose", "voluntary-neutralization", "--date", "2026-03-03", "--project", str(project)],
    )  # fmt: skip
    assert '"converted_quantity": 245' in result.output
