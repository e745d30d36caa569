"""Every query on platforms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from hub.platforms.models import KeyOverride, Platform


class PlatformRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str, *, for_update: bool = False) -> Platform | None:
        """One platform; ``for_update`` locks its row (PostgreSQL; SQLite writes are serialized)."""
        if for_update:
            return self.session.get(Platform, code, with_for_update=True, populate_existing=True)
        return self.session.get(Platform, code)

    def by_codes(self, codes: Iterable[str]) -> Sequence[Platform]:
        """The platforms among ``codes`` that exist (no order)."""
        return self.session.exec(select(Platform).where(col(Platform.code).in_(sorted(codes)))).all()

    def region_of(self, code: str) -> str | None:
        return self.session.exec(select(Platform.region).where(Platform.code == code)).first()

    def codes_in_region(self, region: str) -> Sequence[str]:
        return self.session.exec(select(Platform.code).where(Platform.region == region)).all()

    def list(self) -> Sequence[Platform]:
        return self.session.exec(select(Platform).order_by(col(Platform.code))).all()

    def count(self) -> int:
        return int(self.session.exec(select(func.count()).select_from(Platform)).one())

    def add(self, platform: Platform) -> Platform:
        self.session.add(platform)
        self.session.flush()
        return platform

    # key overrides
    def add_override(self, override: KeyOverride) -> KeyOverride:
        self.session.add(override)
        self.session.flush()
        return override

    def override(self, code: str, override_id: str, *, for_update: bool = False) -> KeyOverride | None:
        found = self.session.get(
            KeyOverride, override_id, with_for_update=for_update or None, populate_existing=for_update
        )
        return found if found is not None and found.platform_code == code else None

    def overrides(self, code: str) -> Sequence[KeyOverride]:
        query = select(KeyOverride).where(KeyOverride.platform_code == code)
        return self.session.exec(query.order_by(col(KeyOverride.proposed_at).desc())).all()
