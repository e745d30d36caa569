"""What changed between two versions of a ruleset, in sentences a person can read.

Equivalences are matched by what they connect (origin registry, methodology and local codes →
destination registry and methodology), purpose rules by (destination, purpose); within them the
factor, conditions, purposes, limits and notes are compared. Output order follows the documents,
so the same two rulesets always give the same diff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from standards.conditions import Condition
from standards.rational import Rational, format_share
from standards.rulesets import Equivalence, PurposeRule, Ruleset

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One change: its kind, what it is about, and the sentence describing it."""

    kind: Kind
    subject: str
    text: str

    def as_dict(self) -> dict[str, str]:
        """JSON form for ``GET /v1/rulesets/{id}/diff``."""
        return {"kind": self.kind, "subject": self.subject, "text": self.text}


def _ruleset(value: Ruleset | Mapping[str, Any]) -> Ruleset:
    return value if isinstance(value, Ruleset) else Ruleset.from_payload(value)


def _opt(value: object) -> str:
    return "(none)" if value is None else str(value)


def _field_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    changes: list[Change] = []
    fields: list[tuple[str, Callable[[Ruleset], object]]] = [
        ("ruleset_id", lambda r: r.ruleset_id),
        ("version", lambda r: r.version),
        ("supersedes", lambda r: r.supersedes),
        ("committee", lambda r: r.committee),
        ("effective_from", lambda r: r.effective_from.isoformat()),
        ("effective_until", lambda r: r.effective_until.isoformat() if r.effective_until else None),
        ("demonstration", lambda r: r.demonstration),
    ]
    for name, get in fields:
        before, after = get(old), get(new)
        if before != after:
            text = f"{name} {_opt(before)} -> {_opt(after)}"
            changes.append(Change("changed", name, text))
    return changes


def _condition_changes(old: Sequence[Condition], new: Sequence[Condition]) -> list[str]:
    lines: list[str] = []
    names = list(dict.fromkeys([c.name for c in old] + [c.name for c in new]))
    for name in names:
        before = [c for c in old if c.name == name]
        after = [c for c in new if c.name == name]
        if len(before) == 1 and len(after) == 1:
            if before[0] != after[0]:
                value = after[0].describe().removeprefix(name + " ")
                lines.append(f"{before[0].describe()} -> {value}")
            continue
        lines += [f"removed condition {c.describe()}" for c in before if c not in after]
        lines += [f"added condition {c.describe()}" for c in after if c not in before]
    return lines


def _list_changes(what: str, old: Iterable[str], new: Iterable[str]) -> list[str]:
    before, after = list(old), list(new)
    return [f"removed {what} {item}" for item in before if item not in after] + [
        f"added {what} {item}" for item in after if item not in before
    ]


def _equivalence_key(item: Equivalence) -> tuple[str, ...]:
    return (
        item.origin_registry,
        item.origin_catalogue_id,
        ",".join(item.origin_local_codes),
        item.destination_registry,
        item.destination_catalogue_id,
    )


def _summary(item: Equivalence) -> str:
    conditions = "; ".join(c.describe() for c in item.conditions) or "none"
    return f"factor {item.factor}; conditions: {conditions}; purposes: {', '.join(item.purposes)}"


def _equivalence_changes(old: Equivalence, new: Equivalence) -> list[str]:
    lines: list[str] = []
    if old.factor != new.factor:
        lines.append(f"factor {old.factor} -> {new.factor}")
    lines += _condition_changes(old.conditions, new.conditions)
    lines += _list_changes("purpose", old.purposes, new.purposes)
    if old.equivalence_id != new.equivalence_id:
        lines.append(f"equivalence_id {_opt(old.equivalence_id)} -> {_opt(new.equivalence_id)}")
    if old.note != new.note:
        lines.append(f"note {_opt(old.note)!r} -> {_opt(new.note)!r}")
    return lines


def _share(value: Rational | None) -> str:
    return "(none)" if value is None else format_share(value)


def _rule_changes(old: PurposeRule, new: PurposeRule) -> list[str]:
    lines = _list_changes("origin", old.accepted_origins, new.accepted_origins)
    for name in ("max_share_of_verified_emissions", "max_outside_region_share"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            lines.append(f"{name} {_share(before)} -> {_share(after)}")
    return lines


def _rule_summary(rule: PurposeRule) -> str:
    text = f"origins {', '.join(rule.accepted_origins)}"
    for name in ("max_share_of_verified_emissions", "max_outside_region_share"):
        value = getattr(rule, name)
        if value is not None:
            text += f"; {name} {format_share(value)}"
    return text


def diff_rulesets(old: Ruleset | Mapping[str, Any], new: Ruleset | Mapping[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new`` (rulesets or payloads), in document order."""
    before, after = _ruleset(old), _ruleset(new)
    changes = _field_changes(before, after)
    old_eq = {_equivalence_key(item): item for item in before.equivalences}
    new_eq = {_equivalence_key(item): item for item in after.equivalences}
    for key, item in old_eq.items():
        subject = f"equivalence {item.label}"
        if key not in new_eq:
            changes.append(Change("removed", subject, f"removed {subject} ({_summary(item)})"))
            continue
        for line in _equivalence_changes(item, new_eq[key]):
            changes.append(Change("changed", subject, f"{subject}: {line}"))
    for key, item in new_eq.items():
        if key not in old_eq:
            subject = f"equivalence {item.label}"
            changes.append(Change("added", subject, f"added {subject} ({_summary(item)})"))
    old_rules = {(r.destination, r.purpose): r for r in before.purpose_rules}
    new_rules = {(r.destination, r.purpose): r for r in after.purpose_rules}
    for key, rule in old_rules.items():
        subject = f"purpose rule {key[0]} {key[1]}"
        if key not in new_rules:
            changes.append(Change("removed", subject, f"removed {subject} ({_rule_summary(rule)})"))
            continue
        for line in _rule_changes(rule, new_rules[key]):
            changes.append(Change("changed", subject, f"{subject}: {line}"))
    for key, rule in new_rules.items():
        if key not in old_rules:
            subject = f"purpose rule {key[0]} {key[1]}"
            changes.append(Change("added", subject, f"added {subject} ({_rule_summary(rule)})"))
    for line in _list_changes("source", before.sources, after.sources):
        kind: Kind = "removed" if line.startswith("removed") else "added"
        changes.append(Change(kind, "sources", line))
    return changes


def diff_record(old: Ruleset | Mapping[str, Any], new: Ruleset | Mapping[str, Any]) -> dict[str, Any]:
    """The diff as JSON: both rulesets' refs and the list of changes."""
    before, after = _ruleset(old), _ruleset(new)
    return {
        "from": before.ref.as_dict(),
        "to": after.ref.as_dict(),
        "changes": [change.as_dict() for change in diff_rulesets(before, after)],
    }


def render_diff(old: Ruleset | Mapping[str, Any], new: Ruleset | Mapping[str, Any]) -> str:
    """The diff as text: a heading, then one line per change marked ``+``, ``-`` or ``~``."""
    before, after = _ruleset(old), _ruleset(new)
    changes = diff_rulesets(before, after)
    marks = {"added": "+", "removed": "-", "changed": "~"}
    head = (
        f"ruleset {before.ruleset_id} v{before.version} -> {after.ruleset_id} v{after.version}:"
        f" {len(changes)} change{'s' if len(changes) != 1 else ''}"
    )
    return "\n".join([head, *(f"  {marks[c.kind]} {c.text}" for c in changes)]) + "\n"
