"""Pull mode: the hub fetches a platform's new issuances through its adapter's client, from the
last cursor, and ingests them with the cursor in one transaction (a crash never loses or repeats
a batch)."""

from __future__ import annotations

import httpx
from sqlmodel import Session

from adapters.registry import get
from hub.database import Database
from hub.models import utcnow
from hub.platforms.service import PlatformService
from hub.registry.federation_key import pseudonymizer
from hub.registry.ingest import BatchRefused, IngestReport, IngestService, Records
from hub.registry.models import SyncCursor
from hub.registry.repository import RegistryRepository
from hub.settings import Settings


def _cursor(session: Session, code: str) -> str | None:
    found = RegistryRepository(session).sync_cursor(code)
    return found.cursor if found else None


def _sync_page(
    database: Database, settings: Settings, code: str, transport: httpx.BaseTransport | None
) -> tuple[IngestReport | None, str, bool]:
    adapter = get(code)
    with database.unit_of_work() as session:
        base_url = PlatformService(session).get(code).api_base_url
        cursor = _cursor(session, code)
    client = adapter.client(
        base_url, transport, pseudonymizer=pseudonymizer(settings.resolved_federation_key_file)
    )
    try:
        result, next_cursor = client.issuances_since(cursor)
    finally:
        client.close()
    if not result.ok:
        errors = [
            {"pointer": "", "record": e.record, "field": e.field, "code": e.code, "detail": e.reason}
            for e in result.errors
        ]
        raise BatchRefused(
            f"{code} answered a payload its adapter refuses", code=errors[0]["code"], errors=errors
        )
    with database.unit_of_work() as session:
        if _cursor(session, code) != cursor:  # another process synced this page meanwhile
            return None, _cursor(session, code) or "", True
        report = None
        if len(result):
            records = Records(result.projects, result.blocks, result.batches)
            report = IngestService(session).ingest(
                code, records, actor="hub-sync", source=f"sync:{code}", schema_checked=True
            )
        stored = RegistryRepository(session).sync_cursor(code) or SyncCursor(
            platform=code, cursor=next_cursor
        )
        stored.cursor, stored.updated_at = next_cursor, utcnow()
        session.add(stored)
    return report, next_cursor, bool(len(result)) and next_cursor != cursor


def sync_platform(
    database: Database,
    settings: Settings,
    code: str,
    transport: httpx.BaseTransport | None = None,
    max_pages: int = 1000,
) -> tuple[list[IngestReport], str]:
    """Fetch and ingest, page by page, what ``code`` issued since the stored cursor: the reports
    (empty when nothing was new) and the final cursor. Each page commits with its cursor."""
    reports: list[IngestReport] = []
    cursor = ""
    for _ in range(max_pages):
        report, cursor, more = _sync_page(database, settings, code, transport)
        if report is not None:
            reports.append(report)
        if not more:
            break
    return reports, cursor
