"""The federation dashboard and the rulesets browser: read-only pages, charts drawn server-side as
SVG, every table also as CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from hub.console.charts import bar_chart
from hub.console.pages import message_page, page, signed_in, translate
from hub.deps import SessionDep
from hub.log.models import LogEntry
from hub.reports.endpoints import flows, holdings
from hub.standards.models import RulesetRecord
from hub.standards.repository import StandardsRepository
from hub.transfers.models import Transfer
from standards import diff_rulesets

router = APIRouter(prefix="/console", include_in_schema=False)
RECENT_EVENTS = 15


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice
    against CSV injection); numbers and other text are written as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def _totals(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    blocks: dict[Any, int] = defaultdict(int)
    tonnes: dict[Any, int] = defaultdict(int)
    for row in rows:
        blocks[row[key]] += row["blocks"]
        tonnes[row[key]] += row["tonnes"]
    return [{key: value, "blocks": blocks[value], "tonnes": tonnes[value]} for value in sorted(tonnes)]


def _matrix(flow_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Origin × destination: tonnes recognized or transferred from each origin into each destination."""
    destinations = sorted({row["destination"] for row in flow_rows})
    cells: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(destinations, 0))
    for row in flow_rows:
        cells[row["origin"]][row["destination"]] += row["recognized_tonnes"] + row["transferred_tonnes"]
    return [{"origin": origin, **cells[origin]} for origin in sorted(cells)]


def federation_tables(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every table the dashboard shows (and exports), the federation as the hub's records have it."""
    flow_rows = flows(session, None)["flows"]  # type: ignore[arg-type]
    holding_rows = holdings(session, None)["holdings"]  # type: ignore[arg-type]
    states = session.exec(select(Transfer.state, func.count()).group_by(Transfer.state)).all()
    events = session.exec(select(LogEntry).order_by(col(LogEntry.index).desc()).limit(RECENT_EVENTS)).all()
    return {
        "flows": flow_rows,
        "matrix": _matrix(flow_rows),
        "regions": _totals(holding_rows, "registry"),
        "methodologies": _totals(holding_rows, "methodology"),
        "vintages": _totals(holding_rows, "vintage"),
        "holdings": holding_rows,
        "transfers": [{"state": state, "transfers": int(count)} for state, count in sorted(states)],
        "events": [
            {"index": e.index, "type": e.type, "subject": e.subject_id, "at": e.created_at.isoformat()}
            for e in events
        ],
    }


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep) -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    tables = federation_tables(session)
    t = translate(request)
    flow_chart = bar_chart(
        [
            (f"{r['origin']} → {r['destination']}", r["recognized_tonnes"] + r["transferred_tonnes"])
            for r in tables["flows"]
        ],
        title=t("dashboard.flows_chart"),
        unit="tCO2e",
        chart_id="flows-chart",
    )
    region_chart = bar_chart(
        [(str(r["registry"]), r["tonnes"]) for r in tables["regions"]],
        title=t("dashboard.regions_chart"),
        unit="tCO2e",
        chart_id="regions-chart",
    )
    return page(
        request,
        "dashboard.html",
        who=who,
        section="dashboard",
        page_title=t("dashboard.title"),
        tables=tables,
        charts={"flows": flow_chart if tables["flows"] else None, "regions": region_chart},
    )


@router.get("/dashboard.csv")
def dashboard_csv(request: Request, session: SessionDep, table: str = "flows") -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    rows = federation_tables(session).get(table)
    if rows is None:
        return message_page(request, 404, "dashboard.no_table", who=who, table=table)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["empty"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
    )


def _current(session: Session) -> set[tuple[str, int]]:
    """(ruleset_id, version) of the newest version of each ruleset in force today."""
    newest: dict[str, int] = {}
    for record in StandardsRepository(session).in_force(datetime.now(UTC).date()):
        newest[record.ruleset_id] = max(newest.get(record.ruleset_id, 0), record.version)
    return set(newest.items())


@router.get("/rulesets")
def rulesets(request: Request, session: SessionDep) -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    records = session.exec(
        select(RulesetRecord).order_by(col(RulesetRecord.ruleset_id), col(RulesetRecord.version).desc())
    ).all()
    diffs = []
    for newer, older in pairwise(records):
        if older.ruleset_id == newer.ruleset_id:
            diffs.append((older, newer, diff_rulesets(older.envelope["signed"], newer.envelope["signed"])))
    return page(
        request,
        "rulesets.html",
        who=who,
        section="rulesets",
        page_title=translate(request)("rulesets.title"),
        records=records,
        current=_current(session),
        diffs=diffs,
    )
