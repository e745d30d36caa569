"""``puhui certificates verify``: check a recognition certificate offline."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hub.cli.common import console, fail, fetch_json, read_bytes
from hub.recognition.certificates import certificate_digest
from schemas.jwk import JWKError, JWKSet
from schemas.jws import JWSError, verify_record

app = typer.Typer(help="Recognition certificates.", no_args_is_help=True)


@app.command("verify")
def verify(
    file: Annotated[str, typer.Argument(help="The certificate: its JWS, or the JSON the hub answers.")],
    jwks: Annotated[str, typer.Option(help="The hub's JWK Set: a file or a URL.")],
) -> None:
    """Verify the hub's signature over the canonical certificate; print what it certifies and the
    digest to find in the log entry at its log_index."""
    text = read_bytes(file).decode("utf-8", errors="replace").strip()
    token = json.loads(text)["jws"] if text.startswith("{") else text
    try:
        keys = JWKSet.from_dict(fetch_json(jwks))
        verified = verify_record(token, keys)
    except (JWKError, AttributeError) as exc:
        fail(f"{jwks} is not a usable JWK Set: {exc}")
    except JWSError as exc:
        fail(f"[{exc.code}] {exc.message}")
    certificate = verified.json()
    console.print(
        f"valid certificate {certificate['certificate_id']} signed by {verified.kid}", highlight=False
    )
    c = certificate
    ruleset = f"{c['ruleset']['ruleset_id']} v{c['ruleset']['version']}"
    moved = (
        f"{c['quantity']} t {c['origin_registry']} -> {c['converted_quantity']} t {c['destination_registry']}"
    )
    approvers = ", ".join(c["approved_by"])
    console.print(
        f"  {moved} for {c['purpose']}; ruleset {ruleset}; approved by {approvers}",
        highlight=False,
        soft_wrap=True,
    )
    digest = certificate_digest(c)
    console.print(f"  log entry {c.get('log_index')} holds certificate_digest {digest}", highlight=False)
