"""Registering and reading platforms."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from hub.platforms.models import Platform, PlatformCreate
from hub.platforms.records import platform_record
from hub.platforms.repository import PlatformRepository
from hub.problems import Conflict, NotFound, SchemaViolation
from schemas import validate


class PlatformService:
    def __init__(self, session: Session) -> None:
        self.platforms = PlatformRepository(session)

    def register(self, data: PlatformCreate) -> Platform:
        """Add a platform; its record must be a valid ``platform`` exchange record."""
        if self.platforms.get(data.code) is not None:
            raise Conflict(f"platform {data.code} is already registered", code="2001")
        platform = Platform.model_validate(data.model_dump())
        issues = validate("platform", platform_record(platform))
        if issues:
            raise SchemaViolation(
                f"platform {data.code} is not a valid platform record", code="1002", errors=issues
            )
        return self.platforms.add(platform)

    def get(self, code: str) -> Platform:
        platform = self.platforms.get(code)
        if platform is None:
            raise NotFound(f"no platform {code}", code="2002")
        return platform

    def list(self) -> Sequence[Platform]:
        return self.platforms.list()

    def is_empty(self) -> bool:
        return self.platforms.count() == 0
