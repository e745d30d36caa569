"""`puhui demo up` (what `make run` does) in a child process on a free port and a fresh data
directory: for the tests that talk to a real hub over a socket (the tour, the browser tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DemoHub:
    base: str
    data_dir: Path
    env: dict[str, str]
    output: list[str] = field(default_factory=list)

    @property
    def credentials(self) -> Path:
        return self.data_dir / "demo" / "credentials"


@contextmanager
def running_demo(data_dir: Path, *, timeout: float = 60) -> Iterator[DemoHub]:
    """Serve a freshly seeded demo hub; on exit stop it and keep what it printed in `.output`."""
    port = free_port()
    env = {**os.environ, "PUHUI_PORT": str(port), "PUHUI_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("PUHUI_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", "demo", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    hub = DemoHub(f"http://127.0.0.1:{port}", data_dir, env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{hub.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the hub exited before answering"
            assert time.monotonic() < deadline, f"no answer on /healthz within {timeout} s"
            time.sleep(0.2)
        yield hub
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
        hub.output.append(output)
