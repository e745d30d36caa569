"""Checking the serials a request names (recognition, retirement): the block exists in that
namespace, every block check of ``mutual_recognition.checks``, and no clash with serials that
``others`` says are taken."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlmodel import Session

from hub.registry.models import CreditBlock
from mutual_recognition.checks import CheckOutcome, block_checks, not_recognized_already
from mutual_recognition.serials import SerialRange
from schemas.validation import Issue

Taken = Callable[[str, SerialRange], list[SerialRange]]


def check_requested(
    session: Session, sender: str, items: Iterable[Mapping[str, Any]], taken: Taken
) -> tuple[list[Issue], list[CheckOutcome], list[tuple[CreditBlock, SerialRange]]]:
    """Issues (with pointers into ``/blocks``), every outcome, and the (block, serials) pairs."""
    issues: list[Issue] = []
    outcomes: list[CheckOutcome] = []
    plan: list[tuple[CreditBlock, SerialRange]] = []
    for position, item in enumerate(items):
        requested = SerialRange(item["start"], item["end"], item.get("block_id", ""))
        block = session.get(CreditBlock, item.get("block_id", ""))
        if block is None or block.serial_namespace != item["namespace"]:
            issues.append(
                Issue(
                    f"/blocks/{position}/block_id", "3020", f"{sender} holds no block {item.get('block_id')}"
                )
            )
            continue
        whole = SerialRange(block.serial_start, block.serial_end, block.block_id)
        found = block_checks(block.block_id, block.status, block.current_registry, sender, requested, whole)
        found.append(not_recognized_already(requested, taken(block.serial_namespace, requested)))
        outcomes += found
        issues += [Issue(f"/blocks/{position}", o.code, o.detail) for o in found if not o.passed]
        plan.append((block, requested))
    return issues, outcomes, plan
