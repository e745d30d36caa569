"""What the meta routes answer, typed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub.records import Public


class Links(Public):
    health: str
    ready: str
    schemas: str
    platforms: str
    jwks: str
    openapi: str
    docs: str


class HubIndex(Public):
    service: Literal["puhui-hub"]
    version: str
    links: Links


class Health(Public):
    status: Literal["ok"]


class Readiness(Public):
    status: Literal["ready"]
    database: str = Field(description="The database's dialect: sqlite or postgresql.")


class SchemaInfoPublic(Public):
    name: str
    version: str
    schema_id: str = Field(alias="$id", description="The document's $id.")
    title: str


class RecordValid(Public):
    valid: Literal[True]
    schema_id: str = Field(alias="schema", description="The $id of the schema the record conforms to.")
