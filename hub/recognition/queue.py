"""A region's review queue as its operators read it (the console): the open recognitions asked of
the region, filtered, ordered and paged, and the recognitions a region may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from hub.recognition.models import Recognition
from hub.recognition.repository import QUEUE_ORDERS, RecognitionRepository
from hub.recognition.service import OPEN

PURPOSES = ("ets-compliance", "voluntary-neutralization", "points-exchange", "charitable-retirement")
ORDERS = tuple(QUEUE_ORDERS)


@dataclass(frozen=True)
class QueuePage:
    items: list[Recognition]
    more: bool  # a next page exists


class ReviewQueue:
    def __init__(self, session: Session, region: str) -> None:
        self.repository = RecognitionRepository(session)
        self.region = region

    def origins(self) -> list[str]:
        """The platforms that asked this region for a recognition."""
        return self.repository.origins_toward(self.region)

    def page(
        self,
        *,
        origin: str | None,
        purpose: str | None,
        status: str | None,
        order: str,
        number: int,
        size: int,
    ) -> QueuePage:
        """Page ``number`` (from 1) of ``size`` open recognitions; a filter left empty takes all,
        an unknown order is the oldest first."""
        found = self.repository.toward(
            self.region,
            [status] if status else OPEN,
            origin=origin,
            purpose=purpose,
            order=order if order in QUEUE_ORDERS else "oldest",
            offset=(number - 1) * size,
            limit=size + 1,
        )
        return QueuePage(list(found[:size]), len(found) > size)

    def visible(self, recognition_id: str) -> Recognition | None:
        """The recognition when this region asked it or was asked it; None otherwise."""
        item = self.repository.get(recognition_id)
        return item if item is not None and self.region in (item.destination, item.origin) else None
