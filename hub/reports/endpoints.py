"""``GET /v1/reports/flows`` and ``GET /v1/reports/holdings`` (operators, ``reports:read``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hub.auth.principal import Principal, require
from hub.dates import IsoDate
from hub.deps import SessionDep
from hub.reports.public import FlowsReport, HoldingsReport
from hub.reports.service import ReportService

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Reader = Annotated[Principal, Depends(require("reports:read"))]


@router.get("/flows", summary="Origin × destination: recognized, transferred and retired tonnes")
def flows(
    session: SessionDep,
    principal: Reader,
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> FlowsReport:
    return FlowsReport.model_validate(ReportService(session).flows(start, end))


@router.get("/holdings", summary="Tonnes by registry, status, methodology and vintage")
def holdings(session: SessionDep, principal: Reader) -> HoldingsReport:
    return HoldingsReport.model_validate(ReportService(session).holdings())
