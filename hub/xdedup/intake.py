"""Storing a page of a peer's claim feed, in one transaction with the advance of its cursor.

Nothing of a page is stored unless all of it passes: the answer is signed by the peer this hub
asked, for this very request (its ``jti``, method and path), by a peer still active here; it
validates (``FeedAnswer``), names the peer as its origin and continues the cursor (claims strictly
after the one asked after, in order, ``next`` the last); the peer pseudonymizes with the same
federation key (4012); and every claim names a registry the peer's registration says it serves and
this hub does not (4010). A peer's claim is stored under ``@<peer origin>/<its id>`` (never a local
id, so a peer cannot overwrite a local claim or another peer's), once (a claim already stored is
skipped), with the peer's registry code, so the registry's checks refuse a local ingest that
collides with it (4001, 4002) and name the hub.

A claim that collides with a claim already stored here — both hubs accepted before they synced —
is recorded, not dropped: a ``dedup.cross_hub_conflict`` change in the log (code 4013 for a
project, 4014 for a personal activity) naming both registries, both claims and the hub, sent to
the local registry's platform as an event, and a warning in the hub's log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from hub.dates import aware
from hub.log.changes import record_change
from hub.peering.models import HubPeer, PeerStatus
from hub.peering.repository import PeerRepository
from hub.peering.requests import verify_hub_request
from hub.problems import HubError
from hub.registry.dedup import PEER_PREFIX, peer_id
from hub.registry.repository import RegistryRepository
from hub.settings import Settings
from hub.xdedup.feed import key_check
from hub.xdedup.public import ActivityFeedClaim, FeedAnswer, FeedCursor, IssuanceFeedClaim
from hub.xdedup.repository import FeedRepository
from mutual_recognition.dedup import Activity, Issuance, double_issuances, personal_duplicates

log = logging.getLogger("puhui.peers")
CONFLICT = "dedup.cross_hub_conflict"


class FeedRefused(Exception):
    """A page of a peer's feed that is not stored (nothing of it is): its check code and why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Fetched:
    """A feed answer as received: the request it answers and the raw bytes and signature."""

    peer_origin: str
    after: tuple[int, int]
    jti: str
    path: str
    content: bytes
    signature: str | None


@dataclass(frozen=True)
class Stored:
    claims: int
    conflicts: int
    more: bool


def _actor(origin: str) -> str:
    return f"hub:{origin}"[:64]


