"""Health, readiness, exchange-schema index and documents, the hub's JWKS."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from hub import __version__
from hub.deps import DatabaseDep, KeyStoreDep, SettingsDep
from hub.meta.public import Health, HubIndex, Links, Readiness, RecordValid, SchemaInfoPublic
from hub.problems import NotFound, SchemaViolation, Unavailable
from hub.records import MARKER, SCHEMA_DOCUMENT, typed_content
from schemas import catalog, validate

router = APIRouter(tags=["meta"])

SCHEMA_MEDIA_TYPE = "application/schema+json"


class SchemaDocumentResponse(JSONResponse):
    """A JSON Schema document, documented (and sent) as ``application/schema+json``."""

    media_type = SCHEMA_MEDIA_TYPE


class JWKSetResponse(JSONResponse):
    """A JWK Set (RFC 7517 section 8.5), documented (and sent) as ``application/jwk-set+json``."""

    media_type = "application/jwk-set+json"


@router.get("/", summary="Entry points of this hub")
def index(settings: SettingsDep) -> HubIndex:
    base = settings.resolved_public_url
    links = Links(
        health=f"{base}/healthz",
        ready=f"{base}/readyz",
        schemas=f"{base}/v1/schemas",
        platforms=f"{base}/v1/platforms",
        jwks=f"{base}/.well-known/jwks.json",
        openapi=f"{base}/openapi.json",
        docs=f"{base}/docs",
    )
    return HubIndex(service="puhui-hub", version=__version__, links=links)


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="Readiness: the database answers")
def readyz(database: DatabaseDep) -> Readiness:
    try:
        database.ping()
    except Exception as exc:
        raise Unavailable(f"database unreachable: {type(exc).__name__}") from exc
    return Readiness(status="ready", database=database.engine.dialect.name)


@router.get("/v1/schemas", summary="Index of the exchange schema documents")
def list_schemas() -> list[SchemaInfoPublic]:
    return [SchemaInfoPublic.model_validate(info.as_dict()) for info in catalog().index()]


def _known(name: str) -> str:
    if name not in catalog():
        raise NotFound(f"no exchange schema {name!r}", code="1003")
    return name


@router.get(
    "/v1/schemas/{name}",
    summary="One exchange schema document (JSON Schema 2020-12)",
    response_class=SchemaDocumentResponse,
    responses={200: {"content": {SCHEMA_MEDIA_TYPE: {"schema": {MARKER: SCHEMA_DOCUMENT}}}}},
)
def get_schema(name: str) -> SchemaDocumentResponse:
    return SchemaDocumentResponse(catalog().document(_known(name)))


@router.post(
    "/v1/schemas/{name}/validate",
    summary="Validate a record against an exchange schema (dry run; stores nothing)",
)
def validate_record(name: str, record: Annotated[Any, Body()]) -> RecordValid:
    issues = validate(_known(name), record)
    if issues:
        raise SchemaViolation(
            f"{len(issues)} member(s) of the {name} record failed validation",
            code=issues[0].code if len({i.code for i in issues}) == 1 else "1002",
            errors=issues,
        )
    return RecordValid.model_validate({"valid": True, "schema": catalog().info(name).id})


@router.get(
    "/.well-known/jwks.json",
    summary="The hub's public signing keys (RFC 7517 JWK Set)",
    response_class=JWKSetResponse,
    responses=typed_content(JWKSetResponse.media_type, "common", "jwks"),
)
def jwks(keystore: KeyStoreDep) -> JWKSetResponse:
    return JWKSetResponse(keystore.jwks())
