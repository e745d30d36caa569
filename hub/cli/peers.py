"""``puhui peers``: the hubs this hub is peered with, managed on the hub's host (federation
administrators do the same through ``/v1/peers``); both go through ``PeerService``, so every change
is logged (the actor here: ``host:<user>``). ``puhui peers identity`` prints this hub's own identity,
the document the other hub's administrator registers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from hub.cli.common import console, fail
from hub.cli.operators import _host_user
from hub.database import Database
from hub.identity import identity
from hub.keystore import KeyStore
from hub.peering.client import PeerCallFailed, fetch_identity
from hub.peering.models import HubPeer
from hub.peering.repository import PeerRepository
from hub.peering.service import PeerService
from hub.problems import HubError
from hub.settings import Settings

app = typer.Typer(help="Peered hubs: other hubs' origins, keys and registries.", no_args_is_help=True)
T = TypeVar("T")


@contextmanager
def _service() -> Iterator[PeerService]:
    settings = Settings()
    database = Database.from_url(settings.resolved_database_url)
    try:
        with database.unit_of_work() as session:
            yield PeerService(session, settings.log_origin)
    except HubError as error:
        details = "; ".join(f"{e.get('pointer')}: {e.get('detail')}" for e in error.errors)
        fail(
            f"{error.detail}"
            + (f" ({details})" if details else "")
            + (f" [{error.code}]" if error.code else "")
        )
    finally:
        database.dispose()


def _run(action: Callable[[PeerService], T]) -> T:
    with _service() as service:
        return action(service)
    raise AssertionError("unreachable: a refusal exits in _service")


def _document(from_url: str | None, from_file: Path | None) -> dict[str, Any]:
    if from_url:
        try:
            return fetch_identity(from_url)
        except PeerCallFailed as exc:
            fail(str(exc))
    if from_file:
        try:
            document = json.loads(from_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"cannot read {from_file}: {exc}")
        if isinstance(document, dict):
            return document
        fail(f"{from_file} is not a JSON object")
    return {}


@app.command("add")
def add(
    from_url: Annotated[str | None, typer.Option(help="Fetch the identity from the hub at this URL.")] = None,
    from_file: Annotated[Path | None, typer.Option(help="A saved GET /v1/hub document.")] = None,
    origin: Annotated[str | None, typer.Option(help="The peer's log origin.")] = None,
    base_url: Annotated[str | None, typer.Option(help="The peer's base URL.")] = None,
    registry: Annotated[list[str] | None, typer.Option(help="A registry it serves (repeat).")] = None,
) -> None:
    """Register a peer: its identity (``--from-url`` or ``--from-file``), options overriding it."""
    document = _document(from_url, from_file)
    if origin:
        document["origin"] = origin
    if base_url:
        document["base_url"] = base_url
    if registry:
        document["registries"] = registry
    missing = [
        k
        for k in ("origin", "base_url", "jwks", "log_vkeys", "witness_vkeys", "registries")
        if k not in document
    ]
    if missing:
        fail(f"the peer's identity lacks {', '.join(missing)} (use --from-url or --from-file)")
    peer = _run(
        lambda service: service.register(
            origin=str(document["origin"]),
            base_url=str(document["base_url"]),
            jwks=document["jwks"],
            log_vkeys=list(document["log_vkeys"]),
            witness_vkeys=list(document["witness_vkeys"]),
            registries=list(document["registries"]),
            actor=_host_user(),
        )
    )
    console.print(f"peered with {peer.origin} ({', '.join(peer.registries)}): {peer.id}", highlight=False)


def _lines(peers: list[HubPeer]) -> list[str]:
    """One line per peer, never truncated (origins and URLs are copied from here)."""
    return [
        f"{peer.origin}  {peer.status}  {peer.base_url}  serves {' '.join(peer.registries)}  id {peer.id}"
        f"  registered {peer.registered_at.date().isoformat()} by {peer.registered_by}"
        for peer in peers
    ] or ["no peers"]


@app.command("list")
def listing() -> None:
    """Every registered peer."""
    with _service() as service:
        for line in _lines(list(PeerRepository(service.session).listing())):
            console.print(line, highlight=False, soft_wrap=True)


@app.command("remove")
def remove(origin: str) -> None:
    """Remove the peering with ``origin`` (its keys are kept for audit)."""
    _run(lambda service: service.remove(service.by_origin(origin).id, actor=_host_user()))
    console.print(f"removed the peering with {origin}", highlight=False)


@app.command("suspend")
def suspend(origin: str) -> None:
    """Suspend the peering with ``origin``: its requests are refused until reactivated."""
    _run(lambda service: service.suspend(service.by_origin(origin).id, actor=_host_user()))
    console.print(f"suspended the peering with {origin}", highlight=False)


@app.command("reactivate")
def reactivate(origin: str) -> None:
    """Reactivate the suspended peering with ``origin``."""
    _run(lambda service: service.reactivate(service.by_origin(origin).id, actor=_host_user()))
    console.print(f"reactivated the peering with {origin}", highlight=False)


@app.command("identity")
def show_identity() -> None:
    """This hub's identity as JSON: what the other hub's administrator registers."""
    settings = Settings()
    database = Database.from_url(settings.resolved_database_url)
    try:
        with database.unit_of_work() as session:
            registries = PeerRepository(session).local_registries()
    finally:
        database.dispose()
    document = identity(settings, KeyStore(settings.resolved_keys_dir), registries).as_dict()
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
