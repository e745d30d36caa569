"""A demo hub served as `make run` serves it, the system Chromium driven by Playwright (headless,
launched by executable path), and a folder for each page's screenshot (the test artifacts)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import chromium_path
from tests.demo_hub import DemoHub, running_demo

ARTIFACTS = Path(os.environ.get("PUHUI_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
# The flags a root user's headless Chromium needs on a machine with no outside network.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHub]:
    with running_demo(tmp_path_factory.mktemp("browser-hub")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, chromium_sandbox=False, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """test-artifacts/console/<test name>/: the screenshots of one test."""
    folder = ARTIFACTS / "console" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def console_password(hub: DemoHub, username: str) -> str:
    password: str = json.loads((hub.credentials / f"{username}.console.json").read_text("utf-8"))["password"]
    return password
