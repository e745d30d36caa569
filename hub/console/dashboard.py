"""The federation dashboard and the rulesets browser: read-only pages, charts drawn server-side as
SVG, every table also as CSV."""

from __future__ import annotations

import csv
import io
from itertools import pairwise
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import col, select

from hub.console.pages import _page, _who
from hub.deps import SessionDep
from hub.log.models import LogEntry
from hub.reports.endpoints import flows, holdings
from hub.standards.models import RulesetRecord
from hub.transfers.models import Transfer
from standards import render_diff

router = APIRouter(prefix="/console", include_in_schema=False)
BAR_WIDTH = 360


def bar_chart(rows: list[tuple[str, int]], unit: str) -> str:
    """A horizontal bar chart as inline SVG (accessible: a title and one text label per bar)."""
    top = max((value for _, value in rows), default=0) or 1
    height = 24 * len(rows) + 10
    bars = []
    for index, (label, value) in enumerate(rows):
        y = 5 + 24 * index
        width = int(BAR_WIDTH * value / top)
        bars.append(
            f'<text x="0" y="{y + 15}" font-size="12">{label}</text>'
            f'<rect x="140" y="{y}" width="{width}" height="18" fill="#2f6f4f"></rect>'
            f'<text x="{145 + width}" y="{y + 15}" font-size="12">{value} {unit}</text>'
        )
    return (
        f'<svg role="img" width="{BAR_WIDTH + 220}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{unit} by flow</title>{''.join(bars)}</svg>"
    )


def _tables(session: Any, region: str) -> dict[str, list[dict[str, Any]]]:
    flow_rows = flows(session, None)["flows"]  # type: ignore[arg-type]
    holding_rows = holdings(session, None)["holdings"]  # type: ignore[arg-type]
    states = session.exec(select(Transfer.state, func.count()).group_by(Transfer.state)).all()
    events = session.exec(select(LogEntry).order_by(col(LogEntry.index).desc()).limit(15)).all()
    return {
        "flows": flow_rows,
        "holdings": holding_rows,
        "transfers": [{"state": state, "transfers": int(count)} for state, count in states],
        "events": [
            {"index": e.index, "type": e.type, "subject": e.subject_id, "at": e.created_at.isoformat()}
            for e in events
        ],
    }


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep) -> Response:
    who = _who(request, session)
    if who is None:
        return RedirectResponse("/console/login", status_code=303)
    tables = _tables(session, who.region)
    chart = bar_chart(
        [(f"{r['origin']} → {r['destination']}", r["recognized_tonnes"]) for r in tables["flows"]], "t"
    )
    return _page(request, "dashboard.html", who=who, tables=tables, chart=chart)


@router.get("/dashboard.csv")
def dashboard_csv(request: Request, session: SessionDep, table: str = "flows") -> Response:
    who = _who(request, session)
    if who is None:
        return RedirectResponse("/console/login", status_code=303)
    rows = _tables(session, who.region).get(table)
    if rows is None:
        return _page(request, "base.html", 404, who=who, message=f"no table {table}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["empty"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
    )


@router.get("/rulesets")
def rulesets(request: Request, session: SessionDep) -> Response:
    who = _who(request, session)
    if who is None:
        return RedirectResponse("/console/login", status_code=303)
    records = session.exec(
        select(RulesetRecord).order_by(col(RulesetRecord.ruleset_id), col(RulesetRecord.version))
    ).all()
    diffs = []
    for older, newer in pairwise(records):
        if older.ruleset_id == newer.ruleset_id:
            diffs.append((newer, render_diff(older.envelope["signed"], newer.envelope["signed"])))
    return _page(request, "rulesets.html", who=who, records=records, diffs=diffs)
