"""Helpers over whole payloads and exchange records that the region adapters share: batch checks
(duplicates, overlapping serials), labels, methodology codes, China-time dates and places."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from adapters.contract import RenderError
from adapters.fields import CHINA, IDENTIFIER, Collector
from standards.catalogue import load_catalogue
from standards.errors import CatalogueError


def local_methodologies(registry: str) -> dict[str, str]:
    """Every local code of ``registry`` → its catalogue id."""
    return {
        code.code: entry.catalogue_id
        for entry in load_catalogue().entries(registry)
        for code in entry.codes_for(registry)
    }


def day_window(day: str) -> dict[str, str]:
    """The half-open window of one calendar day in China time."""
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), CHINA)
    return {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}


def china_time(value: str) -> datetime:
    """An exchange date-time as an aware datetime in China time."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(CHINA)


def check_duplicates(items: Iterable[tuple[str, Any]], field: str, errors: Collector, what: str) -> None:
    """3007 for each record whose key repeats an earlier record's."""
    seen: dict[Any, str] = {}
    for label, key in items:
        if key is None:
            continue
        if key in seen:
            errors.add(label, field, f"the same {what} as {seen[key]}", "3007")
        else:
            seen[key] = label


def check_serial_overlaps(
    blocks: Iterable[tuple[str, dict[str, Any]]], field: str, errors: Collector
) -> None:
    """3008 for each block whose serials overlap an earlier block's in the same namespace."""
    blocks = list(blocks)
    if _ordered_apart(blocks):
        return  # already in (namespace, first serial) order, none reaching the next: no overlap
    ordered = sorted(blocks, key=lambda item: (item[1]["serial_namespace"], item[1]["serial_start"]))
    reach: tuple[str, int, str] | None = None  # namespace, highest end so far, its label
    for label, block in ordered:
        namespace, start, end = block["serial_namespace"], block["serial_start"], block["serial_end"]
        if reach is not None and reach[0] == namespace and start <= reach[1]:
            errors.add(label, field, f"serials {start}-{end} overlap those of {reach[2]}", "3008")
        if reach is None or reach[0] != namespace or end > reach[1]:
            reach = (namespace, end, label)


def _ordered_apart(blocks: list[tuple[str, dict[str, Any]]]) -> bool:
    """True when the blocks come in non-decreasing (namespace, first serial) order and each
    starts after every earlier block of its namespace ends: the (stable) sorted order is then
    this order and the pass of ``check_serial_overlaps`` finds nothing (one pass, no sort)."""
    started, namespace, first, reach = False, None, None, None
    try:
        for _, block in blocks:
            current, start, end = block["serial_namespace"], block["serial_start"], block["serial_end"]
            if started and current == namespace:
                if not (start >= first and start > reach):
                    return False
                if end > reach:
                    reach = end
            elif not started or current > namespace:
                started, namespace, reach = True, current, end
            else:
                return False
            first = start
    except TypeError:  # values the sort may refuse: the exact path answers
        return False
    return True


def label_of(item: Any, id_field: str, fallback: str) -> str:
    """The local id of a record when it has a usable one, else its position."""
    value = item.get(id_field) if isinstance(item, Mapping) else None
    return value.strip() if isinstance(value, str) and IDENTIFIER.match(value.strip()) else fallback


def items_of(container: Any, field: str, errors: Collector, record: str = "payload") -> list[Any]:
    """The list ``container[field]`` (absent: empty); 1043 when it is not a list."""
    value = container.get(field) if isinstance(container, Mapping) else None
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(record, field, "must be a list", "1043")
        return []
    return value


def division_code(location: Mapping[str, str]) -> str:
    """The most precise GB/T 2260 code of an exchange location."""
    return location.get("district") or location.get("city") or location["province"]


def local_code_for(methodology: Mapping[str, str], registry: str) -> str:
    """``registry``'s own code for a methodology ref (personal batches are credited in the
    destination's scenario); RenderError 5010 when the registry has none."""
    catalogue = load_catalogue()
    if catalogue.find(registry, methodology["local_code"]) == methodology["catalogue_id"]:
        return methodology["local_code"]
    try:
        return catalogue.reference(methodology["catalogue_id"], registry).local_code
    except CatalogueError as exc:
        raise RenderError(exc.code, exc.message) from exc


def credit_block(
    *,
    block_id: str | None,
    registries: tuple[str, str],
    serials: tuple[int | None, int | None],
    quantity: int | None,
    vintage: int | None,
    methodology: dict[str, str] | None,
    project_id: str | None,
    holder: str | None,
    status: str | None,
    period: tuple[str | None, str | None] = (None, None),
    **optional: Any,
) -> dict[str, Any]:
    """An exchange credit block from fields a region adapter has read and checked; ``registries``
    is (origin, current), the serials live in the origin's namespace, and ``optional`` members
    that are None are left out."""
    origin, current = registries
    block: dict[str, Any] = {
        "block_id": block_id,
        "origin_registry": origin,
        "current_registry": current,
        "serial_namespace": origin,
        "serial_start": serials[0],
        "serial_end": serials[1],
        "quantity": quantity,
        "unit": "tCO2e",
        "vintage": vintage,
        "methodology": methodology,
        "project": {"registry": origin, "project_id": project_id},
        "holder": {"registry": current, "account_id": holder},
        "status": status,
    }
    if period[0] is not None:
        block["monitoring_period"] = {"start": period[0], "end": period[1]}
    block.update({key: value for key, value in optional.items() if value is not None})
    return block
