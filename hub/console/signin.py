"""Signing in and out. Sessions are HttpOnly, SameSite=Strict cookies (Secure over https); the
sign-in form carries a double-submit CSRF token, sign-out the session's token. Five wrong passwords
lock the account for a while."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.console.accounts import LOCK_OUT, MAX_FAILURES, Accounts
from hub.console.pages import (
    SESSION_COOKIE,
    current_operator,
    form_fields,
    message_page,
    page,
    secure,
    translate,
)
from hub.deps import SessionDep

router = APIRouter(prefix="/console", include_in_schema=False)
LOGIN_COOKIE = "puhui_login_csrf"


def _login_page(request: Request, message_key: str | None = None, status: int = 200) -> HTMLResponse:
    t = translate(request)
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        status,
        page_title=t("login.title"),
        csrf=token,
        message=t(message_key) if message_key else None,
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
async def login(request: Request, session: SessionDep) -> Response:
    form = await form_fields(request)
    if not form.get("csrf") or form.get("csrf") != request.cookies.get(LOGIN_COOKIE):
        return _login_page(request, "login.expired", 403)
    outcome = Accounts(session).sign_in(form.get("username", ""), form.get("password", ""))
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
async def logout(request: Request, session: SessionDep) -> Response:
    who = current_operator(request, session)
    form = await form_fields(request)
    if who is None or form.get("csrf") != who.csrf_token:
        return message_page(request, 403, "csrf.refused")
    Accounts(session).sign_out(request.cookies.get(SESSION_COOKIE, ""))
    redirect = RedirectResponse("/console/login", status_code=303)
    redirect.delete_cookie(SESSION_COOKIE, path="/console")
    return redirect
