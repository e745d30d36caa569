"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import httpx
import typer
from rich.console import Console

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def read_bytes(source: str) -> bytes:
    """The bytes of a file, or of standard input for ``-``."""
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror}")


def read_json(source: str) -> Any:
    try:
        return json.loads(read_bytes(source))
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"{source} is not JSON: {exc}")


def fetch_json(location: str) -> Any:
    """JSON from an http(s) URL or a local file."""
    if location.startswith(("http://", "https://")):
        try:
            response = httpx.get(location, timeout=10.0, follow_redirects=True)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            fail(f"cannot fetch {location}: {exc}")
    return read_json(location)
