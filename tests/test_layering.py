"""Imports point one way: hub -> adapters -> mutual_recognition, standards -> schemas."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "schemas": {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "hub", "adapters",
                "standards", "mutual_recognition", "httpx"},
    "transparency": {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "hub", "adapters",
                     "standards", "mutual_recognition", "httpx"},
    "standards": {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "hub", "adapters",
                  "mutual_recognition", "httpx"},
    "mutual_recognition": {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "hub",
                           "adapters", "httpx"},
    "adapters": {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "hub"},
}  # fmt: skip

# The platform sandboxes are web apps standing in for the platforms' APIs, by design.
EXEMPT = {"adapters/sandbox": {"fastapi", "starlette"}}


def forbidden_for(package: str, path: Path) -> set[str]:
    relative = path.relative_to(ROOT).as_posix()
    exempt = set().union(*(names for prefix, names in EXEMPT.items() if relative.startswith(prefix + "/")))
    return FORBIDDEN[package] - exempt


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_domain_packages_do_not_import_web_storage_or_upstream_code(package: str) -> None:
    offending = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & forbidden_for(package, path))
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_check_itself_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from sqlalchemy import select\nimport fastapi.routing\n")
    assert imported_roots(module) == {"sqlalchemy", "fastapi"}


def test_only_the_sandbox_is_exempt_and_only_from_the_web_framework() -> None:
    assert forbidden_for("adapters", ROOT / "adapters/sandbox/__init__.py") == {
        "sqlmodel", "sqlalchemy", "alembic", "hub",
    }  # fmt: skip
    assert "fastapi" in forbidden_for("adapters", ROOT / "adapters/shanghai/__init__.py")
    assert "fastapi" in forbidden_for("adapters", ROOT / "adapters/sandbox_elsewhere.py")
