"""The fast (template) reader of bulk block layouts against the exact reader it stands in for.

Generated Jiangsu CSV payloads — well-formed rows sharing a few templates, and rows with odd or
malformed cells (padding, whitespace, Unicode digits, fractions, zero, negative and oversized
amounts, backwards ranges, bad dates, a period that ends before it starts, repeated tags, unknown
codes), short and long rows, blank lines, shuffled, missing and unknown columns — must give the
same records, byte for byte (member order included), or the same errors in the same order, as the
exact reader with every record validated (``fast_reader = False``: today's path).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ccer import UNIQUE_FIELDS as CCER_UNIQUE
from adapters.contract import ParseResult
from adapters.fields import Collector
from adapters.jiangsu import TEMPLATE_COLUMNS, UNIQUE_COLUMNS, JiangsuAdapter
from adapters.jiangsu.layout import BLOCK_COLUMNS
from adapters.privacy import Pseudonymizer
from adapters.registry import get
from adapters.shanghai import UNIQUE_FIELDS as SH_UNIQUE
from adapters.templates import BlockTemplates

PSEUDONYMIZER = Pseudonymizer(b"fast reader test key of 32 bytes")
FAST = JiangsuAdapter()
EXACT = copy.copy(FAST)
EXACT.fast_reader = False

# per column: (cells the exact reader accepts, the usual one first; odd and malformed cells)
CELLS: dict[str, tuple[list[str], list[str]]] = {
    "项目编号": (["JS-P-KS-0399", "JS-P-2"], ["", "bad id!"]),
    "方法学代码": (["JS-PV-DIST", "JS-FOREST", "JS-EV-CHG"], ["NO-SUCH-CODE", ""]),
    "年度": (["2025", "2024", " 2025 "], ["1999", "20x5", ""]),
    "监测期开始": (["2025/1/1", "2025-01-01"], ["", "2025/13/1", "2026/1/1"]),
    "监测期结束": (["2025/12/31", "2025-12-31"], ["", "2024/12/31", "31/12/2025"]),
    "持有账户": (["JS-A-KSPV-001", "JS-A-2"], ["", "账户"]),
    "状态": (["持有", "质押", "已注销"], ["held", ""]),
    "状态说明": (["", "note"], ["x" * 501]),
    "排放因子": (["0.5978", "0.42"], ["", "abc", "-1", "1e3"]),
    "排放因子单位": (["kgCO2/kWh", "tCO2/MWh"], ["", "kg"]),
    # a comma makes the writer quote the cell: such payloads are read by csv.DictReader, the
    # others by adapters.plain_csv
    "排放因子来源": (["MEE/NBS announcement 2024 No. 33", "local", "MEE, Jiangsu grid (2022)"], ["", "ab"]),
    "排放因子年份": (["2022", "2021"], ["", "1800"]),
    "签发时间": (["2026-02-10 09:30:00", "", "2026-2-10 9:30:00"], ["2026-02-30 09:30:00", "soon"]),
    "原始登记簿": (["JS", ""], ["SH", "js"]),
    "当前登记簿": (["JS", "", "CCER"], ["j"]),
    "协同效益": (["", "air-quality", "biodiversity|air-quality"], ["a|a", "Bad Tag"]),
    "乡村振兴": (["否", "是", ""], ["maybe"]),
    "演示数据": (["是", "否", ""], ["1"]),
}
ODD_IDS = ["", " JS-B-PAD ", "bad id!", "x" * 129, "JS-B-DUP", "JS-B-DUP"]
ODD_SERIALS = ["0", "000", "0001", "abc", "٣", "", " 7 ", "9007199254740992", "1" * 20, "-5", "1.0"]
ODD_QUANTITIES = ["10", "10.5", "0", "-1", "1e1", " 10.000 ", "", "10.000000", "1,0"]

USUAL = {column: valid[0] for column, (valid, _) in CELLS.items()}


@st.composite
def template(draw: st.DrawFn, varying: list[str], clean: bool) -> dict[str, str]:
    """The usual cells, changed only in the payload's ``varying`` columns: templates of a payload
    differ in few columns, so a column missing from the template key would mix them up."""
    cells = dict(USUAL)
    for column in varying:
        valid, odd = CELLS[column]
        cells[column] = draw(st.sampled_from(valid if clean else valid + odd))
    return cells


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    clean = draw(st.booleans())  # valid cells only, plain rows: mostly accepted payloads
    varying = draw(st.lists(st.sampled_from(sorted(CELLS)), min_size=1, max_size=3, unique=True))
    templates = draw(st.lists(template(varying, clean), min_size=1, max_size=4))
    header = list(BLOCK_COLUMNS)
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if not clean and draw(st.integers(0, 9)) == 0:
        header.remove(draw(st.sampled_from(header)))
    if not clean and draw(st.integers(0, 9)) == 0:
        header.append("多余列")
    lines = []
    for n in range(draw(st.integers(0, 30))):
        cells = dict(draw(st.sampled_from(templates)))
        first = 1 + n * 10
        cells.update(
            {
                "签发编号": f"JS-B-{n:04d}",
                "起始序列号": str(first),
                "终止序列号": str(first + 9),
                "减排量（吨）": "10.000",
            }
        )
        if not clean and draw(st.integers(0, 3)) == 0:  # an odd unique field
            column = draw(st.sampled_from(UNIQUE_COLUMNS))
            pool = (
                ODD_IDS
                if column == "签发编号"
                else ODD_QUANTITIES
                if column == "减排量（吨）"
                else ODD_SERIALS
            )
            cells[column] = draw(st.sampled_from(pool))
        if draw(st.integers(0, 5)) == 0:  # a zero-padded serial pair that still adds up
            cells["起始序列号"], cells["终止序列号"] = f"{first:012d}", f"{first + 9:012d}"
        row = [cells.get(column, "") for column in header]
        shape = 99 if clean else draw(st.integers(0, 19))
        if shape == 0:
            row = row[: draw(st.integers(0, len(row)))]  # short row: missing cells
        elif shape == 1:
            row.append("extra")  # long row
        elif shape == 2:
            lines.append([])  # a blank line before the row
        lines.append(row)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue().encode("gb18030")


def exactly(result: ParseResult) -> tuple[str, tuple[object, ...]]:
    """Records as text in their member order (byte identity), and the errors in their order."""
    records = json.dumps(
        [list(result.projects), list(result.blocks), list(result.batches)], ensure_ascii=False
    )
    return records, result.errors


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_the_fast_reader_reads_what_the_exact_reader_reads(payload: bytes) -> None:
    fast = FAST.parse(payload, content_type="text/csv; charset=gbk", pseudonymizer=PSEUDONYMIZER)
    exact = EXACT.parse(payload, content_type="text/csv; charset=gbk", pseudonymizer=PSEUDONYMIZER)
    assert exactly(fast) == exactly(exact)


def test_generated_payloads_reach_both_outcomes() -> None:
    """The generator is not vacuous: payloads are refused, and payloads are accepted whose blocks
    outnumber their templates (so later rows of a template were read through it)."""
    outcomes: set[bool] = set()
    templated = 0

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(payloads())
    def probe(payload: bytes) -> None:
        nonlocal templated
        result = FAST.parse(payload, content_type="text/csv; charset=gbk", pseudonymizer=PSEUDONYMIZER)
        outcomes.add(result.ok)
        if result.ok and len(result.blocks) >= 5:
            templated += 1

    probe()
    assert outcomes == {True, False}
    assert templated > 0


def test_blocks_of_one_template_share_no_nested_member() -> None:
    rows = [
        f"JS-B-{n},JS-P-1,JS-PV-DIST,2025,2025/1/1,2025/12/31,10.000,{1 + n * 10},{10 + n * 10},JS-A-1,持有,,"
        "0.5978,kgCO2/kWh,MEE/NBS announcement 2024 No. 33,2022,,JS,JS,air-quality,,是"
        for n in range(3)
    ]
    payload = ("\r\n".join([",".join(BLOCK_COLUMNS), *rows]) + "\r\n").encode("gb18030")
    blocks = FAST.parse(payload, pseudonymizer=PSEUDONYMIZER).blocks
    assert len(blocks) == 3
    for name in ("methodology", "project", "holder", "monitoring_period", "emission_factor", "co_benefits"):
        assert len({id(block[name]) for block in blocks}) == 3, name
    blocks[0]["methodology"]["version"] = "changed"
    assert blocks[1]["methodology"]["version"] != "changed"


def test_a_template_keyed_by_fewer_than_two_fields_is_refused() -> None:
    try:
        BlockTemplates(lambda row: None, UNIQUE_COLUMNS, TEMPLATE_COLUMNS[:1])
    except ValueError:
        return
    raise AssertionError("accepted a one-field template key")


# -- JSON layouts (SH 签发记录, CCER reductionList) ------------------------------------------------

ODD_JSON: list[Any] = [None, "", " ", 0, -1, True, "bad id!", [], {}, "1e3", Decimal("1.5"), Decimal("10.0")]


def _layout(code: str, fixture: str, items: Callable[[dict[str, Any]], list[Any]]) -> Any:
    adapter = get(code)
    document = json.loads((adapter.fixture_dir() / "good" / fixture).read_text("utf-8"), parse_float=Decimal)
    exact = copy.copy(adapter)
    exact.fast_reader = False
    return adapter, exact, document, items


JSON_LAYOUTS = {
    "SH": _layout("SH", "credits-2026-01.json", lambda document: document["签发记录"]),
    "CCER": _layout("CCER", "listing-2025.json", lambda document: document["data"]["reductionList"]),
}
JSON_UNIQUE = {"SH": SH_UNIQUE, "CCER": CCER_UNIQUE}
# valid values beyond the fixtures' own, so that templates of a clean payload differ
JSON_EXTRA: dict[str, dict[str, list[Any]]] = {
    "SH": {
        "排放因子": [
            {"数值": "0.5978", "单位": "kgCO2/kWh", "来源": "MEE/NBS announcement 2024 No. 33", "年份": 2022}
        ],
        "协同效益": [[], ["biodiversity"], ["air-quality", "biodiversity"]],
        "状态说明": ["note"],
        "乡村振兴": ["是", "否"],
        "监测期止": ["2025-03-31"],
        "年度": [2024, "2024"],
        "持有账户": ["SH-A-2"],
        "项目编号": ["SH-P-2"],
        "签发日期": ["2026-01-16"],
        "状态": ["正常", "冻结", "质押"],
    },
    "CCER": {
        "emissionFactor": [{"value": "0.5703", "unit": "tCO2/MWh", "source": "MEE 2022", "year": 2022}],
        "accountNo": ["CCER-ACC-2"],
        "unitStatus": ["HELD", "FROZEN", "PLEDGED"],
        "vintageYear": [2024, "2024"],
        "monitorEndDate": ["2023-06-30"],
        "registrationDate": ["2025-05-21"],
        "applyId": ["CCER-APPLY-2"],
        "certificationId": ["CERT-2"],
        "provinceName": ["江苏省"],
    },
}


@st.composite
def json_payloads(draw: st.DrawFn, code: str) -> bytes:
    _, _, document, items = JSON_LAYOUTS[code]
    document = copy.deepcopy(document)
    base = items(document)
    block_id, first_field, last_field, quantity_field = JSON_UNIQUE[code]
    clean = draw(st.booleans())
    fields = sorted({name for item in base for name in item} - set(JSON_UNIQUE[code]))
    varying = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True))
    origin = draw(st.sampled_from(base))  # templates differ from it only in the varying fields
    templates = []
    for _ in range(draw(st.integers(1, 4))):
        item = dict(origin)
        for name in varying:
            seen = [other[name] for other in base if name in other] + JSON_EXTRA[code].get(name, [])
            item[name] = draw(st.sampled_from(seen if clean and seen else seen + ODD_JSON))
            if item[name] is None and draw(st.booleans()):
                del item[name]
        templates.append(item)
    rows = []
    for n in range(draw(st.integers(0, 12))):
        item = dict(draw(st.sampled_from(templates)))
        first = 1 + n * 10
        padded = draw(st.booleans())
        item.update(
            {
                block_id: f"{code}-B-{n:04d}",
                first_field: f"{first:012d}" if padded else first,
                last_field: f"{first + 9:012d}" if padded else first + 9,
                quantity_field: draw(st.sampled_from(["10", 10, "10.000"])),
            }
        )
        if not clean and draw(st.integers(0, 3)) == 0:
            item[draw(st.sampled_from(JSON_UNIQUE[code]))] = draw(
                st.sampled_from([*ODD_JSON, "0", "٣", 2**53, "9", 9, " 11 "])
            )
        rows.append(item)
    base[:] = rows
    return json.dumps(document, ensure_ascii=False, default=str).encode()


@pytest.mark.parametrize("code", sorted(JSON_LAYOUTS))
def test_the_fast_json_readers_read_what_the_exact_readers_read(code: str) -> None:
    fast, exact, _, _ = JSON_LAYOUTS[code]

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(json_payloads(code))
    def check(payload: bytes) -> None:
        media = "application/json"
        assert exactly(fast.parse(payload, content_type=media, pseudonymizer=PSEUDONYMIZER)) == exactly(
            exact.parse(payload, content_type=media, pseudonymizer=PSEUDONYMIZER)
        )

    check()


# -- the positional reader of plain CSV rows (adapters.templates.BlockTemplates.cells_reader) -------

CELL = st.sampled_from(["", "JS", "10", "0010", "19", " 9 ", "٣", "x", "JS-B-1", "bad id!"])


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_the_positional_reader_reads_what_the_dict_reader_reads(data: st.DataObject) -> None:
    """Rows as cells under a header (any order, columns missing or named twice: then no positional
    reader) give the blocks and errors the dict path gives, template by template."""
    names = ["id", "a", "b", "first", "last", "amount", "c"]
    header = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=9))

    def exact(row: Any) -> dict[str, Any] | None:
        values = {name: row.get(name, required=False) for name in ("a", "b", "first", "last", "amount")}
        if values["a"] == "x":
            row.error("a", "x is refused", "1042")
            return None
        return {"block_id": row.identifier("id"), "serial_start": 1, "serial_end": 1, "quantity": 1,
                "nested": {"a": values["a"], "b": values["b"]}}  # fmt: skip

    fields = ("id", "first", "last", "amount")
    by_dict, by_position = (BlockTemplates(exact, fields, ("a", "b", "c")) for _ in range(2))
    reader = by_position.cells_reader(header)
    if len(set(header)) < len(header) or not set(names) <= set(header):
        assert reader is None
        return
    assert reader is not None
    for n in range(data.draw(st.integers(1, 8))):
        cells = data.draw(st.lists(CELL, min_size=len(header), max_size=len(header)))
        one, two = Collector(), Collector()
        expected = by_dict.read(dict(zip(header, cells, strict=True)), f"row {n}", one)
        found = reader(cells, f"row {n}", two)
        assert json.dumps(found) == json.dumps(expected)
        assert one.errors == two.errors
        assert (id(found) in by_position.certified) == (id(expected) in by_dict.certified)
