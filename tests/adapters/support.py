"""Shared helpers of the adapter tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from adapters.contract import Fixture, ParseResult, RegionAdapter
from adapters.privacy import Pseudonymizer
from adapters.registry import available

KEY = b"conformance test federation key, not a real one"
PSEUDONYMIZER = Pseudonymizer(KEY, key_id="fed-hmac-test-1")
ADAPTERS: dict[str, RegionAdapter] = available()
FIXTURES: list[tuple[str, Fixture]] = [(code, f) for code, a in ADAPTERS.items() for f in a.fixtures()]
GOOD = [(code, f) for code, f in FIXTURES if f.good]
BROKEN = [(code, f) for code, f in FIXTURES if not f.good]

# identifiers as they are written in the field: resident ID numbers, mobile phones (with or without
# +86 and separators), unified social credit codes
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
PHONE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")
USCC = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")


def parse(code: str, fixture: Fixture) -> ParseResult:
    return ADAPTERS[code].parse(
        fixture.read(), content_type=fixture.content_type, pseudonymizer=PSEUDONYMIZER
    )


def fixture_text(fixture: Fixture) -> str:
    raw = fixture.read()
    for encoding in ("utf-8", "gb18030", "utf-16"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def raw_identifiers(fixture: Fixture) -> set[str]:
    """Every identifier a fixture carries: declared ones, and all that look like one."""
    text = fixture_text(fixture)
    found = set(fixture.identifiers)
    for pattern in (ID_NUMBER, PHONE, USCC):
        found.update(pattern.findall(text))
    variants = {re.sub(r"[^0-9A-Za-z]", "", item) for item in found}
    variants |= {item[2:] for item in variants if item.startswith("86") and len(item) == 13}
    return {item for item in found | variants | {v.upper() for v in variants} if len(item) >= 6}


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}/{index}")


def dumped(result: ParseResult) -> str:
    return json.dumps([record for _, record in result.records()], ensure_ascii=False)
