"""The JSON text of the hub's JSON columns: ``json.dumps`` / ``json.loads``'s meaning at orjson's speed.

SQLAlchemy writes and reads a ``JSON`` column through the engine's ``json_serializer`` and
``json_deserializer`` (``json.dumps`` / ``json.loads`` unless told otherwise; on PostgreSQL psycopg
is handed the same two). These give the same values:

- :func:`dumps` writes with orjson — the same JSON value as ``json.dumps`` writes, without its
  spaces and with non-ASCII characters as UTF-8 rather than ``\\u`` escapes — unless orjson
  refuses the value (an integer past 64 bits, a key that is not a string, a lone surrogate) or
  its text holds a ``null`` (orjson writes NaN and the infinities as ``null`` where
  ``json.dumps`` writes ``NaN``, ``Infinity``), in which case ``json.dumps`` writes it (and
  refuses what it refuses: dates, dataclasses, other objects). One leniency: a ``uuid.UUID`` or
  a plain ``Enum`` member, which ``json.dumps`` refuses, is written as its text or value;
- :func:`loads` reads with orjson unless the text holds a run of 17 digits or more (orjson reads an
  integer beyond 64 bits as a float; ``json.loads`` keeps it exact) or orjson refuses it
  (``NaN``, a lone surrogate escape …), in which case ``json.loads`` reads it.

Rows written before keep their text; both forms read the same. ``tests/hub/test_jsontext.py``
holds the two to the standard library over generated values.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# digits to "0", everything else to " ": a run of 17 digits is then a plain substring search
_DIGITS = bytes(48 if 48 <= code <= 57 else 32 for code in range(256))
_LONG_RUN = b"0" * 17
# what json.dumps refuses or writes otherwise goes to json.dumps: str, int, dict and list
# subclasses, dates and times, dataclasses (orjson would write them itself)
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any) -> str:
    """The JSON text of ``value``: the value ``json.dumps(value)`` writes."""
    try:
        data = orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:  # not a value orjson writes: the standard library decides
        return json.dumps(value)
    if b"null" in data:  # a null, or a NaN / infinity orjson wrote as one
        return json.dumps(value)
    return data.decode()


def loads(text: str | bytes | bytearray) -> Any:
    """The value of JSON ``text``: what ``json.loads(text)`` gives (a TypeError for what is not
    text, bytes or a bytearray: a memoryview, which orjson would read)."""
    data: bytes | bytearray
    if isinstance(text, str):
        data = text.encode("utf-8", "surrogatepass")
    elif isinstance(text, bytes | bytearray):
        data = text
    else:  # json.loads's TypeError
        return json.loads(text)
    if _LONG_RUN not in data.translate(_DIGITS):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
