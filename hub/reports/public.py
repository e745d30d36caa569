"""What the operators' reports answer, typed."""

from __future__ import annotations

from pydantic import Field

from hub.records import Public


class Flow(Public):
    origin: str
    destination: str
    recognized_tonnes: int
    recognized_converted_tonnes: int
    transferred_tonnes: int
    retired_tonnes: int


class FlowsReport(Public):
    from_: str | None = Field(alias="from", description="The first day counted (None: from the start).")
    to: str | None = Field(description="The last day counted (None: up to now).")
    flows: list[Flow]


class Holding(Public):
    registry: str
    status: str
    methodology: str
    vintage: int
    blocks: int
    tonnes: int


class HoldingsReport(Public):
    holdings: list[Holding]
