"""What the standards routes answer, typed: methodologies, committee roots, published rulesets,
their diffs, and the ruleset's decision for a block."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from hub.records import Public, definition_schema, record_schema
from hub.standards.service import Published

RulesetRef = Annotated[dict[str, Any], definition_schema("common", "rulesetRef")]
MethodologyRef = Annotated[dict[str, Any], definition_schema("common", "methodologyRef")]
Rational = Annotated[dict[str, Any], definition_schema("common", "rational")]
CheckResult = Annotated[dict[str, Any], definition_schema("common", "checkResult")]
Digest = Annotated[dict[str, Any], definition_schema("common", "digest")]
MethodologyRecord = Annotated[dict[str, Any], record_schema("methodology")]
RulesetRecord = Annotated[dict[str, Any], record_schema("ruleset")]
CommitteeRootRecord = Annotated[dict[str, Any], record_schema("committee-root")]


class Equivalence(Public):
    equivalence_id: str
    label: str


class ConditionOutcome(Public):
    condition: str
    passed: bool
    reason: str


class BlockEvaluation(Public):
    """The ruleset's decision for one block (``standards.evaluation.Decision.as_record``)."""

    ruleset: RulesetRef
    demonstration: bool
    block_id: str | None
    origin: str
    destination: str
    purpose: str
    on_date: str = Field(description="The day the ruleset was applied (ISO 8601 date).")
    origin_methodology: MethodologyRef
    destination_methodology: MethodologyRef | None
    equivalence: Equivalence | None
    quantity: int
    unit: str
    factor: Rational | None
    converted_quantity: int | None
    converted_unit: str | None
    remainder: Rational | None = Field(description="What the floor rounding left, in tonnes.")
    conditions: list[ConditionOutcome]
    purpose_accepted: bool
    checks: list[CheckResult]
    eligible: bool


class EnvelopeSignature(Public):
    kid: str = Field(description="The signer's key id (RFC 7638 thumbprint).")
    jws: str = Field(description="Detached compact JWS over the payload's RFC 8785 bytes.")


class RulesetEnvelope(Public):
    """A ruleset as the committee signed it: the payload apart from its signatures (as in TUF)."""

    signed: RulesetRecord
    signatures: list[EnvelopeSignature]


class RootEnvelope(Public):
    """A committee's root: its members' keys and thresholds, signed by them."""

    signed: CommitteeRootRecord
    signatures: list[EnvelopeSignature]


class RootPublic(Public):
    committee_id: str
    version: int
    envelope: RootEnvelope


class RootRotated(Public):
    committee_id: str
    version: int


class RulesetSummary(Public):
    ruleset_id: str
    version: int
    committee: str
    digest: Digest
    effective_from: str
    effective_until: str | None
    signed_by: list[str] = Field(description="Key ids of the committee members who signed.")


class RulesetPublished(RulesetSummary):
    published_by: str
    published_at: str
    envelope: RulesetEnvelope


class RulesetChange(Public):
    kind: str = Field(description="added, removed or changed.")
    subject: str
    text: str


class RulesetDiff(Public):
    from_: RulesetRef = Field(alias="from")
    to: RulesetRef
    changes: list[RulesetChange]
    text: str = Field(description="The changes as readable lines (+ added, - removed, ~ changed).")


def ruleset_published(item: Published) -> RulesetPublished:
    record = item.record
    return RulesetPublished(
        ruleset_id=record.ruleset_id,
        version=record.version,
        committee=record.committee_id,
        digest=item.ruleset.digest.as_dict(),
        effective_from=record.effective_from.isoformat(),
        effective_until=record.effective_until.isoformat() if record.effective_until else None,
        signed_by=record.signed_by,
        published_by=record.published_by,
        published_at=record.published_at.isoformat(),
        envelope=RulesetEnvelope.model_validate(record.envelope),
    )
