"""Loading the published exchange schema documents (package data) and building validators."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_BASE = "https://schemas.puhui-hub.org/"
CURRENT_VERSION = "v1"
SHARED_DOCUMENTS = frozenset({"common"})

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
)


def _whole_integer(_: object, instance: object) -> bool:
    # JSON Schema counts 10.0 as an integer; the exchange format has no fractional numbers, so a
    # quantity read as a float (10.0, 1e1) is refused like 10.5, with its pointer.
    return type(instance) is int


ExchangeValidator: type[Draft202012Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _whole_integer),
)
"""Draft 2020-12 where "integer" means a Python int (not a bool, not a float)."""


def _format_checker() -> FormatChecker:
    checker = FormatChecker(["date", "email"])

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI.match(value) and " " not in value)

    @checker.checks("uri-reference")
    def _uri_reference(value: object) -> bool:
        return not isinstance(value, str) or not any(c.isspace() for c in value)

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _RFC3339.match(value):
            return False
        from datetime import datetime

        datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
        return True

    return checker


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    """One entry of the schema index."""

    name: str
    version: str
    id: str
    title: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "$id": self.id, "title": self.title}


class SchemaCatalog:
    """The schema documents of one version of the exchange format, with their validators."""

    def __init__(self, version: str = CURRENT_VERSION) -> None:
        self.version = version
        folder = resources.files("schemas").joinpath(version)
        docs: dict[str, dict[str, Any]] = {}
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".json"):
                docs[entry.name.removesuffix(".json")] = json.loads(entry.read_text("utf-8"))
        if not docs:
            raise RuntimeError(f"no schema documents found for {version}")
        self._documents = docs
        self._registry: Registry[Any] = Registry().with_resources(
            (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
            for doc in docs.values()
        )
        self._format_checker = _format_checker()
        self._validators: dict[str, Draft202012Validator] = {}

    def names(self) -> list[str]:
        """Record types (the shared-definitions document is not a record type)."""
        return [name for name in self._documents if name not in SHARED_DOCUMENTS]

    def all_names(self) -> list[str]:
        return list(self._documents)

    def __contains__(self, name: object) -> bool:
        return name in self._documents

    def document(self, name: str) -> dict[str, Any]:
        """The schema document ``name``; KeyError if there is none."""
        return self._documents[name]

    def info(self, name: str) -> SchemaInfo:
        doc = self._documents[name]
        return SchemaInfo(name=name, version=self.version, id=doc["$id"], title=doc.get("title", name))

    def index(self) -> list[SchemaInfo]:
        return [self.info(name) for name in self._documents]

    def _inline(self, node: Any, document: str, seen: tuple[str, ...] = ()) -> Any:
        """``node`` with every ``$ref`` replaced by its target (validation then skips the
        reference lookups that cost half its time); a cyclic reference is left in place."""
        if isinstance(node, list):
            return [self._inline(item, document, seen) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference not in seen:
            target_doc, _, fragment = reference.partition("#")
            target_name = target_doc.removesuffix(".json") if target_doc else document
            target: Any = self._documents[target_name]
            for part in [p for p in fragment.split("/") if p]:
                target = target[part.replace("~1", "/").replace("~0", "~")]
            inlined = self._inline(target, target_name, (*seen, reference))
            rest = {k: self._inline(v, document, seen) for k, v in node.items() if k != "$ref"}
            return {"allOf": [inlined], **rest} if rest else inlined
        return {key: self._inline(value, document, seen) for key, value in node.items()}

    def validator(self, name: str) -> Draft202012Validator:
        found = self._validators.get(name)
        if found is None:
            found = ExchangeValidator(
                self._inline(self._documents[name], name),
                registry=self._registry,
                format_checker=self._format_checker,
            )
            self._validators[name] = found
        return found


@cache
def catalog(version: str = CURRENT_VERSION) -> SchemaCatalog:
    """The (immutable, shared) catalogue of ``version``."""
    return SchemaCatalog(version)
