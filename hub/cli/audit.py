"""``puhui audit verify --hub URL``: audit a hub's log from what it publishes, not its database."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from hub.cli.common import console, errors, fail
from schemas.jwk import JWKError, JWKSet
from transparency.audit import AuditReport, Entry, Head, audit_log

app = typer.Typer(help="Audit a hub's transparency log.", no_args_is_help=True)
PAGE = 1000


def _get(client: httpx.Client, path: str, **params: Any) -> Any:
    try:
        response = client.get(path, params=params)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        fail(f"cannot fetch {path}: {exc}")


def _entries(client: httpx.Client, size: int) -> Iterator[Entry]:
    for start in range(0, size, PAGE):
        for item in _get(client, "/v1/log/entries", start=start, end=min(size, start + PAGE)):
            yield Entry(int(item["index"]), base64.b64decode(item["entry_b64"]), item.get("leaf_hash"))


def _heads(client: httpx.Client) -> list[Head]:
    heads: list[Head] = []
    after = -1
    while True:
        page = _get(client, "/v1/log/tree-heads", after=after, limit=PAGE)
        heads += [Head(h["tree_size"], h["root_hash"], h["timestamp"], h["signature"]) for h in page]
        if len(page) < PAGE:
            return heads
        after = page[-1]["tree_size"]


def run_audit(
    client: httpx.Client, keys: JWKSet | None = None, previous: dict[str, Any] | None = None
) -> tuple[AuditReport, dict[str, Any]]:
    """Fetch and audit the whole log of the hub ``client`` talks to; the report and current head."""
    if keys is None:
        try:
            keys = JWKSet.from_dict(_get(client, "/.well-known/jwks.json"))
        except (ValueError, JWKError) as exc:
            fail(f"no usable JWK Set: {exc}")
    current = _get(client, "/v1/log/tree-head")
    heads = _heads(client)
    if not any(head.tree_size == current["tree_size"] for head in heads):
        heads.append(
            Head(current["tree_size"], current["root_hash"], current["timestamp"], current["signature"])
        )

    def consistency(first: int, second: int) -> list[bytes]:
        proof = _get(client, "/v1/log/proofs/consistency", first=first, second=second)
        return [bytes.fromhex(value) for value in proof["consistency_path"]]

    report = audit_log(_entries(client, current["tree_size"]), heads, keys, consistency, previous)
    return report, current


@app.command("verify")
def verify(
    hub: Annotated[str, typer.Option(help="The hub's base URL, e.g. http://127.0.0.1:8000.")],
    jwks: Annotated[str | None, typer.Option(help="The hub's JWK Set (file); default: fetched.")] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="Remember the verified head here; check consistency with it next time."),
    ] = None,
) -> None:
    """Recompute every leaf and root, check every signed head and the consistency between heads."""
    keys = None
    if jwks:
        try:
            keys = JWKSet.from_dict(json.loads(Path(jwks).read_text()))
        except (OSError, ValueError, JWKError) as exc:
            fail(f"no usable JWK Set in {jwks}: {exc}")
    previous = json.loads(state.read_text()) if state and state.exists() else None
    with httpx.Client(base_url=hub.rstrip("/"), timeout=30.0) as client:
        report, current = run_audit(client, keys, previous)
    for finding in report.findings:
        errors.print(f"FAIL {finding}", highlight=False)
    if not report.ok:
        fail(f"the log does not verify: {len(report.findings)} finding(s)")
    if state is not None:
        state.write_text(json.dumps({"tree_size": current["tree_size"], "root_hash": current["root_hash"]}))
    console.print(
        f"log verified: {report.entries} entries, {report.heads} signed head(s), "
        f"size {current['tree_size']}, root {current['root_hash']}",
        highlight=False,
    )
