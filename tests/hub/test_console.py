"""The operators' console: sign-in with lock-out, CSRF on every form, the region's queue, decisions."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from hub.console.accounts import MAX_FAILURES, Accounts


@pytest.fixture
def operators(database, federation) -> dict[str, str]:
    with database.unit_of_work() as session:
        accounts = Accounts(session)
        return {"alice": accounts.add("alice", "SH"), "bob": accounts.add("bob", "JS")}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _sign_in(client: TestClient, username: str, password: str):
    form = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": _csrf(form.text)},
        follow_redirects=False,
    )


def test_the_demo_writes_operator_shs_console_password(federation) -> None:
    credentials = json.loads((federation / "operator-sh.console.json").read_text())
    assert credentials["username"] == "operator-sh"
    assert len(credentials["password"]) >= 16


def test_sign_in_sets_a_strict_http_only_session(client: TestClient, operators) -> None:
    response = _sign_in(client, "alice", operators["alice"])
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "puhui_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Pending recognitions" in client.get("/console").text


def test_without_a_session_the_console_asks_to_sign_in(client: TestClient, operators) -> None:
    response = client.get("/console", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


def test_a_login_post_without_its_csrf_token_is_refused(client: TestClient, operators) -> None:
    response = client.post("/console/login", data={"username": "alice", "password": operators["alice"]})
    assert response.status_code == 403


def test_five_wrong_passwords_lock_the_account(client: TestClient, operators) -> None:
    for _ in range(MAX_FAILURES):
        assert _sign_in(client, "alice", "wrong").status_code == 401
    locked = _sign_in(client, "alice", operators["alice"])
    assert locked.status_code == 401
    assert "locked" in locked.text


def _pending(jiangsu) -> dict:
    from tests.hub.conftest import example

    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    return jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})


def test_an_operator_approves_from_the_queue(client: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(client, "alice", operators["alice"])
    page = client.get("/console")
    assert pending["id"] in page.text
    missing_csrf = client.post(
        f"/console/recognitions/{pending['id']}/decision", data={"decision": "approve", "reason": "fine"}
    )
    assert missing_csrf.status_code == 403
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"
    decided = client.post(
        f"/console/recognitions/{pending['id']}/decision",
        data={"decision": "approve", "reason": "meets the YRD rules", "csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "approved"
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}/certificate")["certificate"]["approved_by"] == [
        "console:alice"
    ]


def test_a_jiangsu_operator_does_not_see_shanghais_queue(client: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(client, "bob", operators["bob"])
    page = client.get("/console")
    assert pending["id"] not in page.text
    refused = client.post(
        f"/console/recognitions/{pending['id']}/decision",
        data={"decision": "approve", "reason": "not mine", "csrf": _csrf(page.text)},
    )
    assert refused.status_code == 404


def test_sign_out_ends_the_session(client: TestClient, operators) -> None:
    _sign_in(client, "alice", operators["alice"])
    csrf = _csrf(client.get("/console").text)
    assert client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_the_dashboard_charts_flows_and_exports_csv(client: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(client, "alice", operators["alice"])
    csrf = _csrf(client.get("/console").text)
    client.post(
        f"/console/recognitions/{pending['id']}/decision",
        data={"decision": "approve", "reason": "meets the rules", "csrf": csrf},
    )
    page = client.get("/console/dashboard")
    assert page.status_code == 200
    assert "<svg" in page.text and "JS → SH" in page.text
    exported = client.get("/console/dashboard.csv", params={"table": "flows"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[1].startswith("JS,SH,120,84")


def test_the_rulesets_browser_shows_signers_and_a_readable_diff(client: TestClient, operators) -> None:
    _sign_in(client, "alice", operators["alice"])
    page = client.get("/console/rulesets")
    assert page.status_code == 200
    assert "yrd-recognition v1 → v2" in page.text
    client.cookies.clear()
    assert client.get("/console/rulesets", follow_redirects=False).status_code == 303


def test_after_approval_the_page_shows_the_certificate_verified_and_included(
    client: TestClient, operators, jiangsu
) -> None:
    pending = _pending(jiangsu)
    _sign_in(client, "alice", operators["alice"])
    csrf = _csrf(client.get("/console").text)
    decided = client.post(
        f"/console/recognitions/{pending['id']}/decision",
        data={"decision": "approve", "reason": "meets the YRD rules", "csrf": csrf},
    )
    assert decided.status_code == 200
    assert "verified ✓" in decided.text
    assert (
        "names this certificate&#39;s digest ✓" in decided.text
        or "names this certificate's digest ✓" in decided.text
    )
    assert "proven ✓" in decided.text


def test_the_queue_filters_by_origin(client: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(client, "alice", operators["alice"])
    assert pending["id"] in client.get("/console", params={"origin": "JS", "order": "largest"}).text
    assert pending["id"] not in client.get("/console", params={"origin": "ZJ"}).text
