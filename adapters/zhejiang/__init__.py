"""Zhejiang personal carbon accounts (ZJ, Quzhou-style 个人碳账户): daily points — reference format.

The platform's real interface is not public; this is the hub's reference format, replaced by the
real one in this module alone. Media type ``application/x-ndjson`` (UTF-8): one JSON object per
line, one per person, scenario and day (and per trip when the operator gives a trip number)::

    {"recordNo": "ZJ-R-20251101-0001", "accountType": "PHONE", "accountNo": "13800138002",
     "sceneCode": "ZJ-METRO", "sceneName": "地铁出行", "statDate": "20251101", "points": 542,
     "tripNo": "L11-20251101-0802-ANT-HQ", "routeNo": "SH-METRO-L11",
     "startTime": "2025-11-01 08:02:11", "endTime": "2025-11-01 08:19:40", "demo": true}

accountType is ID_CARD (resident ID number), PHONE, USER_ID (the platform's own user id) or
PSEUDONYM (a hub pseudonym, for records that came from another region); the account number is
replaced by a keyed pseudonym before anything leaves the adapter. sceneCode is the platform's
methodology code (ZJ-METRO, ZJ-BUS; the catalogue has no Zhejiang code for shared bikes, so
ZJ-BIKE lines are refused with 5010). points are whole points; 1 point = 1 gCO2e (demonstration
ratio, as Wuhan's, FACTS.md). Times are China time; without them a record covers its whole day.

Lines become personal-reduction-batch records, one batch per (sceneCode, statDate), id
``ZJ-PB-<statDate>-<sceneCode>``, period that day. There are no serialized credits on this platform:
credit blocks cannot be rendered to it (1045).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from adapters import units
from adapters.base import BaseAdapter, Draft
from adapters.client import ClientSpec
from adapters.contract import PERSONAL_BATCH, Units
from adapters.fields import Collector, Row
from adapters.privacy import Pseudonymizer
from adapters.records import check_duplicates, china_time, day_window, local_code_for

ACCOUNT_TYPES = {"ID_CARD": "national-id", "PHONE": "phone", "USER_ID": "user-id", "PSEUDONYM": "pseudonym"}
YES_NO = {"true": True, "false": False}
DAY = re.compile(r"^[0-9]{8}$")
TIME = ("%Y-%m-%d %H:%M:%S",)
GRAMS_PER_POINT = 1


def _local_time(value: str) -> str:
    return china_time(value).strftime("%Y-%m-%d %H:%M:%S")


class ZhejiangAdapter(BaseAdapter):
    code = "ZJ"
    name = "Zhejiang Personal Carbon Account Platform"
    name_zh = "浙江个人碳账户平台"
    format = "NDJSON per-person daily records, points (1 point = 1 g)"
    media_types = ("application/x-ndjson", "application/jsonl")
    record_kinds = (PERSONAL_BATCH,)
    units = Units(credit_unit=None, personal_unit="积分 (1 point = 1 gCO2e)", grams_per_point=GRAMS_PER_POINT)
    spec = ClientSpec(
        issuances_path="/carbon-account/v2/daily-records",
        cursor_param="pageToken",
        cursor_header="X-Page-Token",
        lock_path="/carbon-account/v2/blocks/{block_id}/lock",
        unlock_path="/carbon-account/v2/blocks/{block_id}/unlock",
        import_path="/carbon-account/v2/imports",
        retirement_path="/carbon-account/v2/retirement-notices",
        lock_batch_path="/carbon-account/v2/batches/lock",
        unlock_batch_path="/carbon-account/v2/batches/unlock",
        import_batch_path="/carbon-account/v2/batches/imports",
        fields={
            "block_id": "blockNo",
            "serial_start": "serialFrom",
            "serial_end": "serialTo",
            "quantity": "amount",
            "retirement_id": "retirementNo",
            "purpose": "purpose",
            "retired_at": "retiredTime",
            "blocks": "ranges",
        },
    )
    field_map: ClassVar[Mapping[str, str]] = {
        "personal-reduction-batch:/records/*/activity_window/end": "endTime"
    }

    def read(self, text: str, pseudonymizer: Pseudonymizer, errors: Collector) -> Draft:
        draft = Draft()
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        numbers: list[tuple[str, Any]] = []
        activities: list[tuple[str, Any]] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            label = f"line {number}"
            if not raw.strip():
                continue
            before = len(errors)
            item = self.load_json(raw, errors, label)
            if len(errors) > before:
                continue
            if not isinstance(item, Mapping):
                errors.add(label, "(JSON)", "a line must be a JSON object", "1043")
                continue
            row = Row(item, label, errors)
            record_no = row.identifier("recordNo")
            subject = row.subject(
                row.choice("accountType", ACCOUNT_TYPES), "accountNo", pseudonymizer, self.code
            )
            methodology = row.methodology("sceneCode", self.code)
            day = row.date("statDate", ("%Y%m%d",))
            points = row.whole("points", what="points")
            trip, route = row.identifier("tripNo", required=False), row.identifier("routeNo", required=False)
            window = self._window(row, day)
            demo = row.choice("demo", YES_NO, required=False)
            numbers.append((label, record_no))
            if row.failed or methodology is None or day is None or window is None or points is None:
                continue
            activities.append((label, (subject, methodology["local_code"], day, trip)))
            record: dict[str, Any] = {
                "record_id": record_no,
                "subject": subject,
                "activity_window": window,
                "quantity": units.points_to_grams(points, GRAMS_PER_POINT),
                "unit": "gCO2e",
            }
            optional = {"trip_id": trip, "route_id": route}
            record.update({key: value for key, value in optional.items() if value is not None})
            record["points"] = points
            batch = groups.setdefault(
                (methodology["local_code"], day), self._batch(methodology, day, pseudonymizer)
            )
            batch["records"].append(record)
            if demo is not None:
                batch.setdefault("_demo", set()).add(demo)
        check_duplicates(numbers, "recordNo", errors, "recordNo")
        check_duplicates(activities, "accountNo", errors, "person, scene, day and trip")
        for batch in groups.values():
            batch["quantity"] = sum(record["quantity"] for record in batch["records"])
            flags = batch.pop("_demo", set())
            if flags:
                batch["demonstration"] = all(flags)
            draft.batches.append((batch["batch_id"], batch))
        return draft

    def _window(self, row: Row, day: str | None) -> dict[str, str] | None:
        start = row.instant("startTime", TIME, required=row.get("endTime", required=False) is not None)
        end = row.instant("endTime", TIME, required=start is not None)
        if day is None or row.failed:
            return None
        if start is None or end is None:
            return day_window(day)
        if datetime.fromisoformat(start).date().isoformat() != day:
            row.error("startTime", f"is not on statDate {day.replace('-', '')}", "1042")
            return None
        return {"start": start, "end": end}

    def _batch(self, methodology: dict[str, str], day: str, pseudonymizer: Pseudonymizer) -> dict[str, Any]:
        batch: dict[str, Any] = {
            "batch_id": f"ZJ-PB-{day.replace('-', '')}-{methodology['local_code']}",
            "platform": self.code,
            "scenario": methodology["catalogue_id"],
            "methodology": methodology,
            "period": day_window(day),
            "quantity": 0,
            "unit": "gCO2e",
        }
        if pseudonymizer.key_id is not None:
            batch["pseudonym_key_id"] = pseudonymizer.key_id
        batch["records"] = []
        return batch

    def write(self, records: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
        lines = []
        for _, batch in records:
            scene = local_code_for(batch["methodology"], self.code)
            for record in batch["records"]:
                window = record["activity_window"]
                day = china_time(window["start"]).date().isoformat()
                line: dict[str, Any] = {
                    "recordNo": record["record_id"],
                    "accountType": "PSEUDONYM",
                    "accountNo": record["subject"],
                    "sceneCode": scene,
                    "statDate": day.replace("-", ""),
                    "points": units.grams_to_points(record["quantity"], GRAMS_PER_POINT),
                }
                optional = {"tripNo": record.get("trip_id"), "routeNo": record.get("route_id")}
                line.update({key: value for key, value in optional.items() if value is not None})
                if window != day_window(day):
                    line["startTime"], line["endTime"] = (
                        _local_time(window["start"]),
                        _local_time(window["end"]),
                    )
                if "demonstration" in batch:
                    line["demo"] = batch["demonstration"]
                lines.append(json.dumps(line, ensure_ascii=False))
        return "".join(line + "\n" for line in lines).encode("utf-8")


adapter = ZhejiangAdapter()
