"""The operators' reports: flows origin × destination (recognized, transferred, retired tonnes) and
holdings — for ``GET /v1/reports/*`` and the console's dashboard alike."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session

from hub.reports.repository import ReportRepository


class ReportService:
    def __init__(self, session: Session) -> None:
        self.repository = ReportRepository(session)

    def flows(self, start: date | None = None, end: date | None = None) -> dict[str, Any]:
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
        for item in self.repository.approved_recognitions():
            if inside(item.decided_at):
                cell = cells[(item.origin, item.destination)]
                cell["recognized_tonnes"] += item.quantity
                cell["recognized_converted_tonnes"] += item.converted_quantity
        for transfer in self.repository.completed_transfers():
            if inside(transfer.created_at):
                cells[(transfer.origin, transfer.destination)]["transferred_tonnes"] += transfer.quantity
        for retirement in self.repository.retirements():
            if inside(retirement.created_at):
                for block in retirement.record["blocks"]:
                    cells[(block["namespace"], retirement.registry_code)]["retired_tonnes"] += block[
                        "quantity"
                    ]
        return {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "flows": [{"origin": o, "destination": d, **values} for (o, d), values in sorted(cells.items())],
        }

    def holdings(self) -> dict[str, Any]:
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
                for r, s, m, v, n, t in sorted(self.repository.holdings())
            ]
        }

    def transfer_states(self) -> list[dict[str, Any]]:
        """Transfers by state, states in order."""
        return [
            {"state": state, "transfers": int(count)}
            for state, count in sorted(self.repository.transfer_states())
        ]

    def recent_events(self, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` log events, newest first: index, type, subject, instant."""
        return [
            {"index": e.index, "type": e.type, "subject": e.subject_id, "at": e.created_at.isoformat()}
            for e in self.repository.recent_events(limit)
        ]
