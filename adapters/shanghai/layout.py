"""The Shanghai reference format's vocabulary and its writer (exchange records → local JSON)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapters.records import china_time, local_code_for

REGISTRY = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
STATUS = {
    "正常": "held",
    "冻结": "locked",
    "已转出": "exported",
    "转入": "imported",
    "已注销": "retired",
    "已作废": "cancelled",
    "质押": "encumbered",
}
USER_KINDS = {"身份证": "national-id", "手机号": "phone", "用户编号": "user-id", "假名": "pseudonym"}
YES_NO = {"是": True, "否": False, "true": True, "false": False}
INSTANT = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S")
TAG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def _local(status: str) -> str:
    return next(local for local, exchange in STATUS.items() if exchange == status)


def render_block(block: Mapping[str, Any]) -> dict[str, Any]:
    local: dict[str, Any] = {
        "签发编号": block["block_id"],
        "项目编号": block["project"]["project_id"],
        "方法学编号": block["methodology"]["local_code"],
        "减排量(吨)": str(block["quantity"]),
        "序列号起": block["serial_start"],
        "序列号止": block["serial_end"],
        "年度": block["vintage"],
        "持有账户": block["holder"]["account_id"],
        "状态": _local(block["status"]),
        "原始登记簿": block["origin_registry"],
        "当前登记簿": block["current_registry"],
    }
    if "monitoring_period" in block:
        local["监测期起"] = block["monitoring_period"]["start"]
        local["监测期止"] = block["monitoring_period"]["end"]
    if "issued_at" in block:
        local["签发日期"] = china_time(block["issued_at"]).date().isoformat()
    if "status_reason" in block:
        local["状态说明"] = block["status_reason"]
    if "emission_factor" in block:
        factor = block["emission_factor"]
        local["排放因子"] = {"数值": factor["value"], "单位": factor["unit"], "来源": factor["source"]}
        local["排放因子"]["年份"] = factor["year"]
    if "co_benefits" in block:
        local["协同效益"] = list(block["co_benefits"])
    if "rural_revitalization" in block:
        local["乡村振兴"] = "是" if block["rural_revitalization"] else "否"
    return local


def render_batch(batch: Mapping[str, Any]) -> dict[str, Any]:
    details = []
    for record in batch["records"]:
        line: dict[str, Any] = {
            "记录编号": record["record_id"],
            "用户类型": "假名",
            "用户标识": record["subject"],
            "开始时间": record["activity_window"]["start"],
            "结束时间": record["activity_window"]["end"],
            "减排量(克)": str(record["quantity"]),
        }
        optional = {"积分": record.get("points"), "出行编号": record.get("trip_id")}
        optional["线路编号"] = record.get("route_id")
        line.update({key: value for key, value in optional.items() if value is not None})
        details.append(line)
    return {
        "批次编号": batch["batch_id"],
        "场景编号": local_code_for(batch["methodology"], "SH"),
        "统计起": batch["period"]["start"],
        "统计止": batch["period"]["end"],
        "明细": details,
    }
