"""Every check code the code raises or reports is registered (and so documented)."""

from __future__ import annotations

import re
from pathlib import Path

from schemas.codes import CHECK_CODES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["hub", "schemas", "standards", "mutual_recognition", "adapters", "transparency"]
USE = re.compile(
    r'(?:code=|code":\s*|Issue\([^,()]+,\s*|CheckOutcome\(\s*|_outcome\(\s*|[A-Za-z]*Error\(\s*|LocalError\([^)]*?,\s*)"([1-7]\d{3})"'
)


def test_every_code_in_use_is_registered() -> None:
    used = {
        (match.group(1), str(path.relative_to(ROOT)))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        for match in USE.finditer(path.read_text("utf-8"))
    }
    assert len(used) > 50
    assert sorted((code, where) for code, where in used if code not in CHECK_CODES) == []
