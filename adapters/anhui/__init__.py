"""Anhui 碳普惠 (AH): XML exports of afforestation projects and blocks — reference format.

The platform's real interface is not public; this is the hub's reference format, replaced by the
real one in this module alone. Media type ``application/xml`` (UTF-8). A document with a DOCTYPE
or entity declaration is refused (no entity expansion, ever)::

    <CarbonInclusionExport platform="AH" demonstration="true">
      <Project id="AH-P-FOREST-017">
        <Name>…</Name> <NameZh>…</NameZh> <MethodologyCode>CCER-14-001-V01</MethodologyCode>
        <DivisionCode>341024</DivisionCode> <Capacity unit="ha">120</Capacity>
        <OwnerCreditCode>统一社会信用代码</OwnerCreditCode> <Address>…</Address>
        <CreditingPeriod start="2021-01-01" end="2040-12-31"/>
        <RegisteredElsewhere scheme="ETS" id="…"/>            (0..n)
      </Project>
      <Block id="AH-B-2024-000017" project="AH-P-FOREST-017" origin="AH" current="AH">
        <MethodologyCode>…</MethodologyCode> <Vintage>2024</Vintage>
        <Serials from="5000" to="5000"/> <Tonnes>1</Tonnes> <Holder>…</Holder>
        <Status>ACTIVE|LOCKED|EXPORTED|IMPORTED|RETIRED|CANCELLED</Status> <StatusNote>…</StatusNote>
        <Pledge status="NONE|PLEDGED|RELEASED" pledgee="…" note="…"/>
        <MonitoringPeriod start="…" end="…"/> <IssuedAt>ISO date-time</IssuedAt>
        <EmissionFactor value="…" unit="…" source="…" year="…"/> (required on PV and EV blocks)
        <CoBenefit>biodiversity</CoBenefit> (0..n) <RuralRevitalization>true</RuralRevitalization>
      </Block>
    </CarbonInclusionExport>

A block pledged as loan collateral (质押, ``Pledge status="PLEDGED"``) becomes an ``encumbered``
credit block; it cannot be locked or transferred until the pledge is released. Errors name fields
XPath-style: ``Block/Tonnes``, ``Block/Serials@from``. Owner credit codes and addresses leave the
adapter only as keyed hashes (a rendered document carries the hashes, read back as such).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from adapters.anhui.layout import (
    BLOCK_TAGS,
    BOOLEAN,
    CAPACITY_UNITS,
    FORBIDDEN,
    PLEDGE,
    PROJECT_TAGS,
    REGISTRY,
    REPEATED,
    STATUS,
    write_document,
)
from adapters.base import BaseAdapter, Draft
from adapters.client import ClientSpec
from adapters.contract import CREDIT_BLOCK, PROJECT, Units
from adapters.fields import ELECTRICITY_BASED, FACTOR_UNITS, Collector, Row, division
from adapters.privacy import Pseudonymizer, is_pseudonym
from adapters.records import credit_block


def flatten(element: ET.Element, label: str, errors: Collector, allowed: set[str]) -> dict[str, str]:
    """``{"@id": …, "Tonnes": …, "Serials@from": …}`` of one element; unknown or repeated → 1043."""
    values = {f"@{key}": value for key, value in element.attrib.items()}
    for child in element:
        if child.tag not in allowed:
            errors.add(label, f"{element.tag}/{child.tag}", "is not an element of this format", "1043")
            continue
        if child.tag in REPEATED:
            continue
        if f"/{child.tag}" in values:
            errors.add(label, f"{element.tag}/{child.tag}", "appears more than once", "1043")
        values[f"/{child.tag}"] = (child.text or "").strip()
        values.update({f"/{child.tag}@{key}": value for key, value in child.attrib.items()})
    return values


class AnhuiAdapter(BaseAdapter):
    code = "AH"
    name = "Anhui Carbon Inclusion Platform"
    name_zh = "安徽碳普惠平台"
    format = "XML (afforestation projects and blocks, pledge status)"
    media_types = ("application/xml", "text/xml")
    record_kinds = (PROJECT, CREDIT_BLOCK)
    units = Units(credit_unit="吨 (whole tonnes)", personal_unit=None, grams_per_point=None)
    spec = ClientSpec(
        issuances_path="/ah-puhui/api/issuances",
        cursor_param="cursor",
        cursor_header="X-Cursor",
        lock_path="/ah-puhui/api/blocks/{block_id}/lock",
        unlock_path="/ah-puhui/api/blocks/{block_id}/unlock",
        import_path="/ah-puhui/api/imports",
        retirement_path="/ah-puhui/api/retirements",
        lock_batch_path="/ah-puhui/api/batches/lock",
        unlock_batch_path="/ah-puhui/api/batches/unlock",
        import_batch_path="/ah-puhui/api/batches/imports",
        fields={
            "block_id": "blockId",
            "serial_start": "serialFrom",
            "serial_end": "serialTo",
            "quantity": "tonnes",
            "retirement_id": "retirementId",
            "purpose": "purpose",
            "retired_at": "retiredAt",
            "blocks": "serialRanges",
        },
    )
    block_id_field = "Block@id"
    serial_field = "Block/Serials@from"
    project_id_field = "Project@id"
    field_map: ClassVar[Mapping[str, str]] = {
        "credit-block:/serial_end": "Block/Serials@to",
        "credit-block:/monitoring_period/end": "Block/MonitoringPeriod@end",
        "project:/crediting_period/end": "Project/CreditingPeriod@end",
    }

    def read(self, text: str, pseudonymizer: Pseudonymizer, errors: Collector) -> Draft:
        draft = Draft()
        if FORBIDDEN.search(text):
            errors.add("document", "(XML)", "DOCTYPE and entity declarations are not accepted", "1043")
            return draft
        try:
            root = ET.fromstring(text)  # noqa: S314 (no DOCTYPE, so no entity can be declared)
        except ET.ParseError as exc:
            errors.add("document", "(XML)", f"not well-formed XML: {exc}", "1043")
            return draft
        if root.tag != "CarbonInclusionExport":
            errors.add("document", root.tag, "the root element must be CarbonInclusionExport", "1043")
            return draft
        head = Row({f"@{k}": v for k, v in root.attrib.items()}, "document", errors, "CarbonInclusionExport")
        platform = head.text("@platform")
        if platform is not None and platform != self.code:
            head.error("@platform", f"{platform} is not {self.code}", "1042")
        demo = head.choice("@demonstration", BOOLEAN, required=False)
        for index, element in enumerate(root):
            label = element.get("id") or f"{element.tag}[{index}]"
            if element.tag == "Project":
                row = Row(flatten(element, label, errors, PROJECT_TAGS), label, errors, "Project")
                project = self._project(row, element, pseudonymizer, demo)
                if project is not None:
                    draft.projects.append((label, project))
            elif element.tag == "Block":
                row = Row(flatten(element, label, errors, BLOCK_TAGS), label, errors, "Block")
                block = self._block(row, element, demo)
                if block is not None:
                    draft.blocks.append((label, block))
            else:
                errors.add(label, element.tag, "is not Project or Block", "1043")
        return draft

    def _project(
        self, row: Row, element: ET.Element, pseudonymizer: Pseudonymizer, demo: bool | None
    ) -> dict[str, Any] | None:
        project_id, name = row.identifier("@id"), row.text("/Name")
        name_zh = row.text("/NameZh", required=False)
        methodology = row.methodology("/MethodologyCode", self.code)
        location = division(row, "/DivisionCode")
        amount = row.whole("/Capacity", required=False)
        unit = row.choice("/Capacity@unit", CAPACITY_UNITS, required=amount is not None)
        owner = row.organization("/OwnerCreditCode", pseudonymizer)
        address = row.text("/Address", required=False)
        period = (row.date("/CreditingPeriod@start"), row.date("/CreditingPeriod@end"))
        elsewhere = []
        for other in element.findall("RegisteredElsewhere"):
            line = Row(
                {f"@{k}": v for k, v in other.attrib.items()},
                row.label,
                row.errors,
                "Project/RegisteredElsewhere",
            )
            scheme, other_id = line.text("@scheme", pattern=REGISTRY), line.identifier("@id")
            elsewhere.append({"scheme": scheme, "id": other_id})
        if row.failed or location is None:
            return None
        if address is not None:
            location["address_hash"] = address if is_pseudonym(address) else pseudonymizer.address(address)
        project: dict[str, Any] = {"project_id": project_id, "registry": self.code, "name": name}
        if name_zh is not None:
            project["name_zh"] = name_zh
        project.update(methodology=methodology, location=location)
        if amount is not None:
            project["capacity"] = {"value": amount, "unit": unit}
        project["owner_uscc_hash"] = owner
        project["crediting_period"] = {"start": period[0], "end": period[1]}
        project["registered_elsewhere"] = elsewhere
        if demo is not None:
            project["demonstration"] = demo
        return project

    def _block(self, row: Row, element: ET.Element, demo: bool | None) -> dict[str, Any] | None:
        origin = row.text("@origin", required=False, pattern=REGISTRY) or self.code
        current = row.text("@current", required=False, pattern=REGISTRY) or self.code
        block_id, project_id = row.identifier("@id"), row.identifier("@project")
        methodology = row.methodology("/MethodologyCode", origin)
        vintage, quantity = row.year("/Vintage"), row.tonnes("/Tonnes")
        start, end = row.serial("/Serials@from"), row.serial("/Serials@to")
        holder, status = row.identifier("/Holder"), row.choice("/Status", STATUS)
        note = row.text("/StatusNote", required=False)
        pledged = row.choice("/Pledge@status", PLEDGE, required=element.find("Pledge") is not None)
        pledge_note, pledgee = (
            row.text("/Pledge@note", required=False),
            row.text("/Pledge@pledgee", required=False),
        )
        period = (
            row.date("/MonitoringPeriod@start", required=False),
            row.date("/MonitoringPeriod@end", required=False),
        )
        issued = row.instant("/IssuedAt", ("%Y-%m-%dT%H:%M:%S%z",), required=False)
        needed = methodology is not None and methodology["catalogue_id"] in ELECTRICITY_BASED
        has_factor = needed or "EmissionFactor" in [child.tag for child in element]
        factor = {
            "value": row.factor_value("/EmissionFactor@value", required=has_factor),
            "unit": row.choice("/EmissionFactor@unit", FACTOR_UNITS, required=has_factor),
            "source": row.text("/EmissionFactor@source", required=has_factor),
            "year": row.year("/EmissionFactor@year", required=has_factor),
        }
        tags = [(child.text or "").strip() for child in element.findall("CoBenefit")]
        rural = row.choice("/RuralRevitalization", BOOLEAN, required=False)
        if pledged and status not in (None, "held"):
            row.error("/Pledge@status", f"a {status} block cannot be pledged", "1042")
        row.serial_range(("/Serials@from", "/Serials@to", "/Tonnes"), start, end, quantity)
        row.period_pair(("/MonitoringPeriod@start", "/MonitoringPeriod@end"), period)
        if row.failed:
            return None
        if pledged:
            status, note = (
                "encumbered",
                pledge_note or f"pledged as loan collateral (质押) to {pledgee or 'a lender'}",
            )
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
            period=period,
            status_reason=note,
            emission_factor=factor if has_factor else None,
            issued_at=issued,
            co_benefits=tags or None,
            rural_revitalization=rural,
            demonstration=demo,
        )

    def write(self, records: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
        return write_document(self.code, records)


adapter = AnhuiAdapter()
