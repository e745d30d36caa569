"""The documentation says what is true: check codes and schema names match the code."""

from __future__ import annotations

import re
from pathlib import Path

from schemas import CHECK_CODES, catalog

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_check_code_table_matches_the_catalogue() -> None:
    rows = re.findall(
        r"^\| (\d{4}) \| `([a-z-]+)` \| ([a-z -]+) \| (.+) \|$",
        (DOCS / "check-codes.md").read_text(),
        re.M,
    )
    documented = {code: (name, category, message) for code, name, category, message in rows}
    actual = {c.code: (c.name, c.category.value, c.message) for c in CHECK_CODES.values()}
    assert documented == actual


def test_every_schema_is_documented() -> None:
    text = (DOCS / "exchange-schema.md").read_text()
    assert [name for name in catalog().all_names() if f"| `{name}` |" not in text] == []
