"""``puhui db``: migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import console
from hub.migrate import current_revision, head_revision, upgrade
from hub.settings import Settings

app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL; default PUHUI_DATABASE_URL or the SQLite file."),
]


@app.command("upgrade")
def upgrade_command(url: UrlOption = None, revision: str = "head") -> None:
    """Migrate the database to the newest revision."""
    target = url or Settings().resolved_database_url
    upgrade(target, revision)
    console.print(f"database at revision {current_revision(target)}")


@app.command("current")
def current_command(url: UrlOption = None) -> None:
    """Show the database's revision and the newest one."""
    target = url or Settings().resolved_database_url
    console.print(f"current: {current_revision(target)}  head: {head_revision()}")
