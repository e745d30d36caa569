"""``puhui operators``: console accounts for the people who review recognitions, on the hub's host.
Federation administrators do the same through ``/v1/operators``; both go through
``OperatorService``, so every change is logged (the actor here: ``host:<user>``)."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from hub.cli.common import console, fail
from hub.database import Database
from hub.operators.service import OperatorService
from hub.problems import HubError
from hub.settings import Settings

app = typer.Typer(help="Console accounts of operators.", no_args_is_help=True)
T = TypeVar("T")


def _host_user() -> str:
    """Who ran the command, as the log's actor (``host:<login>``)."""
    try:
        return f"host:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in this environment
        return "host:unknown"


@contextmanager
def _accounts() -> Iterator[OperatorService]:
    settings = Settings()
    database = Database.from_url(settings.resolved_database_url)
    try:
        with database.unit_of_work() as session:
            yield OperatorService(session)
    except HubError as error:
        fail(error.detail)
    finally:
        database.dispose()


def _run(action: Callable[[OperatorService], T]) -> T:
    with _accounts() as accounts:
        return action(accounts)
    raise AssertionError("unreachable: a refusal exits in _accounts")


@app.command("add")
def add(
    username: str,
    region: Annotated[str, typer.Option(help="The operator's region (a platform code, e.g. SH).")],
) -> None:
    """Create an account; its password is printed once."""
    _, password = _run(lambda accounts: accounts.add(username, region, actor=_host_user()))
    console.print(f"operator {username} ({region}) — password, shown once: {password}", highlight=False)


@app.command("list")
def listing() -> None:
    """Every account: region, whether it is locked, when it was created."""
    table = Table("operator", "region", "locked until", "created")
    with _accounts() as accounts:
        for account in accounts.listing():
            locked = account.locked_until.isoformat(timespec="seconds") if account.locked_until else ""
            table.add_row(account.username, account.region, locked, account.created_at.date().isoformat())
    console.print(table)


@app.command("reset-password")
def reset_password(username: str) -> None:
    """A new password (printed once); unlocks the account and ends its sessions."""
    _, password = _run(lambda accounts: accounts.reset_password(username, actor=_host_user()))
    console.print(f"operator {username} — new password, shown once: {password}", highlight=False)


@app.command("remove")
def remove(username: str) -> None:
    """Delete an account and end its sessions."""
    _run(lambda accounts: accounts.remove(username, actor=_host_user()))
    console.print(f"operator {username} removed", highlight=False)
