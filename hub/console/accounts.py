"""Operator accounts and console sessions: scrypt password hashes, lock-out after repeated
failures, sessions kept in the database (every hub process sees them), CSRF tokens per session.

A sign-in is three steps, so that no transaction (nor a pooled connection) is held while scrypt
runs: read the account; check the password (no database); then, in one short transaction, count the
failure or open the session — each one atomic UPDATE, so concurrent attempts never lose a count."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal

from sqlalchemy import DateTime, case, delete, literal, or_, update
from sqlmodel import Session, col, select

from hub.auth.secrets import hash_secret, new_secret, verify_secret
from hub.console.models import ConsoleSession, OperatorAccount
from hub.database import Database
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


def _unlocked(now: datetime) -> Any:
    locked_until = col(OperatorAccount.locked_until)
    return or_(locked_until.is_(None), locked_until <= now)


@cache
def _decoy_hash() -> str:
    """A hash no password matches: an unknown user name costs the same scrypt work as a known one."""
    return hash_secret(new_secret())


@dataclass(frozen=True)
class SignedIn:
    username: str
    region: str
    csrf_token: str


@dataclass(frozen=True)
class Attempt:
    """An account as a sign-in read it: region and hash None when there is no such account."""

    username: str
    region: str | None
    password_hash: str | None
    locked: bool

    def check(self, password: str) -> bool:
        """The scrypt verification (no database): the same work for every user name, known or not,
        locked or not, so the time taken tells nothing."""
        matches = verify_secret(password, self.password_hash or _decoy_hash())
        return matches and self.password_hash is not None


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

    def attempt(self, username: str, now: datetime) -> Attempt:
        """What a sign-in needs to know about the account, read before the password is checked."""
        account = self.session.get(OperatorAccount, username)
        if account is None:
            return Attempt(username, None, None, locked=False)
        locked = account.locked_until is not None and _aware(account.locked_until) > now
        return Attempt(username, account.region, account.password_hash, locked=locked)

    def count_failure(self, username: str, now: datetime) -> None:
        """One wrong password, counted by one atomic UPDATE (concurrent failures all count): the
        MAX_FAILURES-th in a row locks the account for LOCK_OUT and starts the count again. Failures
        while the account is locked do not count (nor extend the lock)."""
        failures = col(OperatorAccount.failed_attempts)
        locking = failures + 1 >= MAX_FAILURES
        self.session.execute(
            update(OperatorAccount)
            .where(col(OperatorAccount.username) == username, _unlocked(now))
            .values(
                failed_attempts=case((locking, 0), else_=failures + 1),
                locked_until=case(
                    (locking, literal(now + LOCK_OUT, DateTime(timezone=True))),
                    else_=col(OperatorAccount.locked_until),
                ),
            )
            .execution_options(synchronize_session=False)
        )

    def open_session(self, attempt: Attempt, now: datetime) -> tuple[str, SignedIn] | None:
        """A new session for a verified password, the failure count reset by one conditional UPDATE;
        None when the account was locked (or its password changed) since ``attempt`` was read."""
        reset = self.session.execute(
            update(OperatorAccount)
            .where(
                col(OperatorAccount.username) == attempt.username,
                col(OperatorAccount.password_hash) == attempt.password_hash,
                _unlocked(now),
            )
            .values(failed_attempts=0, locked_until=None)
            .returning(col(OperatorAccount.region))
            .execution_options(synchronize_session=False)
        ).first()
        if reset is None:
            return None
        self.session.execute(  # sessions that ended by time go when someone signs in
            delete(ConsoleSession).where(col(ConsoleSession.expires_at) <= now)
        )
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        self.session.add(
            ConsoleSession(
                token_hash=_hash(token),
                username=attempt.username,
                csrf_token=csrf,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        return token, SignedIn(attempt.username, reset.region, csrf)

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

    def get(self, username: str) -> OperatorAccount:
        """The account; 404 when there is none."""
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
        account = self.get(username)
        password = new_secret()[:20]
        account.password_hash, account.failed_attempts, account.locked_until = hash_secret(password), 0, None
        self.session.add(account)
        self._end_sessions(username)
        return password

    def remove(self, username: str) -> None:
        """Delete the account and end its sessions."""
        account = self.get(username)
        self._end_sessions(username)
        self.session.delete(account)


class SignIn:
    """Signing in, in the three steps described above, each database step its own short unit of
    work (the console's route runs `sign_in` on a worker thread, never on the event loop)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def look_up(self, username: str) -> Attempt:
        with self.database.unit_of_work() as session:
            return Accounts(session).attempt(username, datetime.now(UTC))

    def conclude(self, attempt: Attempt, matches: bool) -> tuple[str, SignedIn] | Refusal:
        """A new session (cookie token, who) — or why not: "wrong_credentials" or "locked"."""
        if attempt.region is None:
            return "wrong_credentials"
        if attempt.locked:
            return "locked"
        now = datetime.now(UTC)
        with self.database.unit_of_work() as session:
            accounts = Accounts(session)
            if not matches:
                accounts.count_failure(attempt.username, now)
                return "wrong_credentials"
            opened = accounts.open_session(attempt, now)
        return "locked" if opened is None else opened

    def sign_in(self, username: str, password: str) -> tuple[str, SignedIn] | Refusal:
        attempt = self.look_up(username)
        return self.conclude(attempt, attempt.check(password))
