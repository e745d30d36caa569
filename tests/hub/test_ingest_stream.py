"""The streamed ingest of a local payload (``IngestService.ingest_stream``: blocks sent to the
database as the adapter reads them, the checks after) answers exactly what parsing whole and then
``IngestService.ingest`` answers: the same report and the same stored rows, or the same refusal
with nothing stored — a parse error after thousands of streamed rows, a registered id mid-COPY,
serials into a registered block, a registered block in a gap of the batch's span (stored: only a
closer look), a double issuance, a foreign registry, duplicates, an empty file, a projects file,
concurrent writers of overlapping serials. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text

from adapters.base import Draft, parse_stream
from adapters.fields import Collector
from adapters.jiangsu import JiangsuAdapter
from adapters.privacy import Pseudonymizer
from adapters.registry import get
from bench.ingest import HEADER, MEDIA, PSEUDONYMIZER, csv_chunk, register_project
from hub.database import Database
from hub.registry.ingest import BatchRefused, IngestService, Records, batch_digest, refused_payload
from hub.registry.repository import RegistryRepository

TABLES = ("credit_block", "issuance_claim", "ingest_batch", "log_entry", "project")
# what a stored batch leaves, less what differs between two runs of it (ids, log positions)
ROWS = {
    "credit_block": "SELECT block_id, origin_registry, current_registry, serial_namespace, serial_start,"
    " serial_end, quantity, vintage, catalogue_id, project_registry, project_id, holder_account, status,"
    " record FROM credit_block ORDER BY block_id",
    "issuance_claim": "SELECT block_id, registry_code, fingerprint, period_start, period_end, position"
    " FROM issuance_claim ORDER BY block_id",
    "ingest_batch": "SELECT platform, source, projects, blocks, tonnes, personal_batches, grams, digest"
    " FROM ingest_batch ORDER BY digest",
}


class _Undo(Exception):
    """Rolls back the unit of work of the reference run."""


def _counts(database: Database) -> dict[str, int]:
    with database.unit_of_work() as session:
        return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _rows(session: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {table: [tuple(row) for row in session.execute(text(sql))] for table, sql in ROWS.items()}


def _answer(run: Any) -> tuple[str, Any]:
    try:
        report = run().as_dict()
    except BatchRefused as refused:
        return "refused", (refused.status, refused.code, refused.detail, refused.errors)
    return "stored", {k: v for k, v in report.items() if k not in ("ingest_id", "log_index")}


def _exact(session: Any, payload: bytes) -> Any:
    """The reference: the adapter's whole parse, then ``ingest`` (as before streaming)."""
    parsed = get("JS").parse(payload, content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
    if not parsed.ok:
        raise refused_payload("JS", parsed.errors)
    records = Records(parsed.projects, parsed.blocks, parsed.batches)
    return IngestService(session).ingest("JS", records, actor="test", source="test", schema_checked=True)


def _streamed(session: Any, payload: bytes) -> Any:
    stream = parse_stream(get("JS"), payload, content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
    return IngestService(session).ingest_stream("JS", stream, actor="test", source="test")


def assert_same_as_whole(database: Database, payload: bytes) -> str:
    """Runs the reference and rolls it back, then the streamed ingest (kept); both answers and
    what each leaves stored are the same. Returns "stored" or "refused"."""
    before = _counts(database)
    with pytest.raises(_Undo), database.unit_of_work() as session:
        expected = _answer(lambda: _exact(session, payload))
        expected_rows = _rows(session)
        raise _Undo
    assert _counts(database) == before
    with database.unit_of_work() as session:
        found = _answer(lambda: _streamed(session, payload))
        found_rows = _rows(session)
    assert found == expected
    assert found_rows == expected_rows
    if found[0] == "refused":
        assert _counts(database) == before
    return found[0]


def _edited(payload: bytes, row: int, column: str, value: str) -> bytes:
    """``payload`` with one cell replaced: ``row`` counts the data rows from 0."""
    lines = payload.decode("gbk").split("\n")
    position = HEADER.split(",").index(column)
    cells = lines[row + 1].split(",")
    cells[position] = value
    lines[row + 1] = ",".join(cells)
    return "\n".join(lines).encode("gbk")


@pytest.fixture
def registered(database: Database, federation: Path) -> Database:
    """The Kunshan project and 100 of its blocks (serials 1 .. 1,000) registered."""
    register_project(database)
    with database.unit_of_work() as session:
        _streamed(session, csv_chunk(0, 100, "JS-B-OLD"))
    return database


def test_a_clean_batch_is_stored_as_ingest_stores_it(registered: Database) -> None:
    assert assert_same_as_whole(registered, csv_chunk(1_000, 3_000)) == "stored"
    assert _counts(registered)["credit_block"] == 3_100


@pytest.mark.parametrize("row", [0, 1, 1_999, 2_999], ids=["first", "second", "mid", "last"])
def test_a_parse_error_after_streamed_rows_is_the_parse_refusal(registered: Database, row: int) -> None:
    payload = _edited(csv_chunk(1_000, 3_000), row, "减排量（吨）", "ten")
    assert assert_same_as_whole(registered, payload) == "refused"


def test_a_duplicate_id_of_the_file_is_the_parse_refusal(registered: Database) -> None:
    payload = _edited(csv_chunk(1_000, 500), 400, "签发编号", "JS-B-BENCH-000001003")
    assert assert_same_as_whole(registered, payload) == "refused"


@pytest.mark.parametrize("row", [0, 250, 499])
def test_a_registered_id_mid_copy_is_refused_with_3012(registered: Database, row: int) -> None:
    payload = _edited(csv_chunk(1_000, 500), row, "签发编号", "JS-B-OLD-000000007")
    assert assert_same_as_whole(registered, payload) == "refused"


def test_serials_into_a_registered_block_are_refused_with_3011(registered: Database) -> None:
    assert assert_same_as_whole(registered, csv_chunk(95, 50)) == "refused"  # blocks 95..99 again


def test_a_registered_block_in_a_gap_of_the_span_is_only_looked_at_closer(registered: Database) -> None:
    """A registered block between the batch's serials, overlapping none of its blocks: more blocks
    in the span than the batch's says "look closer", and the exact check stores the batch."""
    with registered.unit_of_work() as session:
        _streamed(session, csv_chunk(150, 1, "JS-B-GAP"))  # serials 1,501 .. 1,510
    rows = [
        csv_chunk(first, count).decode("gbk").split("\n")[1:-1] for first, count in ((100, 50), (151, 49))
    ]
    payload = ("\n".join([HEADER, *rows[0], *rows[1]]) + "\n").encode("gbk")  # 1,001 .. 2,000 less the gap
    assert assert_same_as_whole(registered, payload) == "stored"
    assert _counts(registered)["credit_block"] == 100 + 1 + 99


# hostile edits of one row (data rows counted from 0), each a list of (column, value) by the row's
# first block number n (serials 10n+1 .. 10n+10) and the payload's first block number
EDITS = {
    "registered id": lambda n, first: [("签发编号", "JS-B-OLD-000000007")],
    "id of row 0": lambda n, first: [("签发编号", f"{PREFIXES[first]}-{first:09d}")],
    "overlaps the row before": lambda n, first: [
        ("起始序列号", str(10 * n - 4)),
        ("终止序列号", str(10 * n + 5)),
    ],
    "overlaps a registered block": lambda n, first: [("起始序列号", "995"), ("终止序列号", "1004")],
    "pledged": lambda n, first: [("状态", "质押")],
    "retired": lambda n, first: [("状态", "已注销")],
    "another registry": lambda n, first: [("原始登记簿", "SH"), ("当前登记簿", "SH")],
    "another template": lambda n, first: [("年度", "2024")],
    "zero-padded serial": lambda n, first: [("起始序列号", f"{10 * n + 1:012d}")],
    "half a tonne": lambda n, first: [("减排量（吨）", "10.500")],
}
PREFIXES: dict[int, str] = {}
FIRSTS = itertools.count(10_000, 100)


@given(
    st.integers(1, 40),
    st.lists(st.tuples(st.integers(0, 39), st.sampled_from(sorted(EDITS))), max_size=3),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_rows_anywhere_answer_as_the_whole_parse(
    registered: Database, count: int, edits: list[tuple[int, str]]
) -> None:
    """Clean rows with up to three hostile ones among them (a stored batch stays: later examples
    meet its ids and serials only through the edits)."""
    first = next(FIRSTS)
    PREFIXES[first] = f"JS-B-H{first}"
    payload = csv_chunk(first, count, PREFIXES[first])
    for row, name in edits:
        row %= count
        for column, value in EDITS[name](first + row, first):
            payload = _edited(payload, row, column, value)
    assert_same_as_whole(registered, payload)


def test_a_double_issuance_is_refused_with_4001(registered: Database) -> None:
    with registered.unit_of_work() as session:
        fingerprint = session.execute(text("SELECT fingerprint FROM issuance_claim LIMIT 1")).scalar_one()
        RegistryRepository(session).insert_issuance_claims(
            [("CCER-B-1", "CCER", fingerprint, date(2025, 6, 1), date(2025, 6, 30))]
        )
    assert assert_same_as_whole(registered, csv_chunk(1_000, 500)) == "refused"


def test_blocks_of_another_registry_are_refused_as_the_whole_parse_refuses_them(registered: Database) -> None:
    # SH's catalogue lacks the JS methodology: the parse refuses the row (5010) before any 2004
    payload = _edited(csv_chunk(1_000, 500), 300, "原始登记簿", "SH")
    assert assert_same_as_whole(registered, payload) == "refused"


def test_an_empty_file_and_a_projects_file_stream_nothing_and_answer_as_before(
    registered: Database,
) -> None:
    assert assert_same_as_whole(registered, (HEADER + "\n").encode("gbk")) == "stored"
    projects = (get("JS").fixture_dir() / "good" / "projects-2025.csv").read_bytes()
    assert assert_same_as_whole(registered, projects) == "stored"


class OutOfOrder(JiangsuAdapter):
    """An adapter whose stream hands out its blocks in another order than its result lists them
    (a bug the ingest must not trust): the ingest answers as ``ingest`` of the result."""

    def read_stream(
        self, text: str, pseudonymizer: Pseudonymizer, errors: Collector, draft: Draft
    ) -> Iterator[dict[str, Any]]:
        yield from reversed(list(super().read_stream(text, pseudonymizer, errors, draft)))


def test_blocks_handed_out_out_of_order_are_ingested_as_the_parse_lists_them(registered: Database) -> None:
    payload = csv_chunk(1_000, 300)
    with registered.unit_of_work() as session:
        stream = parse_stream(OutOfOrder(), payload, content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
        report = IngestService(session).ingest_stream("JS", stream, actor="test", source="test").as_dict()
        rows = _rows(session)
    parsed = get("JS").parse(payload, content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
    assert report["digest"]["value"] == batch_digest(Records(blocks=parsed.blocks))[0]
    positions = {row[0]: row[-1] for row in rows["issuance_claim"]}  # feed positions in parse order
    assert [positions[block["block_id"]] for block in parsed.blocks] == list(range(300))


def test_concurrent_streams_of_overlapping_serials_store_one(registered: Database) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(3)

    def write(prefix: str) -> None:
        payload = csv_chunk(1_000, 2_000, prefix)  # the same serials, other ids
        barrier.wait()
        try:
            with registered.unit_of_work() as session:
                _streamed(session, payload)
            outcomes.append("stored")
        except BatchRefused as refused:
            outcomes.append(",".join(sorted({e["code"] for e in refused.errors})))

    threads = [threading.Thread(target=write, args=(f"JS-B-W{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["3011", "3011", "stored"]
    assert _counts(registered)["credit_block"] == 2_100


def test_a_block_the_platform_may_not_issue_is_never_written_before_the_refusal(registered: Database) -> None:
    """A row the platform may not issue (its issuer issues: another registry, 2004, or a status a
    new block may not have, 3013 — here a retired one) stops the stream: neither it nor any row
    after it is written before the checks, so no other transaction waits on the id of a batch
    that will be refused. PostgreSQL: another transaction holds that id, uncommitted, and the
    refusal still comes at once; SQLite (one writer at a time): the rows sent to credit_block stop
    before it."""
    payload = _edited(csv_chunk(1_000, 500), 300, "状态", "已注销")
    parsed = get("JS").parse(payload, content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
    foreign = parsed.blocks[300]["block_id"]
    engine = registered.engine
    if engine.dialect.name == "sqlite":
        written: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.startswith("INSERT INTO credit_block") and isinstance(parameters, list):
                written.extend(row[0] for row in parameters)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            with pytest.raises(BatchRefused) as caught, registered.unit_of_work() as session:
                _streamed(session, payload)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert foreign not in written
        assert len(written) == 300  # the rows before it, rolled back
        errors = caught.value.errors
    else:
        holder = engine.connect()
        holder.begin()
        holder.execute(
            text(
                "INSERT INTO credit_block (block_id, origin_registry, current_registry, serial_namespace,"
                " serial_start, serial_end, quantity, vintage, catalogue_id, project_registry, project_id,"
                " holder_account, status, record, batch_id) VALUES (:id, 'SH', 'SH', 'SH', 1, 1, 1, 2025,"
                " 'X', 'SH', 'SH-P', 'SH-A', 'held', CAST('{}' AS jsonb), 'other')"
            ),
            {"id": foreign},
        )
        answers: list[BatchRefused] = []

        def ingest() -> None:
            try:
                with registered.unit_of_work() as session:
                    _streamed(session, payload)
            except BatchRefused as exc:
                answers.append(exc)

        worker = threading.Thread(target=ingest, daemon=True)
        try:
            worker.start()
            worker.join(timeout=30)  # a wait on the held id would last until the holder ends
            assert not worker.is_alive(), "the streamed ingest waited on another transaction's block id"
        finally:
            holder.rollback()
            holder.close()
            worker.join()
        assert len(answers) == 1
        errors = answers[0].errors
    assert {entry["code"] for entry in errors} == {"3013"}
    assert _counts(registered)["credit_block"] == 100


@pytest.mark.parametrize("row", [0, 499], ids=["first", "last"])
def test_a_nul_character_in_a_cell_is_refused_with_1049(registered: Database, row: int) -> None:
    """A NUL in a CSV cell (GBK decodes it as U+0000): refused as a text character (1049) naming
    its row, as the strict JSON reader refuses one in a JSON payload — not a 500 from PostgreSQL,
    whose ``jsonb`` cannot hold it, after the rows before it were sent."""
    before = _counts(registered)
    payload = _edited(csv_chunk(1_000, 500), row, "排放因子来源", "MEE\x00NBS")
    with pytest.raises(BatchRefused) as refused, registered.unit_of_work() as session:
        _streamed(session, payload)
    assert refused.value.code == "1049"
    assert [(e["record"], e["code"]) for e in refused.value.errors] == [(f"row {row + 2}", "1049")]
    assert _counts(registered) == before
