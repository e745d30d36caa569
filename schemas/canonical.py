"""RFC 8785 JSON Canonicalization Scheme (JCS).

The reference implementation is the maintained ``rfc8785`` package. It costs more than an Ed25519
signature per 1 KB record, so documents made only of the types the exchange format uses (strings
whose keys sort the same in UTF-16 and in code points, integers within ±2^53, booleans, null,
arrays, objects; no floats) take a fast path through ``orjson`` with sorted keys, which yields the
same bytes for them. Anything else (floats, astral-plane keys) goes through ``rfc8785``. The
equivalence is a property test in ``tests/schemas/test_canonical.py``.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalizationError(ValueError):
    """The value has no RFC 8785 form (non-string key, integer beyond ±2^53, NaN…)."""


def _fast_path_safe(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key, member in item.items():
                # orjson sorts keys by code point, RFC 8785 by UTF-16 code unit: they agree below
                # U+D800. Keys are ASCII in practice; anything else takes the reference path.
                if type(key) is not str or (not key.isascii() and max(key) >= "\ud800"):
                    return False
                inner = type(member)
                if inner is str or inner is bool or member is None:
                    continue  # the common scalars are decided here, without a trip through the stack
                if inner is int and -MAX_SAFE_INTEGER <= member <= MAX_SAFE_INTEGER:
                    continue
                stack.append(member)
            continue
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
            continue
        if kind is list or kind is tuple:
            stack.extend(item)
            continue
        return False
    return True


def is_plain(value: Any) -> bool:
    """Whether ``value`` is made only of the types the exchange format uses (see the module
    docstring): orjson then writes exactly its canonical form."""
    return _fast_path_safe(value)


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    if _fast_path_safe(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError as exc:  # e.g. a lone surrogate in a string
            raise CanonicalizationError(str(exc)) from exc
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalizationError(str(exc)) from exc


def is_canonical(data: bytes) -> bool:
    """Whether ``data`` is exactly the canonical form of the JSON it encodes."""
    try:
        return canonicalize(orjson.loads(data)) == data
    except (orjson.JSONDecodeError, CanonicalizationError):
        return False
