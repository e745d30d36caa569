"""Request dependencies as ``Annotated`` aliases: the per-request unit of work and app state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from hub.database import Database
from hub.keystore import KeyStore
from hub.settings import Settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the endpoint returns, rolled back if it raises.

    Scope "function" ends the unit of work before the response is sent, so a failed commit is
    reported to the client instead of being lost after a 2xx.
    """
    with get_database(request).unit_of_work() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_keystore(request: Request) -> KeyStore:
    keystore: KeyStore = request.app.state.keystore
    return keystore


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
KeyStoreDep = Annotated[KeyStore, Depends(get_keystore)]
