"""`puhui demo up` (what `make run` does) in a child process on a free port and a fresh data
directory: for the tests that talk to a real hub over a socket (the tour, the browser tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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


@dataclass
class Served:
    process: subprocess.Popen[str]
    output: str = ""  # what it printed, once stopped


def _always(_: subprocess.Popen[str]) -> bool:
    return True


@contextmanager
def serving(
    args: list[str],
    env: dict[str, str],
    base: str,
    *,
    timeout: float = 60,
    ready: Callable[[subprocess.Popen[str]], bool] = _always,
) -> Iterator[Served]:
    """`puhui ARGS` in a child process, once it answers on /healthz (and `ready(process)`); on exit
    it is stopped (killed if it will not stop) and what it printed kept in `.output`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready(process) and httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the hub exited before answering"
            assert time.monotonic() < deadline, f"no answer on /healthz within {timeout} s"
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        try:
            served.output = process.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            served.output = process.communicate(timeout=10)[0]


@contextmanager
def running_demo(data_dir: Path, *, timeout: float = 60) -> Iterator[DemoHub]:
    """Serve a freshly seeded demo hub; on exit stop it and keep what it printed in `.output`."""
    port = free_port()
    env = {**os.environ, "PUHUI_PORT": str(port), "PUHUI_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("PUHUI_DATABASE_URL", None)
    hub = DemoHub(f"http://127.0.0.1:{port}", data_dir, env)
    with serving(["demo", "up"], env, hub.base, timeout=timeout) as served:
        yield hub
    hub.output.append(served.output)
