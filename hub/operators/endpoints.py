"""``/v1/operators``: federation administrators manage the console accounts of the operators who
review recognitions — signed requests, each change logged; a password is answered once."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from hub.auth.actors import CurrentActor, enforce
from hub.auth.policy import can_manage_operators
from hub.auth.signing import SignedRequestDep
from hub.console.models import OperatorAccount
from hub.deps import SessionDep
from hub.idempotency.route import idempotent
from hub.operators.service import OperatorService
from hub.text import Text

router = APIRouter(prefix="/v1/operators", tags=["operators"])
USERNAME = r"^[a-z0-9][a-z0-9._-]{1,63}$"


class OperatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Text = Field(pattern=USERNAME, max_length=64, description="Lower-case, e.g. operator-js-2.")
    region: Text = Field(
        pattern=r"^[A-Z][A-Z0-9]{1,15}$", description="The region the operator reviews for: a platform code."
    )


class OperatorPublic(BaseModel):
    """An operator account as administrators see it (never its password or hash)."""

    username: str
    region: str
    locked_until: datetime | None = Field(description="Locked after repeated failed sign-ins until then.")
    created_at: datetime


class OperatorCredentials(OperatorPublic):
    password: str = Field(description="Shown once: the hub keeps only its scrypt hash.")


class OperatorRemoved(BaseModel):
    username: str
    removed: bool = True


def public(account: OperatorAccount) -> OperatorPublic:
    return OperatorPublic(
        username=account.username,
        region=account.region,
        locked_until=account.locked_until,
        created_at=account.created_at,
    )


def credentials(account: OperatorAccount, password: str) -> OperatorCredentials:
    return OperatorCredentials(**public(account).model_dump(), password=password)


@router.get("", summary="The operator accounts (federation administrators)")
def list_operators(session: SessionDep, actor: CurrentActor) -> list[OperatorPublic]:
    enforce(can_manage_operators(actor))
    return [public(account) for account in OperatorService(session).listing()]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add an operator (federation administrators); the password is answered once",
)
@idempotent
def add_operator(
    body: OperatorCreate, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> OperatorCredentials:
    enforce(can_manage_operators(actor))
    account, password = OperatorService(session).add(body.username, body.region, actor=actor.client_id)
    return credentials(account, password)


@router.post(
    "/{username}/reset-password",
    summary="A new password for an operator (answered once); unlocks the account, ends its sessions",
)
@idempotent
def reset_password(
    username: str, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> OperatorCredentials:
    enforce(can_manage_operators(actor))
    account, password = OperatorService(session).reset_password(username, actor=actor.client_id)
    return credentials(account, password)


@router.delete("/{username}", summary="Remove an operator: the account and its console sessions end")
@idempotent
def remove_operator(
    username: str, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> OperatorRemoved:
    enforce(can_manage_operators(actor))
    OperatorService(session).remove(username, actor=actor.client_id)
    return OperatorRemoved(username=username)
