"""Per-adapter behaviour beyond the conformance suite: what each reference format means."""

from __future__ import annotations

import json

import pytest

from adapters.anhui import adapter as anhui
from adapters.ccer import adapter as ccer
from adapters.contract import ParseResult, RenderError
from adapters.jiangsu import adapter as jiangsu
from adapters.shanghai import adapter as shanghai
from adapters.zhejiang import adapter as zhejiang
from tests.adapters.support import PSEUDONYMIZER as P


def good(adapter, name: str) -> ParseResult:
    fixture = next(f for f in adapter.fixtures() if f.name == f"good/{name}")
    result = adapter.parse(fixture.read(), content_type=fixture.content_type, pseudonymizer=P)
    assert result.ok, result.errors
    return result


def codes(result: ParseResult) -> set[tuple[str, str]]:
    return {(e.field, e.code) for e in result.errors}


class TestShanghai:
    def test_pv_credits_record_the_shanghai_factor(self) -> None:
        pv = good(shanghai, "credits-2026-01.json").blocks[0]
        assert pv["methodology"] == {
            "catalogue_id": "PV-DISTRIBUTED",
            "local_code": "SH-PV-DIST",
            "version": "2024",
        }
        assert pv["emission_factor"]["value"] == "0.42"
        assert (
            "沪环气候〔2023〕89号" in pv["emission_factor"]["source"]
            and pv["emission_factor"]["year"] == 2023
        )
        assert pv["issued_at"] == "2026-01-15T00:00:00+08:00"
        assert (pv["quantity"], pv["serial_start"], pv["serial_end"]) == (120, 200001, 200120)

    def test_line_11_trips_become_one_pseudonymous_batch(self) -> None:
        batch = good(shanghai, "line11-trips-2025-11-01.json").batches[0]
        assert batch["scenario"] == "TRANSIT-METRO" and batch["quantity"] == 1626
        assert batch["pseudonym_key_id"] == "fed-hmac-test-1"
        subjects = [record["subject"] for record in batch["records"]]
        assert subjects == [
            P.phone("13800138001"),
            P.national_id("310114190001010013"),
            P.user_id("SH", "shu-20230917-88412"),
        ]
        assert batch["records"][0]["trip_id"] == "L11-20251101-0802-ANT-HQ"

    def test_a_jiangsu_credit_arriving_in_shanghai_keeps_its_origin(self) -> None:
        block = good(jiangsu, "credits-2025.csv").blocks[0]
        payload = shanghai.render({**block, "current_registry": "SH", "status": "imported"})
        local = json.loads(payload)["签发记录"][0]
        assert local["原始登记簿"] == "JS" and local["方法学编号"] == "JS-PV-DIST"
        again = shanghai.parse(payload, pseudonymizer=P).blocks[0]
        assert again["origin_registry"] == "JS" and again["methodology"]["catalogue_id"] == "PV-DISTRIBUTED"

    def test_a_document_of_another_platform_is_refused(self) -> None:
        result = shanghai.parse('{"平台编码": "JS"}'.encode(), pseudonymizer=P)
        assert ("平台编码", "1042") in codes(result)

    def test_content_type_must_be_json(self) -> None:
        result = shanghai.parse(b"{}", content_type="text/csv", pseudonymizer=P)
        assert codes(result) == {("Content-Type", "1044")}


class TestJiangsu:
    def test_tonnes_as_decimal_strings_and_the_jiangsu_factor(self) -> None:
        kunshan = good(jiangsu, "credits-2025.csv").blocks[0]
        assert kunshan["quantity"] == 350 and kunshan["emission_factor"]["value"] == "0.5978"
        assert kunshan["issued_at"] == "2026-02-10T09:30:00+08:00"
        assert kunshan["monitoring_period"] == {"start": "2025-01-01", "end": "2025-12-31"}
        assert jiangsu.render(kunshan).decode("gb18030").splitlines()[1].count("350.000") == 1

    def test_rendered_files_are_gbk(self) -> None:
        payload = jiangsu.render(good(jiangsu, "credits-2025.csv").blocks[0])
        with pytest.raises(UnicodeDecodeError):
            payload.decode("utf-8")
        assert "签发编号" in payload.decode("gbk")

    def test_the_kunshan_project_is_hashed(self) -> None:
        project = good(jiangsu, "projects-2025.csv").projects[0]
        assert project["owner_uscc_hash"] == P.organization("91320583MA1T8K2Q3P")
        assert project["location"]["address_hash"] == P.address(
            "江苏省苏州市昆山市花桥镇演示路1号（演示地址）"
        )
        assert project["location"]["district"] == "320583" and project["capacity"] == {
            "value": 399,
            "unit": "kW",
        }

    def test_blocks_and_projects_do_not_share_a_file(self) -> None:
        result = good(jiangsu, "credits-2025.csv")
        project = good(jiangsu, "projects-2025.csv").projects[0]
        with pytest.raises(RenderError) as caught:
            jiangsu.render_many([result.blocks[0], project])
        assert caught.value.code == "1045"

    def test_an_unknown_header_is_malformed(self) -> None:
        result = jiangsu.parse("序号,名称\r\n1,x\r\n".encode("gbk"), pseudonymizer=P)
        assert ("(header)", "1043") in codes(result)

    def test_cells_beyond_the_header_are_refused(self) -> None:
        text = jiangsu.render(good(jiangsu, "credits-2025.csv").blocks[0]).decode("gb18030")
        result = jiangsu.parse((text.rstrip("\r\n") + ",extra\r\n").encode("gb18030"), pseudonymizer=P)
        assert ("(row)", "1043") in codes(result)


