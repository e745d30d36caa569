"""The claim feed (``POST /federation/v1/claims:feed``): called by peered hubs only, with a
signed hub-to-hub request (an unregistered, removed or suspended hub is refused by
``hub.peering.requests``). The answer is signed too — a detached JWS in ``Puhui-Hub-Signature``
with this hub as ``iss``, the caller as ``aud`` and the request's ``jti``, ``htm`` and ``htu`` —
so the caller stores only claims this hub sent in answer to its request."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.peering.requests import HUB_SIGNATURE_HEADER, PeerRequestDep, sign_hub_request
from hub.xdedup.feed import feed_page
from hub.xdedup.public import FeedAnswer, FeedRequest
from schemas.canonical import canonicalize

router = APIRouter(prefix="/federation/v1", tags=["federation"])
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
