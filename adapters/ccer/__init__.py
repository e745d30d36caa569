"""National CCER registry (CCER): the registry's published project and reduction fields — reference
format.

The registry's machine interface is not public; this format uses the field names the registry
publishes (applyId, ccerId, certificationId, projectType, methodologyNum, provinceName,
expectYearNum, certifiedNum…; FACTS.md) in a JSON answer ``application/json`` (UTF-8)::

    {"code": 200, "msg": "操作成功", "demo": true,
     "data": {"projectList": [project, …], "reductionList": [reduction, …]}}

project: applyId (→ project id), projectName, projectType (e.g. A0102, N0101; not used),
methodologyNum (CCER-14-001-V01 …), provinceName (全称, e.g. 江苏省), areaCode (GB/T 2260, optional),
installedCapacity + capacityUnit (W kW MW ha), ownerCreditCode (hashed before it leaves),
creditingPeriodStart, creditingPeriodEnd, expectYearNum (expected t/year; not used).

reduction: ccerId (→ block id), applyId (→ project), certificationId (not used), methodologyNum,
provinceName (optional here), certifiedNum (whole tonnes; decimal strings allowed if exact), serialNumStart,
serialNumEnd (the registry's numbering, zero-padded to 12 digits), vintageYear, monitorStartDate,
monitorEndDate, registrationDate (→ issued_at, China time), accountNo, unitStatus (HELD FROZEN
TRANSFERRED_OUT TRANSFERRED_IN RETIRED CANCELLED PLEDGED), emissionFactor {value, unit, source,
year} (optional). The CCER registry holds only units it issued: blocks of other origins are not
rendered to it (1045).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from adapters.base import BaseAdapter, Draft
from adapters.client import ClientSpec
from adapters.contract import CREDIT_BLOCK, PROJECT, RenderError, Units
from adapters.fields import ELECTRICITY_BASED, FACTOR_UNITS, Collector, Row, division
from adapters.privacy import Pseudonymizer
from adapters.records import china_time, credit_block, division_code, items_of, label_of
from adapters.templates import BlockTemplates

# a reduction's own fields (adapters.templates); every other field _block reads repeats
UNIQUE_FIELDS = ("ccerId", "serialNumStart", "serialNumEnd", "certifiedNum")
TEMPLATE_FIELDS = (
    "applyId", "certificationId", "methodologyNum", "provinceName", "vintageYear", "monitorStartDate",
    "monitorEndDate", "registrationDate", "accountNo", "unitStatus", "emissionFactor",
)  # fmt: skip

PROVINCES = {
    "北京市": "110000", "天津市": "120000", "河北省": "130000", "山西省": "140000",
    "内蒙古自治区": "150000", "辽宁省": "210000", "吉林省": "220000", "黑龙江省": "230000",
    "上海市": "310000", "江苏省": "320000", "浙江省": "330000", "安徽省": "340000",
    "福建省": "350000", "江西省": "360000", "山东省": "370000", "河南省": "410000",
    "湖北省": "420000", "湖南省": "430000", "广东省": "440000", "广西壮族自治区": "450000",
    "海南省": "460000", "重庆市": "500000", "四川省": "510000", "贵州省": "520000",
    "云南省": "530000", "西藏自治区": "540000", "陕西省": "610000", "甘肃省": "620000",
    "青海省": "630000", "宁夏回族自治区": "640000", "新疆维吾尔自治区": "650000",
}  # fmt: skip
STATUS = {
    "HELD": "held",
    "FROZEN": "locked",
    "TRANSFERRED_OUT": "exported",
    "TRANSFERRED_IN": "imported",
    "RETIRED": "retired",
    "CANCELLED": "cancelled",
    "PLEDGED": "encumbered",
}
CAPACITY_UNITS = {"W": "W", "kW": "kW", "MW": "MW", "ha": "ha"}
BOOLEAN = {"true": True, "false": False}


class CCERAdapter(BaseAdapter):
    code = "CCER"
    name = "National CCER Registry"
    name_zh = "全国温室气体自愿减排注册登记系统"
    format = "JSON with the registry's published fields (projectList, reductionList)"
    media_types = ("application/json",)
    record_kinds = (PROJECT, CREDIT_BLOCK)
    units = Units(credit_unit="tCO2e (certifiedNum, whole tonnes)", personal_unit=None, grams_per_point=None)
    spec = ClientSpec(
        issuances_path="/ccer/public/reductions",
        cursor_param="offsetId",
        cursor_header="X-Offset-Id",
        lock_path="/ccer/units/{block_id}/freeze",
        unlock_path="/ccer/units/{block_id}/unfreeze",
        import_path="/ccer/units/transfer-in",
        retirement_path="/ccer/units/retirement-notices",
        lock_batch_path="/ccer/batches/freeze",
        unlock_batch_path="/ccer/batches/unfreeze",
        import_batch_path="/ccer/batches/transfer-in",
        fields={
            "block_id": "ccerId",
            "serial_start": "serialNumStart",
            "serial_end": "serialNumEnd",
            "quantity": "certifiedNum",
            "retirement_id": "retirementId",
            "purpose": "retirementPurpose",
            "retired_at": "retirementTime",
            "blocks": "serialRanges",
        },
    )
    block_id_field = "ccerId"
    serial_field = "serialNumStart"
    project_id_field = "applyId"
    field_map: ClassVar[Mapping[str, str]] = {
        "credit-block:/serial_end": "serialNumEnd",
        "project:/crediting_period/end": "creditingPeriodEnd",
    }

    def read(self, text: str, pseudonymizer: Pseudonymizer, errors: Collector) -> Draft:
        draft = Draft()
        document = self.load_json(text, errors)
        if document is None:
            return draft
        data = document.get("data") if isinstance(document, Mapping) else None
        if not isinstance(data, Mapping):
            errors.add(
                "payload",
                "data",
                "the answer must be {code, msg, data: {projectList, reductionList}}",
                "1043",
            )
            return draft
        demo = Row(document, "payload", errors).choice("demo", BOOLEAN, required=False)
        for index, item in enumerate(items_of(data, "projectList", errors)):
            label = label_of(item, "applyId", f"projectList[{index}]")
            if not isinstance(item, Mapping):
                errors.add(label, "projectList", "must be an object", "1043")
            elif (project := self._project(Row(item, label, errors), pseudonymizer, demo)) is not None:
                draft.projects.append((label, project))
        templates = BlockTemplates(
            lambda row: self._block(row, demo), UNIQUE_FIELDS, TEMPLATE_FIELDS, enabled=self.fast_reader
        )
        draft.certified = templates.certified
        for index, item in enumerate(items_of(data, "reductionList", errors)):
            label = label_of(item, "ccerId", f"reductionList[{index}]")
            if not isinstance(item, Mapping):
                errors.add(label, "reductionList", "must be an object", "1043")
            elif (block := templates.read(item, label, errors)) is not None:
                draft.blocks.append((label, block))
        return draft

    def _project(self, row: Row, pseudonymizer: Pseudonymizer, demo: bool | None) -> dict[str, Any] | None:
        project_id, name = row.identifier("applyId"), row.text("projectName")
        row.text("projectType", required=False)
        methodology = row.methodology("methodologyNum", self.code)
        province = row.choice("provinceName", PROVINCES)
        location = division(row, "areaCode", required=False) or ({"province": province} if province else None)
        if province is not None and location is not None and location["province"] != province:
            row.error("areaCode", f"is not in {row.values.get('provinceName')}", "1042")
        amount = row.whole("installedCapacity", required=False)
        unit = row.choice("capacityUnit", CAPACITY_UNITS, required=amount is not None)
        owner = row.organization("ownerCreditCode", pseudonymizer)
        period = (row.date("creditingPeriodStart"), row.date("creditingPeriodEnd"))
        row.whole("expectYearNum", required=False)
        if row.failed or location is None:
            return None
        project: dict[str, Any] = {"project_id": project_id, "registry": self.code, "name": name}
        project.update(methodology=methodology, location=location)
        if amount is not None:
            project["capacity"] = {"value": amount, "unit": unit}
        project["owner_uscc_hash"] = owner
        project["crediting_period"] = {"start": period[0], "end": period[1]}
        project["registered_elsewhere"] = []
        if demo is not None:
            project["demonstration"] = demo
        return project

    def _block(self, row: Row, demo: bool | None) -> dict[str, Any] | None:
        block_id, project_id = row.identifier("ccerId"), row.identifier("applyId")
        row.identifier("certificationId", required=False)
        methodology = row.methodology("methodologyNum", self.code)
        row.choice("provinceName", PROVINCES, required=False)
        quantity = row.tonnes("certifiedNum")
        start, end = row.serial("serialNumStart"), row.serial("serialNumEnd")
        vintage = row.year("vintageYear")
        period = (row.date("monitorStartDate", required=False), row.date("monitorEndDate", required=False))
        issued = row.date("registrationDate", required=False)
        holder, status = row.identifier("accountNo"), row.choice("unitStatus", STATUS)
        needed = methodology is not None and methodology["catalogue_id"] in ELECTRICITY_BASED
        sub = row.sub("emissionFactor", required=needed)
        factor: dict[str, Any] | None = None
        if sub is not None:
            factor = {"value": sub.factor_value("value"), "unit": sub.choice("unit", FACTOR_UNITS)}
            factor.update(source=sub.text("source"), year=sub.year("year"))
        row.period_pair(("monitorStartDate", "monitorEndDate"), period)
        row.serial_range(("serialNumStart", "serialNumEnd", "certifiedNum"), start, end, quantity)
        if row.failed:
            return None
        return credit_block(
            block_id=block_id,
            registries=(self.code, self.code),
            serials=(start, end),
            quantity=quantity,
            vintage=vintage,
            methodology=methodology,
            project_id=project_id,
            holder=holder,
            status=status,
            period=period,
            emission_factor=factor,
            issued_at=None if issued is None else f"{issued}T00:00:00+08:00",
            demonstration=demo,
        )

    def write(self, records: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
        projects, reductions = [], []
        for kind, record in records:
            if kind == PROJECT:
                projects.append(self._write_project(record))
            elif record["origin_registry"] != self.code or record["current_registry"] != self.code:
                raise RenderError("1045", "the CCER registry holds only units it issued and holds")
            else:
                reductions.append(self._write_block(record))
        document: dict[str, Any] = {"code": 200, "msg": "操作成功"}
        demos = {record.get("demonstration") for _, record in records} - {None}
        if len(demos) == 1:
            document["demo"] = demos.pop()
        document["data"] = {"projectList": projects, "reductionList": reductions}
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")

    def _province_name(self, code: str) -> str:
        return next(name for name, value in PROVINCES.items() if value == code[:2] + "0000")

    def _write_project(self, project: Mapping[str, Any]) -> dict[str, Any]:
        location = project["location"]
        local: dict[str, Any] = {
            "applyId": project["project_id"],
            "projectName": project["name"],
            "methodologyNum": project["methodology"]["local_code"],
            "provinceName": self._province_name(location["province"]),
        }
        if "city" in location or "district" in location:
            local["areaCode"] = division_code(location)
        if "capacity" in project:
            local["installedCapacity"] = str(project["capacity"]["value"])
            local["capacityUnit"] = project["capacity"]["unit"]
        local["ownerCreditCode"] = project["owner_uscc_hash"]
        local["creditingPeriodStart"] = project["crediting_period"]["start"]
        local["creditingPeriodEnd"] = project["crediting_period"]["end"]
        return local

    def _write_block(self, block: Mapping[str, Any]) -> dict[str, Any]:
        local: dict[str, Any] = {
            "ccerId": block["block_id"],
            "applyId": block["project"]["project_id"],
            "methodologyNum": block["methodology"]["local_code"],
            "certifiedNum": str(block["quantity"]),
            "serialNumStart": f"{block['serial_start']:012d}",
            "serialNumEnd": f"{block['serial_end']:012d}",
            "vintageYear": block["vintage"],
            "accountNo": block["holder"]["account_id"],
            "unitStatus": next(local for local, status in STATUS.items() if status == block["status"]),
        }
        if "monitoring_period" in block:
            local["monitorStartDate"] = block["monitoring_period"]["start"]
            local["monitorEndDate"] = block["monitoring_period"]["end"]
        if "issued_at" in block:
            local["registrationDate"] = china_time(block["issued_at"]).date().isoformat()
        if "emission_factor" in block:
            local["emissionFactor"] = dict(block["emission_factor"])
        return local


adapter = CCERAdapter()
