"""The bodies of cross-hub recognition messages and their answers, typed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.records import Public
from hub.text import Integer, Text
from schemas.canonical import MAX_SAFE_INTEGER

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class ForwardedBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    block_id: Text = Field(min_length=1, max_length=128)
    record: dict[str, Any] = Field(
        description="The credit-block record, with the part's serials and quantity."
    )
    project: dict[str, Any] | None = Field(description="The project record, when the origin's hub holds it.")


class OriginCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Text = Field(pattern=r"^[1-7]\d{3}$")
    passed: bool
    detail: Text = Field(default="", max_length=2000)


class ForwardedRecognition(BaseModel):
    """A recognition forwarded by the origin's hub: the request, the held blocks, its checks."""

    model_config = ConfigDict(extra="forbid")

    recognition_id: Text = Field(pattern=UUID, description="The origin hub's id; both hubs use it.")
    request: dict[str, Any] = Field(description="The recognition-request record.")
    blocks: list[ForwardedBlock] = Field(min_length=1, max_length=1000)
    verified_emissions: Integer | None = Field(default=None, ge=0, le=MAX_SAFE_INTEGER)
    origin_checks: list[OriginCheck] = Field(max_length=10_000)
    requested_by: Text = Field(min_length=1, max_length=64)


class HubSignature(Public):
    """One hub's signature of a certificate: a compact JWS over its canonical bytes (the same
    bytes for every hub), the key, and the index of the hub's log entry anchoring it."""

    hub: str = Field(description="The hub's origin.")
    role: Literal["issuer", "countersigner"]
    kid: str
    jws: str
    log_index: int


class ForwardAnswer(Public):
    """The destination hub's answer: the recognition pending review there, as it evaluated it."""

    recognition_id: str
    status: str
    converted_quantity: int
    evaluation: dict[str, Any]
    checks: list[dict[str, Any]]


class ForwardedDecision(BaseModel):
    """The destination hub's decision, with its signed certificate when approved."""

    model_config = ConfigDict(extra="forbid")

    recognition_id: Text = Field(pattern=UUID)
    decision: Literal["approve", "reject"]
    reason: Text = Field(max_length=2000)
    certificate: dict[str, Any] | None = None
    jws: Text | None = Field(default=None, max_length=20_000)


class DecisionAnswer(Public):
    """The origin hub's answer: its recognition's status and, for an approval, its countersignature."""

    recognition_id: str
    status: str
    countersignature: HubSignature | None
