"""Signing in and out. Sessions are HttpOnly, SameSite=Strict cookies (Secure over https); the
sign-in form carries a double-submit CSRF token, sign-out the session's token. Five wrong passwords
lock the account for a while.

Nothing here blocks the event loop. A sign-in (its database steps and its scrypt check, ~70 ms of
one core and 16 MiB) runs on a worker thread, at most one per core (and four) at once: a burst of
sign-ins queues for those few threads, holding neither a database connection nor the threads (and
pooled connections) every other request needs. Sign-out is a plain function, run on a worker thread."""

from __future__ import annotations

import os
import secrets
from typing import Any

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.console.accounts import LOCK_OUT, MAX_FAILURES, Accounts, SignIn
from hub.console.pages import (
    MAX_TEXT,
    SESSION_COOKIE,
    FormDep,
    current_operator,
    message_page,
    page,
    secure,
    translate,
)
from hub.deps import DatabaseDep, SessionDep
from schemas.strict_json import text_problem

router = APIRouter(prefix="/console", include_in_schema=False)
LOGIN_COOKIE = "puhui_login_csrf"
SIGN_INS_AT_ONCE = min(4, os.cpu_count() or 1)
_sign_in_threads: RunVar[CapacityLimiter] = RunVar("console_sign_in_threads")


def _sign_in_limiter() -> CapacityLimiter:
    """The sign-ins' own few worker threads (one limiter per event loop)."""
    try:
        return _sign_in_threads.get()
    except LookupError:
        limiter = CapacityLimiter(SIGN_INS_AT_ONCE)
        _sign_in_threads.set(limiter)
        return limiter


def _login_page(
    request: Request, message_key: str | None = None, status: int = 200, **values: Any
) -> HTMLResponse:
    t = translate(request)
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        status,
        page_title=t("login.title"),
        csrf=token,
        message=t(message_key, **values) if message_key else None,
        error=message_key is not None,
        max_failures=MAX_FAILURES,
        lockout_minutes=int(LOCK_OUT.total_seconds() // 60),
    )
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/console"
    )
    return response


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
async def login(request: Request, database: DatabaseDep, form: FormDep) -> Response:
    if not form.get("csrf") or form.get("csrf") != request.cookies.get(LOGIN_COOKIE):
        return _login_page(request, "login.expired", 403)
    username, password = form.get("username", ""), form.get("password", "")
    if max(len(username), len(password)) > MAX_TEXT:
        return _login_page(request, "form.too_long", 422, limit=MAX_TEXT)
    if text_problem(username) or text_problem(password):  # a NUL: PostgreSQL cannot even look it up
        return _login_page(request, "form.text_character", 422)
    sign_in = SignIn(database).sign_in
    outcome = await to_thread.run_sync(sign_in, username, password, limiter=_sign_in_limiter())
    if isinstance(outcome, str):
        # One answer for a wrong password, an unknown name and a locked account: the page must not
        # tell which user names exist (the lock-out rule itself is stated on the form).
        return _login_page(request, "login.refused", 401)
    token, _ = outcome
    redirect = RedirectResponse("/console", status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/console"
    )
    redirect.delete_cookie(LOGIN_COOKIE, path="/console")
    return redirect


@router.post("/logout")
def logout(request: Request, session: SessionDep, form: FormDep) -> Response:
    who = current_operator(request, session)
    if who is None or form.get("csrf") != who.csrf_token:
        return message_page(request, 403, "csrf.refused")
    Accounts(session).sign_out(request.cookies.get(SESSION_COOKIE, ""))
    redirect = RedirectResponse("/console/login", status_code=303)
    redirect.delete_cookie(SESSION_COOKIE, path="/console")
    return redirect
