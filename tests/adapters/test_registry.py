"""Adapters are found through the ``puhui.adapters`` entry-point group."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from adapters import registry
from adapters.registry import AdapterMisregistered, UnknownAdapter, available, get


def test_the_five_entry_points_lead_to_their_adapters() -> None:
    assert list(available()) == ["AH", "CCER", "JS", "SH", "ZJ"]
    assert get("SH").name_zh == "上海碳普惠平台"


def test_an_unknown_code_is_a_lookup_error() -> None:
    with pytest.raises(UnknownAdapter, match="GD"):
        get("GD")


def test_an_entry_point_under_the_wrong_code_is_refused(monkeypatch) -> None:
    wrong = EntryPoint(name="GD", value="adapters.shanghai:adapter", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [wrong])
    registry.available.cache_clear()
    try:
        with pytest.raises(AdapterMisregistered, match="GD"):
            registry.available()
    finally:
        monkeypatch.undo()
        registry.available.cache_clear()


def test_describe_lists_formats_and_units() -> None:
    described = get("ZJ").describe()  # type: ignore[attr-defined]
    assert described["units"] == {
        "credit_unit": None,
        "personal_unit": "积分 (1 point = 1 gCO2e)",
        "grams_per_point": 1,
        "points_convertible": True,
    }
    assert described["media_types"][0] == "application/x-ndjson"
    assert described["local_methodologies"]["ZJ-METRO"] == "TRANSIT-METRO"
