"""The conformance kit: every requirement passes against every region's sandbox, and a sandbox with
one behaviour broken on purpose (a public option of the sandbox) fails, naming the requirement."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.platform_check import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    REQUIREMENTS,
    CheckSetupError,
    Credentials,
    run_checks,
)
from adapters.registry import available
from adapters.sandbox import BREAKABLE, create_sandbox
from hub.cli.main import app as cli
from tests.demo_hub import free_port


def credentials_of(app: FastAPI, code: str) -> dict[str, Any]:
    """What a platform team would write: a held block of a test account (none in a format that
    carries no credit blocks)."""
    held = [block for block in app.state.sandbox.blocks.values() if block["status"] == "held"]
    fields = ("block_id", "serial_start", "serial_end", "quantity")
    return {"region": code, **({"block": {name: held[0][name] for name in fields}} if held else {})}


def check(code: str, broken: tuple[str, ...] = ()) -> dict[str, str]:
    app = create_sandbox(code, broken=broken)
    given = Credentials.from_json(credentials_of(app, code))
    with TestClient(app) as client:
        results = run_checks("http://sandbox", given, transport=client._transport)
    if given.block is not None and "unlock" not in broken:  # the test block is left as it was found
        assert app.state.sandbox.blocks[given.block["block_id"]]["status"] == "held"
    assert [result.requirement for result in results] == list(REQUIREMENTS)
    return {result.requirement: result.outcome for result in results}


@pytest.mark.parametrize("code", sorted(available()))
def test_every_sandbox_passes(code: str) -> None:
    outcomes = check(code)
    assert FAIL not in outcomes.values()
    if code == "ZJ":  # personal points: no credit blocks to lock, credit or finalize
        assert {r for r, o in outcomes.items() if o == NOT_APPLICABLE} == {"R1", "R2", "R4", "R5", "R8"}
    else:
        assert set(outcomes.values()) == {PASS}


# (behaviour broken on purpose, the requirement that must fail because of it)
BROKEN = [
    pytest.param("lock-idempotency", "R2", id="lock-not-idempotent"),
    pytest.param("credit-idempotency", "R5", id="credit-not-idempotent"),
    pytest.param("unlock", "R4", id="unlock-frees-nothing"),
    pytest.param("unknown-block", "R3", id="unknown-block-locked"),
    pytest.param("refusal-body", "R9", id="refusal-without-reason"),
    pytest.param("lock-batch", "R6", id="batch-not-answered-per-item"),
    pytest.param("notice-idempotency", "R7", id="notice-not-idempotent"),
    pytest.param("finalize", "R8", id="export-not-finalized"),
]


def test_every_breakable_behaviour_has_a_row() -> None:
    assert {param.values[0] for param in BROKEN} == set(BREAKABLE)


@pytest.mark.parametrize(("broken", "requirement"), BROKEN)
def test_a_sandbox_broken_on_purpose_fails_naming_the_requirement(broken: str, requirement: str) -> None:
    outcomes = check("JS", (broken,))
    assert outcomes[requirement] == FAIL
    assert outcomes["R1"] == PASS  # the rest of the platform still works


def test_only_the_broken_requirement_fails_when_it_stands_alone() -> None:
    outcomes = check("SH", ("lock-idempotency",))
    assert [r for r, o in outcomes.items() if o == FAIL] == ["R2"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        pytest.param([], "JSON object", id="not-an-object"),
        pytest.param({"region": "JS", "token": "x"}, "unknown member", id="unknown-member"),
        pytest.param({"region": "JS"}, "need a test block", id="no-test-block"),
        pytest.param(
            {"region": "JS", "block": {"block_id": "B", "serial_start": "1"}}, "block needs", id="bad-block"
        ),
        pytest.param({"block": None}, "which region", id="no-region"),
        pytest.param({"region": "XX"}, "no adapter", id="unknown-region"),
        pytest.param({"region": "JS", "headers": {"A": 1}}, "headers", id="bad-headers"),
    ],
)
def test_a_run_that_cannot_start_says_why(given: Any, message: str) -> None:
    with pytest.raises(CheckSetupError, match=message):
        run_checks("http://sandbox", Credentials.from_json(given))


@pytest.fixture
def served() -> Iterator[tuple[str, FastAPI]]:
    """A sandbox broken on purpose, served on a socket as a platform's server would be."""
    app = create_sandbox("JS", broken=("lock-idempotency",))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/_sandbox/state", timeout=1.0)
            break
        except httpx.HTTPError:
            time.sleep(0.02)
    yield base, app
    server.should_exit = True
    thread.join(timeout=5)


def test_the_command_prints_each_requirement_and_exits_1_naming_the_failure(
    served: tuple[str, FastAPI], tmp_path: Path
) -> None:
    base, app = served
    file = tmp_path / "credentials.json"
    file.write_text(json.dumps({**credentials_of(app, "JS"), "headers": {"Authorization": "Bearer test"}}))
    result = CliRunner().invoke(cli, ["platform-check", "--base-url", base, "--credentials", str(file)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("FAIL R2") for line in lines)
    assert sum(line.startswith("PASS") for line in lines) == len(REQUIREMENTS) - 1
    assert "1 requirement(s) failed: R2" in result.output.replace("\n", " ")
    assert app.state.sandbox.blocks[credentials_of(app, "JS")["block"]["block_id"]]["status"] == "held"


def test_the_command_exits_2_when_it_cannot_start(tmp_path: Path) -> None:
    file = tmp_path / "credentials.json"
    file.write_text(json.dumps({"region": "JS"}))
    result = CliRunner().invoke(
        cli, ["platform-check", "--base-url", "http://127.0.0.1:9", "--credentials", str(file)]
    )
    assert result.exit_code == 2


def test_a_platform_without_batch_routes_passes_and_a_failed_batch_leaves_the_block_held() -> None:
    app = create_sandbox("JS")
    with TestClient(app) as client:
        sandbox = client._transport

        def no_batches(request: httpx.Request) -> httpx.Response:
            if "/batch/" in request.url.path:
                return httpx.Response(404, json={"error": "no such route"})
            return sandbox.handle_request(request)

        given = Credentials.from_json(credentials_of(app, "JS"))
        results = run_checks("http://sandbox", given, transport=httpx.MockTransport(no_batches))
    outcomes = {result.requirement: result for result in results}
    assert outcomes["R6"].outcome == PASS
    assert "falls back to single calls" in outcomes["R6"].seen
    assert {result.outcome for result in results} == {PASS}

    broken = create_sandbox("JS", broken=("lock-batch",))
    given = Credentials.from_json(credentials_of(broken, "JS"))
    with TestClient(broken) as client:
        assert {
            r.requirement
            for r in run_checks("http://sandbox", given, transport=client._transport)
            if r.outcome == FAIL
        } == {"R6"}
    assert broken.state.sandbox.blocks[given.block["block_id"]]["status"] == "held"
