"""The one strict reading of JSON text that every request body and local JSON format goes through.

The rules are I-JSON's (RFC 7493) plus the hub's own, so that no two parsers can read one body
differently and nothing downstream (canonicalization, PostgreSQL text, recursive code) meets a
value it cannot hold:

========================================================  ======  =================================
refused                                                   code    pointer
========================================================  ======  =================================
a byte-order mark, UTF-16 or UTF-32, bytes that are not    1046    ``""`` (the detail names the byte)
UTF-8
not JSON (syntax, NaN / Infinity, trailing data)           1001    ``""`` (the detail: line, column)
nesting deeper than :data:`MAX_DEPTH` arrays and objects   1047    the first container too deep
an object naming one member twice                          1048    the repeated member
a NUL character or a lone UTF-16 surrogate in a string     1049    the string (or the member name)
or a member name
a number with a fraction or an exponent (``10.0``,         1002    the number
``1e1``), or an integer beyond ±(2^53 − 1)
========================================================  ======  =================================

The last rule holds for the exchange format, which has no fractional numbers; a platform's local
JSON format may carry decimals, which :func:`loads` then returns as :class:`~decimal.Decimal` for the
adapter to judge (``fractions=Decimal``).

The common case costs one ``json.loads`` with an object hook plus one pass over the containers:
strings are checked one by one only when the text holds a ``\\u0000`` or surrogate escape (a
strictly decoded UTF-8 text holds neither otherwise), numbers only when one was refused while
reading.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from typing import Any

from schemas.canonical import MAX_SAFE_INTEGER
from schemas.validation import Issue, pointer

MAX_DEPTH = 32
"""Arrays and objects nest at most this deep (the exchange records nest about 5 deep)."""

_UTF16_32_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # the UTF-32 ones start with these too
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_RAW_BAD = re.compile("[\x00\ud800-\udfff]")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:,]')

Link = tuple[Any, str | int] | None  # (parent link, member name or index): a path, built lazily


class StrictJSONError(ValueError):
    """The text is refused; ``issue`` holds the check code, the JSON pointer and the reason."""

    def __init__(self, code: str, where: str, detail: str) -> None:
        super().__init__(detail)
        self.issue = Issue(printable(where), code, printable(detail))

    @property
    def code(self) -> str:
        return self.issue.code


def printable(text: str) -> str:
    """``text`` safe to echo in a UTF-8 answer: lone surrogates and NUL written as escapes."""
    if _RAW_BAD.search(text) is None:
        return text
    return _RAW_BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a text of the hub (a NUL or a lone surrogate), else None."""
    found = _RAW_BAD.search(value)
    if found is None:
        return None
    character = found.group()
    if character == "\x00":
        return "holds a NUL character"
    return f"holds a lone UTF-16 surrogate (U+{ord(character):04X})"


class _Duplicated(dict[str, Any]):
    """An object that named ``duplicate`` twice (kept so that the walk can point at it)."""

    duplicate: str


