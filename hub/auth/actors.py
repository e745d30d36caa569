"""The policy's view of a request: ``CurrentActor`` (the principal with its home region) and
``enforce``, which turns a refused ``Decision`` into a problem response."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from hub.auth.policy import Actor, Decision, Target
from hub.auth.principal import CurrentPrincipal, Forbidden, Principal
from hub.deps import SessionDep
from hub.platforms.models import Platform
from hub.platforms.repository import PlatformRepository
from hub.problems import HubError, NotFound


class NotPermitted(HubError):
    status = 403
    slug = "not-permitted"
    title = "The caller's role does not permit this"


def actor_of(principal: Principal, session: Session) -> Actor:
    """``principal`` with the ISO region of its platform (platforms) or its region's (operators)."""
    home = principal.platform_code or principal.region
    return Actor(
        client_id=principal.client_id,
        kind=principal.kind,
        scopes=principal.scopes,
        platform_code=principal.platform_code,
        region_code=principal.region,
        home_region=PlatformRepository(session).region_of(home) if home else None,
    )


def current_actor(principal: CurrentPrincipal, session: SessionDep) -> Actor:
    return actor_of(principal, session)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def target(platform: Platform) -> Target:
    return Target(code=platform.code, region=platform.region)


def target_of(session: Session, code: str) -> Target:
    """The platform ``code`` as a policy target; an unknown code is owned by nobody (region "")."""
    region = PlatformRepository(session).region_of(code)
    return Target(code=code, region=region or "")


def enforce(decision: Decision, *, not_found: str = "not found") -> None:
    """Return if ``decision`` allows; else raise: 404 (``not_found``) where the object's existence
    is not the caller's business, 403 with the missing scope, or 403 with the policy's code."""
    if decision:
        return
    if decision.hide:
        raise NotFound(not_found)
    if decision.scope is not None:
        raise Forbidden(decision.reason, scope=decision.scope)
    raise NotPermitted(decision.reason, code=decision.code)
