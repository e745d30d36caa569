"""The FastAPI application factory."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from hub import __version__
from hub.auth.endpoints import router as oauth_router
from hub.console.dashboard import router as dashboard_router
from hub.console.headers import ConsoleSecurityHeaders
from hub.console.pages import STATIC_DIR
from hub.console.pages import router as console_router
from hub.console.review import router as review_router
from hub.console.signin import router as signin_router
from hub.crosshub.endpoints import router as crosshub_router
from hub.database import Database
from hub.keystore import KeyStore
from hub.limits import BodySizeLimit, NoNulInUrl
from hub.log.endpoints import router as log_router
from hub.log.webhook_endpoints import router as webhooks_router
from hub.meta.endpoints import router as meta_router
from hub.openapi import document_problems
from hub.operators.endpoints import router as operators_router
from hub.peering.endpoints import router as peering_router
from hub.peering.federation import router as federation_router
from hub.platforms.endpoints import router as platforms_router
from hub.problems import install_problem_handlers
from hub.receipts.endpoints import router as receipts_router
from hub.recognition.endpoints import router as recognition_router
from hub.reconciliation.endpoints import router as reconciliation_router
from hub.registry.encumbrance import router as encumbrance_router
from hub.registry.endpoints import local_format_request
from hub.registry.endpoints import router as registry_router
from hub.reports.endpoints import router as reports_router
from hub.retirement.endpoints import router as retirement_router
from hub.settings import Settings
from hub.standards.endpoints import router as standards_router
from hub.strict import install_strict_json
from hub.tlog.checkpointer import Cosigner
from hub.tlog.endpoints import router as tlog_router
from hub.tlog.policy import WitnessPolicy
from hub.transfers.batch_endpoints import router as transfer_batches_router
from hub.transfers.endpoints import router as transfers_router
from hub.witness.collector import witness_lines
from hub.witness.endpoints import router as witness_router
from hub.workers import Workers
from hub.xdedup.endpoints import router as xdedup_router
from hub.xdedup.endpoints import status_router as claim_feeds_router
from hub.xtransfer.endpoints import router as xtransfer_router


def operation_id(route: APIRoute) -> str:
    """``recognition-decide``: the route's tag and function, the name a generated client gives it."""
    tag = str(route.tags[0]) if route.tags else "hub"
    return f"{tag}-{route.name}".replace("_", "-")


DESCRIPTION = """
Puhui Hub connects China's carbon-inclusion (碳普惠) platforms: a shared exchange schema,
per-region adapters, and signed cross-region recognition, transfer and deduplication.

Every error is an RFC 9457 problem (`application/problem+json`) carrying a check code and one
JSON pointer per failure.
"""


def mount_sandboxes(app: FastAPI) -> None:
    """Demo only: each region's sandbox platform at /sandbox/<code> (the demo platforms' API)."""
    from adapters.registry import available
    from adapters.sandbox import create_sandbox

    for code in available():
        app.mount(f"/sandbox/{code.lower()}", create_sandbox(code))


def reads_its_own_json(scope: Scope) -> bool:
    """Requests whose JSON the hub's edge leaves to their reader: a batch in a platform's local
    format (its adapter reads it strictly, decimals allowed) and the demo's sandbox platforms
    (stand-ins for the platforms' own APIs, mounted under /sandbox)."""
    return local_format_request(scope) or str(scope.get("path", "")).startswith("/sandbox/")


_frozen = False


def freeze_startup_objects() -> None:
    """Move the objects built until the first startup (modules, routes, models, schemas: hundreds
    of thousands, kept for the process's life) out of the cyclic collector's reach, once per
    process: its full collections, which a request building a thousand ORM objects triggers,
    then walk only what requests build (a batch proposal ran at half its rate without this)."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the hub. The database must already be migrated (``puhui db upgrade``)."""
    settings = settings or Settings()
    database = database or Database.from_url(settings.resolved_database_url)
    keystore = KeyStore(settings.resolved_keys_dir)
    keystore.active()  # the first run generates the hub's signing key
    # hooks given each signed checkpoint (the witnesses' cosignature collector), and the witness
    # lines of the hub's tlog-policy (GET /log/policy): its policy file plus its peers
    cosigners: list[Cosigner] = []
    witness_policy: WitnessPolicy = witness_lines
    # set once a proposal commits in this process: the transfer worker, idle, takes it at once
    # instead of at its next look (hub.transfers.endpoints); other processes' workers look every
    # worker poll interval (PUHUI_WORKER_POLL_INTERVAL)
    transfers_due = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers = None
        if settings.webhook_worker:  # else another process runs them (puhui work)
            transport = getattr(app.state, "peer_transport", None)
            workers = Workers(database, settings, keystore, cosigners, transfers_due, transport)
        freeze_startup_objects()
        if workers is not None:
            workers.start()
        yield
        if workers is not None:
            workers.stop()

    # no 307 to the path without its trailing slash: a redirected request's signature names the
    # path it was signed for (1019), so a 404 problem says which path was meant instead
    app = FastAPI(
        title="Puhui Hub",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.keystore = keystore
    app.state.cosigners = cosigners
    app.state.witness_policy = witness_policy
    app.state.transfers_due = transfers_due
    install_problem_handlers(app)
    # the routers are matched in this order, one by one: the transfers' first, the hot path of
    # every platform (no other router's path can match theirs: /v1/transfers, /v1/transfer-batches)
    app.include_router(transfers_router)
    app.include_router(transfer_batches_router)
    app.include_router(meta_router)
    app.include_router(oauth_router)
    app.include_router(platforms_router)
    app.include_router(receipts_router)
    app.include_router(registry_router)
    app.include_router(encumbrance_router)
    app.include_router(reports_router)
    app.include_router(retirement_router)
    app.include_router(console_router)
    app.include_router(signin_router)
    app.include_router(review_router)
    app.include_router(dashboard_router)
    app.include_router(reconciliation_router)
    app.include_router(recognition_router)
    app.include_router(standards_router)
    app.include_router(log_router)
    app.include_router(tlog_router)
    app.include_router(webhooks_router)
    app.include_router(operators_router)
    app.include_router(witness_router)
    app.include_router(peering_router)
    app.include_router(federation_router)
    app.include_router(crosshub_router)
    app.include_router(xdedup_router)
    app.include_router(claim_feeds_router)
    app.include_router(xtransfer_router)
    document_problems(app)
    install_strict_json(app, skip=reads_its_own_json)  # inside the body size limit
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(NoNulInUrl)
    app.add_middleware(ConsoleSecurityHeaders)
    if settings.demo:
        mount_sandboxes(app)
    return app
