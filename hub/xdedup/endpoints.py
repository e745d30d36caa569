"""The claim feed (``POST /federation/v1/claims:feed``): called by peered hubs only, with a
signed hub-to-hub request (an unregistered, removed or suspended hub is refused by
``hub.peering.requests``). The answer is signed too — a detached JWS in ``Puhui-Hub-Signature``
with this hub as ``iss``, the caller as ``aud`` and the request's ``jti``, ``htm`` and ``htu`` —
so the caller stores only claims this hub sent in answer to its request."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hub.auth.actors import CurrentActor, enforce
from hub.auth.policy import may_manage_peers
from hub.dates import aware
from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.peering.repository import PeerRepository
from hub.peering.requests import HUB_SIGNATURE_HEADER, PeerRequestDep, sign_hub_request
from hub.xdedup.feed import feed_page
from hub.xdedup.public import ClaimFeedStatus, FeedAnswer, FeedCursor, FeedRequest
from hub.xdedup.repository import FeedRepository
from schemas.canonical import canonicalize

router = APIRouter(prefix="/federation/v1", tags=["federation"])
status_router = APIRouter(prefix="/v1", tags=["peering"])
FEED_PATH = "/federation/v1/claims:feed"


@router.post(
    "/claims:feed",
    response_model=FeedAnswer,
    summary="This hub's claims (project fingerprints and periods, pseudonymous activities) after a cursor",
    responses={
        200: {
            "headers": {
                HUB_SIGNATURE_HEADER: {
                    "description": "This hub's signature of the answer.",
                    "schema": {"type": "string"},
                }
            }
        }
    },
)
def claims_feed(
    body: FeedRequest, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep,
    received: PeerRequestDep,
) -> Response:  # fmt: skip
    answer = feed_page(session, settings, body.after, body.limit).model_dump(mode="json")
    signature = sign_hub_request(
        answer,
        keystore,
        issuer=settings.log_origin,
        audience=received.origin,
        method=received.header["htm"],
        path=received.header["htu"],
        jti=received.jti,
    )
    return Response(
        canonicalize(answer), media_type="application/json", headers={HUB_SIGNATURE_HEADER: signature}
    )


@status_router.get(
    "/claim-feeds", summary="The peers' claim feeds this hub pulls: how far, how the last pull went"
)
def claim_feeds(session: SessionDep, actor: CurrentActor) -> list[ClaimFeedStatus]:
    enforce(may_manage_peers(actor))
    feeds, peers = FeedRepository(session), PeerRepository(session)
    found = []
    for cursor in feeds.cursors():
        peer = peers.by_origin(cursor.peer_origin)
        issuances, activities = feeds.peer_claim_counts(cursor.peer_origin)
        after = None
        if cursor.log_index >= 0:
            after = FeedCursor(log_index=cursor.log_index, position=cursor.position)
        found.append(
            ClaimFeedStatus(
                peer=cursor.peer_origin,
                peer_status=peer.status if peer else None,
                after=after,
                claims=cursor.claims,
                issuance_claims=issuances,
                activity_claims=activities,
                failures=cursor.failures,
                last_code=cursor.last_code,
                last_error=cursor.last_error,
                next_pull_at=aware(cursor.next_pull_at),
            )
        )
    return found
