"""``GET /v1/reports/flows`` and ``GET /v1/reports/holdings`` (operators, ``reports:read``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import select

from hub.auth.principal import Principal, require
from hub.dates import IsoDate
from hub.deps import SessionDep
from hub.recognition.models import Recognition
from hub.registry.models import CreditBlock
from hub.retirement.models import RetirementRecord
from hub.transfers.models import Transfer

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Reader = Annotated[Principal, Depends(require("reports:read"))]


@router.get("/flows", summary="Origin × destination: recognized, transferred and retired tonnes")
def flows(
    session: SessionDep,
    principal: Reader,
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    low = datetime.combine(start, time.min, tzinfo=UTC) if start else None
    high = datetime.combine(end, time.max, tzinfo=UTC) if end else None

    def inside(moment: datetime | None) -> bool:
        if moment is None:
            return False
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return (low is None or aware >= low) and (high is None or aware <= high)

    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {
            "recognized_tonnes": 0,
            "recognized_converted_tonnes": 0,
            "transferred_tonnes": 0,
            "retired_tonnes": 0,
        }
    )
    for item in session.exec(select(Recognition).where(Recognition.status == "approved")).all():
        if inside(item.decided_at):
            cell = cells[(item.origin, item.destination)]
            cell["recognized_tonnes"] += item.quantity
            cell["recognized_converted_tonnes"] += item.converted_quantity
    for transfer in session.exec(select(Transfer).where(Transfer.state == "completed")).all():
        if inside(transfer.created_at):
            cells[(transfer.origin, transfer.destination)]["transferred_tonnes"] += transfer.quantity
    for retirement in session.exec(select(RetirementRecord)).all():
        if inside(retirement.created_at):
            for block in retirement.record["blocks"]:
                cells[(block["namespace"], retirement.registry_code)]["retired_tonnes"] += block["quantity"]
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "flows": [{"origin": o, "destination": d, **values} for (o, d), values in sorted(cells.items())],
    }


@router.get("/holdings", summary="Tonnes by registry, status, methodology and vintage")
def holdings(session: SessionDep, principal: Reader) -> dict[str, Any]:
    c = CreditBlock.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(
        sa_select(
            c.current_registry, c.status, c.catalogue_id, c.vintage, func.count(), func.sum(c.quantity)
        ).group_by(c.current_registry, c.status, c.catalogue_id, c.vintage)
    ).all()
    return {
        "holdings": [
            {
                "registry": r,
                "status": s,
                "methodology": m,
                "vintage": v,
                "blocks": int(n),
                "tonnes": int(t or 0),
            }
            for r, s, m, v, n, t in sorted(rows)
        ]
    }
