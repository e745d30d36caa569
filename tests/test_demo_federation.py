"""`puhui demo federation` end to end, over real sockets: two hubs in one process, each with its own
database, peered and witnessing each other; the Jiangsu credit it asks for use in Guangdong is
approved by the GD operator, and its certificate — both hubs' signatures, both logs' proofs, each
checkpoint cosigned by the other hub — verifies offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from hub.cli.main import app as cli
from hub.client import HubClientError, PlatformClient
from tests.demo_hub import free_port
from transparency.proof import parse_proof


@contextmanager
def federation(data_dir: Path, ports: tuple[int, int]) -> Iterator[list[str]]:
    env = {**os.environ, "PUHUI_DATA_DIR": str(data_dir)}
    args = ["demo", "federation", "--port", str(ports[0]), "--second-port", str(ports[1])]
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", *args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait(lambda: any("federation ready" in line for line in lines), 120, lambda: "".join(lines))
        yield lines
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait(done: Callable[[], Any], seconds: float, why: Callable[[], str] = str) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = done()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {seconds} s: {why()}"
        time.sleep(0.5)


def test_two_hubs_federate_and_a_cross_hub_certificate_verifies_offline(tmp_path: Path) -> None:
    yrd_port, gd_port = free_port(), free_port()
    yrd, gd = f"http://127.0.0.1:{yrd_port}", f"http://127.0.0.1:{gd_port}"
    with federation(tmp_path, (yrd_port, gd_port)) as output:
        text = "".join(output)
        assert "YRD (admin-1) registered gd.puhui.demo/log" in text
        assert "GD (admin-gd) registered yrd.puhui.demo/log" in text
        assert (tmp_path / "yrd" / "hub.sqlite3").exists() and (tmp_path / "gd" / "hub.sqlite3").exists()
        credentials = {name: tmp_path / name / "demo" / "credentials" for name in ("yrd", "gd")}
        with (
            PlatformClient.from_credentials(credentials["gd"] / "operator-gd.json") as operator,
            PlatformClient.from_credentials(credentials["yrd"] / "js.json") as js,
        ):
            (pending,) = wait(lambda: operator.get("/v1/recognitions", status_filter="pending_review"), 60)
            assert pending["origin"] == "JS"
            operator.post(
                f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "demo"}
            )
            path = f"/v1/recognitions/{pending['id']}/certificate"
            answer = wait(lambda: _countersigned(js, path), 60)
            args = ["certificates", "verify", str(tmp_path / "certificate.json")]
            (tmp_path / "certificate.json").write_text(json.dumps(answer))
            for name, base, reader in (("yrd", yrd, js), ("gd", gd, operator)):
                proof = wait(lambda r=reader: _witnessed_proof(r, f"{path}/proof"), 60)
                (tmp_path / f"{name}.tlog-proof").write_bytes(proof)
                (tmp_path / f"{name}.jwks").write_text(httpx.get(f"{base}/.well-known/jwks.json").text)
                (tmp_path / f"{name}.policy").write_text(httpx.get(f"{base}/log/policy").text)
                args += [
                    "--jwks",
                    str(tmp_path / f"{name}.jwks"),
                    "--proof",
                    str(tmp_path / f"{name}.tlog-proof"),
                ]
                args += ["--policy", str(tmp_path / f"{name}.policy")]
    result = CliRunner().invoke(cli, args)  # the hubs are stopped: offline
    assert result.exit_code == 0, result.output
    assert "included in yrd.puhui.demo/log" in result.output
    assert "(witnesses: gd.puhui.demo/witness)" in result.output
    assert "included in gd.puhui.demo/log" in result.output
    assert "(witnesses: yrd.puhui.demo/witness)" in result.output


def _countersigned(js: PlatformClient, path: str) -> dict[str, Any] | None:
    try:
        answer: dict[str, Any] = js.get(path)
    except Exception:
        return None
    return answer if len(answer.get("signatures", [])) == 2 else None


def _witnessed_proof(reader: PlatformClient, path: str) -> bytes | None:
    """The proof once a checkpoint covers the entry and the peer hub cosigned it."""
    try:
        response = reader.request("GET", path)
    except HubClientError:  # 409 7014: no checkpoint covers it yet
        return None
    proof = parse_proof(response.content)
    return response.content if len(proof.checkpoint.signatures) >= 2 else None
