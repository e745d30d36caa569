"""``puhui witness``: the logs this hub witnesses (c2sp.org/tlog-witness) and the alarms of split
views, on the hub's host. Federation administrators do the same through ``/v1/witness``; both go
through ``WitnessedLogs``, so every change is logged (the actor here: ``host:<user>``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from hub.cli.common import console, fail
from hub.cli.operators import _host_user
from hub.database import Database
from hub.problems import HubError
from hub.settings import Settings
from hub.witness.service import WitnessedLogs

app = typer.Typer(help="The logs this hub witnesses, and split-view alarms.", no_args_is_help=True)
T = TypeVar("T")


@contextmanager
def _logs() -> Iterator[WitnessedLogs]:
    settings = Settings()
    database = Database.from_url(settings.resolved_database_url)
    try:
        with database.unit_of_work() as session:
            yield WitnessedLogs(session)
    except HubError as error:
        fail(error.detail)
    finally:
        database.dispose()


def _run(action: Callable[[WitnessedLogs], T]) -> T:
    with _logs() as logs:
        return action(logs)
    raise AssertionError("unreachable: a refusal exits in _logs")


@app.command("add-log")
def add_log(
    origin: str,
    vkeys: Annotated[list[str], typer.Argument(help="The log's note keys (signed-note vkeys).")],
    url: Annotated[
        str | None, typer.Option(help="The log's hub base URL: its checkpoint and tiles are monitored there.")
    ] = None,
) -> None:
    """Witness ORIGIN, whose checkpoints are signed by VKEYS (replaces the keys of a known log)."""
    log = _run(lambda logs: logs.trust(origin, vkeys, _host_user(), base_url=url))
    keys = len([line for line in log.vkeys.split("\n") if line])
    console.print(f"witnessing {log.origin} ({keys} key(s))", highlight=False)


@app.command("list")
def listing() -> None:
    """Every witnessed log: whether active, its keys, where it is monitored."""
    table = Table("origin", "active", "vkeys", "base URL", "added by")
    with _logs() as logs:
        for log in logs.listing():
            table.add_row(
                log.origin, "yes" if log.active else "no", log.vkeys, log.base_url or "", log.added_by
            )
    console.print(table)


@app.command("remove")
def remove(origin: str) -> None:
    """Stop witnessing ORIGIN (its latest cosigned checkpoint is kept)."""
    _run(lambda logs: logs.remove(origin, _host_user()))
    console.print(f"no longer witnessing {origin}", highlight=False)


@app.command("alarms")
def alarms(
    everything: Annotated[bool, typer.Option("--all", help="Include acknowledged alarms.")] = False,
) -> None:
    """Evidence of split views this hub saw (open alarms unless --all)."""
    table = Table("id", "origin", "kind", "source", "reporter", "sizes", "received", "acknowledged by")
    with _logs() as logs:
        for found in logs.alarms(open_only=not everything):
            table.add_row(
                str(found.id),
                found.origin,
                found.kind,
                found.source,
                found.reporter,
                f"{found.stored_size} / {found.refused_size}",
                found.received_at.isoformat(timespec="seconds"),
                found.acknowledged_by or "",
            )
    console.print(table)


@app.command("acknowledge")
def acknowledge(alarm_id: int) -> None:
    """Acknowledge an alarm: its banner leaves the console (the evidence is kept)."""
    _run(lambda logs: logs.acknowledge(alarm_id, _host_user()))
    console.print(f"alarm {alarm_id} acknowledged", highlight=False)
