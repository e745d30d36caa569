"""The methodology catalogue: hub-level canonical ids with each registry's local codes.

Shipped as package data (``standards/data/methodologies.json``); every entry validates against the
``methodology`` exchange schema. Lookups go both ways: (registry, local code) → catalogue id, and
catalogue id + registry → the local codes (the first listed is the registry's current one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from schemas.validation import Issue, pointer, validate
from standards.errors import CatalogueError

CATALOGUE_FILE = "methodologies.json"


@dataclass(frozen=True, slots=True)
class MethodologyRef:
    """The exchange's ``methodologyRef``: catalogue id, the registry's own code and its version."""

    catalogue_id: str
    local_code: str
    version: str

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> MethodologyRef:
        """From ``{"catalogue_id", "local_code", "version"}``."""
        return cls(value["catalogue_id"], value["local_code"], value["version"])

    def as_dict(self) -> dict[str, str]:
        """The exchange form."""
        return {
            "catalogue_id": self.catalogue_id,
            "local_code": self.local_code,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class LocalCode:
    """One registry's code for a catalogue methodology, where it was found, and if verified."""

    registry: str
    code: str
    version: str
    source: str
    verified: bool
    name_zh: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The exchange form (``methodology.local_codes[]``)."""
        out: dict[str, Any] = {"registry": self.registry, "code": self.code}
        out["version"] = self.version
        if self.name_zh is not None:
            out["name_zh"] = self.name_zh
        out.update(source=self.source, verified=self.verified)
        return out


@dataclass(frozen=True, slots=True)
class Methodology:
    """A catalogue entry (``methodology`` exchange record)."""

    catalogue_id: str
    name: str
    name_zh: str
    family: str
    unit: str
    local_codes: tuple[LocalCode, ...]
    sources: tuple[str, ...]

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Methodology:
        """From a record that already validated against the ``methodology`` schema."""
        return cls(
            catalogue_id=value["catalogue_id"],
            name=value["name"],
            name_zh=value["name_zh"],
            family=value["family"],
            unit=value["unit"],
            local_codes=tuple(
                LocalCode(
                    registry=code["registry"],
                    code=code["code"],
                    version=code["version"],
                    source=code["source"],
                    verified=code["verified"],
                    name_zh=code.get("name_zh"),
                )
                for code in value["local_codes"]
            ),
            sources=tuple(value["sources"]),
        )

    @property
    def registries(self) -> tuple[str, ...]:
        """Registries that have a code for this methodology, in catalogue order."""
        return tuple(dict.fromkeys(code.registry for code in self.local_codes))

    def codes_for(self, registry: str) -> tuple[LocalCode, ...]:
        """The local codes of one registry (its current code first)."""
        return tuple(code for code in self.local_codes if code.registry == registry)

    def as_dict(self) -> dict[str, Any]:
        """The ``methodology`` exchange record."""
        return {
            "catalogue_id": self.catalogue_id,
            "name": self.name,
            "name_zh": self.name_zh,
            "family": self.family,
            "unit": self.unit,
            "local_codes": [code.as_dict() for code in self.local_codes],
            "sources": list(self.sources),
        }


class Catalogue:
    """An immutable set of methodologies with lookups by id and by (registry, local code)."""

    def __init__(self, methodologies: Iterable[Methodology]) -> None:
        self._by_id: dict[str, Methodology] = {}
        self._by_code: dict[tuple[str, str], str] = {}
        for entry in methodologies:
            if entry.catalogue_id in self._by_id:
                raise CatalogueError("1002", f"catalogue id {entry.catalogue_id} appears twice")
            self._by_id[entry.catalogue_id] = entry
            for code in entry.local_codes:
                known = self._by_code.setdefault((code.registry, code.code), entry.catalogue_id)
                if known != entry.catalogue_id:
                    raise CatalogueError(
                        "1002",
                        f"{code.registry} code {code.code} maps to both {known} and {entry.catalogue_id}",
                    )

    @classmethod
    def from_records(cls, records: Iterable[Any]) -> Catalogue:
        """Build from ``methodology`` records; :class:`CatalogueError` (1002) lists every issue."""
        items = list(records)
        issues = [
            Issue(pointer([index]) + issue.pointer, issue.code, issue.detail)
            for index, record in enumerate(items)
            for issue in validate("methodology", record)
        ]
        if issues:
            raise CatalogueError("1002", "a catalogue entry is not a valid methodology", issues)
        return cls(Methodology.from_dict(record) for record in items)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, catalogue_id: object) -> bool:
        return catalogue_id in self._by_id

    def entries(self, registry: str | None = None) -> list[Methodology]:
        """Entries sorted by id; with ``registry``, only those that registry has a code for."""
        return [
            entry for _, entry in sorted(self._by_id.items()) if registry is None or entry.codes_for(registry)
        ]

    def get(self, catalogue_id: str) -> Methodology:
        """The entry ``catalogue_id``; :class:`CatalogueError` (5010) when there is none."""
        found = self._by_id.get(catalogue_id)
        if found is None:
            raise CatalogueError("5010", f"methodology {catalogue_id} is not in the catalogue")
        return found

    def find(self, registry: str, local_code: str) -> str | None:
        """The catalogue id of ``registry``'s code ``local_code``, or None."""
        return self._by_code.get((registry, local_code))

    def resolve(self, registry: str, local_code: str) -> str:
        """The catalogue id of ``registry``'s code ``local_code``; 5010 when unknown."""
        found = self.find(registry, local_code)
        if found is None:
            raise CatalogueError("5010", f"{registry} methodology code {local_code} is not in the catalogue")
        return found

    def local_codes(self, catalogue_id: str, registry: str) -> tuple[LocalCode, ...]:
        """The reverse lookup: ``registry``'s codes for ``catalogue_id`` (may be empty)."""
        return self.get(catalogue_id).codes_for(registry)

    def reference(self, catalogue_id: str, registry: str) -> MethodologyRef:
        """``registry``'s current methodology ref for ``catalogue_id``; 5010 when it has none."""
        codes = self.local_codes(catalogue_id, registry)
        if not codes:
            raise CatalogueError("5010", f"{registry} has no code for methodology {catalogue_id}")
        return MethodologyRef(catalogue_id, codes[0].code, codes[0].version)

    def registries(self) -> list[str]:
        """Every registry with at least one code, sorted."""
        return sorted({code.registry for entry in self._by_id.values() for code in entry.local_codes})

    def as_records(self, registry: str | None = None) -> list[dict[str, Any]]:
        """``methodology`` records (e.g. for ``GET /v1/methodologies?registry=``)."""
        return [entry.as_dict() for entry in self.entries(registry)]


def read_data(name: str) -> Any:
    """A JSON document shipped in ``standards/data``."""
    return json.loads(resources.files("standards").joinpath("data", name).read_text("utf-8"))


@cache
def load_catalogue() -> Catalogue:
    """The shipped catalogue (validated once, then shared)."""
    return Catalogue.from_records(read_data(CATALOGUE_FILE)["methodologies"])
