"""Jiangsu 碳普惠 (JS): CSV exports in GBK — reference format.

The platform's real interface is not public; this is the hub's reference format, replaced by the
real one in this module alone. Media type ``text/csv; charset=gbk`` (GB18030 is read as well). A
file has one of two layouts, told apart by its header row; a row is named by its line number.

减排量签发 (credit blocks), one block per row::

    签发编号,项目编号,方法学代码,年度,监测期开始,监测期结束,减排量（吨）,起始序列号,终止序列号,
    持有账户,状态,状态说明,排放因子,排放因子单位,排放因子来源,排放因子年份,签发时间,原始登记簿,
    当前登记簿,协同效益,乡村振兴,演示数据

减排量（吨） is a decimal string with three places ("350.000"); it must be whole tonnes. Dates are
``2025/1/1``, 签发时间 ``2026-02-10 09:30:00`` (China time). 状态: 持有 冻结 已转出 转入 已注销 已撤销
质押. PV and EV rows carry the factor they used (Jiangsu: MEE/NBS announcement 2024 No. 33, 2022
value 0.5978 kgCO2/kWh). 协同效益 is ``|``-separated; 乡村振兴 and 演示数据 are 是/否.

项目清单 (projects)::

    项目编号,项目名称,项目名称（中文）,方法学代码,区划代码,装机容量,容量单位,业主统一社会信用代码,
    项目地址,计入期开始,计入期结束,其他登记,演示数据

业主统一社会信用代码 and 项目地址 leave the adapter only as keyed hashes (a rendered file carries the
hashes in these columns, and they are read back as such); 其他登记 lists ``SCHEME:id`` pairs
separated by ``|``.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from adapters.base import BaseAdapter, Draft
from adapters.client import ClientSpec
from adapters.contract import CREDIT_BLOCK, PROJECT, RenderError, Units
from adapters.fields import ELECTRICITY_BASED, FACTOR_UNITS, Collector, Row, division
from adapters.jiangsu.layout import (
    BLOCK_COLUMNS,
    CAPACITY_UNITS,
    DATE,
    ELSEWHERE,
    PROJECT_COLUMNS,
    REGISTRY,
    STATUS,
    TAG,
    YES_NO,
    project_rows,
    rows,
)
from adapters.plain_csv import PlainDictReader
from adapters.privacy import Pseudonymizer, is_pseudonym
from adapters.records import credit_block
from adapters.templates import BlockTemplates

# the fields a block row has of its own (id, serials, quantity); the others repeat (adapters.templates)
UNIQUE_COLUMNS = ("签发编号", "起始序列号", "终止序列号", "减排量（吨）")
TEMPLATE_COLUMNS = tuple(column for column in BLOCK_COLUMNS if column not in UNIQUE_COLUMNS)


class JiangsuAdapter(BaseAdapter):
    code = "JS"
    name = "Jiangsu Carbon Inclusion Platform"
    name_zh = "江苏碳普惠平台"
    format = "CSV export in GBK, tonnes as decimal strings"
    media_types = ("text/csv; charset=gbk", "text/csv; charset=gb18030")
    encoding = "gb18030"
    charsets = ("gbk", "gb18030", "gb2312")
    line_label = "row"
    record_kinds = (PROJECT, CREDIT_BLOCK)
    units = Units(credit_unit="吨 (decimal string, three places)", personal_unit=None, grams_per_point=None)
    spec = ClientSpec(
        issuances_path="/openapi/export/credits.csv",
        cursor_param="after",
        cursor_header="Next-Cursor",
        lock_path="/openapi/credits/{block_id}/lock",
        unlock_path="/openapi/credits/{block_id}/unlock",
        import_path="/openapi/credits/import",
        retirement_path="/openapi/notices/retirement",
        lock_batch_path="/openapi/batch/credits/lock",
        unlock_batch_path="/openapi/batch/credits/unlock",
        import_batch_path="/openapi/batch/credits/import",
        fields={
            "block_id": "签发编号",
            "serial_start": "起始序列号",
            "serial_end": "终止序列号",
            "quantity": "减排量（吨）",
            "retirement_id": "注销编号",
            "purpose": "注销用途",
            "retired_at": "注销时间",
            "blocks": "序列号段",
        },
    )
    block_id_field = "签发编号"
    serial_field = "起始序列号"
    project_id_field = "项目编号"
    field_map: ClassVar[Mapping[str, str]] = {
        "credit-block:/serial_end": "终止序列号",
        "project:/crediting_period/end": "计入期结束",
    }

    def decode(self, payload: bytes, errors: Collector) -> str | None:
        try:
            as_utf8 = payload.decode("utf-8")
        except UnicodeDecodeError:
            as_utf8 = None
        if as_utf8 is not None and not as_utf8.isascii():
            errors.add("file", "(encoding)", "the file is UTF-8; Jiangsu exports are GBK", "1040")
            return None
        return super().decode(payload, errors)

    def read(self, text: str, pseudonymizer: Pseudonymizer, errors: Collector) -> Draft:
        draft = Draft()
        deque(self.read_stream(text, pseudonymizer, errors, draft), maxlen=0)
        return draft

    def read_stream(
        self, text: str, pseudonymizer: Pseudonymizer, errors: Collector, draft: Draft
    ) -> Iterator[dict[str, Any]]:
        """The rows in order, each block yielded as it is appended to ``draft.blocks``."""
        plain = PlainDictReader.of(text) if self.fast_reader else None
        reader: PlainDictReader | csv.DictReader[str] = plain or csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        if not header:
            return
        layout = (
            BLOCK_COLUMNS
            if "签发编号" in header
            else PROJECT_COLUMNS
            if "业主统一社会信用代码" in header
            else None
        )
        if layout is None:
            errors.add("row 1", "(header)", "neither the 减排量签发 nor the 项目清单 layout", "1043")
            return
        for column in sorted(set(header) - set(layout)):
            errors.add("row 1", column, "is not a column of this layout", "1043")
        templates = BlockTemplates(self._block, UNIQUE_COLUMNS, TEMPLATE_COLUMNS, enabled=self.fast_reader)
        draft.certified = templates.certified
        by_cells = templates.cells_reader(header) if plain is not None and layout is BLOCK_COLUMNS else None
        if plain is not None and by_cells is not None:
            yield from self._read_cells(plain, by_cells, templates, draft, errors)
            return
        try:
            for values in reader:
                label = f"row {reader.line_num}"
                if None in values:
                    errors.add(label, "(row)", "has more cells than the header", "1043")
                    continue
                if layout is BLOCK_COLUMNS:  # no None key: checked above
                    block = templates.read(values, label, errors)
                    if block is not None:
                        draft.blocks.append((label, block))
                        yield block
                else:
                    project = self._project(Row(values, label, errors), pseudonymizer)
                    if project is not None:
                        draft.projects.append((label, project))
        except csv.Error as exc:
            errors.add(f"row {reader.line_num}", "(row)", f"not well-formed CSV: {exc}", "1043")

    @staticmethod
    def _read_cells(
        reader: PlainDictReader,
        by_cells: Callable[[list[str], str, Collector], dict[str, Any] | None],
        templates: BlockTemplates,
        draft: Draft,
        errors: Collector,
    ) -> Iterator[dict[str, Any]]:
        """The block rows of plain text, as the loop of ``read`` reads them: a row with as many
        cells as the header through the positional template reader, any other as a dict; each
        block yielded as it is appended."""
        width = len(reader.fieldnames or [])
        append = draft.blocks.append
        for cells in reader.cells():
            label = f"row {reader.line_num}"
            if len(cells) == width:
                block = by_cells(cells, label, errors)
            else:
                values = reader.as_dict(cells)
                if None in values:
                    errors.add(label, "(row)", "has more cells than the header", "1043")
                    continue
                block = templates.read(values, label, errors)
            if block is not None:
                append((label, block))
                yield block

    def _block(self, row: Row) -> dict[str, Any] | None:
        origin = row.text("原始登记簿", required=False, pattern=REGISTRY) or self.code
        current = row.text("当前登记簿", required=False, pattern=REGISTRY) or self.code
        block_id, project_id = row.identifier("签发编号"), row.identifier("项目编号")
        methodology = row.methodology("方法学代码", origin)
        vintage = row.year("年度")
        period = (row.date("监测期开始", DATE, required=False), row.date("监测期结束", DATE, required=False))
        quantity = row.tonnes("减排量（吨）")
        start, end = row.serial("起始序列号"), row.serial("终止序列号")
        holder, status = row.identifier("持有账户"), row.choice("状态", STATUS)
        reason = row.text("状态说明", required=False)
        issued = row.instant("签发时间", ("%Y-%m-%d %H:%M:%S",), required=False)
        tags = [tag for tag in (row.text("协同效益", required=False) or "").split("|") if tag]
        rural, demo = (
            row.choice("乡村振兴", YES_NO, required=False),
            row.choice("演示数据", YES_NO, required=False),
        )
        needed = methodology is not None and methodology["catalogue_id"] in ELECTRICITY_BASED
        given = needed or any(row.get(column, required=False) for column in BLOCK_COLUMNS[12:16])
        factor = {
            "value": row.factor_value("排放因子", required=given),
            "unit": row.choice("排放因子单位", FACTOR_UNITS, required=given),
            "source": row.text("排放因子来源", required=given),
            "year": row.year("排放因子年份", required=given),
        }
        row.period_pair(("监测期开始", "监测期结束"), period)
        if any(not TAG.match(tag) for tag in tags):
            row.error("协同效益", "must be lowercase kebab-case tags separated by |", "1042")
        row.serial_range(("起始序列号", "终止序列号", "减排量（吨）"), start, end, quantity)
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
            period=period,
            status_reason=reason,
            emission_factor=factor if given else None,
            issued_at=issued,
            co_benefits=tags or None,
            rural_revitalization=rural,
            demonstration=demo,
        )

    def _project(self, row: Row, pseudonymizer: Pseudonymizer) -> dict[str, Any] | None:
        project_id, name = row.identifier("项目编号"), row.text("项目名称")
        name_zh = row.text("项目名称（中文）", required=False)
        methodology = row.methodology("方法学代码", self.code)
        location = division(row, "区划代码")
        amount = row.whole("装机容量", required=False)
        unit = row.choice("容量单位", CAPACITY_UNITS, required=amount is not None)
        owner = row.organization("业主统一社会信用代码", pseudonymizer)
        address = row.text("项目地址", required=False)
        period = (row.date("计入期开始", DATE), row.date("计入期结束", DATE))
        elsewhere = []
        for pair in (row.text("其他登记", required=False) or "").split("|"):
            if pair and not ELSEWHERE.match(pair):
                row.error("其他登记", f"{pair!r} is not SCHEME:id", "1042")
            elif pair:
                scheme, _, local_id = pair.partition(":")
                elsewhere.append({"scheme": scheme, "id": local_id})
        demo = row.choice("演示数据", YES_NO, required=False)
        if methodology is not None and methodology["catalogue_id"] == "PV-DISTRIBUTED" and amount is None:
            row.error("装机容量", "is required for distributed PV", "1041")
        if row.failed or location is None:
            return None
        if address is not None:  # a raw address, or the hash of one (records from the hub)
            location["address_hash"] = address if is_pseudonym(address) else pseudonymizer.address(address)
        project: dict[str, Any] = {"project_id": project_id, "registry": self.code, "name": name}
        if name_zh is not None:
            project["name_zh"] = name_zh
        project.update(methodology=methodology, location=location)
        if amount is not None:
            project["capacity"] = {"value": amount, "unit": unit}
        project.update(
            owner_uscc_hash=owner,
            crediting_period={"start": period[0], "end": period[1]},
            registered_elsewhere=elsewhere,
        )
        if demo is not None:
            project["demonstration"] = demo
        return project

    def write(self, records: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
        kinds = {kind for kind, _ in records}
        if len(kinds) > 1:
            raise RenderError("1045", "a Jiangsu CSV file carries either blocks or projects, not both")
        projects = kinds == {PROJECT}
        out = io.StringIO(newline="")
        writer = csv.DictWriter(
            out, fieldnames=PROJECT_COLUMNS if projects else BLOCK_COLUMNS, lineterminator="\r\n"
        )
        writer.writeheader()
        writer.writerows(project_rows(records) if projects else rows(records))
        return out.getvalue().encode("gb18030")


adapter = JiangsuAdapter()
