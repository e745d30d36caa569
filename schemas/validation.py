"""Validation of exchange records: the JSON Schema, then the invariants a schema cannot express.

Every failure is an :class:`Issue` with a JSON pointer (RFC 6901) into the instance and a code,
so that platforms can see exactly which member of which record is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jsonschema.exceptions import ValidationError

from schemas.catalog import SchemaCatalog, catalog
from schemas.fast_validation import certainly_valid, fast_check


@dataclass(frozen=True, slots=True)
class Issue:
    """One reason a document is refused."""

    pointer: str
    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "code": self.code, "detail": self.detail}


def pointer(path: Sequence[str | int]) -> str:
    """RFC 6901 JSON pointer for a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _schema_issues(error: ValidationError) -> Iterator[Issue]:
    path = list(error.absolute_path)
    instance, schema = error.instance, error.schema
    if error.validator == "anyOf" and error.context:
        # "one of these forms": name what the first (the current) form lacks, not the whole record
        first = [sub for sub in error.context if list(sub.relative_schema_path)[:1] == [0]]
        if first:
            for sub in first:
                yield from _schema_issues(sub)
            return
    if error.validator == "required" and isinstance(instance, Mapping):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        for name in required:
            if name not in instance:
                yield Issue(pointer([*path, name]), "1002", f"'{name}' is required")
        return
    if (
        error.validator == "additionalProperties"
        and isinstance(instance, Mapping)
        and isinstance(schema, Mapping)
    ):
        known = set(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        for name in instance:
            if name not in known and not any(p.search(name) for p in patterns):
                yield Issue(pointer([*path, name]), "1002", f"'{name}' is not allowed here")
        return
    yield Issue(pointer(path), "1002", error.message)


def _serial_issues(node: Mapping[str, Any], path: list[str | int], start: str, end: str) -> Iterator[Issue]:
    first, last, quantity = node.get(start), node.get(end), node.get("quantity")
    if not (isinstance(first, int) and isinstance(last, int)):
        return
    if last < first:
        yield Issue(pointer([*path, end]), "3001", f"{end} {last} is before {start} {first}")
    elif isinstance(quantity, int) and quantity != last - first + 1:
        yield Issue(
            pointer([*path, "quantity"]),
            "3002",
            f"quantity {quantity} is not {end} - {start} + 1 = {last - first + 1}",
        )


def _as_instant(value: str) -> date | datetime | None:
    try:
        if "T" in value or "t" in value:
            return datetime.fromisoformat(value.replace("z", "Z"))
        return date.fromisoformat(value)
    except ValueError:
        return None


def _period_issues(node: Mapping[str, Any], path: list[str | int]) -> Iterator[Issue]:
    start, end = _as_instant(node["start"]), _as_instant(node["end"])
    if start is None or end is None or type(start) is not type(end):
        return
    try:
        backwards = end < start
    except TypeError:  # naive against aware date-time
        return
    if backwards:
        yield Issue(pointer([*path, "end"]), "3004", "the period ends before it starts")


def invariant_issues(node: Any, path: list[str | int] | None = None) -> Iterator[Issue]:
    """Invariants over the whole document: serial ranges and periods, wherever they occur."""
    path = path or []
    if isinstance(node, Mapping):
        if "serial_start" in node and "serial_end" in node:
            yield from _serial_issues(node, path, "serial_start", "serial_end")
        elif isinstance(node.get("start"), int) and isinstance(node.get("end"), int):
            yield from _serial_issues(node, path, "start", "end")
        elif isinstance(node.get("start"), str) and isinstance(node.get("end"), str):
            yield from _period_issues(node, path)
        for key, value in node.items():
            if isinstance(value, Mapping | list):  # a scalar has no invariants: skip the call
                yield from invariant_issues(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, Mapping | list):
                yield from invariant_issues(value, [*path, index])


def _sum_issue(instance: Mapping[str, Any], items: str, total: str = "quantity") -> Iterator[Issue]:
    rows = instance.get(items)
    stated = instance.get(total)
    if not isinstance(rows, list) or not isinstance(stated, int):
        return
    actual = sum(row.get("quantity", 0) for row in rows if isinstance(row, Mapping))
    if actual != stated:
        yield Issue(pointer([total]), "3003", f"{total} {stated} is not the sum of {items} ({actual})")


RecordCheck = Callable[[Mapping[str, Any]], Iterator[Issue]]

RECORD_CHECKS: dict[str, RecordCheck] = {
    "personal-reduction-batch": lambda doc: _sum_issue(doc, "records"),
    "recognition-request": lambda doc: _sum_issue(doc, "blocks"),
    "recognition-certificate": lambda doc: _sum_issue(doc, "blocks"),
    "transfer": lambda doc: _sum_issue(doc, "blocks"),
    "retirement": lambda doc: _sum_issue(doc, "blocks"),
}


def validate(name: str, instance: Any, schemas: SchemaCatalog | None = None) -> list[Issue]:
    """All issues of ``instance`` as a record of type ``name``; empty when it is valid.

    Raises KeyError when there is no schema ``name``.
    """
    found = schemas or catalog()
    validator = found.validator(name)
    fast = fast_check(found, name)
    if fast is not None and certainly_valid(fast, instance):
        issues: list[Issue] = []  # what the full validator finds in a valid record: nothing
    else:
        issues = [issue for error in validator.iter_errors(instance) for issue in _schema_issues(error)]
    if not issues:
        issues.extend(invariant_issues(instance))
        check = RECORD_CHECKS.get(name)
        if check is not None and isinstance(instance, Mapping):
            issues.extend(check(instance))
    return sorted(set(issues), key=lambda issue: (issue.pointer, issue.code, issue.detail))
