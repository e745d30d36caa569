"""The review work of a region's operators: the queue of pending recognitions (filters, order,
pages), the decision page (evaluation, every check, the four-eyes rule, approve or reject with a
reason) and, once approved, the certificate with the check of its signature and log inclusion."""

from __future__ import annotations

import json
import unicodedata
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from hub.console.accounts import SignedIn
from hub.console.i18n import catalogue
from hub.console.pages import FormDep, message_page, page, signed_in, translate
from hub.console.verification import certificate_verification
from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.keystore import KeyStore
from hub.problems import HubError, NotFound
from hub.recognition.models import Recognition
from hub.recognition.public import recognition_public
from hub.recognition.queue import ORDERS, PURPOSES, ReviewQueue
from hub.recognition.service import (
    CONSOLE_PREFIX,
    OPEN,
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
    RecognitionService,
    person,
)
from hub.settings import Settings
from schemas.strict_json import text_problem

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE_SIZE = 20
MAX_PAGE = 1_000_000


def _ruleset_label(evaluation: dict[str, Any]) -> str:
    ruleset = evaluation.get("ruleset") or {}
    return f"{ruleset.get('ruleset_id', '—')} v{ruleset.get('version', '?')}"


def _eligible(evaluation: dict[str, Any]) -> bool:
    blocks = evaluation.get("blocks") or []
    return bool(blocks) and all(block.get("eligible") for block in blocks)


def summary(item: Recognition) -> dict[str, Any]:
    """What the operator weighs: the recognition with its methodologies, ruleset decision and how
    many checks passed (a line of the queue, the head of the decision page)."""
    blocks = item.evaluation.get("blocks") or []
    methodologies = sorted(
        {
            f"{b['origin_methodology']['catalogue_id']} → {b['destination_methodology']['catalogue_id']}"
            for b in blocks
            if b.get("origin_methodology") and b.get("destination_methodology")
        }
    )
    return {
        **recognition_public(item).model_dump(mode="json"),
        "methodologies": methodologies,
        "ruleset": _ruleset_label(item.evaluation),
        "eligible": _eligible(item.evaluation),
        "passed": sum(1 for check in item.checks if check["passed"]),
        "submitted": item.created_at.strftime("%Y-%m-%d %H:%M"),
    }


def _page_number(text: str) -> int:
    """The page a ``page`` parameter asks for, from 1 to :data:`MAX_PAGE`; 1 when it is not a
    whole number. A number longer than ``MAX_PAGE`` (leading zeros aside) is not converted:
    ``int`` refuses a text of more than 4300 digits."""
    if not text.isdecimal():
        return 1
    digits = "".join(str(unicodedata.decimal(c)) for c in text).lstrip("0")  # ٣ is 3, as int reads it
    if len(digits) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(1, int(digits or "0")), MAX_PAGE)


def _choice(value: str | None, allowed: tuple[str, ...] | list[str]) -> str:
    return value if value is not None and value in allowed else ""


@router.get("")
def queue(
    request: Request,
    session: SessionDep,
    origin: str | None = None,
    purpose: str | None = None,
    status: str | None = None,
    order: str = "oldest",
    page_text: Annotated[str, Query(alias="page")] = "1",
) -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    page_number = _page_number(page_text)
    queue = ReviewQueue(session, who.region)
    origins = queue.origins()
    filters = {
        "origin": _choice(origin, origins),
        "purpose": _choice(purpose, PURPOSES),
        "status": _choice(status, OPEN),
        "order": order if order in ORDERS else "oldest",
    }
    found = queue.page(
        origin=filters["origin"],
        purpose=filters["purpose"],
        status=filters["status"],
        order=filters["order"],
        number=page_number,
        size=PAGE_SIZE,
    )
    return page(
        request,
        "queue.html",
        who=who,
        section="queue",
        page_title=translate(request)("queue.title", region=who.region),
        items=[summary(item) for item in found.items],
        filters={**filters, "page": page_number, "more": found.more},
        pager_query=urlencode({key: value for key, value in filters.items() if value}),
        choices={"origins": origins, "purposes": PURPOSES, "statuses": OPEN, "orders": ORDERS},
    )


