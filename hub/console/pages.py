"""What every console page shares: the templates, the operator's language (switchable, remembered in
a cookie), the signed-in operator, and pages that only say something (refusals, not found)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from hub.console.accounts import Accounts, SignedIn
from hub.console.i18n import HTML_LANG, LANGUAGE_COOKIE, LANGUAGES, Translator, catalogue, choose, translator
from hub.deps import SessionDep
from hub.recognition.service import REASON_MAX_LENGTH
from hub.witness.service import WitnessedLogs

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC_DIR = Path(__file__).parent / "static"  # the stylesheet, served at /console/static/
SESSION_COOKIE = "puhui_console"
MAX_TEXT = REASON_MAX_LENGTH  # any text typed into a console form: as long as the API's decision reason
LANGUAGE_MAX_AGE = 365 * 24 * 3600


def language(request: Request) -> str:
    return choose(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def translate(request: Request) -> Translator:
    return translator(language(request))


def secure(request: Request) -> bool:
    return str(request.app.state.settings.resolved_public_url).startswith("https://")


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form, read on the event loop by this dependency, so that the routes taking a form
    can be plain functions, run on worker threads with whatever work they do."""
    body = await request.body()
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


FormDep = Annotated[dict[str, str], Depends(form_fields)]


def witness_alarm(session: Session) -> dict[str, Any] | None:
    """The open split-view alarms (hub.witness): how many, and the origin of the latest."""
    logs = WitnessedLogs(session)
    count = logs.open_alarms()
    latest = logs.alarms(open_only=True, limit=1) if count else []
    if not latest:
        return None
    kind = "witness.kind_" + latest[0].kind.replace("-", "_")
    return {"count": count, "origin": latest[0].origin, "kind": kind}


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a template in the operator's language; to a signed-in operator, with the banner of
    any split-view alarm until an administrator acknowledges it."""
    chosen = language(request)
    other = next(code for code in LANGUAGES if code != chosen)
    t = translator(chosen)
    messages = catalogue()
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        here = "/console"  # the language link must lead to a page, not to a form's target
    values: dict[str, Any] = {
        "t": t,
        "label": lambda key: t(f"field.{key}") if f"field.{key}" in messages else str(key),
        "html_lang": HTML_LANG[chosen],
        "other_language": other,
        "other_html_lang": HTML_LANG[other],
        "here": here,
        "page_title": t("app.console"),
        "who": None,
        "message": None,
        "error": False,
        "section": None,
        "max_text": MAX_TEXT,
        "witness_alarm": None,
        **context,
    }
    if values["who"] is not None:
        values["witness_alarm"] = getattr(request.state, "witness_alarm", None)
    return templates.TemplateResponse(request, name, values, status_code=status)


def message_page(
    request: Request, status: int, key: str, *, who: SignedIn | None = None, **values: Any
) -> HTMLResponse:
    """A page that says why not (in the operator's language); status is the HTTP status."""
    t = translate(request)
    text = t(key, **values)
    return page(request, "message.html", status, who=who, page_title=text, message=text, error=status >= 400)


def current_operator(request: Request, session: Session) -> SignedIn | None:
    """The signed-in operator (and, read in the same session, the alarm their pages show)."""
    who = Accounts(session).current(request.cookies.get(SESSION_COOKIE))
    if who is not None:
        request.state.witness_alarm = witness_alarm(session)
    return who


def signed_in(request: Request, session: Session) -> SignedIn | Response:
    """The signed-in operator, or the redirect to the sign-in page."""
    who = current_operator(request, session)
    return RedirectResponse("/console/login", status_code=303) if who is None else who


def _local(target: str | None) -> str:
    """Only a path inside the console: never another site (an open redirect)."""
    if not target:
        return "/console"
    parts = urlsplit(target)
    inside = parts.path == "/console" or parts.path.startswith("/console/")
    segments = unquote(parts.path).split("/")
    if parts.scheme or parts.netloc or not inside or target.startswith("//") or "\\" in target:
        return "/console"
    if any(segment in (".", "..") for segment in segments) or any(ord(c) < 32 for c in target):
        return "/console"  # "/console/../v1" would leave the console once the browser resolves it
    return target


@router.get("/")
def with_slash() -> RedirectResponse:
    """A person typing ``/console/`` lands on the console (the API's paths do not redirect)."""
    return RedirectResponse("/console", status_code=308)


@router.get("/language")
def switch_language(
    request: Request, session: SessionDep, lang: str | None = None, next: str | None = None
) -> Response:
    """Remember the operator's language (a cookie, not a credential) and go back where they were."""
    if lang not in LANGUAGES:
        return message_page(request, 400, "language.unknown", who=current_operator(request, session))
    redirect = RedirectResponse(_local(next), status_code=303)
    redirect.set_cookie(
        LANGUAGE_COOKIE,
        lang,
        max_age=LANGUAGE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/console",
    )
    return redirect
