"""One vocabulary across the hub's bodies: a member renamed keeps being accepted in its old place
for a deprecation window, and is answered in its new one.

Each rename is a row of ``RENAMES``: where the old member was, where the new one is, until when the
old one is accepted. ``current_form`` moves old members to their new place and says which old ones
were used (the hub answers with ``Deprecation`` and ``Sunset`` headers then), and refuses a body
that says one thing in the old place and another in the new (the pointer names the old member).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from schemas.validation import Issue


@dataclass(frozen=True)
class Rename:
    record: str
    old: tuple[str, ...]  # the path of the old member
    new: tuple[str, ...]  # the path of the member that replaces it
    sunset: date  # the last day the old member is accepted
    since: date  # when it was deprecated


# Retirements named the covered entity and the compliance year inside the purpose; recognition
# requests and certificates name them in `compliance` — one name for one idea.
RETIREMENT_COMPLIANCE = (
    Rename(
        "retirement",
        ("purpose", "covered_entity_hash"),
        ("compliance", "covered_entity_hash"),
        sunset=date(2027, 6, 30),
        since=date(2026, 11, 30),
    ),
    Rename(
        "retirement",
        ("purpose", "compliance_year"),
        ("compliance", "year"),
        sunset=date(2027, 6, 30),
        since=date(2026, 11, 30),
    ),
)
RENAMES: tuple[Rename, ...] = RETIREMENT_COMPLIANCE
MISMATCH = "1002"  # the old and the new member disagree: the body does not say one thing


@dataclass(frozen=True)
class CurrentForm:
    body: dict[str, Any]
    deprecated: list[Rename] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def sunset(self) -> date | None:
        return min((rename.sunset for rename in self.deprecated), default=None)

    @property
    def since(self) -> date | None:
        return min((rename.since for rename in self.deprecated), default=None)


def _pointer(path: tuple[str, ...]) -> str:
    return "".join(f"/{part}" for part in path)


def _get(node: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _copy_path(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The parent mapping of ``path`` in ``body``, copied (and created) along the way."""
    node = body
    for part in path[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, Mapping) else {}
        node = node[part]
    return node


def current_form(record: str, body: Mapping[str, Any]) -> CurrentForm:
    """``body`` with every deprecated member of ``record`` moved to its current place."""
    result = dict(body)
    used: list[Rename] = []
    issues: list[Issue] = []
    for rename in (r for r in RENAMES if r.record == record):
        present, value = _get(result, rename.old)
        if not present:
            continue
        used.append(rename)
        already, current = _get(result, rename.new)
        if already and current != value:
            issues.append(
                Issue(
                    _pointer(rename.old),
                    MISMATCH,
                    f"{_pointer(rename.old)} (deprecated) says {value!r} but {_pointer(rename.new)} says"
                    f" {current!r}",
                )
            )
            continue
        _copy_path(result, rename.new)[rename.new[-1]] = value
        del _copy_path(result, rename.old)[rename.old[-1]]
    return CurrentForm(result, used, issues)
