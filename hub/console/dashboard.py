"""The federation dashboard and the rulesets browser: read-only pages, charts drawn server-side as
SVG, every table also as CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from functools import cached_property
from itertools import pairwise
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from hub.console.charts import bar_chart, flow_map
from hub.console.pages import language, message_page, page, signed_in, translate
from hub.deps import SessionDep
from hub.platforms.service import PlatformService
from hub.reports.service import ReportService
from hub.standards.service import StandardsService
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


class FederationTables:
    """The tables the dashboard shows and exports, the federation as the hub's records have it;
    each built on first use, the flows and holdings they share read once."""

    NAMES = ("matrix", "flows", "regions", "methodologies", "vintages", "transfers", "events", "holdings")

    def __init__(self, session: Session) -> None:
        self.session = session

    @cached_property
    def _flows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = ReportService(self.session).flows()["flows"]
        return rows

    @cached_property
    def _holdings(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = ReportService(self.session).holdings()["holdings"]
        return rows

    def _transfers(self) -> list[dict[str, Any]]:
        return ReportService(self.session).transfer_states()

    def _events(self) -> list[dict[str, Any]]:
        return ReportService(self.session).recent_events(RECENT_EVENTS)

    def table(self, name: str) -> list[dict[str, Any]] | None:
        """One table by name; None for a name the dashboard does not have."""
        builders = {
            "flows": lambda: self._flows,
            "matrix": lambda: _matrix(self._flows),
            "regions": lambda: _totals(self._holdings, "registry"),
            "methodologies": lambda: _totals(self._holdings, "methodology"),
            "vintages": lambda: _totals(self._holdings, "vintage"),
            "holdings": lambda: self._holdings,
            "transfers": self._transfers,
            "events": self._events,
        }
        build = builders.get(name)
        return None if build is None else build()

    def all(self) -> dict[str, list[dict[str, Any]]]:
        return {name: self.table(name) or [] for name in self.NAMES}


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep) -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    tables = FederationTables(session).all()
    t = translate(request)
    moved = [
        (r["origin"], r["destination"], r["recognized_tonnes"] + r["transferred_tonnes"])
        for r in tables["flows"]
        if r["recognized_tonnes"] + r["transferred_tonnes"] > 0
    ]
    chinese = language(request) == "zh"
    names = {
        p.code: (p.name_zh if chinese and p.name_zh else p.name) for p in PlatformService(session).list()
    }
    picture = flow_map(moved, names, title=t("dashboard.flow_map"), summary_unit="tCO2e", chart_id="flow-map")
    flow_chart = bar_chart(
        [(f"{origin} → {destination}", tonnes) for origin, destination, tonnes in moved],
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
        charts={
            "map": picture if moved else None,
            "flows": flow_chart if moved else None,
            "regions": region_chart,
        },
    )


@router.get("/dashboard.csv")
def dashboard_csv(request: Request, session: SessionDep, table: str = "flows") -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    rows = FederationTables(session).table(table)
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


@router.get("/rulesets")
def rulesets(request: Request, session: SessionDep) -> Response:
    who = signed_in(request, session)
    if isinstance(who, Response):
        return who
    standards = StandardsService(session)
    records = standards.listing(newest_first=True)
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
        current=standards.newest_in_force(),
        diffs=diffs,
    )
