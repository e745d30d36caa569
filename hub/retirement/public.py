"""What ``POST /v1/retirements`` answers, typed: the retirement record (current form) with the
log index and the blocks the retired serials now form."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from hub.records import Public, definition_schema

SerialRange = Annotated[dict[str, Any], definition_schema("common", "serialRange")]
AccountRef = Annotated[dict[str, Any], definition_schema("common", "accountRef")]
ComplianceRef = Annotated[dict[str, Any], definition_schema("common", "complianceRef")]


class RetirementPurpose(Public):
    kind: Literal["ets-compliance", "voluntary-neutralization", "points-redemption", "charitable-retirement"]
    event: str | None = Field(default=None, description="What was neutralized (voluntary neutralization).")


class RetirementPublic(Public):
    """A retirement record (exchange schema: retirement) as stored, in the current vocabulary."""

    retirement_id: str
    registry: str
    blocks: list[SerialRange]
    quantity: int
    unit: Literal["tCO2e"]
    purpose: RetirementPurpose
    compliance: ComplianceRef | None = Field(default=None, description="ETS compliance: entity and year.")
    beneficiary: AccountRef
    certificate_id: str | None = None
    retired_at: str
    origin_notified: bool
    log_index: int
    retired_blocks: list[str] = Field(description="The ids of the blocks holding the retired serials.")
