"""``puhui schemas``: list, show and validate exchange records offline."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hub.cli.common import console, errors, fail, read_json
from schemas import catalog, validate

app = typer.Typer(help="The exchange schema (JSON Schema 2020-12).", no_args_is_help=True)


@app.command("list")
def list_schemas() -> None:
    """Name, version and $id of every schema document."""
    for info in catalog().index():
        console.print(f"{info.name:<26} {info.version}  {info.id}", highlight=False)


@app.command("show")
def show(name: str) -> None:
    """Print a schema document."""
    if name not in catalog():
        fail(f"no exchange schema {name!r}; see 'puhui schemas list'")
    console.print_json(json.dumps(catalog().document(name), ensure_ascii=False))


@app.command("validate")
def validate_file(
    name: Annotated[str, typer.Argument(help="Schema name, e.g. credit-block.")],
    file: Annotated[str, typer.Argument(help="JSON file holding the record ('-' for stdin).")],
) -> None:
    """Validate a record; every failure is printed with its JSON pointer and check code."""
    if name not in catalog():
        fail(f"no exchange schema {name!r}; see 'puhui schemas list'")
    issues = validate(name, read_json(file))
    if not issues:
        console.print(f"valid {name} record")
        return
    for issue in issues:
        errors.print(f"{issue.pointer or '/'}  [{issue.code}]  {issue.detail}", highlight=False)
    fail(f"{len(issues)} issue(s): not a valid {name} record")
