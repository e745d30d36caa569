"""The automated checks of a recognition (and, later, a transfer), one small pure function each.

Each returns a :class:`CheckOutcome` — the code, whether it passed, and a sentence for people —
so that decision records list every check, passed or not. Codes: ``docs/check-codes.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

FINAL = frozenset({"retired", "cancelled"})


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    code: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "passed": self.passed, "detail": self.detail}


def _outcome(code: str, passed: bool, yes: str, no: str) -> CheckOutcome:
    return CheckOutcome(code, passed, yes if passed else no)


def held_by_sender(block_id: str, current_registry: str, sender: str) -> CheckOutcome:
    """3020: the block is held in the sender's registry (EU 7027)."""
    return _outcome(
        "3020",
        current_registry == sender,
        f"{block_id} is held by {sender}",
        f"{block_id} is held by {current_registry}, not {sender}",
    )


def not_retired_or_cancelled(block_id: str, status: str) -> CheckOutcome:
    """3021: retired and cancelled units never move or count again (ITL)."""
    return _outcome("3021", status not in FINAL, f"{block_id} is {status}", f"{block_id} is {status}: final")


def not_exported(block_id: str, status: str) -> CheckOutcome:
    """3022: an exported block left its origin for good."""
    return _outcome("3022", status != "exported", f"{block_id} is not exported", f"{block_id} was exported")


def not_encumbered(block_id: str, status: str) -> CheckOutcome:
    """3023: a pledged block cannot be used until released."""
    return _outcome(
        "3023", status != "encumbered", f"{block_id} is not pledged", f"{block_id} is pledged (质押)"
    )


def not_locked(block_id: str, status: str) -> CheckOutcome:
    """3024: a block locked for a pending transfer cannot be used meanwhile."""
    return _outcome(
        "3024", status != "locked", f"{block_id} is not locked", f"{block_id} is locked by a pending transfer"
    )


def registries_differ(origin: str, destination: str) -> CheckOutcome:
    """5011: recognition is between two registries."""
    return _outcome(
        "5011",
        origin != destination,
        f"{origin} -> {destination}",
        f"{origin} cannot recognize its own credits",
    )


def block_checks(block_id: str, status: str, current_registry: str, sender: str) -> list[CheckOutcome]:
    """Every block-level check of one requested part, in a stable order (that the serials lie in
    the block is settled before, when the request's parts are normalized)."""
    return [
        held_by_sender(block_id, current_registry, sender),
        not_retired_or_cancelled(block_id, status),
        not_exported(block_id, status),
        not_encumbered(block_id, status),
        not_locked(block_id, status),
    ]