class TestZhejiang:
    def test_points_become_grams_in_daily_batches(self) -> None:
        batches = {b["batch_id"]: b for b in good(zhejiang, "daily-2025-11-01.ndjson").batches}
        assert sorted(batches) == [
            "ZJ-PB-20251101-ZJ-BUS",
            "ZJ-PB-20251101-ZJ-METRO",
            "ZJ-PB-20251102-ZJ-BUS",
        ]
        bus = batches["ZJ-PB-20251101-ZJ-BUS"]
        assert bus["quantity"] == 750 and [r["points"] for r in bus["records"]] == [300, 450]
        assert bus["period"] == {"start": "2025-11-01T00:00:00+08:00", "end": "2025-11-02T00:00:00+08:00"}
        assert bus["records"][0]["activity_window"] == bus["period"]
        metro = batches["ZJ-PB-20251101-ZJ-METRO"]
        assert metro["records"][0]["activity_window"]["start"] == "2025-11-01T08:02:11+08:00"
        assert metro["records"][1]["subject"] == P.national_id("33080219000101001X")

    def test_credit_blocks_cannot_be_rendered_to_a_points_platform(self) -> None:
        block = good(jiangsu, "credits-2025.csv").blocks[0]
        with pytest.raises(RenderError) as caught:
            zhejiang.render(block)
        assert caught.value.code == "1045"

    def test_a_shanghai_batch_renders_as_pseudonymous_daily_records(self) -> None:
        batch = good(shanghai, "line11-trips-2025-11-01.json").batches[0]
        lines = [json.loads(line) for line in zhejiang.render(batch).decode().splitlines()]
        assert {line["accountType"] for line in lines} == {"PSEUDONYM"}
        assert [line["points"] for line in lines] == [542, 542, 542]
        assert zhejiang.parse(zhejiang.render(batch), pseudonymizer=P).ok

    def test_units_are_one_gram_per_point(self) -> None:
        assert zhejiang.units.grams_per_point == 1 and zhejiang.units.points_convertible
        assert not jiangsu.units.points_convertible


class TestAnhui:
    def test_a_pledged_block_is_encumbered(self) -> None:
        pledged, free = good(anhui, "qimen-afforestation-2024.xml").blocks
        assert pledged["status"] == "encumbered" and "质押" in pledged["status_reason"]
        assert free["status"] == "held"
        assert b'status="PLEDGED"' in anhui.render(pledged)

    def test_the_project_carries_the_area_and_a_hashed_owner(self) -> None:
        project = good(anhui, "qimen-afforestation-2024.xml").projects[0]
        assert project["capacity"] == {"value": 120, "unit": "ha"}
        assert project["location"] == {"province": "340000", "city": "341000", "district": "341024"}
        assert project["owner_uscc_hash"] == P.organization("93341024MA2U7N4R5C")
        assert project["registered_elsewhere"] == [{"scheme": "ETS", "id": "AH-FOREST-DEMO-017"}]

    @pytest.mark.parametrize(
        "payload",
        [
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><CarbonInclusionExport platform="AH"/>',
            b'<!doctype CarbonInclusionExport SYSTEM "file:///etc/passwd">'
            b'<CarbonInclusionExport platform="AH"/>',
            b'<CarbonInclusionExport platform="AH"><!ENTITY x "y"></CarbonInclusionExport>',
        ],
    )
    def test_doctype_and_entities_are_refused_before_parsing(self, payload: bytes) -> None:
        assert codes(anhui.parse(payload, pseudonymizer=P)) == {("(XML)", "1043")}

    def test_unknown_elements_and_roots_are_malformed(self) -> None:
        result = anhui.parse(
            b'<CarbonInclusionExport platform="AH"><Thing/></CarbonInclusionExport>', pseudonymizer=P
        )
        assert ("Thing", "1043") in codes(result)
        assert ("Export", "1043") in codes(anhui.parse(b"<Export/>", pseudonymizer=P))
        assert ("(XML)", "1043") in codes(anhui.parse(b"<CarbonInclusionExport>", pseudonymizer=P))


class TestCCER:
    def test_registry_numbering_and_published_fields(self) -> None:
        result = good(ccer, "listing-2025.json")
        forest, wind = result.blocks
        assert (forest["serial_start"], forest["serial_end"], forest["quantity"]) == (1, 1200, 1200)
        assert wind["quantity"] == 250000 and wind["status"] == "encumbered"
        assert forest["methodology"]["catalogue_id"] == "AFFORESTATION"
        assert [p["location"]["province"] for p in result.projects] == ["330000", "320000"]
        assert b'"serialNumStart": "000000000001"' in ccer.render(forest)

    def test_the_registry_holds_only_units_it_issued(self) -> None:
        block = good(jiangsu, "credits-2025.csv").blocks[0]
        with pytest.raises(RenderError) as caught:
            ccer.render(block)
        assert caught.value.code == "1045"

    def test_the_kunshan_listing_waits_for_a_ccer_pv_code_in_the_catalogue(self) -> None:
        fixture = next(f for f in ccer.fixtures() if "kunshan" in f.name)
        result = ccer.parse(fixture.read(), pseudonymizer=P)
        assert codes(result) == {("methodologyNum", "5010")}

    def test_an_answer_without_data_is_malformed(self) -> None:
        assert codes(ccer.parse(b'{"code": 500, "msg": "error"}', pseudonymizer=P)) == {("data", "1043")}
