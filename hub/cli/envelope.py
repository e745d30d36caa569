"""``puhui envelope``: sign and verify JWS envelopes offline (platforms, committees, auditors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import console, fail, fetch_json, read_bytes, read_json
from hub.keystore import KeyStoreError, read_private_key
from schemas.canonical import CanonicalizationError, canonicalize
from schemas.jwk import JWKError, JWKSet
from schemas.jws import JWSError, sign_compact, sign_detached, verify_compact, verify_detached

app = typer.Typer(help="JWS envelopes (EdDSA/Ed25519) over canonical JSON.", no_args_is_help=True)


@app.command("sign")
def sign(
    file: Annotated[str, typer.Argument(help="The document to sign ('-' for stdin).")],
    key: Annotated[Path, typer.Option(help="Private JWK file (mode 0600).")],
    detached: Annotated[bool, typer.Option(help="Detached form header..signature.")] = False,
    raw: Annotated[bool, typer.Option(help="Sign the bytes as they are, not canonical JSON.")] = False,
    typ: Annotated[str | None, typer.Option(help="JWS typ header.")] = None,
) -> None:
    """Sign a JSON document over its RFC 8785 canonical bytes; print the compact JWS."""
    try:
        signer = read_private_key(key)
    except KeyStoreError as exc:
        fail(str(exc))
    try:
        payload = read_bytes(file) if raw else canonicalize(read_json(file))
    except CanonicalizationError as exc:
        fail(f"{file} has no canonical JSON form: {exc}")
    token = (sign_detached if detached else sign_compact)(payload, signer, typ=typ)
    typer.echo(token)


@app.command("verify")
def verify(
    jws: Annotated[str, typer.Argument(help="File holding the compact JWS ('-' for stdin).")],
    jwks: Annotated[str, typer.Option(help="JWK Set: a file, or a URL such as HUB/.well-known/jwks.json.")],
    payload: Annotated[
        str | None, typer.Option(help="The payload of a detached JWS (JSON is canonicalized).")
    ] = None,
    raw: Annotated[bool, typer.Option(help="Take --payload bytes as they are.")] = False,
) -> None:
    """Verify a JWS against a JWK Set; exit 1 with the check code when it does not verify."""
    token = read_bytes(jws).decode("ascii", errors="replace").strip()
    try:
        keys = JWKSet.from_dict(fetch_json(jwks))
    except (JWKError, AttributeError) as exc:
        fail(f"{jwks} is not a usable JWK Set: {exc}")
    try:
        if payload is None:
            verified = verify_compact(token, keys)
        else:
            body = read_bytes(payload) if raw else canonicalize(read_json(payload))
            verified = verify_detached(token, body, keys)
    except JWSError as exc:
        fail(f"[{exc.code}] {exc.message}")
    except CanonicalizationError as exc:
        fail(f"the payload has no canonical JSON form: {exc}")
    console.print(f"valid signature by key {verified.kid} (alg {verified.header['alg']})")
    try:
        console.print_json(json.dumps(json.loads(verified.payload), ensure_ascii=False))
    except ValueError:
        console.print(f"payload: {len(verified.payload)} bytes (not JSON)")
