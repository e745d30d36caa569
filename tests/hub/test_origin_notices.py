"""The origin is told through the platform API: a retirement of its serials and a completed transfer
send it a notice after the commit (an outbox), and ``origin_notified`` turns true only once it
acknowledged — not while it is down (then later, on the retry), never when it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.notices.models import OriginNotice
from hub.notices.worker import NoticeWorker
from tests.hub.conftest import platform_client, run_worker

BLOCK = "JS-B-2025-000001"
IMPORTED = f"SH:{BLOCK}"


def _transfer(hub, federation, database) -> dict:
    jiangsu = platform_client(hub, federation, "js")
    body = {
        "transfer_id": "TR-N",
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": [{"block_id": BLOCK, "namespace": "JS"}],
    }
    assert (
        jiangsu.request(
            "POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": "n-1"}
        ).status_code
        == 201
    )
    run_worker(hub, database)
    return jiangsu.get("/v1/transfers/TR-N")


def _retire(hub, federation, retirement_id: str = "RT-N") -> dict:
    shanghai = platform_client(hub, federation, "sh")
    return shanghai.post(
        "/v1/retirements",
        {
            "retirement_id": retirement_id,
            "registry": "SH",
            "blocks": [
                {
                    "block_id": IMPORTED,
                    "namespace": "JS",
                    "start": 100001,
                    "end": 100010,
                    "quantity": 10,
                    "unit": "tCO2e",
                }
            ],
            "quantity": 10,
            "unit": "tCO2e",
            "purpose": {"kind": "voluntary-neutralization", "event": "a notice test"},
            "beneficiary": {"registry": "SH", "account_id": "SH-A-1"},
        },
    )


def _notices(hub, database, later: float = 0.0) -> int:
    worker = NoticeWorker(database, hub[1], transport=hub[0]._transport)
    return worker.run_once(datetime.now(UTC) + timedelta(seconds=later))


def _sandbox(hub, code: str) -> dict:
    return hub[0].get(f"/sandbox/{code}/_sandbox/state").json()


def _notice(database, kind: str, subject: str) -> OriginNotice:
    with database.unit_of_work() as session:
        found = session.get(OriginNotice, (kind, subject, "JS"))
        assert found is not None
        session.expunge(found)
        return found


def test_a_completed_transfer_is_acknowledged_by_the_origin_which_finalizes_the_export(
    hub, database, federation
) -> None:
    done = _transfer(hub, federation, database)
    assert (done["state"], done["origin_notified"]) == ("completed", False)
    assert _sandbox(hub, "js")["blocks"][BLOCK] == "locked"
    assert _notices(hub, database) == 1
    jiangsu = platform_client(hub, federation, "js")
    assert jiangsu.get("/v1/transfers/TR-N")["origin_notified"] is True
    state = _sandbox(hub, "js")
    assert (state["blocks"][BLOCK], state["transfer_notices"]) == ("exported", ["TR-N"])
    assert _notices(hub, database, later=3600) == 0  # acknowledged: never sent again


def test_a_retirement_of_another_platforms_serials_is_notified_once_acknowledged(
    hub, database, federation
) -> None:
    _transfer(hub, federation, database)
    _notices(hub, database)
    retired = _retire(hub, federation)
    assert retired["origin_notified"] is False  # the answer is at once; the notice follows
    shanghai = platform_client(hub, federation, "sh")
    assert shanghai.get("/v1/retirements/RT-N")["origin_notified"] is False
    assert _notices(hub, database) == 1
    assert shanghai.get("/v1/retirements/RT-N")["origin_notified"] is True
    assert _sandbox(hub, "js")["retirements"] == ["RT-N"]
    assert _notice(database, "retirement", "SH:RT-N").status == "acknowledged"


def test_an_origin_that_is_down_is_told_later_and_the_flag_follows(hub, database, federation) -> None:
    _transfer(hub, federation, database)
    _notices(hub, database)
    hub[0].post("/sandbox/js/_sandbox/notice-failures", json={"count": 2, "status": 503})
    _retire(hub, federation)
    shanghai = platform_client(hub, federation, "sh")
    assert _notices(hub, database) == 0
    assert _notices(hub, database) == 0  # not due yet: backed off, not sent
    waiting = _notice(database, "retirement", "SH:RT-N")
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "503" in (waiting.last_error or "")
    assert shanghai.get("/v1/retirements/RT-N")["origin_notified"] is False
    assert _notices(hub, database, later=60) == 0  # down once more
    assert _notices(hub, database, later=600) == 1
    assert shanghai.get("/v1/retirements/RT-N")["origin_notified"] is True
    assert _sandbox(hub, "js")["retirements"] == ["RT-N"]  # taken once


def test_a_refusal_is_recorded_and_the_flag_stays_false(hub, database, federation) -> None:
    _transfer(hub, federation, database)
    _notices(hub, database)
    hub[0].post("/sandbox/js/_sandbox/notice-failures", json={"count": 1, "status": 422})
    _retire(hub, federation)
    assert _notices(hub, database) == 0
    refused = _notice(database, "retirement", "SH:RT-N")
    assert refused.status == "refused"
    assert "the sandbox was told to fail this notice" in (refused.last_error or "")
    assert _notices(hub, database, later=3600) == 0  # final: not repeated
    shanghai = platform_client(hub, federation, "sh")
    assert shanghai.get("/v1/retirements/RT-N")["origin_notified"] is False


def test_a_retirement_of_its_own_serials_needs_no_notice(hub, database, federation) -> None:
    jiangsu = platform_client(hub, federation, "js")
    retired = jiangsu.post(
        "/v1/retirements",
        {
            "retirement_id": "RT-OWN",
            "registry": "JS",
            "blocks": [
                {
                    "block_id": BLOCK,
                    "namespace": "JS",
                    "start": 100001,
                    "end": 100005,
                    "quantity": 5,
                    "unit": "tCO2e",
                }
            ],
            "quantity": 5,
            "unit": "tCO2e",
            "purpose": {"kind": "voluntary-neutralization", "event": "its own"},
            "beneficiary": {"registry": "JS", "account_id": "JS-A-1"},
        },
    )
    assert retired["origin_notified"] is True
    assert _notices(hub, database) == 0
    assert jiangsu.get("/v1/retirements/RT-OWN")["origin_notified"] is True


@pytest.mark.parametrize("who", ["sh", "js"])
def test_a_retirement_is_read_only_by_its_platform(hub, database, federation, who) -> None:
    from hub.client.errors import NotFound

    owner = platform_client(hub, federation, "js")
    owner.post(
        "/v1/retirements",
        {
            "retirement_id": "RT-R",
            "registry": "JS",
            "blocks": [
                {
                    "block_id": BLOCK,
                    "namespace": "JS",
                    "start": 100001,
                    "end": 100001,
                    "quantity": 1,
                    "unit": "tCO2e",
                }
            ],
            "quantity": 1,
            "unit": "tCO2e",
            "purpose": {"kind": "voluntary-neutralization", "event": "read"},
            "beneficiary": {"registry": "JS", "account_id": "JS-A-1"},
        },
    )
    reader = platform_client(hub, federation, who)
    if who == "js":
        assert reader.get("/v1/retirements/RT-R")["retirement_id"] == "RT-R"
    else:
        with pytest.raises(NotFound):
            reader.get("/v1/retirements/RT-R")


def test_a_mixed_retirement_tells_each_other_origin_only_of_its_own_serials(
    hub, database, federation
) -> None:
    from tests.hub.conftest import ingest_fixtures

    ingest_fixtures(database, hub[1], "SH")
    _transfer(hub, federation, database)
    _notices(hub, database)
    shanghai = platform_client(hub, federation, "sh")
    retired = shanghai.post(
        "/v1/retirements",
        {
            "retirement_id": "RT-MIX",
            "registry": "SH",
            "blocks": [
                {
                    "block_id": "SH-B-2025-000101",
                    "namespace": "SH",
                    "start": 200001,
                    "end": 200004,
                    "quantity": 4,
                    "unit": "tCO2e",
                },
                {
                    "block_id": IMPORTED,
                    "namespace": "JS",
                    "start": 100001,
                    "end": 100003,
                    "quantity": 3,
                    "unit": "tCO2e",
                },
            ],
            "quantity": 7,
            "unit": "tCO2e",
            "purpose": {"kind": "voluntary-neutralization", "event": "mixed"},
            "beneficiary": {"registry": "SH", "account_id": "SH-A-1"},
        },
    )
    assert retired["origin_notified"] is False
    with database.unit_of_work() as session:
        from sqlmodel import select

        notices = session.exec(select(OriginNotice).where(OriginNotice.subject == "SH:RT-MIX")).all()
        assert [(n.platform_code, n.body["quantity"]) for n in notices] == [("JS", 3)]
        assert [(b["start"], b["end"]) for b in notices[0].body["blocks"]] == [(100001, 100003)]
    assert _notices(hub, database) == 1
    assert shanghai.get("/v1/retirements/RT-MIX")["origin_notified"] is True
    assert _sandbox(hub, "sh")["retirements"] == []  # the retiring platform is not told of itself
