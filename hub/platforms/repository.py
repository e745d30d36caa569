"""Every query on platforms."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from hub.platforms.models import Platform


class PlatformRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> Platform | None:
        return self.session.get(Platform, code)

    def list(self) -> Sequence[Platform]:
        return self.session.exec(select(Platform).order_by(col(Platform.code))).all()

    def count(self) -> int:
        return int(self.session.exec(select(func.count()).select_from(Platform)).one())

    def add(self, platform: Platform) -> Platform:
        self.session.add(platform)
        self.session.flush()
        return platform
