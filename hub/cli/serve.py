"""``puhui serve`` and ``puhui demo``: run the hub."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from hub.app import create_app
from hub.cli.common import console, fail
from hub.database import Database
from hub.demo.story import play_in_process
from hub.migrate import upgrade
from hub.seed import seed_demo
from hub.settings import Settings

demo_app = typer.Typer(help="The demo federation.", no_args_is_help=True)

HostOption = Annotated[str | None, typer.Option(help="Interface; default PUHUI_HOST (127.0.0.1).")]
PortOption = Annotated[int | None, typer.Option(help="Port; default PUHUI_PORT (8000).")]


def _settings(host: str | None, port: int | None, **extra: object) -> Settings:
    overrides = {k: v for k, v in {"host": host, "port": port, **extra}.items() if v is not None}
    return Settings(**overrides)  # type: ignore[arg-type]


def _announce(settings: Settings) -> None:
    base = settings.resolved_public_url
    console.print(f"[bold]Puhui Hub[/] serving on {base}", soft_wrap=True)
    console.print(f"  database   {settings.resolved_database_url}", highlight=False, soft_wrap=True)
    for label, path in [
        ("health", "/healthz"),
        ("ready", "/readyz"),
        ("API docs", "/docs"),
        ("OpenAPI", "/openapi.json"),
        ("schemas", "/v1/schemas"),
        ("platforms", "/v1/platforms"),
        ("hub keys", "/.well-known/jwks.json"),
    ]:
        console.print(f"  {label:<10} {base}{path}", highlight=False)


def serve(settings: Settings, app: FastAPI | None = None) -> None:
    """One process, or ``settings.processes`` uvicorn workers on the same port: each builds the hub
    from the environment (the settings given here are exported to it first), so each has its own
    database pool and background workers; nothing another process needs is kept in memory. One
    process may serve an ``app`` already built (the demo's, whose sandboxes played the story)."""
    if settings.processes > 1 and settings.demo:
        fail(
            "the demo's sandbox platforms keep their state in each process's memory: serve the demo"
            " with one process (the hub itself keeps nothing there; PUHUI_DEMO=0 for several)"
        )
    _announce(settings)
    if settings.processes == 1:
        app = app or create_app(settings)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
        return
    for name, value in settings.model_dump(exclude_none=True).items():
        os.environ[f"PUHUI_{name.upper()}"] = str(value)
    console.print(f"  processes  {settings.processes}", highlight=False)
    uvicorn.run(
        "hub.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.processes,
        log_level=settings.log_level,
    )


ProcessesOption = Annotated[
    int | None, typer.Option(help="Hub processes on the port; default PUHUI_PROCESSES (1).", min=1, max=64)
]


def serve_command(
    host: HostOption = None, port: PortOption = None, processes: ProcessesOption = None
) -> None:
    """Serve the hub (the database must be migrated: puhui db upgrade)."""
    serve(_settings(host, port, processes=processes))


@demo_app.command("seed")
def seed_command() -> None:
    """Register the demo federation and play its history if the database has no platform yet."""
    settings = _settings(None, None, demo=True)
    database = Database.from_url(settings.resolved_database_url)
    try:
        _seed(settings, create_app(settings, database))
    finally:
        database.dispose()


def _seed(settings: Settings, app: FastAPI) -> None:
    """Seed the demo federation into the app's database; when it was empty, play the demo's
    history through the app's public API (in process, before it is served)."""
    result = seed_demo(app.state.database, settings)
    if result.seeded:
        story = play_in_process(app, settings, result.credentials_dir)
        console.print(f"seeded demo federation: {', '.join(result.platforms)} (demonstration data)")
        console.print(f"  demo credentials: {result.credentials_dir}/<name>.json", highlight=False)
        records = ", ".join(f"{code} {count}" for code, count in result.ingested.items())
        console.print(f"  demo issuances ingested (records): {records}", highlight=False, soft_wrap=True)
        console.print("  demo history (hub/demo/story.py), through the public API:", highlight=False)
        for line in story.lines():
            console.print(f"    {line}", highlight=False, soft_wrap=True)
        console.print(
            "  recognitions JS -> SH and AH -> SH await operator-sh: GET /v1/recognitions", highlight=False
        )
        console.print(
            "  federation administrators admin-1, admin-2: onboarding, suspension; a key override needs both",
            highlight=False,
        )
        console.print(f"  console {settings.resolved_public_url}/console", highlight=False)
        for username, password in result.console_passwords.items():
            console.print(
                f"    {username} password (shown once): {password}"
                f" — also in {result.credentials_dir}/{username}.console.json",
                highlight=False,
                soft_wrap=True,
            )
    else:
        console.print(f"database already holds platforms {', '.join(result.platforms)}; not seeding")


@demo_app.command("up")
def up_command(host: HostOption = None, port: PortOption = None) -> None:
    """Migrate the database, seed the demo federation if empty, and serve (what `make run` does)."""
    settings = _settings(host, port, demo=True)
    upgrade(settings.resolved_database_url)
    app = create_app(settings)
    _seed(settings, app)
    serve(settings, app)
