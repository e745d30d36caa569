"""Console pages: sign-in (lock-out after repeated failures), the region's review queue and
decisions. Sessions are HttpOnly, SameSite=Strict cookies (Secure over https); every form carries a
CSRF token (login: double-submit cookie; signed in: the session's token)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import col, select

from hub.console.accounts import Accounts, SignedIn
from hub.console.verification import certificate_verification
from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.problems import HubError
from hub.recognition.endpoints import view
from hub.recognition.models import Recognition
from hub.recognition.service import RecognitionService

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
SESSION_COOKIE = "puhui_console"
LOGIN_COOKIE = "puhui_login_csrf"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _secure(request: Request) -> bool:
    return str(request.app.state.settings.resolved_public_url).startswith("https://")


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"title": "Puhui Hub", "who": None, "message": None, **context}, status_code=status
    )


def _login_page(request: Request, message: str | None = None, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    page = _page(request, "login.html", status, csrf=token, message=message)
    page.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/console"
    )
    return page


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = await _form(request)
    if not form.get("csrf") or form.get("csrf") != request.cookies.get(LOGIN_COOKIE):
        return _login_page(request, "表单已过期 The form expired; try again.", 403)
    outcome = Accounts(session).sign_in(form.get("username", ""), form.get("password", ""))
    if isinstance(outcome, str):
        return _login_page(request, outcome, 401)
    token, _ = outcome
    redirect = RedirectResponse("/console", status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/console"
    )
    redirect.delete_cookie(LOGIN_COOKIE, path="/console")
    return redirect


def _who(request: Request, session: Any) -> SignedIn | None:
    return Accounts(session).current(request.cookies.get(SESSION_COOKIE))


PAGE_SIZE = 20
ORDERS = {"oldest": col(Recognition.created_at), "largest": col(Recognition.quantity).desc()}


@router.get("")
def queue(
    request: Request,
    session: SessionDep,
    message: str | None = None,
    origin: str | None = None,
    order: str = "oldest",
    page: int = 1,
) -> Response:
    who = _who(request, session)
    if who is None:
        return RedirectResponse("/console/login", status_code=303)
    query = select(Recognition).where(
        Recognition.destination == who.region,
        col(Recognition.status).in_(["pending_review", "pending_second_approval"]),
    )
    if origin:
        query = query.where(Recognition.origin == origin)
    page = max(1, page)
    items = session.exec(
        query.order_by(ORDERS.get(order, ORDERS["oldest"]))
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return _page(
        request,
        "queue.html",
        who=who,
        items=[view(item) for item in items[:PAGE_SIZE]],
        message=message,
        filters={"origin": origin or "", "order": order, "page": page, "more": len(items) > PAGE_SIZE},
    )


@router.get("/recognitions/{recognition_id}")
def recognition_page(
    recognition_id: str, request: Request, session: SessionDep, keystore: KeyStoreDep
) -> Response:
    """One recognition: its evaluation and checks; when approved, the certificate with the check of
    its signature (key id) and of its inclusion in the log."""
    who = _who(request, session)
    if who is None:
        return RedirectResponse("/console/login", status_code=303)
    item = session.get(Recognition, recognition_id)
    if item is None or who.region not in (item.destination, item.origin):
        return _page(request, "base.html", 404, who=who, message="没有这个互认申请 No such recognition.")
    verification = certificate_verification(session, keystore, item) if item.certificate_jws else None
    return _page(
        request,
        "recognition.html",
        who=who,
        item=view(item),
        certificate=item.certificate,
        verification=verification,
    )


@router.post("/recognitions/{recognition_id}/decision")
async def decide(
    recognition_id: str, request: Request, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep
) -> Response:
    who = _who(request, session)
    form = await _form(request)
    if who is None or form.get("csrf") != who.csrf_token:
        return _page(request, "base.html", 403, message="请求被拒绝 Refused: missing or wrong CSRF token.")
    reason = form.get("reason", "").strip()
    service = RecognitionService(session, settings, keystore)
    item = session.get(Recognition, recognition_id)
    if item is None or item.destination != who.region:
        return _page(
            request, "base.html", 404, who=who, message="没有这个互认申请 No such recognition in your queue."
        )
    if len(reason) < 3 or form.get("decision") not in ("approve", "reject"):
        return _page(request, "base.html", 422, who=who, message="请填写理由 A reason is required.")
    try:
        decided = service.decide(
            item, operator=f"console:{who.username}", approve=form["decision"] == "approve", reason=reason
        )
    except HubError as error:
        return _page(request, "base.html", error.status, who=who, message=error.detail)
    return RedirectResponse(f"/console/recognitions/{decided.id}", status_code=303)


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    who = _who(request, session)
    form = await _form(request)
    if who is None or form.get("csrf") != who.csrf_token:
        return _page(request, "base.html", 403, message="请求被拒绝 Refused: missing or wrong CSRF token.")
    Accounts(session).sign_out(request.cookies.get(SESSION_COOKIE, ""))
    redirect = RedirectResponse("/console/login", status_code=303)
    redirect.delete_cookie(SESSION_COOKIE, path="/console")
    return redirect
