"""``puhui audit verify --hub URL``: audit a hub's log from what it publishes, not its database —
its JWS tree heads and entries, or (``--tiles URL --vkey VKEY``) its C2SP checkpoint and tiles alone."""

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
from transparency.checkpoint import Checkpoint
from transparency.note import NoteError, Verifier, open_note, parse_note, parse_vkey
from transparency.policy import Policy, PolicyError, check_checkpoint, parse_policy
from transparency.tile_audit import TileAuditReport, audit_tiles, event_entry_check
from transparency.tiles import WIDTH, Tile, parse_entry_bundle

app = typer.Typer(help="Audit a hub's transparency log.", no_args_is_help=True)
ENTRY_TOO_LARGE = "7013"  # the bundle's entries are read from /v1/log/entries
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
    hub: Annotated[
        str | None, typer.Option(help="The hub's base URL, e.g. http://127.0.0.1:8000 (JWS tree heads).")
    ] = None,
    jwks: Annotated[str | None, typer.Option(help="The hub's JWK Set (file); default: fetched.")] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="Remember the verified head here; check consistency with it next time."),
    ] = None,
    tiles: Annotated[
        str | None,
        typer.Option(
            help="Audit from tiles alone: the log's tlog-tiles prefix, e.g. http://127.0.0.1:8000/log."
        ),
    ] = None,
    vkey: Annotated[
        list[str] | None, typer.Option(help="With --tiles: the log's note verifier key (repeatable).")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="With --tiles: a tlog-policy file (log keys, witness quorum).")
    ] = None,
) -> None:
    """Recompute every leaf and root, check every signed head and the consistency between heads;
    with --tiles, check the signed checkpoint and every tile and entry bundle of its tree."""
    if tiles is not None:
        verify_tiles(tiles, vkey or [], policy)
        return
    if hub is None:
        fail("give --hub (the JWS tree heads) or --tiles (the C2SP checkpoint and tiles)")
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
        errors.print(f"FAIL {finding}", highlight=False, soft_wrap=True)
    if not report.ok:
        fail(f"the log does not verify: {len(report.findings)} finding(s)")
    if state is not None:
        state.write_text(json.dumps({"tree_size": current["tree_size"], "root_hash": current["root_hash"]}))
    console.print(
        f"log verified: {report.entries} entries, {report.heads} signed head(s), "
        f"size {current['tree_size']}, root {current['root_hash']}",
        highlight=False,
    )


def _problem_code(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return str(code) if code is not None else None


def _answer(client: httpx.Client, path: str) -> httpx.Response:
    try:
        return client.get(path)
    except httpx.HTTPError as exc:
        raise OSError(f"cannot fetch {path}: {exc}") from exc


def _fetch(client: httpx.Client, path: str) -> bytes:
    response = _answer(client, path)
    if response.status_code != 200:
        code = _problem_code(response)
        raise OSError(f"{path} answered {response.status_code}" + (f" [{code}]" if code else ""))
    return response.content


def checkpoint_problems(note: str, verifiers: list[Verifier], policy: Policy | None) -> list[str]:
    """What is wrong with the served checkpoint: a signature by a given vkey, the policy's quorum."""
    problems: list[str] = []
    try:
        checkpoint = Checkpoint.parse(parse_note(note).text)
    except NoteError as exc:
        return [f"checkpoint: {exc}"]
    if verifiers:
        try:
            opened = open_note(note, verifiers)
        except NoteError as exc:
            problems.append(f"checkpoint: {exc}")
        else:
            if checkpoint.origin not in opened.names():
                problems.append(
                    f"checkpoint: no signature by a key named after its origin {checkpoint.origin}"
                )
    if policy is not None:
        problems += [f"checkpoint: {problem}" for problem in check_checkpoint(note, policy).problems]
    return problems


def run_tile_audit(
    client: httpx.Client,
    verifiers: list[Verifier],
    policy: Policy | None = None,
    *,
    prefix: str = "/log",
    entries_prefix: str = "",
) -> tuple[TileAuditReport, Checkpoint | None]:
    """Audit the log at ``prefix`` from its checkpoint and tiles alone. An entry bundle the log
    cannot serve (an entry over 65535 bytes, 7013) is read from ``/v1/log/entries`` instead (its
    entries are still checked against the level-0 tile)."""
    try:
        note = _fetch(client, f"{prefix}/checkpoint").decode("utf-8", errors="replace")
    except OSError as exc:
        return TileAuditReport(0, findings=[f"checkpoint: {exc}"]), None
    problems = checkpoint_problems(note, verifiers, policy)
    if problems:
        return TileAuditReport(0, findings=problems), None
    checkpoint = Checkpoint.parse(parse_note(note).text)

    def fetch_tile(tile: Tile) -> bytes:
        return _fetch(client, f"{prefix}/{tile.path()}")

    def fetch_bundle(tile: Tile) -> list[bytes]:
        response = _answer(client, f"{prefix}/{tile.path()}")
        if response.status_code == 404 and _problem_code(response) == ENTRY_TOO_LARGE:
            return _entries_beside(tile)
        if response.status_code != 200:
            raise OSError(f"{tile.path()} answered {response.status_code}")
        return parse_entry_bundle(response.content)

    def _entries_beside(tile: Tile) -> list[bytes]:
        """A bundle's entries from ``/v1/log/entries`` (checked against the level-0 tile all the same)."""
        first = tile.index * WIDTH
        response = _answer(client, f"{entries_prefix}/v1/log/entries?start={first}&end={first + tile.width}")
        try:
            response.raise_for_status()
            return [base64.b64decode(item["entry_b64"]) for item in response.json()]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise OSError(f"entries {first}..{first + tile.width - 1}: {exc}") from exc

    return audit_tiles(checkpoint, fetch_tile, fetch_bundle, event_entry_check), checkpoint


def _verifiers(vkeys: list[str]) -> list[Verifier]:
    try:
        return [parse_vkey(vkey) for vkey in vkeys]
    except NoteError as exc:
        fail(f"--vkey: {exc}")


def _policy(path: Path | None) -> Policy | None:
    if path is None:
        return None
    try:
        return parse_policy(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, PolicyError) as exc:
        fail(f"--policy {path}: {exc}")


def verify_tiles(tiles: str, vkeys: list[str], policy_file: Path | None) -> None:
    """Audit the log whose tlog-tiles prefix is ``tiles`` (e.g. ``http://127.0.0.1:8000/log``);
    the hub's ``/v1/log/entries`` (for bundles an oversized entry keeps out) is found beside it."""
    verifiers, policy = _verifiers(vkeys), _policy(policy_file)
    if not verifiers and policy is None:
        fail("auditing from tiles needs the log's --vkey or a --policy naming it")
    url = httpx.URL(tiles.rstrip("/"))
    prefix = url.path.rstrip("/")
    base = str(url.copy_with(path="/", query=None, fragment=None)).rstrip("/")
    with httpx.Client(base_url=base, timeout=30.0) as client:
        report, checkpoint = run_tile_audit(
            client, verifiers, policy, prefix=prefix, entries_prefix=prefix.removesuffix("/log")
        )
    for finding in report.findings:
        errors.print(f"FAIL {finding}", highlight=False, soft_wrap=True)
    if not report.ok or checkpoint is None:
        fail(f"the log does not verify: {len(report.findings)} finding(s)")
    console.print(
        f"log verified from tiles: {report.entries} entries, {report.tiles} tiles, checkpoint "
        f"{checkpoint.origin} size {checkpoint.size}, root {checkpoint.root_hash.hex()}",
        highlight=False,
    )
