"""Entry point of the ``puhui`` command."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from hub.cli import (
    adapters_cmd,
    audit,
    certificates,
    db,
    envelope,
    keys,
    log_cmd,
    operators,
    peers,
    platform_check,
    platforms,
    schemas_cmd,
    serve,
    standards_cmd,
    witness,
    work,
)

app = typer.Typer(
    help="Puhui Hub: the federation hub for carbon-inclusion (碳普惠) platforms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve_command)
app.command("work")(work.work_command)
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(schemas_cmd.app, name="schemas")
app.add_typer(envelope.app, name="envelope")
app.add_typer(serve.demo_app, name="demo")
app.add_typer(platforms.platforms_app, name="platforms")
app.add_typer(platforms.clients_app, name="clients")
app.add_typer(standards_cmd.app, name="standards")
app.add_typer(audit.app, name="audit")
app.add_typer(log_cmd.app, name="log")
app.add_typer(certificates.app, name="certificates")
app.add_typer(operators.app, name="operators")
app.add_typer(peers.app, name="peers")
app.add_typer(adapters_cmd.app, name="adapters")
app.add_typer(witness.app, name="witness")
app.command("import")(adapters_cmd.import_file)
app.command("sync")(adapters_cmd.sync_command)
app.command("platform-check")(platform_check.platform_check)


def main() -> None:
    """``puhui``: the commands, and a configuration the hub cannot run with said in one line per
    setting (its environment variable, why), exit status 2, instead of a traceback."""
    try:
        app()
    except ValidationError as invalid:
        if invalid.title != "Settings":
            raise
        for error in invalid.errors():
            name = ".".join(str(part) for part in error["loc"])
            print(f"puhui: PUHUI_{name.upper()}={error.get('input')!r}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
