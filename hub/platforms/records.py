"""A platform as an exchange record (schema ``platform``)."""

from __future__ import annotations

from typing import Any

from hub.platforms.models import Platform


def platform_record(platform: Platform) -> dict[str, Any]:
    """The ``platform`` exchange record of a stored platform."""
    record: dict[str, Any] = {
        "code": platform.code,
        "name": platform.name,
        "name_zh": platform.name_zh,
        "region": platform.region,
        "kind": str(platform.kind),
        "api_base_url": platform.api_base_url,
        "jwks": platform.jwks,
        "scopes": list(platform.scopes),
        "status": str(platform.status),
        "demonstration": platform.demonstration,
    }
    if platform.webhook_url:
        record["webhook_url"] = platform.webhook_url
    if platform.grams_per_point is not None:
        record["points"] = {"grams_per_point": platform.grams_per_point}
    elif platform.points_note:
        record["points"] = {"convertible": False, "reason": platform.points_note}
    return record
