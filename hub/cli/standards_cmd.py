"""``puhui standards``: committee members sign offline; operators install the first root."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli.common import console, fail, read_json
from hub.database import Database
from hub.keystore import KeyStoreError, read_private_key
from hub.problems import HubError
from hub.settings import Settings
from hub.standards.service import StandardsService
from standards import (
    CommitteeRoot,
    ProjectFacts,
    StandardsError,
    check_ruleset_signatures,
    evaluate,
    make_envelope,
    render_diff,
    sign_envelope,
)

app = typer.Typer(help="Committee roots and threshold-signed rulesets.", no_args_is_help=True)


def _envelope(path: str) -> dict[str, Any]:
    document = read_json(path)
    if not isinstance(document, dict):
        fail(f"{path} is not a JSON object")
    return document if "signed" in document else make_envelope(document)


def _payload(path: str) -> Any:
    document = read_json(path)
    return document.get("signed", document) if isinstance(document, dict) else document


@app.command("sign")
def sign(
    file: Annotated[str, typer.Argument(help="A ruleset or root: its envelope, or the bare payload.")],
    key: Annotated[Path, typer.Option(help="The member's private JWK or credentials file (0600).")],
    out: Annotated[Path | None, typer.Option(help="Write here; default: replace FILE.")] = None,
) -> None:
    """Add this member's signature (a detached JWS over the canonical payload) to the envelope."""
    try:
        member = read_private_key(key)
        signed = sign_envelope(_envelope(file), member)
    except (KeyStoreError, StandardsError) as exc:
        fail(str(exc))
    target = out or Path(file)
    target.write_text(json.dumps(signed, indent=2, ensure_ascii=False) + "\n", "utf-8")
    console.print(f"signed by {member.kid}; {len(signed['signatures'])} signature(s) in {target}")


@app.command("verify")
def verify(
    file: Annotated[str, typer.Argument(help="A signed ruleset envelope.")],
    root: Annotated[str, typer.Option(help="The committee root (envelope or payload) to check against.")],
) -> None:
    """Offline: which members signed, against the root's rulesets threshold."""
    try:
        trusted = CommitteeRoot.from_payload(_payload(root))
        result = check_ruleset_signatures(_envelope(file), trusted)
    except StandardsError as exc:
        fail(str(exc))
    console.print(result.summary(), highlight=False)
    if not result.verified:
        raise typer.Exit(1)


@app.command("init-root")
def init_root(file: Annotated[str, typer.Argument(help="The committee's first root, self-signed.")]) -> None:
    """Install a committee's first root of trust in the hub's database (operators, on the host)."""
    settings = Settings()
    database = Database.from_url(settings.resolved_database_url)
    try:
        with database.unit_of_work() as session:
            installed = StandardsService(session).install_root(
                _envelope(file), by="operator-cli", received=Path(file).read_text("utf-8")
            )
    except HubError as error:
        fail(f"{error.detail} [{error.code}]")
    finally:
        database.dispose()
    console.print(f"installed root version {installed.version} of committee {installed.committee_id}")


@app.command("diff")
def diff(old: str, new: str) -> None:
    """What changed between two ruleset versions (files), readable."""
    try:
        console.print(render_diff(_payload(old), _payload(new)), highlight=False, soft_wrap=True)
    except StandardsError as exc:
        fail(str(exc))


@app.command("evaluate")
def evaluate_command(
    block: Annotated[str, typer.Argument(help="A credit-block record (JSON).")],
    ruleset: Annotated[str, typer.Option(help="The ruleset (envelope or payload).")],
    destination: Annotated[str, typer.Option(help="Destination registry, e.g. SH.")],
    purpose: Annotated[str, typer.Option(help="ets-compliance, voluntary-neutralization, …")],
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD; default today.")] = None,
    project: Annotated[str | None, typer.Option(help="The block's project record (JSON).")] = None,
) -> None:
    """Offline: what a ruleset says about a block (converted quantity, remainder, every condition)."""
    try:
        decision = evaluate(
            read_json(block),
            destination=destination,
            purpose=purpose,
            on_date=date.fromisoformat(on) if on else date.today(),
            ruleset=_payload(ruleset),
            project=ProjectFacts.from_project(read_json(project)) if project else None,
        )
    except (StandardsError, ValueError) as exc:
        fail(str(exc))
    console.print_json(json.dumps(decision.as_record(), ensure_ascii=False))
    if not decision.eligible:
        raise typer.Exit(1)
