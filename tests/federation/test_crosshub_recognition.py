"""Recognition across peered hubs: a Jiangsu credit (YRD hub) recognized for use in Guangdong (GD
hub) — forwarded signed and idempotent, checked by both, decided by the GD operator, its
certificate signed by the GD hub and countersigned by the YRD hub — and everything a hostile or
failing peer does to it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import KeySet
from sqlmodel import select

from hub.client import Refused
from hub.crosshub.models import PeerMessage
from hub.recognition.models import Recognition
from schemas.canonical import canonicalize
from tests.federation.two_hubs import Hub, TwoHubs, kunshan_for_guangdong

APPROVE = {"decision": "approve", "reason": "meets the GD hub's rules"}


def _ask(hubs: TwoHubs, request: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = hubs.yrd.as_client("js").post(
        "/v1/recognitions", {"request": request or kunshan_for_guangdong()}
    )
    return answer


def _recognitions(hub: Hub) -> list[Recognition]:
    with hub.database.unit_of_work() as session:
        return list(session.exec(select(Recognition)).all())


def _messages(hub: Hub) -> list[PeerMessage]:
    with hub.database.unit_of_work() as session:
        return list(session.exec(select(PeerMessage)).all())


def _verify(hub: Hub, token: str) -> dict[str, Any]:
    """The certificate a hub's JWS signs, verified by an independent JOSE library with its JWKS."""
    keys = KeySet.import_key_set(hub.client.get("/.well-known/jwks.json").json())
    payload: dict[str, Any] = json.loads(jws.deserialize_compact(token, keys, algorithms=["Ed25519"]).payload)
    return payload


def _anchored(hub: Hub, certificate: dict[str, Any], index: int) -> bool:
    (entry,) = [e for e in hub.logged("recognition.approved") if e["log_index"] == index]
    unanchored = {k: v for k, v in certificate.items() if k != "log_index"}
    return bool(entry["data"]["certificate_digest"] == hashlib.sha256(canonicalize(unanchored)).hexdigest())


def test_a_jiangsu_credit_is_recognized_in_guangdong_and_carries_both_hubs_signatures(
    peered: TwoHubs,
) -> None:
    yrd, gd = peered.yrd, peered.gd
    pending = _ask(peered)
    assert (pending["status"], pending["destination"], pending["evaluation"]) == (
        "pending_review",
        "GD",
        None,
    )
    with pytest.raises(Refused) as held:  # the YRD hub holds the serials while GD decides
        _ask(peered, kunshan_for_guangdong("RR-GD-0002", 100100, 100130))
    assert [e["code"] for e in held.value.errors] == ["3026"]

    peered.drain()
    operator = gd.as_client("operator-gd")
    (queued,) = operator.get("/v1/recognitions", status_filter="pending_review")
    assert (queued["id"], queued["origin"], queued["converted_quantity"]) == (pending["id"], "JS", 120)
    assert queued["evaluation"]["ruleset"]["ruleset_id"] == "gd-recognition"
    mirrored = yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")
    assert mirrored["evaluation"]["ruleset"]["ruleset_id"] == "gd-recognition"
    assert mirrored["converted_quantity"] == 120

    approved = operator.post(f"/v1/recognitions/{pending['id']}/decision", APPROVE)
    assert approved["status"] == "approved"
    peered.drain()
    assert [(m.kind, m.status, m.last_error) for m in _messages(gd)] == [
        ("recognition.decision", "delivered", None)
    ]

    at_yrd = yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}/certificate")
    certificate = at_yrd["certificate"]
    assert (certificate["certificate_id"], certificate["destination_registry"]) == (
        f"RC-{pending['id']}",
        "GD",
    )
    issuer, countersigner = at_yrd["signatures"]
    assert (issuer["hub"], issuer["role"], countersigner["hub"], countersigner["role"]) == (
        gd.origin, "issuer", yrd.origin, "countersigner",
    )  # fmt: skip
    assert _verify(gd, issuer["jws"]) == certificate == _verify(yrd, countersigner["jws"])
    assert issuer["jws"] == at_yrd["jws"] and issuer["log_index"] == certificate["log_index"]
    assert _anchored(gd, certificate, issuer["log_index"]) and _anchored(
        yrd, certificate, countersigner["log_index"]
    )
    at_gd = operator.get(f"/v1/recognitions/{pending['id']}/certificate")
    assert at_gd["certificate"] == certificate and at_gd["signatures"] == at_yrd["signatures"]
    done = yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")
    assert (done["status"], done["approvals"][0]["operator"]) == ("approved", f"operator-gd@{gd.origin}")
    with pytest.raises(Refused) as certified:  # the serials pass to the certificate
        _ask(peered, kunshan_for_guangdong("RR-GD-0003", 100001, 100010))
    assert [e["code"] for e in certified.value.errors] == ["3029"]
    assert len(_recognitions(gd)) == 1 and all(
        m.status == "delivered" for m in _messages(gd) + _messages(yrd)
    )
