"""The console under attack: the lock-out counter holds under concurrent wrong passwords (real
threads, both backends), every response carries the security headers and the pages need no inline
script or style, and text typed into a form is capped at the API's decision-reason length."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from hub.console.accounts import MAX_FAILURES, SignIn
from hub.console.headers import CONTENT_SECURITY_POLICY
from hub.console.models import OperatorAccount
from hub.console.pages import MAX_TEXT
from hub.database import Database
from tests.hub.test_console import _csrf, _decide, _pending, _sign_in


def _account(database: Database, username: str) -> OperatorAccount:
    with database.unit_of_work() as session:
        account = session.get(OperatorAccount, username)
        assert account is not None
        return account


def _locked(account: OperatorAccount) -> bool:
    until = account.locked_until
    return until is not None and (until if until.tzinfo else until.replace(tzinfo=UTC)) > datetime.now(UTC)


def _in_parallel(count: int, work) -> list:
    """`work()` on `count` threads released together (a barrier), so the attempts really overlap."""
    barrier = threading.Barrier(count)

    def run():
        barrier.wait(timeout=30)
        return work()

    with ThreadPoolExecutor(count) as pool:
        return [future.result(timeout=120) for future in [pool.submit(run) for _ in range(count)]]


def test_concurrent_failures_are_all_counted(database: Database, operators) -> None:
    """Fewer failures than the limit, all at once: every one is counted (no lost update)."""
    service = SignIn(database)
    attempt = service.look_up("alice")
    outcomes = _in_parallel(MAX_FAILURES - 1, lambda: service.conclude(attempt, False))
    assert outcomes == ["wrong_credentials"] * (MAX_FAILURES - 1)
    account = _account(database, "alice")
    assert account.failed_attempts == MAX_FAILURES - 1 and not _locked(account)
    assert service.conclude(service.look_up("alice"), False) == "wrong_credentials"  # the fifth
    account = _account(database, "alice")
    assert _locked(account) and account.failed_attempts == 0


@pytest.mark.parametrize("attempts", [16, 50])
def test_parallel_wrong_passwords_lock_the_account(database: Database, operators, attempts: int) -> None:
    service = SignIn(database)
    outcomes = _in_parallel(attempts, lambda: service.sign_in("alice", "wrong"))
    assert set(outcomes) <= {"wrong_credentials", "locked"}
    assert _locked(_account(database, "alice"))
    assert service.sign_in("alice", operators["alice"]) == "locked"  # the right password, too late
    assert not isinstance(service.sign_in("bob", operators["bob"]), str)  # only alice is locked


def test_a_lock_set_meanwhile_refuses_a_right_password(database: Database, operators) -> None:
    """The password was checked against the account as read before the lock: the session is still
    refused, because opening it is conditional on the account being unlocked."""
    service = SignIn(database)
    read_before = service.look_up("alice")
    for _ in range(MAX_FAILURES):
        service.conclude(service.look_up("alice"), False)
    assert service.conclude(read_before, read_before.check(operators["alice"])) == "locked"


def test_every_console_response_carries_the_security_headers(english: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    responses = [
        english.get("/console", follow_redirects=False),  # a redirect to the sign-in page
        english.get("/console/login"),
        english.post("/console/login", data={"username": "alice", "password": "x"}),  # refused
        _sign_in(english, "alice", operators["alice"]),
        english.get("/console"),
        english.get(f"/console/recognitions/{pending['id']}"),
        english.get("/console/recognitions/nothing-here"),  # 404 page
        english.get("/console/dashboard"),
        english.get("/console/dashboard.csv?table=flows"),
        english.get("/console/rulesets"),
        english.get("/console/static/console.css"),
        english.get("/console/static/missing.css"),
    ]
    for response in responses:
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, response.url
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
    policy = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "script-src" not in policy
    assert "content-security-policy" not in english.get("/healthz").headers  # the API is not a page


def test_pages_need_no_inline_script_or_style(english: TestClient, operators, jiangsu) -> None:
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    paths = ["/console", f"/console/recognitions/{pending['id']}", "/console/dashboard", "/console/rulesets"]
    for html in [english.get("/console/login").text, *(english.get(path).text for path in paths)]:
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=|javascript:", html, re.I)
        assert '<link rel="stylesheet" href="/console/static/console.css">' in html
    stylesheet = english.get("/console/static/console.css")
    assert stylesheet.status_code == 200 and stylesheet.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in stylesheet.text


def test_the_console_caps_text_as_the_api_does(english: TestClient, operators, jiangsu, database) -> None:
    api_reason = english.get("/openapi.json").json()["components"]["schemas"]["Decision"]["properties"]
    assert api_reason["reason"]["maxLength"] == MAX_TEXT == 2000
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    too_long = _decide(english, pending["id"], "reject", "x" * (MAX_TEXT + 1))
    assert too_long.status_code == 422
    assert "The reason is too long: at most 2000 characters." in too_long.text
    assert 'role="alert"' in too_long.text and f'maxlength="{MAX_TEXT}"' in too_long.text
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"
    longest = _decide(english, pending["id"], "reject", "y" * MAX_TEXT)
    assert longest.status_code == 303
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["decision_reason"] == "y" * MAX_TEXT


def test_the_sign_in_form_caps_its_fields(english: TestClient, operators, database) -> None:
    for field in ["username", "password"]:
        form = english.get("/console/login")
        data = {"username": "alice", "password": "wrong", "csrf": _csrf(form.text)}
        data[field] = "z" * (MAX_TEXT + 1)
        refused = english.post("/console/login", data=data)
        assert refused.status_code == 422
        assert "Too long: each field takes at most 2000 characters." in refused.text
        assert 'name="csrf"' in refused.text  # the form again, ready for another try
    assert _account(database, "alice").failed_attempts == 0  # refused before any password check


def test_a_nul_character_in_a_form_is_refused_before_anything(
    english: TestClient, operators, jiangsu, database
) -> None:
    """A NUL typed (or posted) into a console form: the form again with why (422), as the API
    refuses it (1049) — not a 500 on PostgreSQL, whose text cannot hold it, at the account look-up
    or the decision's update; SQLite would have stored it."""
    for field in ["username", "password"]:
        form = english.get("/console/login")
        data = {"username": "alice", "password": operators["alice"], "csrf": _csrf(form.text)}
        data[field] += "\x00"
        refused = english.post("/console/login", data=data, follow_redirects=False)
        assert refused.status_code == 422
        assert "A field holds a NUL character, which the hub does not accept." in refused.text
        assert 'name="csrf"' in refused.text
    assert _account(database, "alice").failed_attempts == 0
    pending = _pending(jiangsu)
    _sign_in(english, "alice", operators["alice"])
    refused = _decide(english, pending["id"], "reject", "not\x00eligible")
    assert refused.status_code == 422
    assert "A field holds a NUL character, which the hub does not accept." in refused.text
    assert 'role="alert"' in refused.text
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "pending_review"
