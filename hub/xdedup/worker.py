"""The claim puller: pulls each active peer's claim feed every ``claims_pull_interval`` seconds.

Per peer, a cursor row (``peer_claim_cursor``) says how far its feed is stored and when to pull
next; a round leases the due peers (their next pull pushed an interval ahead, committed), then
asks each for the claims after its cursor with a signed hub-to-hub request, page after page while
pages come full, and stores each page with the cursor's advance in one transaction
(``ClaimIntake``). A refused page (its code and why kept on the cursor row, a warning logged) and
an unreachable peer are asked again later with exponential backoff; nothing is skipped. Suspended
and removed peers are not pulled (and their answers, should a pull be under way, not stored).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from hub.database import Database
from hub.dates import aware
from hub.keystore import KeyStore
from hub.outbox import backoff
from hub.peering.client import PeerCallFailed, answer_of
from hub.peering.models import PeerStatus
from hub.peering.repository import PeerRepository
from hub.peering.requests import HUB_SIGNATURE_HEADER, sign_hub_request
from hub.settings import Settings
from hub.xdedup.endpoints import FEED_PATH
from hub.xdedup.intake import ClaimIntake, FeedRefused, Fetched
from hub.xdedup.models import PeerClaimCursor
from hub.xdedup.repository import FeedRepository
from schemas.canonical import canonicalize

log = logging.getLogger("puhui.peers")
MAX_BACKOFF = 3600.0
PAGE = 500
PAGES_PER_ROUND = 20


@dataclass(frozen=True)
class Target:
    origin: str
    base_url: str
    after: tuple[int, int]
    failures: int


class ClaimPuller:
    def __init__(
        self,
        database: Database,
        keystore: KeyStore,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        page: int = PAGE,
    ) -> None:
        self.database = database
        self.keystore = keystore
        self.settings = settings
        self.transport = transport
        self.page = page

    def _due(self, now: datetime) -> list[Target]:
        """The active peers whose pull is due, leased until the next interval."""
        lease = now + timedelta(seconds=self.settings.claims_pull_interval)
        due = []
        with self.database.unit_of_work() as session:
            feeds = FeedRepository(session)
            for peer in PeerRepository(session).listing():
                if peer.status != PeerStatus.ACTIVE:
                    continue  # suspended (or removed): neither pulled nor served
                cursor = feeds.cursor(peer.origin, for_update=True) or feeds.add_cursor(
                    PeerClaimCursor(peer_origin=peer.origin, next_pull_at=now)
                )
                if aware(cursor.next_pull_at) > now:
                    continue
                cursor.next_pull_at = lease
                session.add(cursor)
                due.append(
                    Target(peer.origin, peer.base_url, (cursor.log_index, cursor.position), cursor.failures)
                )
        return due

    def _fetch(self, target: Target, after: tuple[int, int]) -> Fetched:
        base = target.base_url.rstrip("/")
        path = httpx.URL(base).path.rstrip("/") + FEED_PATH
        body = {
            "after": None if after < (0, 0) else {"log_index": after[0], "position": after[1]},
            "limit": self.page,
        }
        jti = str(uuid.uuid4())
        signature = sign_hub_request(
            body, self.keystore, issuer=self.settings.log_origin, audience=target.origin,
            method="POST", path=path, jti=jti,
        )  # fmt: skip
        with httpx.Client(
            base_url=base, transport=self.transport, timeout=self.settings.webhook_timeout
        ) as http:
            try:
                response = http.post(
                    FEED_PATH,
                    content=canonicalize(body),
                    headers={"content-type": "application/json", HUB_SIGNATURE_HEADER: signature},
                )
            except httpx.HTTPError as exc:
                raise PeerCallFailed(
                    f"{target.origin} unreachable: {exc!r}", status=None, retryable=True
                ) from exc
        if not response.is_success:
            answer_of(response, target.origin)  # raises PeerCallFailed with the peer's problem
        return Fetched(
            target.origin, after, jti, path, response.content, response.headers.get(HUB_SIGNATURE_HEADER)
        )

    def _failed(self, target: Target, code: str | None, error: str, now: datetime) -> None:
        with self.database.unit_of_work() as session:
            cursor = FeedRepository(session).cursor(target.origin, for_update=True)
            if cursor is None:
                return
            cursor.failures += 1
            cursor.last_code, cursor.last_error = code, error[:1000]
            wait = backoff(self.settings.claims_pull_interval, cursor.failures, MAX_BACKOFF)
            cursor.next_pull_at = now + timedelta(seconds=wait)
            session.add(cursor)
        log.warning("claim feed of %s not stored (%s): %s", target.origin, code or "unreachable", error)

    def _pull(self, target: Target, now: datetime) -> int:
        after, stored = target.after, 0
        for _ in range(PAGES_PER_ROUND):
            try:
                fetched = self._fetch(target, after)
                with self.database.unit_of_work() as session:
                    page = ClaimIntake(session, self.settings).store(fetched)
            except PeerCallFailed as exc:
                code = exc.problem.get("code") if isinstance(exc.problem, dict) else None
                self._failed(target, code, str(exc), now)
                return stored
            except FeedRefused as exc:
                self._failed(target, exc.code, exc.detail, now)
                return stored
            stored += page.claims
            if not page.more:
                break
            with self.database.unit_of_work() as session:
                cursor = FeedRepository(session).cursor(target.origin)
                if cursor is None:
                    break
                after = (cursor.log_index, cursor.position)
        return stored

    def run_once(self, now: datetime | None = None) -> int:
        """Pull every due peer once; how many claims were stored."""
        moment = now or datetime.now(UTC)
        return sum(self._pull(target, moment) for target in self._due(moment))
