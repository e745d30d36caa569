"""Recognition across peered hubs: a Jiangsu credit (YRD hub) recognized for use in Guangdong (GD
hub) — forwarded signed and idempotent, checked by both, decided by the GD operator, its
certificate signed by the GD hub and countersigned by the YRD hub — and everything a hostile or
failing peer does to it."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import KeySet
from sqlmodel import select

from hub.client import PermissionDenied, Refused
from hub.crosshub.models import PeerMessage
from hub.crosshub.verify import verify_hub_signatures
from hub.identity import identity
from hub.keystore import KeyStore
from hub.peering.client import PeerCallFailed, PeerClient
from hub.recognition.models import Recognition
from hub.settings import Settings
from schemas.canonical import canonicalize
from schemas.jwk import JWKSet
from schemas.jws import JWSError, sign_record
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
    keys = {hub.origin: JWKSet.from_dict(hub.identity()["jwks"]) for hub in (yrd, gd)}
    checked = verify_hub_signatures(certificate, at_yrd["signatures"], keys, required=[yrd.origin, gd.origin])
    assert [(c.hub, c.role) for c in checked] == [(gd.origin, "issuer"), (yrd.origin, "countersigner")]
    forged = {**certificate, "converted_quantity": 121}
    with pytest.raises(JWSError):
        verify_hub_signatures(forged, at_yrd["signatures"], keys)
    with pytest.raises(JWSError):  # the issuer's signature alone does not do
        verify_hub_signatures(certificate, at_yrd["signatures"][:1], keys, required=[yrd.origin, gd.origin])
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


def _post(
    sender: Hub | tuple[str, Any], receiver: Hub, path: str, body: Any, network: Any, jti: str | None = None
) -> dict[str, Any]:
    """A signed hub-to-hub request from ``sender`` (a hub, or an (origin, keystore) pair)."""
    origin, keystore = (sender.origin, sender.keystore) if isinstance(sender, Hub) else sender
    with PeerClient(
        receiver.settings.resolved_public_url, issuer=origin, audience=receiver.origin, keystore=keystore,
        transport=network,
    ) as client:  # fmt: skip
        return client.post(path, body, jti=jti or str(uuid.uuid4()))


def _refusal(call: Any) -> tuple[int | None, str | None]:
    with pytest.raises(PeerCallFailed) as refused:
        call()
    problem = refused.value.problem or {}
    return refused.value.status, problem.get("code")


def test_a_rejection_in_guangdong_releases_the_hold_in_the_yrd_hub(peered: TwoHubs) -> None:
    pending = _ask(peered)
    peered.drain()
    operator = peered.gd.as_client("operator-gd")
    operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "reject", "reason": "not additional"}
    )
    peered.drain()
    rejected = peered.yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected", "not additional")
    assert _ask(peered, kunshan_for_guangdong("RR-GD-0002"))["status"] == "pending_review"


def test_a_forward_the_destination_hubs_rules_refuse_rejects_and_frees_the_serials(peered: TwoHubs) -> None:
    request = kunshan_for_guangdong()
    request["purpose"] = "points-exchange"  # no GD rule accepts it
    pending = _ask(peered, request)
    peered.drain()
    rejected = peered.yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")
    assert rejected["status"] == "rejected" and "refused by gd.hub.test/log" in rejected["decision_reason"]
    assert any(not check["passed"] and check["code"].startswith("5") for check in rejected["checks"])
    assert _recognitions(peered.gd) == []
    assert [m.status for m in _messages(peered.yrd)] == ["refused"]
    assert _ask(peered, kunshan_for_guangdong("RR-GD-0002"))["status"] == "pending_review"


def test_an_unreachable_destination_hub_gets_the_recognition_once_when_back(peered: TwoHubs) -> None:
    peered.network.cut(peered.gd)
    pending = _ask(peered)
    peered.drain()
    peered.drain(start=datetime.now(UTC) + timedelta(days=1))  # tried again later: still down
    (message,) = _messages(peered.yrd)
    assert (message.status, message.attempts) == ("pending", 2) and "unreachable" in (
        message.last_error or ""
    )
    assert peered.yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"
    assert _recognitions(peered.gd) == []
    peered.network.restore(peered.gd)
    peered.network.lose_answers(peered.gd)  # back, but its first answer is lost after it acted
    peered.drain(rounds=1, start=datetime.now(UTC) + timedelta(days=2))
    assert len(_recognitions(peered.gd)) == 1 and _messages(peered.yrd)[0].status == "pending"
    peered.network.restore(peered.gd)
    peered.drain(start=datetime.now(UTC) + timedelta(days=3))
    assert len(_recognitions(peered.gd)) == 1
    (delivered,) = _messages(peered.yrd)
    assert (
        delivered.status == "delivered"
        and delivered.answer
        and delivered.answer["recognition_id"] == pending["id"]
    )


def test_a_suspended_peering_refuses_the_request_at_once(peered: TwoHubs) -> None:
    admin = peered.yrd.as_client("admin-1")
    (peer,) = admin.get("/v1/peers")
    admin.post(f"/v1/peers/{peer['id']}/suspend", {})
    with pytest.raises(PermissionDenied) as refused:
        _ask(peered)
    assert refused.value.code == "2020"
    assert _recognitions(peered.yrd) == [] and _messages(peered.yrd) == []


def _decided(peered: TwoHubs) -> tuple[dict[str, Any], dict[str, Any]]:
    """A recognition forwarded and approved in GD, the callback not yet sent: (recognition, its
    decision message's body)."""
    pending = _ask(peered)
    peered.drain()
    peered.network.cut(peered.yrd)
    peered.gd.as_client("operator-gd").post(f"/v1/recognitions/{pending['id']}/decision", APPROVE)
    (message,) = [m for m in _messages(peered.gd) if m.kind == "recognition.decision"]
    peered.network.restore(peered.yrd)
    return pending, message.body


def test_forged_or_misdirected_decisions_are_refused_and_change_nothing(
    peered: TwoHubs, tmp_path: Any
) -> None:
    yrd, gd, network = peered.yrd, peered.gd, peered.network
    pending, body = _decided(peered)
    path = f"/federation/v1/recognitions/{pending['id']}/decision"
    stranger = KeyStore(tmp_path / "stranger")
    tampered = copy.deepcopy(body)
    tampered["certificate"]["converted_quantity"] += 1
    foreign = copy.deepcopy(body)
    foreign["jws"] = sign_record(body["certificate"], stranger.active(), typ="puhui-certificate+jws")
    other = copy.deepcopy(body)
    other["certificate"]["blocks"][0]["end"] = 100121
    other["jws"] = sign_record(other["certificate"], gd.keystore.active(), typ="puhui-certificate+jws")
    unknown_id = str(uuid.uuid4())
    cases = [
        ("a tampered certificate", lambda: _post(gd, yrd, path, tampered, network), (422, "1011")),
        ("signed by a key GD never published", lambda: _post(gd, yrd, path, foreign, network), (422, "1012")),
        ("a certificate of other serials", lambda: _post(gd, yrd, path, other, network), (422, "5021")),
        (
            "an unknown recognition",
            lambda: _post(
                gd,
                yrd,
                f"/federation/v1/recognitions/{unknown_id}/decision",
                {**body, "recognition_id": unknown_id},
                network,
            ),
            (404, "5022"),
        ),
        (
            "the path names another recognition",
            lambda: _post(gd, yrd, f"/federation/v1/recognitions/{unknown_id}/decision", body, network),
            (422, "5021"),
        ),
    ]
    for name, call, expected in cases:
        assert _refusal(call) == expected, name
    third = _third_peer(peered, tmp_path)
    assert _refusal(lambda: _post(third, yrd, path, body, network)) == (403, "2024")
    assert yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"
    peered.drain()  # the genuine decision still completes it
    assert yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")["status"] == "approved"
    again = _post(gd, yrd, path, body, network)  # told again under a new jti: the same answer
    assert again["status"] == "approved" and again["countersignature"]["hub"] == yrd.origin
    reject = {"recognition_id": pending["id"], "decision": "reject", "reason": "changed my mind"}
    assert _refusal(lambda: _post(gd, yrd, path, reject, network)) == (409, "6002")


def _third_peer(peered: TwoHubs, tmp_path: Any) -> tuple[str, KeyStore]:
    """A third hub (CD), registered as a peer of the YRD hub: (its origin, its keys)."""
    keystore = KeyStore(tmp_path / "cd-keys")
    settings = Settings(
        data_dir=tmp_path / "cd", public_url="http://127.0.0.1:8103", origin="cd.hub.test/log"
    )
    peered.yrd.as_client("admin-1").post("/v1/peers", identity(settings, keystore, ["CD"]).as_dict())
    return settings.log_origin, keystore


def test_a_forwarded_recognition_is_answered_once_per_jti(peered: TwoHubs) -> None:
    yrd, gd, network = peered.yrd, peered.gd, peered.network
    peered.network.cut(gd)
    _ask(peered)
    (message,) = _messages(yrd)
    peered.network.restore(gd)
    first = _post(yrd, gd, "/federation/v1/recognitions", message.body, network, jti=message.id)
    assert _post(yrd, gd, "/federation/v1/recognitions", message.body, network, jti=message.id) == first
    changed = {**message.body, "requested_by": "someone else"}
    assert _refusal(
        lambda: _post(yrd, gd, "/federation/v1/recognitions", changed, network, jti=message.id)
    ) == (409, "1017")
    # under a new jti (days later, the stored answer purged): the same recognition, not a second
    assert (
        _post(yrd, gd, "/federation/v1/recognitions", message.body, network)["recognition_id"]
        == first["recognition_id"]
    )
    assert len(_recognitions(gd)) == 1


def test_a_hub_forwards_only_for_registries_it_serves_to_one_that_serves_the_destination(
    peered: TwoHubs,
) -> None:
    yrd, gd, network = peered.yrd, peered.gd, peered.network
    peered.network.cut(gd)
    _ask(peered)
    (message,) = _messages(yrd)
    peered.network.restore(gd)
    elsewhere = copy.deepcopy(message.body)
    elsewhere["recognition_id"] = str(uuid.uuid4())
    elsewhere["request"]["destination_registry"] = "SH"
    elsewhere["request"]["beneficiary"]["registry"] = "SH"
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/recognitions", elsewhere, network)) == (
        422,
        "2024",
    )
    # the GD hub forwarding to the YRD hub a Jiangsu request: GD does not serve JS
    back = copy.deepcopy(elsewhere)
    assert _refusal(lambda: _post(gd, yrd, "/federation/v1/recognitions", back, network)) == (422, "2004")
    mismatched = copy.deepcopy(message.body)
    mismatched["recognition_id"] = str(uuid.uuid4())
    mismatched["blocks"][0]["record"].update(serial_end=100350, quantity=350)  # the whole block
    assert _refusal(lambda: _post(yrd, gd, "/federation/v1/recognitions", mismatched, network)) == (
        422,
        "5021",
    )
    assert _recognitions(gd) == []


