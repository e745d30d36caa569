"""Shanghai 碳普惠 (SH): JSON with Chinese field names — reference format.

The platform's real interface is not public; this is the hub's reference format, replaced by the
real one in this module alone. Media type ``application/json`` (UTF-8). One document::

    {"平台编码": "SH", "演示数据": true,
     "签发记录": [ {credit block}, … ],          project credits, whole tonnes
     "行为减排批次": [ {behaviour batch}, … ]}   personal reductions, whole grams

签发记录 (credit block): 签发编号, 项目编号, 方法学编号 (Shanghai codes: SH-PV-DIST, SHCER0202…2024II,
SH-FOREST), 减排量(吨) (decimal string or integer, whole tonnes), 序列号起, 序列号止, 年度, 监测期起,
监测期止, 签发日期 (YYYY-MM-DD, China time), 持有账户, 状态 (正常 冻结 已转出 转入 已注销 已作废 质押),
状态说明, 原始登记簿 / 当前登记簿 (default SH), 排放因子 {数值, 单位, 来源, 年份} — required on PV and EV
credits: Shanghai uses its local 0.42 kgCO2/kWh (沪环气候〔2023〕89号), not the MEE grid value —,
协同效益 (tags), 乡村振兴 (是/否).

行为减排批次 (behaviour batch): 批次编号, 场景编号 (SHCER02020012024II bus, …022024II rail,
…032024II shared bike), 统计起, 统计止 (ISO date-times), 明细: [{记录编号, 用户类型 (身份证 手机号
用户编号 假名), 用户标识, 开始时间, 结束时间, 减排量(克), 积分, 出行编号, 线路编号}]. 用户标识 is turned
into a keyed pseudonym before anything leaves the adapter; 假名 (a hub pseudonym) passes through.
Points: 1 point = 1 gCO2e (demonstration ratio, Shanghai Decree No. 20 art. 29).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from adapters.base import BaseAdapter, Draft
from adapters.client import ClientSpec
from adapters.contract import CREDIT_BLOCK, PERSONAL_BATCH, Units
from adapters.fields import ELECTRICITY_BASED, FACTOR_UNITS, Collector, Row
from adapters.privacy import Pseudonymizer
from adapters.records import check_duplicates, credit_block, items_of, label_of
from adapters.shanghai.layout import (
    INSTANT,
    REGISTRY,
    STATUS,
    TAG,
    USER_KINDS,
    YES_NO,
    render_batch,
    render_block,
)
from adapters.templates import BlockTemplates

# a block's own fields (adapters.templates); every other field _block reads repeats
UNIQUE_FIELDS = ("签发编号", "序列号起", "序列号止", "减排量(吨)")
TEMPLATE_FIELDS = (
    "原始登记簿", "当前登记簿", "项目编号", "方法学编号", "年度", "监测期起", "监测期止", "签发日期",
    "持有账户", "状态", "状态说明", "协同效益", "乡村振兴", "排放因子",
)  # fmt: skip


class ShanghaiAdapter(BaseAdapter):
    code = "SH"
    name = "Shanghai Carbon Inclusion Platform"
    name_zh = "上海碳普惠平台"
    format = "JSON with Chinese field names (UTF-8)"
    media_types = ("application/json",)
    record_kinds = (CREDIT_BLOCK, PERSONAL_BATCH)
    units = Units(
        credit_unit="吨 (whole tonnes)", personal_unit="克 and 积分 (1 point = 1 g)", grams_per_point=1
    )
    spec = ClientSpec(
        issuances_path="/api/v1/issuances",
        cursor_param="since",
        cursor_header="X-Next-Cursor",
        lock_path="/api/v1/blocks/{block_id}/freeze",
        unlock_path="/api/v1/blocks/{block_id}/unfreeze",
        import_path="/api/v1/imports",
        retirement_path="/api/v1/retirement-notices",
        lock_batch_path="/api/v1/batches/freeze",
        unlock_batch_path="/api/v1/batches/unfreeze",
        import_batch_path="/api/v1/batches/imports",
        fields={
            "block_id": "签发编号",
            "serial_start": "序列号起",
            "serial_end": "序列号止",
            "quantity": "减排量(吨)",
            "retirement_id": "注销编号",
            "purpose": "注销用途",
            "retired_at": "注销时间",
            "blocks": "注销序列号段",
        },
    )
    block_id_field = "签发编号"
    serial_field = "序列号起"
    field_map: ClassVar[Mapping[str, str]] = {
        "credit-block:/quantity": "减排量(吨)",
        "credit-block:/serial_end": "序列号止",
        "credit-block:/monitoring_period/end": "监测期止",
        "personal-reduction-batch:/period/end": "统计止",
        "personal-reduction-batch:/records/*/activity_window/end": "结束时间",
    }

    def read(self, text: str, pseudonymizer: Pseudonymizer, errors: Collector) -> Draft:
        draft = Draft()
        document = self.load_json(text, errors)
        if document is None:
            return draft
        if not isinstance(document, Mapping):
            errors.add("payload", "(JSON)", "the document must be a JSON object", "1043")
            return draft
        head = Row(document, "payload", errors)
        platform = head.text("平台编码")
        if platform is not None and platform != self.code:
            head.error("平台编码", f"{platform} is not {self.code}", "1042")
        demo = head.choice("演示数据", YES_NO, required=False)
        templates = BlockTemplates(
            lambda row: self._block(row, demo), UNIQUE_FIELDS, TEMPLATE_FIELDS, enabled=self.fast_reader
        )
        draft.certified = templates.certified
        for index, item in enumerate(items_of(document, "签发记录", errors)):
            label = label_of(item, "签发编号", f"签发记录[{index}]")
            if not isinstance(item, Mapping):
                errors.add(label, "签发记录", "must be an object", "1043")
                continue
            block = templates.read(item, label, errors)
            if block is not None:
                draft.blocks.append((label, block))
        seen: list[tuple[str, Any]] = []
        trips: list[tuple[str, Any]] = []
        for index, item in enumerate(items_of(document, "行为减排批次", errors)):
            label = label_of(item, "批次编号", f"行为减排批次[{index}]")
            if not isinstance(item, Mapping):
                errors.add(label, "行为减排批次", "must be an object", "1043")
                continue
            batch = self._batch(Row(item, label, errors), pseudonymizer, demo, seen, trips)
            if batch is not None:
                draft.batches.append((label, batch))
        check_duplicates(seen, "记录编号", errors, "记录编号")
        check_duplicates(trips, "出行编号", errors, "trip by the same person")
        return draft

    def _block(self, row: Row, demo: bool | None) -> dict[str, Any] | None:
        origin = row.text("原始登记簿", required=False, pattern=REGISTRY) or self.code
        current = row.text("当前登记簿", required=False, pattern=REGISTRY) or self.code
        block_id, project_id = row.identifier("签发编号"), row.identifier("项目编号")
        methodology = row.methodology("方法学编号", origin)
        quantity = row.tonnes("减排量(吨)")
        start, end = row.serial("序列号起"), row.serial("序列号止")
        vintage = row.year("年度")
        period_start = row.date("监测期起", required=False)
        period_end = row.date("监测期止", required=period_start is not None)
        issued = row.date("签发日期", required=False)
        holder = row.identifier("持有账户")
        status = row.choice("状态", STATUS)
        reason = row.text("状态说明", required=False)
        tags = row.get("协同效益", required=False)
        rural = row.choice("乡村振兴", YES_NO, required=False)
        factor = self._factor(row, methodology)
        row.serial_range(("序列号起", "序列号止", "减排量(吨)"), start, end, quantity)
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(t, str) and TAG.match(t) for t in tags)
        ):
            row.error("协同效益", "must be a list of lowercase kebab-case tags", "1042")
        if row.failed:
            return None
        return credit_block(
            block_id=block_id,
            registries=(origin, current),
            serials=(start, end),
            quantity=quantity,
            vintage=vintage,
            methodology=methodology,
            project_id=project_id,
            holder=holder,
            status=status,
            period=(period_start, period_end),
            status_reason=reason,
            emission_factor=factor,
            co_benefits=tags,
            rural_revitalization=rural,
            issued_at=None if issued is None else f"{issued}T00:00:00+08:00",
            demonstration=demo,
        )

    def _factor(self, row: Row, methodology: dict[str, str] | None) -> dict[str, Any] | None:
        needed = methodology is not None and methodology["catalogue_id"] in ELECTRICITY_BASED
        sub = row.sub("排放因子", required=needed)
        if sub is None:
            return None
        value, unit = sub.factor_value("数值"), sub.choice("单位", FACTOR_UNITS)
        source, year = sub.text("来源"), sub.year("年份")
        if sub.failed:
            return None
        return {"value": value, "unit": unit, "source": source, "year": year}

    def _batch(
        self,
        row: Row,
        pseudonymizer: Pseudonymizer,
        demo: bool | None,
        seen: list[tuple[str, Any]],
        trips: list[tuple[str, Any]],
    ) -> dict[str, Any] | None:
        batch_id = row.identifier("批次编号")
        methodology = row.methodology("场景编号", self.code)
        start, end = row.instant("统计起", INSTANT), row.instant("统计止", INSTANT)
        details = items_of(row.values, "明细", row.errors, row.label)
        if not details:
            row.error("明细", "must list at least one record", "1041")
        records = []
        for index, item in enumerate(details):
            label = label_of(item, "记录编号", f"{row.label}.明细[{index}]")
            if not isinstance(item, Mapping):
                row.errors.add(label, "明细", "must be an object", "1043")
                continue
            line = Row(item, label, row.errors)
            record_id = line.identifier("记录编号")
            subject = line.subject(line.choice("用户类型", USER_KINDS), "用户标识", pseudonymizer, self.code)
            window = (line.instant("开始时间", INSTANT), line.instant("结束时间", INSTANT))
            grams = line.grams("减排量(克)")
            points = line.whole("积分", required=False)
            trip, route = (
                line.identifier("出行编号", required=False),
                line.identifier("线路编号", required=False),
            )
            seen.append((label, record_id))
            if line.failed:
                continue
            trips.append((label, None if trip is None else (subject, trip)))
            record: dict[str, Any] = {
                "record_id": record_id,
                "subject": subject,
                "activity_window": {"start": window[0], "end": window[1]},
                "quantity": grams,
                "unit": "gCO2e",
            }
            optional = {"trip_id": trip, "route_id": route, "points": points}
            record.update({key: value for key, value in optional.items() if value is not None})
            records.append(record)
        if row.failed or methodology is None:
            return None
        batch: dict[str, Any] = {
            "batch_id": batch_id,
            "platform": self.code,
            "scenario": methodology["catalogue_id"],
            "methodology": methodology,
            "period": {"start": start, "end": end},
            "quantity": sum(record["quantity"] for record in records),
            "unit": "gCO2e",
        }
        if pseudonymizer.key_id is not None:
            batch["pseudonym_key_id"] = pseudonymizer.key_id
        batch["records"] = records
        if demo is not None:
            batch["demonstration"] = demo
        return batch

    def write(self, records: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
        document: dict[str, Any] = {"平台编码": self.code}
        demos = {record.get("demonstration") for _, record in records} - {None}
        if len(demos) == 1:
            document["演示数据"] = demos.pop()
        document["签发记录"] = [render_block(r) for kind, r in records if kind == CREDIT_BLOCK]
        document["行为减排批次"] = [render_batch(r) for kind, r in records if kind == PERSONAL_BATCH]
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


adapter = ShanghaiAdapter()
