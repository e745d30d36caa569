"""Operator accounts and console sessions: scrypt password hashes, lock-out after repeated
failures, sessions kept in the database (every hub process sees them), CSRF tokens per session."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete
from sqlmodel import Session, col, select

from hub.auth.secrets import hash_secret, new_secret, verify_secret
from hub.console.models import ConsoleSession, OperatorAccount
from hub.platforms.models import Platform
from hub.problems import Conflict, NotFound

MAX_FAILURES = 5
Refusal = Literal["wrong_credentials", "locked"]
LOCK_OUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SignedIn:
    username: str
    region: str
    csrf_token: str


class Accounts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, username: str, region: str, password: str | None = None) -> str:
        """Create an operator account; the password (generated when not given), shown once."""
        if self.session.get(OperatorAccount, username) is not None:
            raise Conflict(f"operator {username} exists", code="3012")
        if self.session.get(Platform, region) is None:
            raise NotFound(f"no platform {region}: a region is a registered platform's code", code="2002")
        password = password or new_secret()[:20]
        self.session.add(
            OperatorAccount(username=username, region=region, password_hash=hash_secret(password))
        )
        self.session.flush()
        return password

    def sign_in(self, username: str, password: str) -> tuple[str, SignedIn] | Refusal:
        """A new session (cookie token, who) — or why not: "wrong_credentials" or "locked"."""
        account = self.session.get(OperatorAccount, username)
        now = datetime.now(UTC)
        if account is None:
            verify_secret(password, None)  # same work either way
            return "wrong_credentials"
        if account.locked_until is not None and _aware(account.locked_until) > now:
            verify_secret(password, None)  # the same work as any other refusal
            return "locked"
        if not verify_secret(password, account.password_hash):
            account.failed_attempts += 1
            if account.failed_attempts >= MAX_FAILURES:
                account.locked_until, account.failed_attempts = now + LOCK_OUT, 0
            self.session.add(account)
            return "wrong_credentials"
        account.failed_attempts, account.locked_until = 0, None
        self.session.add(account)
        self.session.execute(  # sessions that ended by time go when someone signs in
            delete(ConsoleSession).where(col(ConsoleSession.expires_at) <= now)
        )
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        self.session.add(
            ConsoleSession(
                token_hash=_hash(token), username=username, csrf_token=csrf, expires_at=now + SESSION_LIFETIME
            )
        )
        return token, SignedIn(username, account.region, csrf)

    def current(self, token: str | None) -> SignedIn | None:
        if not token:
            return None
        found = self.session.get(ConsoleSession, _hash(token))
        if found is None or _aware(found.expires_at) <= datetime.now(UTC):
            return None
        account = self.session.get(OperatorAccount, found.username)
        return None if account is None else SignedIn(account.username, account.region, found.csrf_token)

    def sign_out(self, token: str) -> None:
        found = self.session.get(ConsoleSession, _hash(token))
        if found is not None:
            self.session.delete(found)

    def listing(self) -> list[OperatorAccount]:
        return list(self.session.exec(select(OperatorAccount).order_by(col(OperatorAccount.username))).all())

    def _account(self, username: str) -> OperatorAccount:
        account = self.session.get(OperatorAccount, username)
        if account is None:
            raise NotFound(f"no operator {username}")
        return account

    def _end_sessions(self, username: str) -> int:
        ended = self.session.exec(select(ConsoleSession).where(ConsoleSession.username == username)).all()
        for found in ended:
            self.session.delete(found)
        return len(ended)

    def reset_password(self, username: str) -> str:
        """A new generated password (shown once); the account is unlocked and signed out everywhere."""
        account = self._account(username)
        password = new_secret()[:20]
        account.password_hash, account.failed_attempts, account.locked_until = hash_secret(password), 0, None
        self.session.add(account)
        self._end_sessions(username)
        return password

    def remove(self, username: str) -> None:
        """Delete the account and end its sessions."""
        account = self._account(username)
        self._end_sessions(username)
        self.session.delete(account)
