"""``puhui platform-check``: the conformance kit of the platform API, run against a platform's own
server (docs/platform-api.md). Prints each requirement PASS, FAIL or N/A with what was seen;
exits 1 when any failed, 2 when the run could not start."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.platform_check import FAIL, CheckSetupError, Credentials, run_checks
from hub.cli.common import console, fail, read_json

STYLE = {"PASS": "green", "FAIL": "bold red", "N/A": "dim"}


def platform_check(
    base_url: Annotated[str, typer.Option("--base-url", help="The platform API's address.")],
    credentials: Annotated[
        str,
        typer.Option("--credentials", help="JSON file: headers, a test block, optionally an import block."),
    ],
    region: Annotated[
        str | None, typer.Option("--region", help="The region whose layout the server keeps (e.g. JS).")
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Names what the run creates (random by default).")
    ] = None,
) -> None:
    """Check a platform's server against the platform API, requirement by requirement."""
    try:
        given = Credentials.from_json(read_json(credentials))
        results = run_checks(base_url, given, region=region, run_id=run_id)
    except CheckSetupError as exc:
        fail(str(exc), code=2)
    for result in results:
        console.print(
            f"[{STYLE[result.outcome]}]{result.outcome:<4}[/] {result.requirement}  {result.title}",
            highlight=False,
        )
        console.print(f"      seen: {result.seen}", highlight=False, markup=False)
    failed = [result.requirement for result in results if result.outcome == FAIL]
    if failed:
        fail(f"{len(failed)} requirement(s) failed: {', '.join(failed)}")
    console.print(f"every applicable requirement passed ({len(results)} checked)", highlight=False)
