"""The Jiangsu reference format's vocabulary and its writer (exchange records → GBK CSV rows)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from adapters import units
from adapters.records import china_time, division_code

BLOCK_COLUMNS = (
    "签发编号",
    "项目编号",
    "方法学代码",
    "年度",
    "监测期开始",
    "监测期结束",
    "减排量（吨）",
    "起始序列号",
    "终止序列号",
    "持有账户",
    "状态",
    "状态说明",
    "排放因子",
    "排放因子单位",
    "排放因子来源",
    "排放因子年份",
    "签发时间",
    "原始登记簿",
    "当前登记簿",
    "协同效益",
    "乡村振兴",
    "演示数据",
)
PROJECT_COLUMNS = (
    "项目编号",
    "项目名称",
    "项目名称（中文）",
    "方法学代码",
    "区划代码",
    "装机容量",
    "容量单位",
    "业主统一社会信用代码",
    "项目地址",
    "计入期开始",
    "计入期结束",
    "其他登记",
    "演示数据",
)
STATUS = {
    "持有": "held",
    "冻结": "locked",
    "已转出": "exported",
    "转入": "imported",
    "已注销": "retired",
    "已撤销": "cancelled",
    "质押": "encumbered",
}
YES_NO = {"是": True, "否": False}
CAPACITY_UNITS = {"W": "W", "kW": "kW", "MW": "MW", "ha": "ha"}
REGISTRY = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
ELSEWHERE = re.compile(r"^[A-Z][A-Z0-9]{1,15}:[A-Za-z0-9][A-Za-z0-9._:-]*$")
TAG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
DATE = ("%Y/%m/%d", "%Y-%m-%d")


def _date(value: str) -> str:
    year, month, day = (int(part) for part in value.split("-"))
    return f"{year}/{month}/{day}"


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def project_rows(records: Sequence[tuple[str, Mapping[str, Any]]]) -> Iterator[dict[str, str]]:
    for _, project in records:
        capacity = project.get("capacity", {})
        yield {
            "项目编号": project["project_id"],
            "项目名称": project["name"],
            "项目名称（中文）": project.get("name_zh", ""),
            "方法学代码": project["methodology"]["local_code"],
            "区划代码": division_code(project["location"]),
            "装机容量": str(capacity.get("value", "")),
            "容量单位": capacity.get("unit", ""),
            "业主统一社会信用代码": project["owner_uscc_hash"],
            "项目地址": project["location"].get("address_hash", ""),
            "计入期开始": _date(project["crediting_period"]["start"]),
            "计入期结束": _date(project["crediting_period"]["end"]),
            "其他登记": "|".join(
                f"{item['scheme']}:{item['id']}" for item in project["registered_elsewhere"]
            ),
            "演示数据": _yes_no(project.get("demonstration")),
        }


def rows(records: Sequence[tuple[str, Mapping[str, Any]]]) -> Iterator[dict[str, str]]:
    for _, block in records:
        factor = block.get("emission_factor", {})
        period = block.get("monitoring_period")
        yield {
            "签发编号": block["block_id"],
            "项目编号": block["project"]["project_id"],
            "方法学代码": block["methodology"]["local_code"],
            "年度": str(block["vintage"]),
            "监测期开始": _date(period["start"]) if period else "",
            "监测期结束": _date(period["end"]) if period else "",
            "减排量（吨）": units.format_tonnes(block["quantity"], 3),
            "起始序列号": str(block["serial_start"]),
            "终止序列号": str(block["serial_end"]),
            "持有账户": block["holder"]["account_id"],
            "状态": next(local for local, status in STATUS.items() if status == block["status"]),
            "状态说明": block.get("status_reason", ""),
            "排放因子": factor.get("value", ""),
            "排放因子单位": factor.get("unit", ""),
            "排放因子来源": factor.get("source", ""),
            "排放因子年份": str(factor.get("year", "")),
            "签发时间": china_time(block["issued_at"]).strftime("%Y-%m-%d %H:%M:%S")
            if "issued_at" in block
            else "",
            "原始登记簿": block["origin_registry"],
            "当前登记簿": block["current_registry"],
            "协同效益": "|".join(block.get("co_benefits", [])),
            "乡村振兴": _yes_no(block.get("rural_revitalization")),
            "演示数据": _yes_no(block.get("demonstration")),
        }