class _Fraction:
    """A number written with a fraction or an exponent, where only integers are allowed."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Constant(_Fraction):
    """NaN, Infinity or -Infinity: not JSON."""


class _Huge(_Fraction):
    """An integer of more digits than any within ±(2^53 − 1) has (not converted: Python refuses
    to read one of thousands of digits, and it is refused anyway)."""


_MOST_DIGITS = 17  # "-9007199254740991" (a longer integer text lies beyond ±(2^53 - 1))


def _duplicated(found: dict[str, Any], pairs: list[tuple[str, Any]]) -> _Duplicated:
    seen: set[str] = set()
    marked = _Duplicated(found)
    for key, _ in pairs:
        if key in seen:
            marked.duplicate = key
            break
        seen.add(key)
    return marked


def decode(data: bytes) -> str:
    """The body as text: UTF-8 without a byte-order mark, or :class:`StrictJSONError` (1046)."""
    if data.startswith(codecs.BOM_UTF8):
        raise StrictJSONError("1046", "", "the body starts with a byte-order mark: send UTF-8 without one")
    if data.startswith(_UTF16_32_BOMS) or b"\x00" in data[:4]:
        raise StrictJSONError("1046", "", "the body is UTF-16 or UTF-32: send UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StrictJSONError("1046", "", f"the body is not UTF-8 (byte {exc.start})") from exc


def loads(
    data: bytes | str,
    *,
    fractions: Callable[[str], Any] | None = None,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """The JSON value of ``data`` under the rules of the module docstring.

    ``data`` as bytes must be UTF-8; as text it was decoded by the caller (a local format's
    encoding). ``fractions`` reads numbers with a fraction or exponent (e.g. ``Decimal``); by
    default they are refused, as are integers beyond ±(2^53 − 1).
    """
    if isinstance(data, bytes):
        text = decode(data)
        suspect = _SUSPECT_ESCAPE.search(text) is not None
    else:
        text = data
        suspect = _SUSPECT_ESCAPE.search(text) is not None or _RAW_BAD.search(text) is not None
    integers_only = fractions is None
    flagged: list[bool] = []

    def fraction(number: str) -> _Fraction:
        flagged.append(True)
        return _Fraction(number)

    def constant(name: str) -> _Constant:
        flagged.append(True)
        return _Constant(name)

    def objects(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) == len(pairs):
            return found
        flagged.append(True)
        return _duplicated(found, pairs)

    def integer(digits: str) -> int | _Huge:
        if len(digits) > _MOST_DIGITS:
            flagged.append(True)
            return _Huge(digits)
        value = int(digits)
        if len(digits) > 15 and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            flagged.append(True)
        return value

    try:
        document = json.loads(
            text,
            object_pairs_hook=objects,
            parse_float=fraction if fractions is None else fractions,
            parse_constant=constant,
            parse_int=integer if integers_only else None,
        )
    except RecursionError:
        raise _too_deep(_deep_pointer(text, max_depth), max_depth) from None
    except json.JSONDecodeError as exc:
        detail = f"not well-formed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise StrictJSONError("1001", "", detail) from None
    except ValueError as exc:  # an integer of more digits than Python reads
        raise StrictJSONError("1001", "", f"not readable JSON: {exc}") from None
    scalars = suspect or bool(flagged)
    if not isinstance(document, dict | list):
        return _scalar(document, None, integers_only) if scalars else document
    if scalars or text.count("{") + text.count("[") > max_depth:
        _walk(document, max_depth, scalars=scalars, integers_only=integers_only)
    return document


def _walk(document: Any, max_depth: int, *, scalars: bool, integers_only: bool) -> None:
    """Raise on the first refused container or (when ``scalars``) value; containers only else."""
    stack: list[tuple[Any, int, Link]] = [(document, 1, None)]
    while stack:
        node, depth, link = stack.pop()
        if depth > max_depth:
            raise _too_deep(_pointer(link), max_depth)
        if type(node) is list:
            items: Any = enumerate(node)
        else:
            if type(node) is _Duplicated:
                where = _pointer((link, node.duplicate))
                raise StrictJSONError("1048", where, f"the member {node.duplicate!r} appears twice")
            items = node.items()
        for key, value in items:
            kind = type(value)
            if kind is dict or kind is list or kind is _Duplicated:
                stack.append((value, depth + 1, (link, key)))
            elif scalars:
                _scalar(value, (link, key), integers_only)
            if scalars and type(key) is str and (problem := text_problem(key)):
                raise StrictJSONError("1049", _pointer((link, key)), f"the member name {problem}")


def _scalar(value: Any, link: Link, integers_only: bool) -> Any:
    kind = type(value)
    if kind is str:
        problem = text_problem(value)
        if problem:
            raise StrictJSONError("1049", _pointer(link), f"the text {problem}")
    elif kind is _Constant:
        raise StrictJSONError("1001", _pointer(link), f"{value.text} is not a JSON number")
    elif kind is _Huge:
        raise StrictJSONError("1002", _pointer(link), "the integer lies beyond ±(2^53 - 1)")
    elif kind is _Fraction:
        raise StrictJSONError(
            "1002", _pointer(link), f"{value.text} is not an integer: numbers are whole (write 10, not 10.0)"
        )
    elif integers_only and kind is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise StrictJSONError("1002", _pointer(link), "the integer lies beyond ±(2^53 - 1)")
    return value


def _pointer(link: Link) -> str:
    parts: list[str | int] = []
    while link is not None:
        link, key = link
        parts.append(key)
    return pointer(parts[::-1])


def _too_deep(where: str, max_depth: int) -> StrictJSONError:
    return StrictJSONError("1047", where, f"arrays and objects nest deeper than {max_depth} levels")


def _deep_pointer(text: str, max_depth: int) -> str:
    """Where nesting first passes ``max_depth``, found by a lexeme scan (no recursion)."""
    stack: list[list[Any]] = []  # [is_array, member name or index]
    last_string = ""
    for match in _TOKEN.finditer(text):
        lexeme = match.group()
        if lexeme in "[{":
            if len(stack) >= max_depth:
                return pointer([entry[1] for entry in stack])
            stack.append([lexeme == "[", 0 if lexeme == "[" else ""])
        elif lexeme in "]}":
            if stack:
                stack.pop()
        elif lexeme == ":":
            if stack:
                stack[-1][1] = _member_name(last_string)
        elif lexeme == ",":
            if stack and stack[-1][0]:
                stack[-1][1] += 1
        else:
            last_string = lexeme
    return ""


def _member_name(token: str) -> str:
    try:
        name = json.loads(token)
    except ValueError:
        return token[1:-1]
    return name if isinstance(name, str) else token[1:-1]
