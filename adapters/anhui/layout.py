"""The Anhui reference format's vocabulary and its writer (exchange records → XML)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.contract import PROJECT
from adapters.records import division_code

STATUS = {
    "ACTIVE": "held",
    "LOCKED": "locked",
    "EXPORTED": "exported",
    "IMPORTED": "imported",
    "RETIRED": "retired",
    "CANCELLED": "cancelled",
}
PLEDGE = {"NONE": False, "RELEASED": False, "PLEDGED": True}
BOOLEAN = {"true": True, "false": False}
CAPACITY_UNITS = {"W": "W", "kW": "kW", "MW": "MW", "ha": "ha"}
REGISTRY = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
FORBIDDEN = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
REPEATED = {"CoBenefit", "RegisteredElsewhere"}
PROJECT_TAGS = {"Name", "NameZh", "MethodologyCode", "DivisionCode", "Capacity", "OwnerCreditCode", "Address"}
PROJECT_TAGS |= {"CreditingPeriod", "RegisteredElsewhere"}
BLOCK_TAGS = {"MethodologyCode", "Vintage", "Serials", "Tonnes", "Holder", "Status", "StatusNote", "Pledge"}
BLOCK_TAGS |= {"MonitoringPeriod", "IssuedAt", "EmissionFactor", "CoBenefit", "RuralRevitalization"}


def write_document(code: str, records: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
    root = ET.Element("CarbonInclusionExport", platform=code)
    demos = {record.get("demonstration") for _, record in records} - {None}
    if len(demos) == 1:
        root.set("demonstration", "true" if demos.pop() else "false")
    for kind, record in records:
        (_write_project if kind == PROJECT else _write_block)(root, record)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8")


def _write_project(root: ET.Element, project: Mapping[str, Any]) -> None:
    element = ET.SubElement(root, "Project", id=project["project_id"])
    ET.SubElement(element, "Name").text = project["name"]
    if "name_zh" in project:
        ET.SubElement(element, "NameZh").text = project["name_zh"]
    ET.SubElement(element, "MethodologyCode").text = project["methodology"]["local_code"]
    ET.SubElement(element, "DivisionCode").text = division_code(project["location"])
    if "capacity" in project:
        capacity = project["capacity"]
        ET.SubElement(element, "Capacity", unit=capacity["unit"]).text = str(capacity["value"])
    ET.SubElement(element, "OwnerCreditCode").text = project["owner_uscc_hash"]
    if "address_hash" in project["location"]:
        ET.SubElement(element, "Address").text = project["location"]["address_hash"]
    ET.SubElement(element, "CreditingPeriod", dict(project["crediting_period"]))
    for other in project["registered_elsewhere"]:
        ET.SubElement(element, "RegisteredElsewhere", scheme=other["scheme"], id=other["id"])


def _write_block(root: ET.Element, block: Mapping[str, Any]) -> None:
    element = ET.SubElement(root, "Block", id=block["block_id"], project=block["project"]["project_id"])
    element.set("origin", block["origin_registry"])
    element.set("current", block["current_registry"])
    ET.SubElement(element, "MethodologyCode").text = block["methodology"]["local_code"]
    ET.SubElement(element, "Vintage").text = str(block["vintage"])
    ET.SubElement(element, "Serials", {"from": str(block["serial_start"]), "to": str(block["serial_end"])})
    ET.SubElement(element, "Tonnes").text = str(block["quantity"])
    ET.SubElement(element, "Holder").text = block["holder"]["account_id"]
    encumbered = block["status"] == "encumbered"
    status = "ACTIVE" if encumbered else next(k for k, v in STATUS.items() if v == block["status"])
    ET.SubElement(element, "Status").text = status
    if encumbered:
        pledge = ET.SubElement(element, "Pledge", status="PLEDGED")
        if "status_reason" in block:
            pledge.set("note", block["status_reason"])
    elif "status_reason" in block:
        ET.SubElement(element, "StatusNote").text = block["status_reason"]
    if "monitoring_period" in block:
        ET.SubElement(element, "MonitoringPeriod", dict(block["monitoring_period"]))
    if "issued_at" in block:
        ET.SubElement(element, "IssuedAt").text = block["issued_at"]
    if "emission_factor" in block:
        factor = block["emission_factor"]
        ET.SubElement(element, "EmissionFactor", {key: str(value) for key, value in factor.items()})
    for tag in block.get("co_benefits", []):
        ET.SubElement(element, "CoBenefit").text = tag
    if "rural_revitalization" in block:
        ET.SubElement(element, "RuralRevitalization").text = (
            "true" if block["rural_revitalization"] else "false"
        )