def _decision_page(
    request: Request,
    session: Session,
    settings: Settings,
    keystore: KeyStore,
    who: SignedIn,
    item: Recognition,
    *,
    status: int = 200,
    error: str | None = None,
    reason: str = "",
) -> Response:
    """The recognition with its evaluation, checks, the four-eyes rule and the decision form; when
    a decision was refused, the page again with why, next to the reason the operator typed."""
    operator = f"{CONSOLE_PREFIX}{who.username}"
    four_eyes = None
    if item.quantity > settings.four_eyes_tonnes:
        four_eyes = {
            "limit": settings.four_eyes_tonnes,
            "approved_by_you": any(person(a["operator"]) == person(operator) for a in item.approvals),
        }
    return page(
        request,
        "recognition.html",
        status,
        who=who,
        section="queue",
        page_title=translate(request)("recognition.title", request=item.request_id),
        item=summary(item),
        blocks=item.evaluation.get("blocks") or [],
        four_eyes=four_eyes,
        can_decide=item.destination == who.region and item.status in OPEN,
        decision_error=error,
        reason=reason,
        here=f"/console/recognitions/{item.id}",
        certificate=item.certificate,
        verification=certificate_verification(session, keystore, item) if item.certificate_jws else None,
    )


@router.get("/recognitions/{recognition_id}")
def recognition_page(
    recognition_id: str, request: Request, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep
) -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    item = ReviewQueue(session, who.region).visible(recognition_id)
    if item is None:
        return message_page(request, 404, "recognition.not_found", who=who)
    return _decision_page(request, session, settings, keystore, who, item)


@router.get("/recognitions/{recognition_id}/certificate.json")
def certificate_download(recognition_id: str, request: Request, session: SessionDep) -> Response:
    """The certificate and its JWS, as `puhui certificates verify` reads them offline."""
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    item = ReviewQueue(session, who.region).visible(recognition_id)
    if item is None or item.certificate_jws is None:
        return message_page(request, 404, "certificate.not_found", who=who)
    signed = {"certificate": item.certificate, "jws": item.certificate_jws}
    body = json.dumps(signed, ensure_ascii=False, indent=2)
    name = (item.certificate or {}).get("certificate_id", recognition_id)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
    )


def _refusal(request: Request, error: HubError) -> str:
    """Why the service refused, in the operator's language when the code is one the page knows."""
    t = translate(request)
    known = f"refusal.{error.code}"
    return t(known) if known in catalogue() else f"[{error.code}] {error.detail}"


@router.post("/recognitions/{recognition_id}/decision")
def decide(
    recognition_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeyStoreDep,
    form: FormDep,
) -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who  # signed out (or the session expired): sign in again
    if form.get("csrf") != who.csrf_token:
        return message_page(request, 403, "csrf.refused", who=who)
    service = RecognitionService(session, settings, keystore)
    try:
        item = service.get(recognition_id, for_update=True)  # one decision at a time
    except NotFound:
        return message_page(request, 404, "recognition.not_in_queue", who=who)
    if item.destination != who.region:
        return message_page(request, 404, "recognition.not_in_queue", who=who)
    reason = form.get("reason", "").strip()
    t = translate(request)
    if form.get("decision") not in ("approve", "reject"):
        error = t("decision.choose")
    elif len(reason) < REASON_MIN_LENGTH:
        error = t("decision.reason_required")
    elif len(reason) > REASON_MAX_LENGTH:
        error = t("decision.reason_too_long", limit=REASON_MAX_LENGTH)
    elif text_problem(reason):  # refused as the API refuses it (1049)
        error = t("form.text_character")
    else:
        try:
            service.decide(
                item,
                operator=f"{CONSOLE_PREFIX}{who.username}",
                approve=form["decision"] == "approve",
                reason=reason,
            )
        except HubError as refused:
            session.rollback()  # a refused decision changes nothing
            item = service.get(recognition_id)
            return _decision_page(
                request, session, settings, keystore, who, item,
                status=refused.status, error=_refusal(request, refused), reason=reason,
            )  # fmt: skip
        return RedirectResponse(f"/console/recognitions/{recognition_id}", status_code=303)
    return _decision_page(
        request, session, settings, keystore, who, item, status=422, error=error, reason=reason
    )