class ClaimIntake:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.feed = FeedRepository(session)
        self.registry = RegistryRepository(session)
        self.peers = PeerRepository(session)

    def store(self, fetched: Fetched) -> Stored:
        """Store the page (see the module); :class:`FeedRefused` when nothing of it may be."""
        cursor = self.feed.cursor(fetched.peer_origin, for_update=True)
        if cursor is None or (cursor.log_index, cursor.position) != fetched.after:
            return Stored(0, 0, False)  # another process stored a page meanwhile: ask again later
        peer = self.peers.by_origin(fetched.peer_origin)
        if peer is None or peer.status != PeerStatus.ACTIVE:
            return Stored(0, 0, False)  # suspended or removed since it was asked: nothing stored
        answer = self._authentic(peer, fetched)
        self._continues(answer, fetched.after)
        if answer.key_check != key_check(self.settings):
            raise FeedRefused(
                "4012",
                f"{peer.origin} pseudonymizes with another federation key: its claims cannot be compared",
            )
        self._served(peer, answer)
        issuances = [c for c in answer.claims if isinstance(c, IssuanceFeedClaim)]
        activities = [c for c in answer.claims if isinstance(c, ActivityFeedClaim)]
        conflicts = self._issuances(peer, issuances) + self._activities(peer, activities)
        if answer.next is not None:
            cursor.log_index, cursor.position = answer.next.key()
        cursor.claims += len(answer.claims)
        cursor.failures, cursor.last_code, cursor.last_error = 0, None, None
        self.session.add(cursor)
        return Stored(len(answer.claims), conflicts, answer.more and bool(answer.claims))

    # -- what the answer must be ---------------------------------------------------------------

    def _authentic(self, peer: HubPeer, fetched: Fetched) -> FeedAnswer:
        try:
            verified = verify_hub_request(
                self.session, self.settings, method="POST", path=fetched.path,
                body=fetched.content, token=fetched.signature,
            )  # fmt: skip
        except HubError as exc:
            raise FeedRefused(exc.code or "1011", f"the answer's signature: {exc.detail}") from exc
        if verified.peer.origin != peer.origin or verified.jti != fetched.jti:
            raise FeedRefused(
                "1019", f"the answer is signed by {verified.peer.origin} for request {verified.jti}"
            )
        try:
            answer = FeedAnswer.model_validate(verified.body)
        except ValidationError as exc:
            first = exc.errors()[0]
            pointer = "/" + "/".join(str(part) for part in first["loc"])
            raise FeedRefused("4011", f"not a claim feed answer: {pointer}: {first['msg']}") from exc
        if answer.origin != peer.origin:
            raise FeedRefused("4011", f"the answer names {answer.origin}, not {peer.origin}")
        return answer

    @staticmethod
    def _continues(answer: FeedAnswer, after: tuple[int, int]) -> None:
        previous = after
        for position, claim in enumerate(answer.claims):
            key = (claim.log_index, claim.position)
            if key <= previous:
                raise FeedRefused(
                    "4011", f"/claims/{position}: {key} does not follow {previous} (the feed runs forward)"
                )
            previous = key
        expected = FeedCursor(log_index=previous[0], position=previous[1]) if answer.claims else None
        if answer.claims and answer.next != expected:
            raise FeedRefused("4011", "/next is not the last claim served")
        if not answer.claims and answer.next is not None and answer.next.key() != after:
            raise FeedRefused("4011", "/next moves without a claim")

    def _served(self, peer: HubPeer, answer: FeedAnswer) -> None:
        local = set(self.peers.local_registries())
        for position, claim in enumerate(answer.claims):
            if claim.registry in local or claim.registry not in peer.registries:
                whose = "this hub's" if claim.registry in local else "not one the peering names"
                raise FeedRefused(
                    "4010",
                    f"/claims/{position}/registry: {peer.origin} claims for {claim.registry},"
                    f" {whose} (it serves {', '.join(peer.registries) or 'none'})",
                )

    # -- storing and comparing -----------------------------------------------------------------

    def _issuances(self, peer: HubPeer, claims: Sequence[IssuanceFeedClaim]) -> int:
        if not claims:
            return 0
        fresh: dict[str, IssuanceFeedClaim] = {}
        for claim in claims:
            fresh.setdefault(peer_id(peer.origin, claim.block_id), claim)
        for stored in self.feed.stored_issuances(list(fresh)):
            del fresh[stored]
        if not fresh:
            return 0
        # the same locks as an ingest's check: a local ingest of the project waits, then sees these
        self.registry.lock_fingerprints(claim.fingerprint for claim in fresh.values())
        self.registry.insert_issuance_claims(
            [
                (ref, c.registry, c.fingerprint, c.period.start, c.period.end)
                for ref, c in sorted(fresh.items())
            ]
        )
        new = [
            Issuance(c.registry, c.fingerprint, c.period.start, c.period.end, c.block_id)
            for c in fresh.values()
        ]
        local: list[Issuance] = []
        for issuance in new:
            local += [
                Issuance(*row)
                for row in self.registry.issuance_candidates(
                    issuance.fingerprint, issuance.registry, issuance.start, issuance.end
                )
                if not row[4].startswith(PEER_PREFIX)
            ]
        found = double_issuances(new, local)
        for theirs, mine in found:
            self._conflict(
                peer,
                "4013",
                ("credit-block", mine.ref),
                mine.registry,
                {
                    "fingerprint": mine.fingerprint,
                    "local": {"registry": mine.registry, "block_id": mine.ref, "period": _period(mine)},
                    "peer": {
                        "hub": peer.origin,
                        "registry": theirs.registry,
                        "block_id": theirs.ref,
                        "period": _period(theirs),
                    },
                },
            )
        return len(found)

    def _activities(self, peer: HubPeer, claims: Sequence[ActivityFeedClaim]) -> int:
        if not claims:
            return 0
        fresh: dict[tuple[str, str], ActivityFeedClaim] = {}
        for claim in claims:
            fresh.setdefault((peer_id(peer.origin, claim.batch_id), claim.record_id), claim)
        for stored in self.feed.stored_activities([batch for batch, _ in fresh]):
            fresh.pop(stored, None)
        if not fresh:
            return 0
        self.registry.insert_activities(
            [
                {
                    "platform": c.registry, "batch_id": batch, "record_id": record, "subject": c.subject,
                    "scenario": c.scenario, "window_start": c.window.start.astimezone(UTC),
                    "window_end": c.window.end.astimezone(UTC),
                    "trip_id": c.trip_id,
                }
                for (batch, record), c in sorted(fresh.items())
            ]
        )  # fmt: skip
        new = [
            Activity(
                c.registry, c.subject, c.scenario, c.window.start, c.window.end, c.trip_id,
                f"{c.batch_id}/{c.record_id}",
            )
            for c in fresh.values()
        ]  # fmt: skip
        subjects = sorted({a.subject for a in new})
        local = [
            Activity(
                r.platform, r.subject, r.scenario, aware(r.window_start), aware(r.window_end), r.trip_id,
                f"{r.batch_id}/{r.record_id}",
            )
            for r in self.registry.activities_of(subjects)
            if not r.batch_id.startswith(PEER_PREFIX)
        ]  # fmt: skip
        found = personal_duplicates(new, local)
        for theirs, mine in found:
            batch_id, record_id = mine.ref.split("/", 1)
            self._conflict(
                peer,
                "4014",
                ("personal-reduction-batch", batch_id),
                mine.platform,
                {
                    "subject": mine.subject,
                    "scenario": mine.scenario,
                    "local": {"registry": mine.platform, "batch_id": batch_id, "record_id": record_id},
                    "peer": {"hub": peer.origin, "registry": theirs.platform, "record": theirs.ref},
                },
            )
        return len(found)

    def _conflict(
        self, peer: HubPeer, code: str, subject: tuple[str, str], registry: str, data: dict[str, Any]
    ) -> None:
        log.warning(
            "cross-hub duplicate (%s): %s %s of %s also claimed at hub %s: %s",
            code, subject[0], subject[1], registry, peer.origin, data["peer"],
        )  # fmt: skip
        record_change(
            self.session,
            CONFLICT,
            subject=subject,
            actor=_actor(peer.origin),
            platforms=[registry],
            data={"code": code, **data},
        )


def _period(claim: Issuance) -> dict[str, str]:
    return {"start": claim.start.isoformat(), "end": claim.end.isoformat()}
