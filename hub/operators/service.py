"""Adding, resetting and removing operator accounts, each change recorded in the transparency log
(never the password: it is shown once to whoever asked, and stored only as its scrypt hash)."""

from __future__ import annotations

from sqlmodel import Session

from hub.console.accounts import Accounts
from hub.console.models import OperatorAccount
from hub.log.changes import record_change


class OperatorService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.accounts = Accounts(session)

    def listing(self) -> list[OperatorAccount]:
        return self.accounts.listing()

    def add(self, username: str, region: str, *, actor: str) -> tuple[OperatorAccount, str]:
        """The new account and its generated password (shown once); 409 3012 when the name is
        taken, 404 2002 when the region is no registered platform."""
        password = self.accounts.add(username, region)
        account = self.accounts.get(username)
        self._log("operator.added", account, actor)
        return account, password

    def reset_password(self, username: str, *, actor: str) -> tuple[OperatorAccount, str]:
        """A new generated password; the account is unlocked and signed out everywhere."""
        password = self.accounts.reset_password(username)
        account = self.accounts.get(username)
        self._log("operator.password_reset", account, actor)
        return account, password

    def remove(self, username: str, *, actor: str) -> OperatorAccount:
        account = self.accounts.get(username)
        self._log("operator.removed", account, actor)
        self.accounts.remove(username)
        return account

    def _log(self, event: str, account: OperatorAccount, actor: str) -> None:
        record_change(
            self.session,
            event,
            subject=("operator", account.username),
            actor=actor,
            data={"region": account.region},
        )