def test_the_guangdong_operator_decides_in_the_gd_hubs_console(peered: TwoHubs) -> None:
    from tests.hub.test_console import _decide, _sign_in

    pending = _ask(peered)
    peered.drain()
    console = peered.gd.client
    password = json.loads((peered.gd.credentials / "operator-gd.console.json").read_text())["password"]
    assert _sign_in(console, "operator-gd", password).status_code == 303
    assert pending["id"] in console.get("/console").text
    assert _decide(console, pending["id"], "approve", "meets the GD hub's rules").status_code == 303
    peered.drain()
    done = peered.yrd.as_client("js").get(f"/v1/recognitions/{pending['id']}")
    assert (done["status"], done["approvals"][0]["operator"]) == (
        "approved",
        f"console:operator-gd@{peered.gd.origin}",
    )


def test_two_copies_of_a_decision_racing_complete_it_once(peered: TwoHubs) -> None:
    pending, body = _decided(peered)
    path = f"/federation/v1/recognitions/{pending['id']}/decision"
    barrier = threading.Barrier(2)
    answers: list[dict[str, Any]] = []

    def send() -> None:
        barrier.wait()
        answers.append(_post(peered.gd, peered.yrd, path, body, peered.network))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 2 and answers[0] == answers[1] and answers[0]["status"] == "approved"
    (entry,) = [
        e for e in peered.yrd.logged("recognition.approved") if e["data"]["recognition_id"] == pending["id"]
    ]
    assert entry["log_index"] == answers[0]["countersignature"]["log_index"]
