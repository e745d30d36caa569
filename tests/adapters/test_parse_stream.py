"""The streamed parse (``adapters.base.parse_stream``) gives what ``parse`` gives, and the blocks it
hands out early are the first blocks of that result, each valid against its exchange schema, none
handed out once an error is recorded: over the generated Jiangsu payloads of the fast-reader test
(odd and malformed rows included), every fixture of every adapter, a caller that stops reading
early, and an adapter that reads only whole payloads."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from adapters.base import parse_stream
from adapters.contract import ParseResult
from adapters.jiangsu.layout import BLOCK_COLUMNS
from adapters.privacy import Pseudonymizer
from schemas.validation import validate
from tests.adapters.support import ADAPTERS, FIXTURES, PSEUDONYMIZER
from tests.adapters.test_fast_readers import EXACT, FAST, exactly, payloads

MEDIA = "text/csv; charset=gbk"


def _streamed(adapter: Any, payload: bytes, content_type: str, pseudonymizer: Pseudonymizer) -> Any:
    stream = parse_stream(adapter, payload, content_type=content_type, pseudonymizer=pseudonymizer)
    handed = list(stream.blocks())
    return handed, stream.result()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_a_streamed_parse_is_the_parse_and_hands_out_its_first_valid_blocks(payload: bytes) -> None:
    handed, result = _streamed(FAST, payload, MEDIA, PSEUDONYMIZER)
    assert exactly(result) == exactly(FAST.parse(payload, content_type=MEDIA, pseudonymizer=PSEUDONYMIZER))
    assert all(not validate("credit-block", block) for block in handed)
    if result.ok:
        assert all(a is b for a, b in zip(handed, result.blocks, strict=False))
        assert len(handed) <= len(result.blocks)
    # the exact reader certifies nothing: it hands nothing out, and still parses the same
    exact_handed, exact_result = _streamed(EXACT, payload, MEDIA, PSEUDONYMIZER)
    assert exact_handed == [] and exactly(exact_result) == exactly(result)


def test_no_block_is_handed_out_after_an_error() -> None:
    rows = [",".join(BLOCK_COLUMNS)]
    for n in range(20):
        amount = "ten" if n == 7 else "10.000"
        rows.append(
            f"JS-B-{n},JS-P-KS-0399,JS-PV-DIST,2025,2025/1/1,2025/12/31,{amount},{1 + n * 10},{10 + n * 10},"
            "JS-A-KSPV-001,持有,,0.5978,kgCO2/kWh,MEE/NBS announcement 2024 No. 33,2022,,JS,JS,,否,是"
        )
    payload = ("\n".join(rows) + "\n").encode("gbk")
    handed, result = _streamed(FAST, payload, MEDIA, PSEUDONYMIZER)
    assert [block["block_id"] for block in handed] == [f"JS-B-{n}" for n in range(7)]
    assert not result.ok and [e.record for e in result.errors] == ["row 9"]


@pytest.mark.parametrize(("code", "fixture"), FIXTURES, ids=[f"{c}:{f.name}" for c, f in FIXTURES])
def test_every_fixture_streams_to_its_parse(code: str, fixture: Any) -> None:
    adapter = ADAPTERS[code]
    handed, result = _streamed(adapter, fixture.read(), fixture.content_type, PSEUDONYMIZER)
    expected = adapter.parse(fixture.read(), content_type=fixture.content_type, pseudonymizer=PSEUDONYMIZER)
    assert exactly(result) == exactly(expected)
    assert all(a is b for a, b in zip(handed, result.blocks, strict=False))


def test_a_caller_that_stops_early_still_gets_the_whole_result() -> None:
    payload = ADAPTERS["JS"].fixture_dir() / "good"
    for path in sorted(payload.iterdir()):
        stream = parse_stream(FAST, path.read_bytes(), content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
        first = next(iter(stream.blocks()), None)
        result = stream.result()
        assert exactly(result) == exactly(
            FAST.parse(path.read_bytes(), content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
        )
        assert first is None or first is result.blocks[0]
        assert stream.result() is result and list(stream.blocks()) == []  # read once


class WholeOnly:
    """A registered adapter that is not a BaseAdapter: it offers ``parse`` only."""

    code = "JS"

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def parse(
        self, payload: bytes, *, content_type: str | None = None, pseudonymizer: Pseudonymizer
    ) -> ParseResult:
        return self.inner.parse(payload, content_type=content_type, pseudonymizer=pseudonymizer)


def test_an_adapter_that_reads_whole_payloads_hands_out_nothing() -> None:
    path = sorted((ADAPTERS["JS"].fixture_dir() / "good").iterdir())[0]
    handed, result = _streamed(WholeOnly(FAST), path.read_bytes(), MEDIA, PSEUDONYMIZER)
    assert handed == []
    assert exactly(result) == exactly(
        FAST.parse(path.read_bytes(), content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
    )
