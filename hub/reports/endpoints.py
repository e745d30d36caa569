"""``GET /v1/reports/flows`` and ``GET /v1/reports/holdings`` (operators, ``reports:read``)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from hub.auth.principal import Principal, require
from hub.deps import SessionDep
from hub.recognition.models import Recognition
from hub.registry.models import CreditBlock

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Reader = Annotated[Principal, Depends(require("reports:read"))]


@router.get("/flows", summary="Origin × destination: recognized tonnes (transfers and retirements to come)")
def flows(
    session: SessionDep,
    principal: Reader,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    query = select(
        Recognition.origin,
        Recognition.destination,
        func.sum(Recognition.quantity),
        func.sum(Recognition.converted_quantity),
    ).where(Recognition.status == "approved")
    if start:
        query = query.where(col(Recognition.decided_at) >= datetime.combine(start, time.min))
    if end:
        query = query.where(col(Recognition.decided_at) <= datetime.combine(end, time.max))
    rows = session.exec(query.group_by(Recognition.origin, Recognition.destination)).all()
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "flows": [
            {
                "origin": o,
                "destination": d,
                "recognized_tonnes": int(q or 0),
                "recognized_converted_tonnes": int(c or 0),
            }
            for o, d, q, c in sorted(rows)
        ],
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
