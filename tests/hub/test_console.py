"""The operators' console: sign-in with lock-out, CSRF on every form, the region's queue, the
decision page (four eyes, reasons, the certificate verified), the dashboard and rulesets browser."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.client import PlatformClient, Refused
from hub.console.accounts import MAX_FAILURES, Accounts
from hub.console.i18n import LANGUAGE_COOKIE
from schemas.jwk import JWKSet
from schemas.jws import verify_record


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


def _pending(jiangsu, start: int = 100001, end: int = 100120, request_id: str = "RR-2026-0001") -> dict:
    from tests.hub.conftest import example

    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    request["request_id"] = request_id
    request["blocks"][0].update(start=start, end=end, quantity=end - start + 1)
    request["quantity"] = end - start + 1
    return jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})


def _decide(client: TestClient, recognition_id: str, decision: str, reason: str, **extra):
    page = client.get(f"/console/recognitions/{recognition_id}")
    return client.post(
        f"/console/recognitions/{recognition_id}/decision",
        data={"decision": decision, "reason": reason, "csrf": _csrf(page.text), **extra},
        follow_redirects=False,
    )


def test_the_demo_writes_each_operators_console_password(federation) -> None:
    for username, region in [("operator-sh", "SH"), ("operator-js", "JS")]:
        credentials = json.loads((federation / f"{username}.console.json").read_text())
        assert (credentials["username"], credentials["region"]) == (username, region)
        assert len(credentials["password"]) >= 16


def test_sign_in_sets_a_strict_http_only_session(english: TestClient, operators) -> None:
    response = _sign_in(english, "alice", operators["alice"])
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "puhui_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Pending recognitions — SH" in english.get("/console").text


def test_without_a_session_the_console_asks_to_sign_in(client: TestClient, operators) -> None:
    for path in ["/console", "/console/dashboard", "/console/rulesets", "/console/recognitions/x"]:
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")


def test_a_login_post_without_its_csrf_token_is_refused(client: TestClient, operators) -> None:
    response = client.post("/console/login", data={"username": "alice", "password": operators["alice"]})
    assert response.status_code == 403
    assert "puhui_console=" not in response.headers.get("set-cookie", "")


def test_five_wrong_passwords_lock_the_account(english: TestClient, operators) -> None:
    assert (
        "After 5 wrong passwords in a row the account is locked for 15 minutes"
        in english.get("/console/login").text
    )
    for _ in range(MAX_FAILURES):
        wrong = _sign_in(english, "alice", "wrong")
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    locked = _sign_in(english, "alice", operators["alice"])  # the right password, too late
    assert locked.status_code == 401
    assert "puhui_console=" not in locked.headers.get("set-cookie", "")
    assert english.get("/console", follow_redirects=False).status_code == 303
    assert _sign_in(english, "bob", operators["bob"]).status_code == 303  # only alice is locked


def test_the_sign_in_page_does_not_tell_which_accounts_exist(english: TestClient, operators) -> None:
    answers = set()
    for username in ["alice", "nobody"]:
        for _ in range(MAX_FAILURES + 1):
            answer = _sign_in(english, username, "wrong")
            assert answer.status_code == 401
            answers.add(re.sub(r'value="[^"]+"', "", answer.text))
    assert len(answers) == 1  # locked, wrong password and unknown name: one page


def test_an_operator_approves_on_the_decision_page(english: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    queue = english.get("/console").text
    assert f'href="/console/recognitions/{pending["id"]}">RR-2026-0001<' in queue
    assert "PV-DISTRIBUTED → PV-DISTRIBUTED" in queue and "eligible" in queue
    page = english.get(f"/console/recognitions/{pending['id']}").text
    assert "3026" in page and "Reason (required)" in page and "four eyes" not in page.lower()
    missing_csrf = english.post(
        f"/console/recognitions/{pending['id']}/decision", data={"decision": "approve", "reason": "fine"}
    )
    assert missing_csrf.status_code == 403
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"
    decided = _decide(english, pending["id"], "approve", "meets the YRD rules")
    assert decided.status_code == 303
    assert decided.headers["location"].startswith(f"/console/recognitions/{pending['id']}")
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "approved"
    certificate = jiangsu.get(f"/v1/recognitions/{pending['id']}/certificate")["certificate"]
    assert certificate["approved_by"] == ["console:alice"]
    assert pending["id"] not in english.get("/console").text


def test_after_approval_the_page_shows_the_certificate_verified_and_included(
    english: TestClient, operators, jiangsu
) -> None:
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    page = english.get(_decide(english, pending["id"], "approve", "meets the YRD rules").headers["location"])
    assert "✓ verified with the hub&#39;s published key" in page.text
    assert "✓ names this certificate&#39;s digest" in page.text
    assert "✓ proven included in the current log (RFC 9162)" in page.text
    keys = JWKSet.from_dict(english.get("/.well-known/jwks.json").json())
    assert f"Key id: {english.get('/.well-known/jwks.json').json()['keys'][0]['kid']}" in page.text
    assert 'name="decision"' not in page.text  # decided: no form any more
    download = english.get(f"/console/recognitions/{pending['id']}/certificate.json")
    assert download.headers["content-disposition"].startswith('attachment; filename="RC-')
    signed = download.json()
    assert verify_record(signed["jws"], keys).json() == signed["certificate"]


def test_a_rejection_needs_a_reason_and_is_recorded(english: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    empty = _decide(english, pending["id"], "reject", "  ")
    assert empty.status_code == 422 and "A reason of at least 3 characters is required" in empty.text
    assert 'role="alert"' in empty.text and 'aria-describedby="reason-hint decision-error"' in empty.text
    short = _decide(english, pending["id"], "reject", "no")
    assert short.status_code == 422 and ">no</textarea>" in short.text
    unknown = _decide(english, pending["id"], "maybe", "a reason")
    assert unknown.status_code == 422
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"
    rejected = _decide(english, pending["id"], "reject", "serials disputed by the origin")
    assert rejected.status_code == 303
    page = english.get(rejected.headers["location"]).text
    assert "Rejected" in page and "serials disputed by the origin" in page
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "rejected"
    page = english.get(f"/console/recognitions/{pending['id']}").text
    forged = english.post(  # decided: the page has no form; a forged post is refused
        f"/console/recognitions/{pending['id']}/decision",
        data={"decision": "approve", "reason": "changed my mind", "csrf": _csrf(page)},
    )
    assert forged.status_code == 409 and "This recognition has been decided already." in forged.text
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "rejected"


def test_the_four_eyes_rule_is_shown_and_enforced(database, settings, federation, operators, jiangsu) -> None:
    with database.unit_of_work() as session:
        second = Accounts(session).add("carol", "SH")
    strict = settings.model_copy(update={"four_eyes_tonnes": 100})
    with TestClient(create_app(strict, database), raise_server_exceptions=False) as browser:
        browser.cookies.set(LANGUAGE_COOKIE, "en")
        pending = _pending(jiangsu)  # 120 t > 100 t
        _sign_in(browser, "alice", operators["alice"])
        page = browser.get(f"/console/recognitions/{pending['id']}").text
        assert "more than 100 t need the approval of two different operators" in page
        first = _decide(browser, pending["id"], "approve", "first look: fine")
        page = browser.get(first.headers["location"]).text
        assert "Awaiting a second approval" in page and "1 of 2 approvals so far" in page
        assert "You approved already" in page
        assert re.search(r'<button class="approve"[^>]* aria-disabled="true"', page)
        twice = browser.post(
            f"/console/recognitions/{pending['id']}/decision",
            data={"decision": "approve", "reason": "me again", "csrf": _csrf(page)},
        )
        assert twice.status_code == 409
        assert "the second approval must come from another operator" in twice.text
        assert 'aria-invalid="true">me again</textarea>' in twice.text  # what was typed is kept
        assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_second_approval"
        browser.cookies.delete("puhui_console")
        _sign_in(browser, "carol", second)
        assert _decide(browser, pending["id"], "approve", "second look: fine").status_code == 303
    certificate = jiangsu.get(f"/v1/recognitions/{pending['id']}/certificate")["certificate"]
    assert certificate["approved_by"] == ["console:alice", "console:carol"]


def test_a_jiangsu_operator_does_not_see_shanghais_queue(client: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(client, "bob", operators["bob"])
    page = client.get("/console")
    assert pending["id"] not in page.text
    assert client.get(f"/console/recognitions/{pending['id']}").status_code == 200  # its own origin's
    assert 'name="decision"' not in client.get(f"/console/recognitions/{pending['id']}").text
    refused = client.post(
        f"/console/recognitions/{pending['id']}/decision",
        data={"decision": "approve", "reason": "not mine", "csrf": _csrf(page.text)},
    )
    assert refused.status_code == 404
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"


def test_another_regions_recognition_is_not_shown(client: TestClient, database, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    with database.unit_of_work() as session:
        password = Accounts(session).add("dave", "ZJ")
    _sign_in(client, "dave", password)
    assert client.get(f"/console/recognitions/{pending['id']}").status_code == 404
    assert client.get(f"/console/recognitions/{pending['id']}/certificate.json").status_code == 404


def test_sign_out_ends_the_session(client: TestClient, operators) -> None:
    _sign_in(client, "alice", operators["alice"])
    csrf = _csrf(client.get("/console").text)
    assert client.post("/console/logout", data={}, follow_redirects=False).status_code == 403
    assert client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_the_queue_filters_orders_and_pages(english: TestClient, operators, jiangsu, monkeypatch) -> None:
    small = _pending(jiangsu, 100001, 100010, "RR-SMALL")
    large = _pending(jiangsu, 100011, 100100, "RR-LARGE")
    _sign_in(english, "alice", operators["alice"])
    by_size = english.get("/console", params={"order": "largest"}).text
    assert by_size.index("RR-LARGE") < by_size.index("RR-SMALL")
    by_age = english.get("/console", params={"order": "oldest"}).text
    assert by_age.index("RR-SMALL") < by_age.index("RR-LARGE")
    assert small["id"] in english.get("/console", params={"origin": "JS", "purpose": "ets-compliance"}).text
    assert small["id"] not in english.get("/console", params={"purpose": "voluntary-neutralization"}).text
    assert small["id"] not in english.get("/console", params={"status": "pending_second_approval"}).text
    unknown = english.get("/console", params={"origin": "XX", "order": "sideways", "page": "0"})
    assert unknown.status_code == 200 and small["id"] in unknown.text  # unknown choices mean "any"
    monkeypatch.setattr("hub.console.review.PAGE_SIZE", 1)
    first = english.get("/console", params={"order": "largest"}).text
    assert large["id"] in first and small["id"] not in first
    assert 'href="/console?order=largest&amp;page=2" rel="next"' in first
    second = english.get("/console", params={"order": "largest", "page": 2}).text
    assert small["id"] in second and 'rel="prev"' in second and 'rel="next"' not in second


def test_the_dashboard_charts_flows_and_exports_every_table(english: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    _decide(english, pending["id"], "approve", "meets the rules")
    page = english.get("/console/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "JS → SH" in page.text
    # it leads with the map of flows: one arrow JS -> SH labelled with its tonnes, then the charts
    assert page.text.index('aria-labelledby="flow-map-title flow-map-desc"') < page.text.index(
        'aria-labelledby="flows-chart-title flows-chart-desc"'
    )
    assert page.text.count('<g class="flow">') == 1 and ">120 t</text>" in page.text
    for name in [
        "matrix",
        "flows",
        "regions",
        "methodologies",
        "vintages",
        "holdings",
        "transfers",
        "events",
    ]:
        assert f'href="/console/dashboard.csv?table={name}"' in page.text
        exported = english.get("/console/dashboard.csv", params={"table": name})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")

    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(english.get(f"/console/dashboard.csv?table={name}").text)))

    assert rows("flows")[0] == {
        "origin": "JS",
        "destination": "SH",
        "recognized_tonnes": "120",
        "recognized_converted_tonnes": "84",
        "transferred_tonnes": "0",
        "retired_tonnes": "0",
    }
    assert rows("matrix") == [{"origin": "JS", "SH": "120"}]
    assert {row["registry"]: row["tonnes"] for row in rows("regions")} == {"JS": "350"}
    assert rows("methodologies") == [{"methodology": "PV-DISTRIBUTED", "blocks": "1", "tonnes": "350"}]
    assert rows("vintages") == [{"vintage": "2025", "blocks": "1", "tonnes": "350"}]
    assert rows("events")[0]["type"] == "recognition.approved"
    assert english.get("/console/dashboard.csv", params={"table": "secrets"}).status_code == 404


def test_the_rulesets_browser_shows_signers_the_version_in_force_and_a_readable_diff(
    english: TestClient, operators
) -> None:
    _sign_in(english, "alice", operators["alice"])
    page = english.get("/console/rulesets")
    assert page.status_code == 200
    assert "yrd-recognition: what changed from v1 to v2" in page.text
    assert "committee-1" in page.text
    assert re.search(
        r"yrd-recognition <strong>\(in force\)</strong></th>\s*<td class=\"number\">2<", page.text
    )
    assert "<td>changed</td>" in page.text or "<td>added</td>" in page.text
    english.cookies.clear()
    assert english.get("/console/rulesets", follow_redirects=False).status_code == 303


def test_four_eyes_counts_people_across_the_console_and_the_api(
    database, settings, federation, operators, jiangsu
) -> None:
    """operator-sh approving in the console and again through the API is one person, not two."""
    password = json.loads((federation / "operator-sh.console.json").read_text())["password"]
    strict = settings.model_copy(update={"four_eyes_tonnes": 100})
    with TestClient(create_app(strict, database), raise_server_exceptions=False) as browser:
        pending = _pending(jiangsu)
        _sign_in(browser, "operator-sh", password)
        assert _decide(browser, pending["id"], "approve", "first look: fine").status_code == 303
        api = PlatformClient.from_credentials(federation / "operator-sh.json", transport=browser._transport)
        with pytest.raises(Refused) as refused:
            api.post(f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "again"})
        assert refused.value.code == "6003"
        api.close()
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_second_approval"


def test_a_decision_after_the_session_ended_asks_to_sign_in(client: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(client, "alice", operators["alice"])
    csrf = _csrf(client.get(f"/console/recognitions/{pending['id']}").text)
    client.cookies.delete("puhui_console")
    answer = client.post(
        f"/console/recognitions/{pending['id']}/decision",
        data={"decision": "approve", "reason": "fine by me", "csrf": csrf},
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"


def test_odd_page_numbers_show_a_page(english: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    for value in ["abc", "-3", "0", "1.5", "99999999999999999999999"]:
        answer = english.get("/console", params={"page": value})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html"), value
    assert pending["id"] in english.get("/console", params={"page": "abc"}).text


def test_page_numbers_past_pythons_digit_limit_show_a_page(english: TestClient, operators, jiangsu) -> None:
    """int() refuses a text of more than 4300 digits (ValueError, a 500): the number is clamped
    as any large one is, and a long run of zeros before a 1 is still the first page."""
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    # ٣ and ٠ are decimal digits too (int reads them)
    for value in ["9" * 5000, "0" * 5000 + "1", "\u0663" * 4400, "\u0660" * 4400 + "1"]:
        answer = english.get("/console", params={"page": value})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert pending["id"] in english.get("/console", params={"page": "0" * 5000 + "1"}).text
    assert pending["id"] in english.get("/console", params={"page": "\u0660" * 4400 + "1"}).text
    assert pending["id"] not in english.get("/console", params={"page": "9" * 5000}).text


def test_a_decision_on_a_recognition_that_does_not_exist_is_a_404_page(
    english: TestClient, operators, jiangsu
) -> None:
    _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    csrf = _csrf(english.get("/console").text)
    for missing in ["no-such-recognition", "%27%20OR%201=1", "x" * 300]:
        answer = english.post(
            f"/console/recognitions/{missing}/decision",
            data={"decision": "approve", "reason": "there is nothing here", "csrf": csrf},
            follow_redirects=False,
        )
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


def test_the_language_link_on_a_refusal_leads_to_a_page(english: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    refused = _decide(english, pending["id"], "approve", "")
    assert f'next=/console/recognitions/{pending["id"]}"' in refused.text
    signed_out = english.post("/console/logout", data={"csrf": "wrong"})
    assert signed_out.status_code == 403 and 'next=/console"' in signed_out.text


def test_csv_cells_are_never_spreadsheet_formulas() -> None:
    from hub.console.dashboard import spreadsheet_safe

    assert [spreadsheet_safe(v) for v in ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "SH", 42, -3]] == [
        "'=1+1",
        "'+SUM(A1)",
        "'-2",
        "'@cmd",
        "'\tx",
        "SH",
        42,
        -3,
    ]


def test_expired_sessions_are_refused_and_cleared(client: TestClient, database, operators) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import select

    from hub.console.models import ConsoleSession

    _sign_in(client, "alice", operators["alice"])
    with database.unit_of_work() as session:
        for found in session.exec(select(ConsoleSession)).all():
            found.expires_at = datetime.now(UTC) - timedelta(minutes=1)
            session.add(found)
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    client.cookies.clear()
    _sign_in(client, "bob", operators["bob"])
    with database.unit_of_work() as session:
        assert [found.username for found in session.exec(select(ConsoleSession)).all()] == ["bob"]
