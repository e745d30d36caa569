"""Metro trips as the Shanghai app and the Zhejiang personal carbon account write them (their own
formats, demonstration data): parsed on the platform's side, where identifiers become pseudonyms,
before anything is sent to the hub."""

from __future__ import annotations

import json
from dataclasses import dataclass

GRAMS_PER_TRIP = 542  # illustrative: Guangzhou subway 0.5419 kg per trip (FACTS.md), not a Shanghai value


@dataclass(frozen=True)
class Trip:
    record_id: str
    phone: str  # fabricated placeholder numbers only
    day: str  # YYYY-MM-DD, China time
    start: str  # HH:MM:SS
    end: str
    trip_id: str


def shanghai_day(batch_id: str, trips: list[Trip]) -> tuple[bytes, str]:
    """One Shanghai behaviour batch (行为减排批次) of Line 11 trips, all on ``trips[0].day``."""
    day = trips[0].day
    document = {
        "说明": "演示数据 demonstration data: Line 11 trips; the phone numbers are placeholders",
        "平台编码": "SH",
        "演示数据": True,
        "行为减排批次": [
            {
                "批次编号": batch_id,
                "场景编号": "SHCER02020022024II",
                "统计起": f"{day}T00:00:00+08:00",
                "统计止": f"{day}T23:59:59+08:00",
                "明细": [
                    {
                        "记录编号": trip.record_id,
                        "用户类型": "手机号",
                        "用户标识": trip.phone,
                        "开始时间": f"{day}T{trip.start}+08:00",
                        "结束时间": f"{day}T{trip.end}+08:00",
                        "减排量(克)": str(GRAMS_PER_TRIP),
                        "积分": GRAMS_PER_TRIP,
                        "出行编号": trip.trip_id,
                        "线路编号": "SH-METRO-L11",
                    }
                    for trip in trips
                ],
            }
        ],
    }
    return json.dumps(document, ensure_ascii=False).encode(), "application/json"


def zhejiang_lines(trips: list[Trip], *, bus_points: int | None = None) -> tuple[bytes, str]:
    """Zhejiang's daily records (NDJSON) of the same kind of trips — the phone written its own way —
    and, with ``bus_points``, a bus ride that day for the first trip's rider."""
    lines: list[dict[str, object]] = [
        {
            "recordNo": trip.record_id, "accountType": "PHONE", "accountNo": trip.phone.replace(" ", "-"),
            "sceneCode": "ZJ-METRO", "sceneName": "地铁出行", "statDate": trip.day.replace("-", ""),
            "points": GRAMS_PER_TRIP, "tripNo": trip.trip_id, "routeNo": "SH-METRO-L11",
            "startTime": f"{trip.day} {trip.start}", "endTime": f"{trip.day} {trip.end}", "demo": True,
        }
        for trip in trips
    ]  # fmt: skip
    if bus_points is not None:
        first = trips[0]
        lines.append(
            {
                "recordNo": f"{first.record_id}-BUS", "accountType": "PHONE", "accountNo": first.phone,
                "sceneCode": "ZJ-BUS", "sceneName": "公交出行", "statDate": first.day.replace("-", ""),
                "points": bus_points, "demo": True,
            }
        )  # fmt: skip
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"
    return body.encode(), "application/x-ndjson"
