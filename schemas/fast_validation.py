"""A fast, exact yes-or-unsure check of a record against its (inlined) exchange schema.

``jsonschema`` costs ~250 µs per credit block, most of it in its generic machinery. The bulk paths
(adapters, registry ingest) validate hundreds of thousands of records that are almost always
valid, so :func:`fast_check` compiles a schema into plain closures once and answers only one
question: *is this instance certainly valid?* When the answer is anything but a certain yes, the
caller runs the full ``jsonschema`` validator, so every error is still reported by it, unchanged.

Exactness: the compiler accepts only the keywords it implements with ``jsonschema``'s own
semantics (type, properties, required, additionalProperties, items, min/maxItems, uniqueItems,
enum/const of strings, pattern via ``re.search``, min/maxLength, minimum/maximum, format via the
catalogue's own format checker, allOf, if/then/else, boolean schemas; annotations are ignored). A
schema with any other keyword (``$ref`` left by a cycle, anyOf, patternProperties…) gets no fast
check at all. At run time a value of any type other than str, int, bool, None, dict or list (a
float, a subclass, a Decimal…) makes the check *unsure*, never *valid*. Each check is exact in both
directions on the values it accepts, which ``if`` needs. The equivalence with ``jsonschema`` is
tested over the schema examples and by a property test mutating valid records.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any

from jsonschema import FormatChecker

from schemas.catalog import SchemaCatalog

Check = Callable[[Any], bool]
PLAIN = frozenset({str, int, bool, type(None), dict, list})
ANNOTATIONS = frozenset(
    {"$id", "$schema", "$comment", "$defs", "title", "description", "examples", "default", "deprecated"}
)
# record types whose fast check is proved equivalent by tests/schemas/test_fast_validation.py
FAST_TYPES = frozenset({"credit-block", "project", "personal-reduction-batch"})


class Unsure(Exception):  # a signal, not an error
    """The fast check cannot decide this value exactly; use the full validator."""


class Unsupported(Exception):
    """The schema uses a keyword the fast check does not implement."""


def _is_type(name: str, value: Any, kind: type) -> bool:
    # ``kind`` is one of PLAIN (checked by the caller): jsonschema's type checks, exactly.
    if name == "object":
        return kind is dict
    if name == "array":
        return kind is list
    if name == "string":
        return kind is str
    if name in ("integer", "number"):
        return kind is int
    if name == "boolean":
        return kind is bool
    if name == "null":
        return value is None
    raise Unsupported(f"type {name!r}")


def _flat_strings(item: Any) -> bool:
    return type(item) is dict and all(type(k) is str and type(v) is str for k, v in item.items())


def _strings(values: Any, keyword: str) -> frozenset[str]:
    if not isinstance(values, list) or not all(type(v) is str for v in values):
        raise Unsupported(f"{keyword} with values that are not strings")
    return frozenset(values)


class _Compiler:
    def __init__(self, formats: FormatChecker) -> None:
        self.formats = formats

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if not isinstance(schema, dict):
            raise Unsupported("a schema is an object or a boolean")
        keywords = {k: v for k, v in schema.items() if k not in ANNOTATIONS}
        fused = self._fused(keywords)
        if fused is not None:
            return fused
        checks: list[Check] = []
        for keyword, argument in schema.items():
            if keyword in ANNOTATIONS or keyword in ("then", "else"):
                continue
            build = getattr(self, "k_if_" if keyword == "if" else "k_" + keyword, None)
            if build is None:
                raise Unsupported(keyword)
            checks.append(build(argument, schema))

        def check(value: Any) -> bool:
            if type(value) not in PLAIN:
                raise Unsure
            return all(one(value) for one in checks)

        return checks[0] if len(checks) == 1 else check

    def _fused(self, keywords: dict[str, Any]) -> Check | None:
        """One closure for the common leaf and object shapes (the same checks, fewer calls)."""
        kind = keywords.get("type")
        names = set(keywords) - {"type"}
        if kind == "string" and names <= {"pattern", "minLength", "maxLength", "format"}:
            return self._string(keywords, other=False)
        if kind == "integer" and names <= {"minimum", "maximum"}:
            return self._integer(keywords, other=False)
        if kind == "object" and names <= {"properties", "required", "additionalProperties"}:
            extra = keywords.get("additionalProperties", True)
            if extra is True or extra is False:
                properties, required = keywords.get("properties", {}), keywords.get("required", ())
                return self._object(properties, required, extra, other=False)
        return None

    # ``other``: the answer for a plain value of another type (False when the schema says ``type``,
    # True for a lone keyword, which applies to its own type only).

    def _string(self, keywords: dict[str, Any], *, other: bool) -> Check:
        pattern = re.compile(keywords["pattern"]).search if "pattern" in keywords else None
        shortest, longest = keywords.get("minLength", 0), keywords.get("maxLength")
        fmt, formats = keywords.get("format"), self.formats

        def string(value: Any) -> bool:
            kind = type(value)
            if kind is not str:
                if kind not in PLAIN:
                    raise Unsure
                return other
            if pattern is not None and pattern(value) is None:
                return False
            size = len(value)
            if size < shortest or (longest is not None and size > longest):
                return False
            return fmt is None or formats.conforms(value, fmt)

        return string

    def _integer(self, keywords: dict[str, Any], *, other: bool) -> Check:
        low, high = keywords.get("minimum"), keywords.get("maximum")
        if not all(bound is None or type(bound) is int for bound in (low, high)):
            raise Unsupported("a bound that is not an integer")

        def integer(value: Any) -> bool:
            kind = type(value)
            if kind is not int:
                if kind not in PLAIN:
                    raise Unsure
                return other  # bool and the other plain types are not numbers
            return (low is None or value >= low) and (high is None or value <= high)

        return integer

    def _object(self, properties: dict[str, Any], required: Any, extra: bool, *, other: bool) -> Check:
        subs = {name: self.compile(sub) for name, sub in properties.items()}
        names, known = tuple(required), frozenset(subs)

        def mapping(value: Any) -> bool:
            kind = type(value)
            if kind is not dict:
                if kind not in PLAIN:
                    raise Unsure
                return other
            for name in names:
                if name not in value:
                    return False
            if not extra and not value.keys() <= known:
                return False
            for name, item in value.items():
                sub = subs.get(name)
                if sub is not None and not sub(item):
                    return False
            return True

        return mapping

    def k_type(self, argument: Any, schema: Any) -> Check:
        names = [argument] if isinstance(argument, str) else list(argument)
        for name in names:
            _is_type(name, None, str)  # refuse unknown type names now

        def check(value: Any) -> bool:
            kind = type(value)
            if kind not in PLAIN:
                raise Unsure
            return any(_is_type(name, value, kind) for name in names)

        return check

    def k_properties(self, argument: Any, schema: Any) -> Check:
        return self._object(argument, (), True, other=True)

    def k_required(self, argument: Any, schema: Any) -> Check:
        return self._object({}, argument, True, other=True)

    def k_pattern(self, argument: Any, schema: Any) -> Check:
        return self._string({"pattern": argument}, other=True)

    def k_minLength(self, argument: Any, schema: Any) -> Check:  # noqa: N802
        return self._string({"minLength": argument}, other=True)

    def k_maxLength(self, argument: Any, schema: Any) -> Check:  # noqa: N802
        return self._string({"maxLength": argument}, other=True)

    def k_minimum(self, argument: Any, schema: Any) -> Check:
        return self._integer({"minimum": argument}, other=True)

    def k_maximum(self, argument: Any, schema: Any) -> Check:
        return self._integer({"maximum": argument}, other=True)

    def k_format(self, argument: Any, schema: Any) -> Check:
        formats = self.formats

        def check(value: Any) -> bool:
            if type(value) not in PLAIN:
                raise Unsure
            return formats.conforms(value, argument)

        return check

    def k_additionalProperties(self, argument: Any, schema: Any) -> Check:  # noqa: N802
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        known = frozenset(schema.get("properties", {}))
        sub = self.compile(argument)

        def check(value: Any) -> bool:
            kind = type(value)
            if kind is not dict:
                if kind not in PLAIN:
                    raise Unsure
                return True
            if value.keys() <= known:
                return True
            return all(sub(value[name]) for name in value.keys() - known)

        return check

    def k_items(self, argument: Any, schema: Any) -> Check:
        if "prefixItems" in schema:
            raise Unsupported("prefixItems")
        sub = self.compile(argument)
        return self._array(lambda value: all(sub(item) for item in value))

    def k_maxItems(self, argument: Any, schema: Any) -> Check:  # noqa: N802
        return self._array(lambda value: len(value) <= argument)

    def k_minItems(self, argument: Any, schema: Any) -> Check:  # noqa: N802
        return self._array(lambda value: len(value) >= argument)

    def k_uniqueItems(self, argument: Any, schema: Any) -> Check:  # noqa: N802
        def unique(value: list[Any]) -> bool:
            # jsonschema's equal() is ==, for strings and for flat objects of strings; anything
            # else (numbers against booleans, nested values) is left to it.
            if all(type(item) is str for item in value):
                return len(set(value)) == len(value)
            if all(_flat_strings(item) for item in value):
                return len({frozenset(item.items()) for item in value}) == len(value)
            raise Unsure

        return self._array(unique) if argument else (lambda value: True)

    @staticmethod
    def _array(test: Callable[[list[Any]], bool]) -> Check:
        def check(value: Any) -> bool:
            kind = type(value)
            if kind is not list:
                if kind not in PLAIN:
                    raise Unsure
                return True
            return test(value)

        return check

    def k_enum(self, argument: Any, schema: Any) -> Check:
        return self._equal_any(_strings(argument, "enum"))

    def k_const(self, argument: Any, schema: Any) -> Check:
        return self._equal_any(_strings([argument], "const"))

    @staticmethod
    def _equal_any(options: frozenset[str]) -> Check:
        # jsonschema's equal(): a string equals only an equal string.
        def check(value: Any) -> bool:
            kind = type(value)
            if kind not in PLAIN:
                raise Unsure
            return kind is str and value in options

        return check

    def k_allOf(self, argument: Any, schema: Any) -> Check:  # noqa: N802
        subs = [self.compile(sub) for sub in argument]
        return lambda value: all(sub(value) for sub in subs)

    def k_if_(self, argument: Any, schema: Any) -> Check:
        condition = self.compile(argument)
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))
        return lambda value: then(value) if condition(value) else otherwise(value)


_COMPILED: weakref.WeakKeyDictionary[SchemaCatalog, dict[str, Check | None]] = weakref.WeakKeyDictionary()


def compile_schema(schema: Any, formats: FormatChecker) -> Check | None:
    """The fast check of ``schema``, or None when it uses a keyword the compiler does not know."""
    try:
        return _Compiler(formats).compile(schema)
    except Unsupported:
        return None


def fast_check(schemas: SchemaCatalog, name: str) -> Check | None:
    """The compiled fast check of record type ``name`` (one of :data:`FAST_TYPES`), else None."""
    cached = _COMPILED.setdefault(schemas, {})
    if name not in cached:
        validator = schemas.validator(name)  # the very schema and format checker jsonschema uses
        formats = validator.format_checker
        found = None
        if name in FAST_TYPES and formats is not None:
            found = compile_schema(validator.schema, formats)
        cached[name] = found
    return cached[name]


def certainly_valid(check: Check, instance: Any) -> bool:
    """True only when ``instance`` is valid for certain; False means: ask the full validator."""
    try:
        return check(instance)
    except Unsure:
        return False
