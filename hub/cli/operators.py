"""``puhui operators add``: console accounts for the people who review recognitions."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import console, fail
from hub.console.accounts import Accounts
from hub.database import Database
from hub.problems import HubError
from hub.settings import Settings

app = typer.Typer(help="Console accounts of operators.", no_args_is_help=True)


@app.command("add")
def add(
    username: str,
    region: Annotated[str, typer.Option(help="The operator's region (a platform code, e.g. SH).")],
) -> None:
    """Create an account; its password is printed once."""
    settings = Settings()
    database = Database.from_url(settings.resolved_database_url)
    try:
        with database.unit_of_work() as session:
            password = Accounts(session).add(username, region)
    except HubError as error:
        fail(error.detail)
    finally:
        database.dispose()
    console.print(f"operator {username} ({region}) — password, shown once: {password}", highlight=False)
