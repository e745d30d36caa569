"""``puhui serve`` and ``puhui demo``: run the hub."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from hub.app import create_app
from hub.cli.common import console, fail
from hub.database import Database
from hub.demo.hubs import federate, prepare, serve_together
from hub.demo.story import play_in_process
from hub.demo.traffic import run_traffic
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
    if not settings.webhook_worker:
        console.print("  workers    none in this process (run them: puhui work)", highlight=False)
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


WorkersOption = Annotated[
    bool | None,
    typer.Option(
        "--workers/--no-workers",
        help="Run the background workers in the served processes; default PUHUI_WEBHOOK_WORKER (on)."
        " Off: run them with puhui work.",
    ),
]


def serve_command(
    host: HostOption = None,
    port: PortOption = None,
    processes: ProcessesOption = None,
    workers: WorkersOption = None,
) -> None:
    """Serve the hub (the database must be migrated: puhui db upgrade)."""
    serve(_settings(host, port, processes=processes, webhook_worker=workers))


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


@demo_app.command("federation")
def federation_command(
    host: HostOption = None,
    port: PortOption = None,
    second_port: Annotated[int, typer.Option(help="The GD hub's port.", min=1, max=65535)] = 8001,
    gd_database: Annotated[
        str | None, typer.Option(help="The GD hub's database URL; default SQLite under PUHUI_DATA_DIR/gd.")
    ] = None,
) -> None:
    """Two hubs that federate, on loopback: the YRD demo hub and a Guangdong hub, each with its own
    database and keys, peered (each witnesses the other's log), and a Jiangsu credit asked for use
    in Guangdong, awaiting the GD operator (hub/demo/hubs.py)."""
    base = _settings(host, port)
    if second_port == base.port:
        fail("the two hubs need two ports (--port, --second-port)")
    yrd, gd = prepare(base, base.port, second_port, gd_database, _seed)
    for hub in (yrd, gd):
        console.print(f"[bold]{hub.name} hub[/] {hub.url}  origin {hub.settings.log_origin}", soft_wrap=True)
        console.print(f"  database   {hub.settings.resolved_database_url}", highlight=False, soft_wrap=True)
        console.print(f"  console    {hub.url}/console", highlight=False)
        console.print(f"  checkpoint {hub.url}/log/checkpoint", highlight=False, soft_wrap=True)
        console.print(f"  policy     {hub.url}/log/policy", highlight=False, soft_wrap=True)
        console.print(f"  credentials {hub.credentials}", highlight=False, soft_wrap=True)

    def after_start() -> None:
        try:
            lines = federate(yrd, gd)
        except Exception as exc:
            console.print(f"[red]federating the two hubs failed:[/] {exc}", soft_wrap=True)
            return
        for line in lines:
            console.print(f"  {line}", highlight=False, soft_wrap=True)
        console.print(
            f"  it awaits operator-gd: {gd.url}/console"
            f" (password in {gd.credentials}/operator-gd.console.json)",
            highlight=False,
            soft_wrap=True,
        )
        console.print("federation ready", highlight=False)

    asyncio.run(serve_together([yrd, gd], base.host, base.log_level, after_start))


def parse_duration(text: str) -> float:
    """``60s``, ``2m``, ``1h`` or a plain number of seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    value = text.strip().lower()
    scale = units.get(value[-1:])
    number = value[:-1] if scale else value
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration (e.g. 60s, 2m)") from None
    if not 0 < seconds <= 24 * 3600:
        raise typer.BadParameter("a duration between 0 and 24 h")
    return seconds


RateOption = Annotated[
    float,
    typer.Option(help="At most this many requests per second, all clients together.", min=0.1, max=1000),
]
HubOption = Annotated[
    str | None, typer.Option(help="The hub's base URL; default PUHUI_PUBLIC_URL or http://host:port.")
]
CredentialsOption = Annotated[
    Path | None, typer.Option(help="The demo credentials; default PUHUI_DATA_DIR/demo/credentials.")
]


@demo_app.command("traffic")
def traffic_command(
    rate: RateOption = 5,
    duration: Annotated[str, typer.Option("--for", help="How long: 60s, 2m, 1h.")] = "60s",
    seed: Annotated[int, typer.Option(help="Seed of the choices (the same seed, the same choices).")] = 1,
    hub: HubOption = None,
    credentials: CredentialsOption = None,
    verbose: Annotated[bool, typer.Option(help="Print each refusal as it comes.")] = False,
) -> None:
    """The demo platforms at work against a running demo hub: issuances, transfers, retirements,
    recognitions (decided by the operators), pledges, trips — each platform with its own credentials."""
    settings = _settings(None, None, demo=True)
    seconds = parse_duration(duration)
    directory = credentials or settings.data_dir / "demo" / "credentials"
    if not (directory / "js.json").exists():
        fail(f"no demo credentials in {directory}: start the demo first (make run)")
    base = (hub or settings.resolved_public_url).rstrip("/")
    console.print(f"demo traffic against {base}: at most {rate:g} requests/s for {seconds:g} s, seed {seed}")
    summary = run_traffic(
        directory,
        rate=rate,
        seconds=seconds,
        seed=seed,
        base_url=base,
        federation_key=settings.resolved_federation_key_file,
        verbose=verbose,
    )
    for line in summary.lines():
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    if not summary.ok:
        raise typer.Exit(1)
