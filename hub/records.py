"""Exchange records in the OpenAPI document: an answer member that *is* an exchange record is typed
by the record's own JSON Schema (``schemas/v1/*.json``) published as an OpenAPI component, not by a
second, hand-written copy of it.

``Annotated[dict[str, Any], record_schema("recognition-certificate")]`` types such a member: a JSON
object at run time (the record exactly as stored and signed), a ``$ref`` to
``#/components/schemas/RecognitionCertificate`` in the document. ``exchange_components`` turns the
catalogue into those components: each document's root under its title-cased name, each ``$defs``
entry under ``<Document><Definition>``, every ``$ref`` rewritten to point at them (OpenAPI 3.1
schemas are JSON Schema 2020-12, so the rest is taken as it is).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, WithJsonSchema

from schemas.canonical import MAX_SAFE_INTEGER
from schemas.catalog import SchemaCatalog, catalog

COMPONENT_PREFIX = "#/components/schemas/"
# what a typed member says until the document is finished (pydantic resolves every "$ref" it meets
# against its own definitions, so the reference is written by ``point_at_records``)
MARKER = "x-puhui-exchange-record"


def _bounded(node: Any) -> None:
    """Every integer of an answer is at most 2^53 - 1 (exact in every JSON implementation), and
    the document says so: a ``maximum`` on each integer schema that has none."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("maximum", MAX_SAFE_INTEGER)
        for value in node.values():
            _bounded(value)
    elif isinstance(node, list):
        for item in node:
            _bounded(item)


def document_bounds(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """``json_schema_extra`` of an answer's model: its integers' bound, documented."""
    _bounded(schema.get("properties", {}))


class Public(BaseModel):
    """An answer's model: a member the hub answers but the model does not name is an error (a
    test fails), never a member silently dropped from the answer."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=document_bounds)


def component_name(document: str, definition: str | None = None) -> str:
    """``recognition-certificate`` -> ``RecognitionCertificate``; ``common`` + ``serialRange`` ->
    ``CommonSerialRange``."""
    pascal = "".join(part[:1].upper() + part[1:] for part in document.replace("_", "-").split("-"))
    if definition is None:
        return pascal
    return pascal + definition[:1].upper() + definition[1:]


def _reference(target: str, document: str) -> str:
    target_document, _, fragment = target.partition("#")
    name = target_document.removesuffix(".json") if target_document else document
    parts = [part for part in fragment.split("/") if part]
    if not parts:
        return COMPONENT_PREFIX + component_name(name)
    if len(parts) == 2 and parts[0] == "$defs":
        return COMPONENT_PREFIX + component_name(name, parts[1])
    raise ValueError(f"a $ref the OpenAPI components cannot name: {target} (in {document})")


def _rewrite(node: Any, document: str) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$id", "$schema", "$defs"):
            continue
        out[key] = (
            _reference(value, document)
            if key == "$ref" and isinstance(value, str)
            else _rewrite(value, document)
        )
    return out


def exchange_components(found: SchemaCatalog | None = None) -> dict[str, Any]:
    """Every exchange-schema document (and its ``$defs``) as OpenAPI components."""
    found = found or catalog()
    components: dict[str, Any] = {SCHEMA_DOCUMENT: SCHEMA_DOCUMENT_COMPONENT}
    for document in found.all_names():
        source = found.document(document)
        components[component_name(document)] = _rewrite(source, document)
        for definition, schema in source.get("$defs", {}).items():
            components[component_name(document, definition)] = _rewrite(schema, document)
    # what the hub answers is RFC 8785 canonical JSON, which holds no integer above 2^53 - 1
    _bounded(components)
    return components


def record_schema(document: str) -> WithJsonSchema:
    """The metadata that types an answer member as an exchange record of type ``document``:
    ``Annotated[dict[str, Any], record_schema("recognition-certificate")]``."""
    if document not in catalog():
        raise KeyError(f"no exchange-schema document {document}")
    return WithJsonSchema({MARKER: component_name(document)})


def definition_schema(document: str, definition: str) -> WithJsonSchema:
    """The metadata that types an answer member as a shared definition of the exchange schema:
    ``Annotated[dict[str, Any], definition_schema("common", "rulesetRef")]``."""
    if definition not in catalog().document(document).get("$defs", {}):
        raise KeyError(f"no definition {definition} in {document}")
    return WithJsonSchema({MARKER: component_name(document, definition)})


def point_at_records(node: Any) -> Any:
    """``node`` (an OpenAPI document) with every marked member a ``$ref`` to its component."""
    if isinstance(node, list):
        return [point_at_records(item) for item in node]
    if not isinstance(node, dict):
        return node
    if MARKER in node:
        rest = {key: point_at_records(value) for key, value in node.items() if key != MARKER}
        return {"$ref": COMPONENT_PREFIX + node[MARKER], **rest}
    return {key: point_at_records(value) for key, value in node.items()}


def typed_content(media_type: str, document: str, definition: str | None = None) -> dict[Any, Any]:
    """``responses=`` of a route whose answer (of ``media_type``) is an exchange record or
    definition, for routes answering with a media type of their own (a JWK Set)."""
    schema = {MARKER: component_name(document, definition)}
    return {200: {"content": {media_type: {"schema": schema}}}}


# the answer of GET /v1/schemas/{name}: a schema document, which is its own type
SCHEMA_DOCUMENT = "JsonSchemaDocument"
SCHEMA_DOCUMENT_COMPONENT = {
    "type": "object",
    "description": "A JSON Schema (draft 2020-12) document of the exchange format.",
    "required": ["$schema", "$id"],
}
