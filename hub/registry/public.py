"""What the registry's routes answer, typed: credit blocks (the exchange record), an ingest's
report, a dry run's issues."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from hub.records import Public, definition_schema, record_schema

CreditBlockRecord = Annotated[dict[str, Any], record_schema("credit-block")]
Digest = Annotated[dict[str, Any], definition_schema("common", "digest")]


class IngestReportPublic(Public):
    """A stored batch: what it held, where it is in the log, and the digest of its records."""

    ingest_id: str
    log_index: int
    projects: int
    blocks: int
    tonnes: int
    personal_batches: int
    grams: int
    digest: Digest = Field(description="SHA-256 over the batch's canonical records.")


class IssuePublic(Public):
    pointer: str = Field(description="JSON pointer into the records sent.")
    code: str
    detail: str


class DedupCheck(Public):
    clear: bool = Field(description="True when nothing would refuse these records.")
    issues: list[IssuePublic]
