"""``puhui platforms`` and ``puhui clients``: onboarding, run on the hub's host against its database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hub.auth.scopes import ClientKind
from hub.auth.service import ClientService
from hub.cli.common import console, fail
from hub.database import Database
from hub.keystore import write_private_file
from hub.platforms.models import PlatformCreate, PlatformKind, PlatformStatus
from hub.platforms.service import PlatformService
from hub.problems import HubError
from hub.settings import Settings
from schemas.jws import SIGNING_ALGORITHM

platforms_app = typer.Typer(help="The federation's platforms.", no_args_is_help=True)
clients_app = typer.Typer(
    help="OAuth clients of platforms, operators, committees and administrators.", no_args_is_help=True
)


def _database(settings: Settings) -> Database:
    return Database.from_url(settings.resolved_database_url)


def _report(error: HubError) -> None:
    details = "; ".join(f"{e.get('pointer') or e.get('parameter')}: {e['detail']}" for e in error.errors)
    fail(
        f"{error.detail}" + (f" ({details})" if details else "") + (f" [{error.code}]" if error.code else "")
    )


@platforms_app.command("add")
def add(
    code: str,
    name: Annotated[str, typer.Option(help="English name.")],
    name_zh: Annotated[str, typer.Option(help="Chinese name.")],
    region: Annotated[str, typer.Option(help="ISO 3166-2 code, e.g. CN-GD; CN for national.")],
    api_base_url: Annotated[str, typer.Option(help="The platform's API base URL.")],
    kind: Annotated[
        PlatformKind, typer.Option(help="provincial, municipal, national.")
    ] = PlatformKind.PROVINCIAL,
    webhook_url: Annotated[str | None, typer.Option(help="Where events are delivered.")] = None,
    grams_per_point: Annotated[
        int | None, typer.Option(help="Grams per personal point, if convertible.")
    ] = None,
    jwks: Annotated[Path | None, typer.Option(help="JWK Set file with the platform's public keys.")] = None,
) -> None:
    """Register a platform."""
    settings = Settings()
    database = _database(settings)
    keys = json.loads(jwks.read_text("utf-8")) if jwks else {"keys": []}
    try:
        with database.unit_of_work() as session:
            PlatformService(session).register(
                PlatformCreate(
                    code=code,
                    name=name,
                    name_zh=name_zh,
                    region=region,
                    kind=kind,
                    api_base_url=api_base_url,
                    webhook_url=webhook_url,
                    grams_per_point=grams_per_point,
                    jwks=keys,
                ),
                actor="operator-cli",
            )
    except HubError as error:
        _report(error)
    finally:
        database.dispose()
    console.print(f"registered platform {code}")


@platforms_app.command("list")
def list_platforms() -> None:
    """Code, status, region and name of every platform."""
    settings = Settings()
    database = _database(settings)
    with database.unit_of_work() as session:
        for platform in PlatformService(session).list():
            keys = len(platform.jwks.get("keys", []))
            line = f"{platform.code:<6} {platform.status!s:<10} {platform.region:<6} {keys} key(s)"
            console.print(f"{line}  {platform.name}", highlight=False, soft_wrap=True)
    database.dispose()


def _set_status(code: str, status: PlatformStatus) -> None:
    settings = Settings()
    database = _database(settings)
    try:
        with database.unit_of_work() as session:
            PlatformService(session).set_status(code, status, actor="operator-cli")
    except HubError as error:
        _report(error)
    finally:
        database.dispose()
    console.print(f"platform {code} is {status}")


@platforms_app.command("suspend")
def suspend(code: str) -> None:
    """Suspend a platform: its clients' tokens stop working at once."""
    _set_status(code, PlatformStatus.SUSPENDED)


@platforms_app.command("reactivate")
def reactivate(code: str) -> None:
    """Reactivate a suspended platform."""
    _set_status(code, PlatformStatus.ACTIVE)


@clients_app.command("create")
def create(
    kind: Annotated[
        ClientKind, typer.Option(help="platform, operator, committee or admin (federation administrator).")
    ],
    name: Annotated[str, typer.Option(help="Who the client is.")],
    platform: Annotated[str | None, typer.Option(help="The platform code (platform clients).")] = None,
    region: Annotated[str | None, typer.Option(help="The operator's region (a platform code).")] = None,
    client_id: Annotated[str | None, typer.Option(help="Default: generated.")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="Scopes; default: all of the kind's.")] = None,
    secret: Annotated[bool, typer.Option(help="Also issue a client_secret (client_secret_basic).")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the credentials here (0600), not to stdout.")
    ] = None,
) -> None:
    """Create an OAuth client and print its credentials once (private key, optional secret)."""
    settings = Settings()
    database = _database(settings)
    try:
        with database.unit_of_work() as session:
            credentials = ClientService(session, settings).create(
                kind=kind,
                name=name,
                client_id=client_id,
                platform=platform,
                region=region,
                scopes=scope,
                with_secret=secret,
                actor="operator-cli",
            )
    except HubError as error:
        _report(error)
    finally:
        database.dispose()
    if out is not None:
        write_private_file(out, credentials.to_json())
        console.print(f"client {credentials.client_id}: credentials written to {out} (mode 0600)")
    else:
        typer.echo(credentials.to_json())
        console.print("store these now: the private key and secret are not kept by the hub", style="yellow")


@clients_app.command("assertion")
def assertion(
    credentials: Annotated[
        Path, typer.Option(help="A credentials file (client_id, private_jwk, token_endpoint).")
    ],
    lifetime: Annotated[int, typer.Option(help="Seconds until the assertion expires.")] = 300,
) -> None:
    """Print a private_key_jwt client assertion (RFC 7523), e.g. for a token request with curl."""
    from authlib.oauth2.rfc7523 import private_key_jwt_sign
    from joserfc.jwk import OKPKey

    try:
        data = json.loads(credentials.read_text("utf-8"))
        key = OKPKey.import_key(data["private_jwk"])
        token = private_key_jwt_sign(
            key,
            client_id=data["client_id"],
            token_endpoint=data["token_endpoint"],
            alg=SIGNING_ALGORITHM,
            header={"kid": data["private_jwk"]["kid"]},
            expires_in=lifetime,
        )
    except (OSError, ValueError, KeyError) as exc:
        fail(f"cannot make an assertion from {credentials}: {exc}")
    typer.echo(token if isinstance(token, str) else token.decode())
