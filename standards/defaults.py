"""The default Yangtze River Delta ruleset shipped as data (demonstration values, not policy).

Version 1 (``yrd-default-ruleset.json``) and a version 2 that differs readably
(``yrd-default-ruleset-v2.json``, for the demo's diff). Both validate against the ``ruleset``
schema and the shipped catalogue; every factor cites its source in ``sources``.
"""

from __future__ import annotations

from typing import Any

from standards.catalogue import load_catalogue, read_data
from standards.rulesets import Ruleset

DEFAULT_RULESET_FILES: dict[int, str] = {
    1: "yrd-default-ruleset.json",
    2: "yrd-default-ruleset-v2.json",
}


def default_ruleset_payload(version: int = 1) -> dict[str, Any]:
    """A fresh copy of the shipped default ruleset payload ``version`` (1 or 2)."""
    try:
        name = DEFAULT_RULESET_FILES[version]
    except KeyError:
        raise ValueError(f"no default ruleset version {version}") from None
    payload: dict[str, Any] = read_data(name)
    return payload


def default_ruleset(version: int = 1) -> Ruleset:
    """The shipped default ruleset ``version``, parsed and checked against the catalogue."""
    return Ruleset.from_payload(default_ruleset_payload(version), load_catalogue())
