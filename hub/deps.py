"""Request dependencies as ``Annotated`` aliases: the per-request unit of work and app state.

Thread-pool hops cost (~60 µs of CPU each here), so what does not block is ``async``: the app
state getters, the scope check, the session's creation (a session connects on first use, in
whichever thread uses it). Blocking work runs through ``blocking`` (one hop); the unit of work
ends in a hop only when there is something to end, and a route wrapped by ``in_one_hop`` ends it
in its own thread-pool call, so a signed request costs two hops: authentication with its
signature check, then the route with its commit.
"""

from __future__ import annotations

import functools
import inspect
import typing
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from hub.database import Database
from hub.keystore import KeyStore
from hub.settings import Settings

T = TypeVar("T")


async def blocking(function: Callable[[], T]) -> T:
    """Run blocking ``function`` in the thread pool (one hop)."""
    return await run_in_threadpool(function)


async def _ending(function: Callable[[Session], None], session: Session) -> None:
    # Like FastAPI's own exits: outside the pool's capacity, so a unit of work holding a
    # connection can always end even while every pool thread waits for a connection.
    await anyio.to_thread.run_sync(function, session, limiter=anyio.CapacityLimiter(1))


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request: committed when the endpoint returns, rolled back if it raises.

    Scope "function" ends the unit of work before the response is sent, so a failed commit is
    reported to the client instead of being lost after a 2xx.
    """
    database: Database = request.app.state.database
    session = database.session()
    try:
        yield session
    except BaseException:
        if Database.pending(session):
            await _ending(database.abandon, session)
        else:
            session.close()
        raise
    if Database.pending(session):
        await _ending(database.finish, session)
    else:
        session.close()


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_keystore(request: Request) -> KeyStore:
    keystore: KeyStore = request.app.state.keystore
    return keystore


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
KeyStoreDep = Annotated[KeyStore, Depends(get_keystore)]


ONE_HOP = "puhui_one_hop"


class Deferred(ABC):
    """A dependency's value whose blocking part is finished in a one-hop route's own thread-pool
    call, before the route runs (``in_one_hop``)."""

    @abstractmethod
    def resolve(self) -> Any:
        """The value, its blocking part done (called in the route's thread-pool call)."""


def runs_in_one_hop(request: Request) -> bool:
    """Whether the matched route is an ``in_one_hop`` route."""
    return bool(getattr(getattr(request.scope.get("route"), "endpoint", None), ONE_HOP, False))


def in_one_hop(endpoint: Callable[..., T]) -> Callable[..., Any]:
    """A synchronous route run as ONE thread-pool call with all the blocking work of its request
    (FastAPI would otherwise hop once for the route, once to validate its response and once to
    commit, and the dependencies once more). In that call: the ``Deferred`` values of its
    dependencies are finished first (the authentication's token check, scope checks and
    signature check: ``hub.auth.principal``), then the route runs, then its sessions commit; when
    anything raises, the session dependency rolls back as usual. The response is validated on
    the event loop. On SQLite this also means the write lock a request takes is taken and
    released within one thread, never held while the request waits for a pool thread."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    resolved = signature.replace(
        parameters=[
            p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
        ],
        return_annotation=hints.get("return", signature.return_annotation),
    )

    def run(kwargs: dict[str, Any]) -> T:
        kwargs = {
            name: value.resolve() if isinstance(value, Deferred) else value for name, value in kwargs.items()
        }
        result = endpoint(**kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and Database.pending(value):
                Database.finish(value)
        return result

    @functools.wraps(endpoint)
    async def route(**kwargs: Any) -> T:
        return await run_in_threadpool(run, kwargs)

    route.__signature__ = resolved  # type: ignore[attr-defined]
    setattr(route, ONE_HOP, True)
    del route.__wrapped__  # FastAPI reads the resolved signature above, not the original's
    return route
