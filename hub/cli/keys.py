"""``puhui keys``: the hub's signing keys, and stand-alone key pairs for platforms and members."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import console, fail
from hub.keystore import KeyStore, KeyStoreError, write_private_file
from hub.settings import Settings
from schemas.jwk import Ed25519Key

app = typer.Typer(help="Ed25519 signing keys (JWK, kid = RFC 7638 thumbprint).", no_args_is_help=True)


def _store() -> KeyStore:
    return KeyStore(Settings().resolved_keys_dir)


@app.command("generate")
def generate(
    out: Annotated[
        Path | None,
        typer.Option(help="Write a stand-alone private JWK here (0600) instead of the hub's key store."),
    ] = None,
    activate: Annotated[bool, typer.Option(help="Make the new hub key the signing key.")] = True,
) -> None:
    """Generate a key: a new hub signing key (rotation), or a key pair file with --out."""
    try:
        if out is not None:
            key = Ed25519Key.generate()
            write_private_file(out, json.dumps(key.private_jwk(), indent=2))
            console.print(f"wrote private key {key.kid} to {out} (mode 0600); public JWK:")
            console.print_json(json.dumps(key.public_jwk()))
            return
        key = _store().generate(activate=activate)
    except (FileExistsError, KeyStoreError) as exc:
        fail(str(exc))
    console.print(f"generated hub key {key.kid}{' (active)' if activate else ''}")


@app.command("list")
def list_keys() -> None:
    """The hub's published keys; the active one first."""
    store = _store()
    try:
        active = store.active().kid
        for key in store.published():
            console.print(f"{key.kid}  {'active' if key.kid == active else 'published'}")
    except KeyStoreError as exc:
        fail(str(exc))


@app.command("activate")
def activate_key(kid: str) -> None:
    """Make an existing hub key the signing key."""
    try:
        _store().activate(kid)
    except KeyStoreError as exc:
        fail(str(exc))
    console.print(f"{kid} is now the active key")


@app.command("retire")
def retire_key(kid: str) -> None:
    """Stop publishing a hub key (signatures it made stop verifying against the hub's JWKS)."""
    try:
        _store().retire(kid)
    except KeyStoreError as exc:
        fail(str(exc))
    console.print(f"{kid} retired")
