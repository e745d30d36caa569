"""``puhui adapters list``, ``puhui import`` (platform side) and ``puhui sync`` (hub side)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TransferSpeedColumn

from adapters.contract import ParseResult
from adapters.registry import UnknownAdapter, available, get
from hub.cli.common import console, errors, fail
from hub.client import HubClientError, PlatformClient
from hub.registry.federation_key import pseudonymizer
from hub.settings import Settings

app = typer.Typer(help="Region adapters.", no_args_is_help=True)
EXCHANGE_FORM = "application/vnd.puhui.records+json"
LINE_FORMATS = ("text/csv", "application/x-ndjson", "application/jsonl")


@app.command("list")
def list_adapters() -> None:
    """Every registered adapter with its format, media types and units."""
    for code, adapter in available().items():
        units = adapter.units
        points = (
            f"1 point = {units.grams_per_point} g" if units.points_convertible else "points not convertible"
        )
        console.print(f"[bold]{code:<5}[/] {adapter.name} ({adapter.name_zh})", highlight=False)
        console.print(f"      format: {adapter.format}", highlight=False, soft_wrap=True)
        console.print(f"      media types: {', '.join(adapter.media_types)}", highlight=False)
        console.print(
            f"      credits: {units.credit_unit or '-'}; personal: {units.personal_unit or '-'}; {points}",
            highlight=False,
            soft_wrap=True,
        )


def chunks(path: Path, media_type: str, lines_per_chunk: int) -> Iterator[tuple[bytes, int]]:
    """The file in pieces each adapter can parse alone (with the bytes read so far): line formats
    by lines (a CSV chunk repeats the header), others whole. Memory stays flat for line formats."""
    if not media_type.startswith(LINE_FORMATS):
        data = path.read_bytes()
        yield data, len(data)
        return
    is_csv = media_type.startswith("text/csv")
    with path.open("rb") as handle:
        header = handle.readline() if is_csv else b""
        read = len(header)
        buffer: list[bytes] = []
        for line in handle:
            read += len(line)
            if line.strip():
                buffer.append(line)
            if len(buffer) >= lines_per_chunk:
                yield header + b"".join(buffer), read
                buffer = []
        if buffer:
            yield header + b"".join(buffer), read


def _refuse(result: ParseResult, part: int) -> None:
    for error in result.errors:
        errors.print(
            f"part {part}: {error.record} / {error.field}: [{error.code}] {error.reason}", highlight=False
        )
    fail(f"part {part} refused by the adapter; nothing of it was sent")


def import_file(
    code: Annotated[str, typer.Argument(help="The platform's registry code, e.g. JS.")],
    file: Annotated[Path, typer.Argument(help="A payload in the platform's own format.")],
    credentials: Annotated[Path, typer.Option(help="The platform's credentials file.")],
    hub: Annotated[str | None, typer.Option(help="The hub's URL; default: the credentials' issuer.")] = None,
    media_type: Annotated[str | None, typer.Option(help="Default: the adapter's first media type.")] = None,
    lines: Annotated[int, typer.Option(help="Records per request for line formats.")] = 5000,
    federation_key: Annotated[Path | None, typer.Option(help="Default: PUHUI_FEDERATION_KEY_FILE.")] = None,
) -> None:
    """Parse a local file on the platform's side (identifiers are pseudonymized here) and send the
    exchange records to the hub; each request is stored all or nothing."""
    try:
        adapter = get(code)
    except UnknownAdapter as exc:
        fail(str(exc))
    media = media_type or adapter.media_types[0]
    key_file = federation_key or Settings().resolved_federation_key_file
    pseudonyms = pseudonymizer(key_file)
    total = file.stat().st_size
    stored = {"blocks": 0, "tonnes": 0, "personal_batches": 0, "grams": 0, "projects": 0}
    columns = (TextColumn("{task.description}"), BarColumn(), TransferSpeedColumn())
    with (
        PlatformClient.from_credentials(credentials, base_url=hub) as client,
        Progress(*columns, console=console) as bar,
    ):
        task = bar.add_task(f"{code} {file.name}", total=total)
        for part, (payload, read) in enumerate(chunks(file, media, lines), start=1):
            result = adapter.parse(payload, content_type=media, pseudonymizer=pseudonyms)
            if not result.ok:
                _refuse(result, part)
            body = {
                "projects": list(result.projects),
                "blocks": list(result.blocks),
                "batches": list(result.batches),
            }
            try:
                report = client.request(
                    "POST",
                    f"/v1/platforms/{code}/batches",
                    content=json.dumps(body, ensure_ascii=False).encode(),
                    content_type=EXCHANGE_FORM,
                ).json()
            except HubClientError as exc:
                fail(f"part {part} refused by the hub: {exc}")
            for name in stored:
                stored[name] += report[name]
            bar.update(task, completed=read)
    console.print(
        f"stored {stored['blocks']} blocks ({stored['tonnes']} t), {stored['projects']} projects, "
        f"{stored['personal_batches']} personal batches ({stored['grams']} g)",
        highlight=False,
    )


def sync_command(code: Annotated[str, typer.Argument(help="The platform's registry code.")]) -> None:
    """Hub side: fetch the platform's new issuances through its adapter and ingest them."""
    from hub.database import Database
    from hub.problems import HubError
    from hub.registry.sync import sync_platform

    settings = Settings()
    database = Database.from_url(settings.resolved_database_url)
    try:
        reports, cursor = sync_platform(database, settings, code)
    except HubError as error:
        for item in error.errors:
            errors.print(
                f"{item.get('record')} / {item.get('field')}: [{item['code']}] {item['detail']}",
                highlight=False,
            )
        fail(f"{error.detail} [{error.code}]")
    except (UnknownAdapter, OSError) as exc:
        fail(str(exc))
    finally:
        database.dispose()
    if not reports:
        console.print(f"{code}: nothing new (cursor {cursor})")
    else:
        blocks, tonnes = sum(r.blocks for r in reports), sum(r.tonnes for r in reports)
        people = sum(r.personal_batches for r in reports)
        console.print(
            f"{code}: stored {blocks} blocks ({tonnes} t), {people} personal batches; cursor {cursor}"
        )
