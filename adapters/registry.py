"""Adapters are found through the ``puhui.adapters`` entry-point group: a new region is a new
package that registers ``CODE = "package.module:adapter"``, not a change to the hub."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from adapters.contract import RegionAdapter

ENTRY_POINT_GROUP = "puhui.adapters"


class UnknownAdapter(LookupError):
    """No adapter is registered for that registry code."""


class AdapterMisregistered(RuntimeError):
    """An entry point does not lead to an adapter of the code it is registered under."""


@cache
def available() -> dict[str, RegionAdapter]:
    """Every registered adapter by registry code, sorted by code."""
    found: dict[str, RegionAdapter] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        adapter = point.load()
        if not isinstance(adapter, RegionAdapter) or adapter.code != point.name:
            raise AdapterMisregistered(
                f"entry point {point.name} = {point.value} is not the {point.name} adapter"
            )
        found[point.name] = adapter
    return dict(sorted(found.items()))


def get(code: str) -> RegionAdapter:
    """The adapter of registry ``code``; :class:`UnknownAdapter` when none is registered."""
    try:
        return available()[code]
    except KeyError:
        raise UnknownAdapter(f"no adapter is registered for {code}") from None
