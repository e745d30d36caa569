"""`puhui serve --processes 2`: two hub processes on one port and one database (uvicorn workers),
answering alike: the same keys, the same data, tokens issued by one accepted by the other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from hub.client import PlatformClient
from tests.demo_hub import free_port, serving


def _puhui(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "hub.cli.main", *args], env=env, check=True, capture_output=True)


def test_two_processes_serve_one_hub(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PUHUI_DATA_DIR": str(tmp_path / "data"), "PUHUI_PORT": str(port)}
    env.pop("PUHUI_DATABASE_URL", None)
    env.pop("PUHUI_DEMO", None)
    _puhui(env, "db", "upgrade")
    _puhui(env, "demo", "seed")  # the demo's platforms and credentials, served below without sandboxes
    base = f"http://127.0.0.1:{port}"

    def two_children(server: subprocess.Popen[str]) -> bool:
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
        return len(children.stdout.split()) >= 2

    with serving(["serve", "--processes", "2"], env, base, timeout=120, ready=two_children) as served:
        credentials = json.loads((tmp_path / "data" / "demo" / "credentials" / "js.json").read_text())
        keys = {json.dumps(httpx.get(f"{base}/.well-known/jwks.json").json()) for _ in range(10)}
        assert len(keys) == 1  # one signing key, whichever process answers
        with PlatformClient.from_credentials(credentials, base_url=base) as jiangsu:
            token = jiangsu.access_token()  # private_key_jwt: client_secret_basic is a demo-mode thing
        answers = [
            httpx.get(f"{base}/v1/platforms", headers={"Authorization": f"Bearer {token}"}) for _ in range(10)
        ]
        assert {answer.status_code for answer in answers} == {200}
        assert {len(answer.json()) for answer in answers} == {5}
    assert "processes  2" in served.output


def test_the_demo_is_served_by_one_process(tmp_path: Path) -> None:
    env = {**os.environ, "PUHUI_DATA_DIR": str(tmp_path / "data"), "PUHUI_DEMO": "1"}
    env.pop("PUHUI_DATABASE_URL", None)
    refused = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "serve", "--processes", "2"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "serve the demo with one process" in refused.stdout + refused.stderr
