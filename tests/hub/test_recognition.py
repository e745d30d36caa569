"""Recognition end to end: checks and ruleset evaluation, operator decisions with four eyes, a
certificate signed by the hub that an independent JOSE library verifies and the log anchors."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import KeySet
from typer.testing import CliRunner

from hub.app import create_app
from hub.auth.scopes import ClientKind
from hub.auth.service import ClientService
from hub.cli.main import app as cli
from hub.client import NotFound, PlatformClient, Refused
from schemas.canonical import canonicalize
from tests.hub.conftest import RECORDS_FORM as FORM
from tests.hub.conftest import example, ingest_fixtures


def _request(request_id: str = "RR-2026-0001", start: int = 100001, end: int = 100120) -> dict:
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    request["request_id"] = request_id
    request["blocks"][0].update({"start": start, "end": end, "quantity": end - start + 1})
    request["quantity"] = end - start + 1
    return request


def _submit(platform: PlatformClient, request: dict) -> dict:
    return platform.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})


def test_a_jiangsu_pv_block_is_recognized_in_shanghai_with_a_verifiable_certificate(
    client: TestClient, jiangsu, as_client
) -> None:
    pending = _submit(jiangsu, _request())
    assert pending["status"] == "pending_review"
    assert pending["converted_quantity"] == 84  # floor(120 × 4200/5978)
    assert pending["evaluation"]["ruleset"]["ruleset_id"] == "yrd-recognition"
    assert all(check["passed"] for check in pending["checks"])
    operator = as_client("operator-sh")
    assert [r["id"] for r in operator.get("/v1/recognitions", status_filter="pending_review")] == [
        pending["id"]
    ]
    approved = operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets YRD rules"}
    )
    assert approved["status"] == "approved"
    answer = jiangsu.get(f"/v1/recognitions/{pending['id']}/certificate")
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    certificate = json.loads(jws.deserialize_compact(answer["jws"], keys, algorithms=["Ed25519"]).payload)
    assert certificate == answer["certificate"]
    assert certificate["converted_quantity"] == 84
    assert certificate["approved_by"] == ["operator-sh"]
    assert certificate["ruleset"]["digest"]["alg"] == "sha-256"
    entry = client.get(
        "/v1/log/entries", params={"start": certificate["log_index"], "end": certificate["log_index"] + 1}
    ).json()[0]
    logged = json.loads(base64.b64decode(entry["entry_b64"]))
    unanchored = {k: v for k, v in certificate.items() if k != "log_index"}
    assert logged["data"]["certificate_digest"] == hashlib.sha256(canonicalize(unanchored)).hexdigest()


def test_the_same_serials_cannot_be_recognized_twice(jiangsu, as_client) -> None:
    _submit(jiangsu, _request())
    with pytest.raises(Refused) as refused:
        _submit(jiangsu, _request("RR-2026-0002", 100100, 100200))
    assert [e["code"] for e in refused.value.errors] == ["3026"]
    assert _submit(jiangsu, _request("RR-2026-0003", 100121, 100200))["status"] == "pending_review"


def test_a_rejection_needs_a_reason_and_frees_the_serials(jiangsu, as_client) -> None:
    pending = _submit(jiangsu, _request())
    operator = as_client("operator-sh")
    with pytest.raises(Refused):
        operator.post(f"/v1/recognitions/{pending['id']}/decision", {"decision": "reject", "reason": ""})
    rejected = operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "reject", "reason": "not additional"}
    )
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected", "not additional")
    with pytest.raises(Refused) as again:
        operator.post(
            f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "changed mind"}
        )
    assert again.value.code == "6002"
    with pytest.raises(NotFound):
        jiangsu.get(f"/v1/recognitions/{pending['id']}/certificate")
    assert _submit(jiangsu, _request("RR-2026-0009"))["status"] == "pending_review"


def test_only_the_destinations_operators_decide(jiangsu, as_client) -> None:
    pending = _submit(jiangsu, _request())
    with pytest.raises(NotFound):
        jiangsu.post(
            f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "self-approval"}
        )
    with pytest.raises(NotFound):
        as_client("operator-js").post(
            f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "wrong region"}
        )
    with pytest.raises(NotFound):
        as_client("zj").get(f"/v1/recognitions/{pending['id']}")


def test_above_the_threshold_two_distinct_operators_approve(database, settings, federation) -> None:
    strict = settings.model_copy(update={"four_eyes_tonnes": 100})
    with database.unit_of_work() as session:
        second = ClientService(session, strict).create(
            kind=ClientKind.OPERATOR,
            name="second SH operator",
            client_id="operator-sh-2",
            region="SH",
            actor="test",
        )
    with TestClient(create_app(strict, database)) as hub:

        def client(name: str, credentials: dict | None = None) -> PlatformClient:
            source = credentials or json.loads((federation / f"{name}.json").read_text())
            return PlatformClient.from_credentials(source, transport=hub._transport)

        jiangsu = client("js")
        records = {
            "projects": [example("project", "kunshan-pv-399kw")],
            "blocks": [example("credit-block", "kunshan-pv-399kw")],
        }
        jiangsu.request(
            "POST", "/v1/platforms/JS/batches", content=json.dumps(records).encode(), content_type=FORM
        )
        pending = _submit(jiangsu, _request())
        first = client("operator-sh")
        assert first.post(
            f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
        )["status"] == ("pending_second_approval")
        with pytest.raises(Refused) as same:
            first.post(
                f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "again"}
            )
        assert same.value.code == "6003"
        other = client("", second.as_dict())
        approved = other.post(
            f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "agreed"}
        )
        assert approved["status"] == "approved"
        certificate = jiangsu.get(f"/v1/recognitions/{pending['id']}/certificate")["certificate"]
        assert certificate["approved_by"] == ["operator-sh", "operator-sh-2"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"destination_registry": "JS"}, "5011"),
        ({"origin_registry": "SH"}, "2004"),
    ],
)
def test_requests_failing_a_check_change_nothing(jiangsu, as_client, change, code) -> None:
    request = _request()
    request.update(change)
    with pytest.raises(Refused) as refused:
        _submit(jiangsu, request)
    assert code in [e["code"] for e in refused.value.errors]
    assert jiangsu.get("/v1/recognitions") == []


def test_a_request_for_serials_outside_the_block_or_another_holders_block(jiangsu) -> None:
    with pytest.raises(Refused) as outside:
        _submit(jiangsu, _request(end=100400))
    assert "3025" in [e["code"] for e in outside.value.errors]
    foreign = _request()
    foreign["blocks"][0]["block_id"] = "SH-B-UNKNOWN"
    with pytest.raises(Refused) as unknown:
        _submit(jiangsu, foreign)
    assert [e["code"] for e in unknown.value.errors] == ["3020"]


def test_a_pledged_block_cannot_be_recognized(as_client, database, settings) -> None:
    blocks = ingest_fixtures(database, settings, "AH")
    pledged = next(b for b in blocks if b["status"] == "encumbered")
    request = _request()
    request.update({"origin_registry": "AH", "purpose": "voluntary-neutralization"})
    request.pop("compliance")
    request["blocks"] = [
        {
            "block_id": pledged["block_id"],
            "namespace": "AH",
            "start": pledged["serial_start"],
            "end": pledged["serial_start"],
            "quantity": 1,
            "unit": "tCO2e",
        }
    ]
    request["quantity"] = 1
    with pytest.raises(Refused) as refused:
        as_client("ah").post("/v1/recognitions", {"request": request})
    assert "3023" in [e["code"] for e in refused.value.errors]


def test_the_certificate_verifies_offline_with_the_cli(
    client: TestClient, jiangsu, as_client, tmp_path: Path
) -> None:
    pending = _submit(jiangsu, _request())
    as_client("operator-sh").post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    answer = jiangsu.get(f"/v1/recognitions/{pending['id']}/certificate")
    (tmp_path / "certificate.json").write_text(json.dumps(answer))
    (tmp_path / "jwks.json").write_text(json.dumps(client.get("/.well-known/jwks.json").json()))
    runner = CliRunner()
    ok = runner.invoke(
        cli,
        ["certificates", "verify", str(tmp_path / "certificate.json"), "--jwks", str(tmp_path / "jwks.json")],
    )
    assert ok.exit_code == 0, ok.output
    assert "valid certificate" in ok.output
    forged = copy.deepcopy(answer)
    header, payload, signature = forged["jws"].split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["converted_quantity"] = 840
    forged["jws"] = ".".join(
        [header, base64.urlsafe_b64encode(canonicalize(body)).rstrip(b"=").decode(), signature]
    )
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    bad = runner.invoke(
        cli, ["certificates", "verify", str(tmp_path / "forged.json"), "--jwks", str(tmp_path / "jwks.json")]
    )
    assert bad.exit_code == 1
    assert "[1011]" in bad.output


def test_asking_for_a_quantity_lets_the_hub_pick_free_serials(jiangsu) -> None:
    request = _request()
    request.pop("blocks")
    first = jiangsu.post(
        "/v1/recognitions", {"request": request, "select": {"quantity": 120}, "verified_emissions": 20000}
    )
    assert [(b["start"], b["end"]) for b in first["request"]["blocks"]] == [(100001, 100120)]
    second_request = {**request, "request_id": "RR-2026-0002"}
    with pytest.raises(Refused) as short:
        jiangsu.post(
            "/v1/recognitions",
            {"request": second_request, "select": {"quantity": 300}, "verified_emissions": 20000},
        )
    assert short.value.errors[0]["code"] == "3020"
    second = jiangsu.post(
        "/v1/recognitions",
        {"request": second_request, "select": {"quantity": 200}, "verified_emissions": 20000},
    )
    assert [(b["start"], b["end"]) for b in second["request"]["blocks"]] == [(100121, 100320)]


def test_two_approvals_at_once_are_both_kept(database, settings, jiangsu) -> None:
    """Two operators approve at the same moment (four eyes): the row is locked while the first
    decides, so the second sees the first approval and completes the recognition; neither is lost."""
    import threading
    import time

    from hub.keystore import KeyStore
    from hub.recognition.service import RecognitionService

    strict = settings.model_copy(update={"four_eyes_tonnes": 100})
    keystore = KeyStore(strict.resolved_keys_dir)
    pending = _submit(jiangsu, _request())
    first_decided = threading.Event()
    failures: list[BaseException] = []

    def approve(operator: str, hold: bool) -> None:
        try:
            if not hold:
                first_decided.wait(10)
            with database.unit_of_work() as session:
                service = RecognitionService(session, strict, keystore)
                item = service.get(pending["id"], for_update=True)
                service.decide(item, operator=operator, approve=True, reason=f"{operator} agrees")
                if hold:
                    first_decided.set()
                    time.sleep(0.5)  # still uncommitted: the other decision must wait for this one
        except BaseException as exc:
            failures.append(exc)
            first_decided.set()

    threads = [threading.Thread(target=approve, args=args) for args in [("alice", True), ("bob", False)]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    decided = jiangsu.get(f"/v1/recognitions/{pending['id']}")
    assert decided["status"] == "approved"
    assert [a["operator"] for a in decided["approvals"]] == ["alice", "bob"]
