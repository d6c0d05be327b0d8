"""import_enterprise_years / export_enterprise_years against the store (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_helpers import HEADER, code, good_rows, write_csv, write_xlsx
from sqlalchemy import select

from qunlian.core.errors import Problem, ValidationFailed
from qunlian.enterprises.enterprise_years import export_enterprise_years, import_enterprise_years
from qunlian.platform.db import session_factory, transaction
from qunlian.enterprises.models import Enterprise, EnterpriseYear, UsccException
from qunlian.platform.models import AuditLog, ImportBatch
from qunlian.regions.models import Town

TAX_YUAN = {"tax_wan": "元"}


def years(engine) -> dict[tuple[str, int], EnterpriseYear]:
    with session_factory(engine)() as s:
        q = select(Enterprise.uscc, EnterpriseYear).join(EnterpriseYear.enterprise)
        return {(u, y.year): y for u, y in s.execute(q)}


def enterprises(engine) -> dict[str, Enterprise]:
    with session_factory(engine)() as s:
        return {e.uscc: e for e in s.scalars(select(Enterprise))}


def rejected(engine, path: Path, counts, **kw) -> list[Problem]:
    """Import must fail, list problems with file/sheet/row/column/fix, and leave the store as it was."""
    before = counts()
    with pytest.raises(ValidationFailed) as info:
        import_enterprise_years(engine, path, **kw)
    assert counts() == before
    problems = info.value.problems
    assert problems
    for p in problems:
        assert p.file == path.name
        assert p.sheet
        assert p.message and p.fix
    return problems


def only(problems: list[Problem], text: str) -> Problem:
    hits = [p for p in problems if text in p.message]
    assert len(hits) == 1, [str(p) for p in problems]
    return hits[0]


# --------------------------------------------------------------------------- good files


def test_chinese_headers_with_declared_yuan_land_in_wan(tmp_path, region, counts):
    f = write_xlsx(tmp_path / "2023年税收.xlsx", [HEADER, *good_rows(3)])
    res = import_enterprise_years(region, f, units=TAX_YUAN, source="税务局", actor="tester")
    assert (res.rows, res.enterprises_created, res.years_created, res.years_replaced) == (3, 3, 3, 0)
    assert res.units["tax_wan"] == "元" and res.units["land_mu"] == "亩"
    ys = years(region)
    y0, y1 = ys[(code(0), 2023)], ys[(code(1), 2023)]
    assert y0.tax_wan == 120.0 and y1.tax_wan == 240.0  # 1 200 000 元 = 120 万元
    assert y0.land_mu == 10 and y0.employees == 50
    assert y0.above_scale is False and y1.above_scale is True
    es = enterprises(region)
    with session_factory(region)() as s:
        town = {t.id: t.name for t in s.scalars(select(Town))}
        batch = s.scalars(select(ImportBatch)).one()
        log = s.scalars(select(AuditLog).where(AuditLog.action == "import.enterprise-years")).one()
    assert [town[es[code(i)].town_id] for i in range(3)] == ["当湖街道", "当湖街道", "钟埭街道"]  # alias 当湖
    assert es[code(0)].name == "平湖测试企业0有限公司" and es[code(0)].industry_code == "3976"
    assert (batch.kind, batch.filename, batch.source, batch.rows, batch.created_by) == (
        "enterprise-years", "2023年税收.xlsx", "税务局", 3, "tester")
    assert batch.units["tax_wan"] == "元" and len(batch.sha256) == 64
    assert y0.import_batch_id == batch.id == res.batch_id
    assert log.actor == "tester" and log.entity_id == str(batch.id) and log.detail["rows"] == 3


def test_unit_in_header_and_english_headers(tmp_path, region):
    rows = [["uscc", "name", "year", "town", "tax (元)", "revenue_wan", "land (平方米)", "electricity_wan_kwh"],
            [code(7), "甲公司", 2022, "zhongdai", "12,000", "1.5万元", 6666.67, 3.2]]
    res = import_enterprise_years(region, write_csv(tmp_path / "en.csv", rows))
    y = years(region)[(code(7), 2022)]
    assert y.tax_wan == 1.2 and y.revenue_wan == 1.5 and y.electricity_wan_kwh == 3.2
    assert y.land_mu == pytest.approx(10.0, abs=1e-5)
    assert res.units == {"tax_wan": "元", "revenue_wan": "万元", "land_mu": "平方米",
                         "electricity_wan_kwh": "万千瓦时"}


def test_lenient_cells(tmp_path, region):
    rows = [["统一社会信用代码", "企业名称", "年度", "是否规上", "税收（万元）", "从业人员", "利润总额（万元）", "行业代码"],
            [f" {code(1).lower()} ", "乙公司", "２０２３年", "Y", "１，２３４．５", "—", "-12.5", 111],
            [code(2), "丙公司", 2023.0, "", "", "", "1.5万元", "C3976"]]
    import_enterprise_years(region, write_xlsx(tmp_path / "l.xlsx", rows))
    ys, es = years(region), enterprises(region)
    y = ys[(code(1), 2023)]
    assert (y.above_scale, y.tax_wan, y.employees, y.profit_wan) == (True, 1234.5, None, -12.5)
    assert es[code(1)].industry_code == "0111"  # Excel dropped the leading zero of 0111
    assert ys[(code(2), 2023)].profit_wan == 1.5 and es[code(2)].industry_code == "3976"


def test_title_rows_above_the_header_and_unknown_columns(tmp_path, region):
    rows = [["平湖市 2023 年度规上企业数据"], ["序号", *HEADER, "备注"], [1, *good_rows(1)[0], "无"]]
    res = import_enterprise_years(region, write_xlsx(tmp_path / "t.xlsx", rows), units=TAX_YUAN)
    assert res.rows == 1 and set(res.ignored_columns) == {"序号", "备注"}
    assert years(region)[(code(0), 2023)].tax_wan == 120.0


def test_reimport_replaces_present_columns_and_keeps_absent_ones(tmp_path, region, counts):
    import_enterprise_years(region, write_xlsx(tmp_path / "a.xlsx", [HEADER, *good_rows(3)]), units=TAX_YUAN)
    rows = [["统一社会信用代码", "年度", "税收（万元）", "用电量（万千瓦时）", "企业名称"],
            [code(0), 2023, 99, 12.5, "平湖测试企业0股份有限公司"],
            [code(1), 2023, "", 7, ""]]
    res = import_enterprise_years(region, write_xlsx(tmp_path / "b.xlsx", rows), source="供电公司")
    assert (res.enterprises_created, res.enterprises_updated, res.years_created, res.years_replaced) == (0, 1, 0, 2)
    ys, es = years(region), enterprises(region)
    assert ys[(code(0), 2023)].tax_wan == 99 and ys[(code(0), 2023)].electricity_wan_kwh == 12.5
    assert ys[(code(1), 2023)].tax_wan is None  # present column, blank cell: cleared
    assert ys[(code(0), 2023)].land_mu == 10  # absent column: kept
    assert ys[(code(0), 2023)].import_batch_id == res.batch_id
    assert es[code(0)].name == "平湖测试企业0股份有限公司"
    assert es[code(1)].name == "平湖测试企业1有限公司"  # blank name keeps the stored one
    assert counts()["enterprise_years"] == 3 and counts()["import_batches"] == 2


def test_same_file_twice_is_idempotent_and_noted(tmp_path, region, counts):
    f = write_xlsx(tmp_path / "a.xlsx", [HEADER, *good_rows(3)])
    import_enterprise_years(region, f, units=TAX_YUAN)
    snap = {k: v.tax_wan for k, v in years(region).items()}
    batches = counts()["import_batches"]
    res = import_enterprise_years(region, f, units=TAX_YUAN)
    assert any("此前已导入" in n for n in res.notes)
    # re-importing the same file changes nothing: no value differs, so no batch and no write
    assert res.unchanged and res.batch_id is None and res.years_replaced == 0 and res.cells_changed == 0
    assert counts()["import_batches"] == batches
    assert {k: v.tax_wan for k, v in years(region).items()} == snap
    assert counts()["enterprises"] == 3


def test_several_years_of_one_firm_profile_from_latest_year(tmp_path, region):
    rows = [HEADER, [code(5), "旧名公司", 2021, "钟埭街道", "3976", "否", 5, 100, 10],
            [code(5), "新名公司", 2022, "当湖街道", "3975", "是", 5, 200, 12]]
    res = import_enterprise_years(region, write_csv(tmp_path / "m.csv", rows), units=TAX_YUAN)
    assert res.enterprises_created == 1 and res.years_created == 2
    e = enterprises(region)[code(5)]
    assert e.name == "新名公司" and e.industry_code == "3975"


def test_uscc_on_the_exception_list_is_accepted(tmp_path, region, counts):
    bad = code(3)[:-1] + ("0" if code(3)[-1] != "0" else "1")
    f = write_xlsx(tmp_path / "x.xlsx", [HEADER, [bad, "例外公司", 2023, "当湖", "3976", "是", 1, 1, 1]])
    rejected(region, f, counts, units=TAX_YUAN)
    with transaction(region) as s:
        s.add(UsccException(code=bad, reason="营业执照如此", approved_by="admin"))
    import_enterprise_years(region, f, units=TAX_YUAN)
    assert bad in enterprises(region)


def test_dry_run_writes_nothing(tmp_path, region, counts):
    before = counts()
    res = import_enterprise_years(region, write_xlsx(tmp_path / "a.xlsx", [HEADER, *good_rows(3)]),
                                  units=TAX_YUAN, dry_run=True)
    assert res.batch_id is None and res.years_created == 3 and res.dry_run
    assert counts() == before


def test_progress_is_reported(tmp_path, region):
    seen = []
    import_enterprise_years(region, write_csv(tmp_path / "p.csv", [HEADER, *good_rows(2500)]), units=TAX_YUAN,
                            progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = {s for s, _, _ in seen}
    assert stages == {"read", "validate", "write"}
    assert ("validate", 1000, 2500) in seen and ("write", 2500, 2500) in seen


# --------------------------------------------------------------------------- bad files: nothing stored


def test_wrong_uscc(tmp_path, region, counts):
    rows = [HEADER, *good_rows(2)]
    rows[2][0] = code(1)[:-1] + ("0" if code(1)[-1] != "0" else "1")
    p = only(rejected(region, write_xlsx(tmp_path / "u.xlsx", rows), counts, units=TAX_YUAN), "统一社会信用代码无效")
    assert (p.sheet, p.row, p.column) == ("企业数据", 3, "统一社会信用代码")
    assert "校验码" in p.message and "营业执照" in p.fix
    assert "第 3 行" in str(p) and "列 统一社会信用代码" in str(p) and "工作表 企业数据" in str(p)


def test_uscc_mangled_by_excel_gets_a_specific_fix(tmp_path, region, counts):
    rows = [HEADER, [913304820000000000, "数字代码公司", 2023, "当湖", "3976", "是", 1, 1, 1]]
    p = only(rejected(region, write_xlsx(tmp_path / "u.xlsx", rows), counts, units=TAX_YUAN), "统一社会信用代码")
    assert "文本" in p.fix


def test_unknown_town_lists_known_towns(tmp_path, region, counts):
    rows = [HEADER, *good_rows(3)]
    rows[3][3] = "新埭镇"
    p = only(rejected(region, write_csv(tmp_path / "t.csv", rows), counts, units=TAX_YUAN), "镇街道")
    assert (p.sheet, p.row, p.column, p.value) == ("t", 4, "所属镇街", "新埭镇")
    assert "当湖街道" in p.fix and "钟埭街道" in p.fix


def test_unknown_town_in_an_empty_region_says_to_init(tmp_path, engine, counts):
    p = only(rejected(engine, write_csv(tmp_path / "t.csv", [HEADER, *good_rows(1)]), counts, units=TAX_YUAN),
             "镇街道")
    assert "qunlian init" in p.fix


def test_unknown_park_and_park_of_another_town(tmp_path, region, counts):
    rows = [["统一社会信用代码", "企业名称", "年度", "镇街道", "园区"],
            [code(1), "甲", 2023, "当湖街道", "不存在园"],
            [code(2), "乙", 2023, "钟埭街道", "平湖科创园"],
            [code(3), "丙", 2023, "当湖街道", "平湖科创园"]]
    problems = rejected(region, write_xlsx(tmp_path / "p.xlsx", rows), counts)
    assert [(p.row, p.column) for p in problems] == [(2, "园区"), (3, "园区")]
    assert "平湖科创园" in problems[0].fix
    assert "当湖街道" in problems[1].message and "钟埭街道" in problems[1].message


@pytest.mark.parametrize(("value", "text"), [("39", "大类"), ("397", "中类"), ("9999", "不是 GB/T 4754"),
                                             ("abc", "不是 GB/T 4754")])
def test_industry_code_must_be_an_existing_class(tmp_path, region, counts, value, text):
    rows = [HEADER, *good_rows(2)]
    rows[2][4] = value
    p = only(rejected(region, write_xlsx(tmp_path / "i.xlsx", rows), counts, units=TAX_YUAN), text)
    assert (p.row, p.column) == (3, "行业代码")


def test_money_column_without_unit(tmp_path, region, counts):
    p = only(rejected(region, write_xlsx(tmp_path / "n.xlsx", [HEADER, *good_rows(2)]), counts), "没有声明单位")
    assert (p.sheet, p.row, p.column) == ("企业数据", 1, "税收")
    assert "税收（万元）" in p.fix and "--unit tax_wan=" in p.fix


def test_yuan_and_wan_mixed_without_declared_unit(tmp_path, region, counts):
    rows = [["统一社会信用代码", "企业名称", "年度", "税收"],
            [code(1), "甲", 2023, "12000元"], [code(2), "乙", 2023, "1.2万元"], [code(3), "丙", 2023, "8000元"]]
    problems = rejected(region, write_xlsx(tmp_path / "mix.xlsx", rows), counts)
    header = only(problems, "没有声明单位")
    mixed = only(problems, "单位混用")
    assert (header.row, header.column) == (1, "税收")
    assert (mixed.sheet, mixed.row, mixed.column, mixed.value) == ("企业数据", 3, "税收", "1.2万元")
    assert "第 2 行" in mixed.message and "表头" in mixed.fix


def test_cell_unit_disagreeing_with_declared_unit(tmp_path, region, counts):
    rows = [["统一社会信用代码", "企业名称", "年度", "税收（万元）"],
            [code(1), "甲", 2023, "1.2万元"], [code(2), "乙", 2023, "12000元"]]
    p = only(rejected(region, write_xlsx(tmp_path / "d.xlsx", rows), counts), "不一致")
    assert (p.row, p.column) == (3, "税收（万元）") and "万元" in p.fix


def test_declared_unit_contradicting_header_or_canonical_name(tmp_path, region, counts):
    rows = [["uscc", "name", "year", "tax_wan", "营业收入（元）"], [code(1), "甲", 2023, 1, 1]]
    problems = rejected(region, write_csv(tmp_path / "c.csv", rows), counts,
                        units={"tax_wan": "元", "revenue_wan": "万元"})
    assert {p.column for p in problems} == {"tax_wan", "营业收入（元）"}
    assert all(p.row == 1 for p in problems)


def test_units_option_errors(tmp_path, region, counts):
    rows = [["uscc", "name", "year", "税收"], [code(1), "甲", 2023, 1]]
    problems = rejected(region, write_csv(tmp_path / "o.csv", rows), counts,
                        units={"税收": "美元", "foo": "元", "land_mu": "亩"})
    assert len(problems) == 3
    assert any("无法识别" in p.message and p.column == "税收" for p in problems)
    assert any(p.column == "foo" for p in problems)
    assert any("没有这一列" in p.message for p in problems)


def test_duplicated_uscc_year_names_both_rows(tmp_path, region, counts):
    rows = [HEADER, *good_rows(3)]
    rows.append(list(rows[1]))  # row 5 repeats row 2
    p = only(rejected(region, write_xlsx(tmp_path / "dup.xlsx", rows), counts, units=TAX_YUAN), "重复")
    assert (p.row, p.column) == (5, "统一社会信用代码")
    assert "第 2 行" in p.message and "第 5 行" in p.message


def test_text_in_number_column(tmp_path, region, counts):
    rows = [HEADER, *good_rows(3)]
    rows[2][8] = "约五十人"
    p = only(rejected(region, write_xlsx(tmp_path / "txt.xlsx", rows), counts, units=TAX_YUAN), "文字")
    assert (p.sheet, p.row, p.column, p.value) == ("企业数据", 3, "从业人员", "约五十人")
    assert "数字" in p.fix


def test_negative_land_and_employees_and_fractional_people(tmp_path, region, counts):
    rows = [HEADER, *good_rows(3)]
    rows[1][6] = -3
    rows[2][8] = -1
    rows[3][8] = 12.5
    problems = rejected(region, write_xlsx(tmp_path / "neg.xlsx", rows), counts, units=TAX_YUAN)
    assert [(p.row, p.column) for p in problems] == [(2, "用地面积（亩）"), (3, "从业人员"), (4, "从业人员")]
    assert "负数" in problems[0].message and "整数" in problems[2].message


def test_rented_out_more_than_land(tmp_path, region, counts):
    rows = [["统一社会信用代码", "企业名称", "年度", "用地面积（亩）", "出租面积（亩）"], [code(1), "甲", 2023, 10, 12]]
    p = only(rejected(region, write_xlsx(tmp_path / "r.xlsx", rows), counts), "出租面积大于用地面积")
    assert p.column == "出租面积（亩）"


@pytest.mark.parametrize("value", [1900, 2999, "去年", None])
def test_year_out_of_range_or_missing(tmp_path, region, counts, value):
    rows = [HEADER, *good_rows(2)]
    rows[1][2] = value
    p = only(rejected(region, write_xlsx(tmp_path / "y.xlsx", rows), counts, units=TAX_YUAN), "年度")
    assert (p.row, p.column) == (2, "年度")


def test_missing_required_columns(tmp_path, region, counts):
    rows = [["企业名称", "税收（万元）"], ["甲", 1]]
    problems = rejected(region, write_xlsx(tmp_path / "req.xlsx", rows), counts)
    msgs = " ".join(p.message for p in problems)
    assert "统一社会信用代码" in msgs and "年度" in msgs
    assert all(p.row == 1 for p in problems)


def test_header_only(tmp_path, region, counts):
    p = only(rejected(region, write_xlsx(tmp_path / "h.xlsx", [HEADER]), counts, units=TAX_YUAN), "没有数据行")
    assert p.row == 2


def test_new_enterprise_without_name(tmp_path, region, counts):
    rows = [["统一社会信用代码", "年度", "税收（万元）"], [code(1), 2023, 1]]
    p = only(rejected(region, write_xlsx(tmp_path / "nn.xlsx", rows), counts), "缺少企业名称")
    assert p.row == 2 and p.column == "企业名称"


def test_duplicate_columns_and_bad_bool(tmp_path, region, counts):
    rows = [["统一社会信用代码", "企业名称", "年度", "税收（万元）", "实缴税金（元）", "是否规上"],
            [code(1), "甲", 2023, 1, 1, "也许"]]
    problems = rejected(region, write_xlsx(tmp_path / "dc.xlsx", rows), counts)
    assert {(p.row, p.column) for p in problems} == {(1, "实缴税金（元）"), (2, "是否规上")}


def test_all_problems_collected_and_partially_good_file_stores_nothing(tmp_path, region, counts):
    import_enterprise_years(region, write_xlsx(tmp_path / "a.xlsx", [HEADER, *good_rows(2)]), units=TAX_YUAN)
    stored = {k: (v.tax_wan, v.land_mu) for k, v in years(region).items()}
    rows = [HEADER, *good_rows(50)]
    rows[1][7] = 9_999_999  # a good change to an existing row that must not be applied
    rows[10][3] = "新埭镇"
    rows[20][0] = "123"
    rows[30][6] = "很多"
    problems = rejected(region, write_xlsx(tmp_path / "b.xlsx", rows), counts, units=TAX_YUAN)
    assert [p.row for p in problems] == [11, 21, 31]
    assert {k: (v.tax_wan, v.land_mu) for k, v in years(region).items()} == stored


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_round_trip(tmp_path, region, counts, suffix):
    rows = [["统一社会信用代码", "企业名称", "年度", "镇街道", "园区", "行业代码", "是否规上", "用地面积（亩）",
             "税收（元）", "营业收入（亿元）", "从业人员", "发明专利", "综合能耗（吨标准煤）"],
            [code(1), "甲公司", 2023, "当湖街道", "平湖科创园", "3976", "是", 12.5, 1_234_567, 1.25, 80, 3, 456.7],
            [code(2), "乙公司", 2023, "钟埭街道", "", "1495", "否", 3, 5000, "", 12, "", ""],
            [code(3), "丙公司", 2022, "钟埭街道", "", "1495", "否", 3, 5000, "", 12, "", ""]]
    import_enterprise_years(region, write_xlsx(tmp_path / "src.xlsx", rows))
    before = {k: v for k, v in years(region).items() if k[1] == 2023}
    out = tmp_path / f"export{suffix}"
    assert export_enterprise_years(region, 2023, out) == 2
    if suffix == ".csv":
        text = out.read_bytes()
        assert text.startswith(b"\xef\xbb\xbf")  # BOM so Excel reads UTF-8
        header = text.decode("utf-8-sig").splitlines()[0].split(",")
        assert header[:7] == ["uscc", "name", "year", "town", "park", "industry_code", "above_scale"]
        assert "当湖街道" in text.decode("utf-8-sig") and "123.4567" in text.decode("utf-8-sig")
    res = import_enterprise_years(region, out)
    # the export imports back to exactly what is stored: no value changes, so nothing is written
    assert (res.years_replaced, res.years_created, res.enterprises_updated, res.cells_changed) == (0, 0, 0, 0)
    assert res.unchanged and res.batch_id is None and res.cells_unchanged > 0
    after = {k: v for k, v in years(region).items() if k[1] == 2023}
    fields = ["above_scale", "land_mu", "tax_wan", "revenue_wan", "employees", "invention_patents", "energy_tce"]
    for k in before:
        assert [getattr(after[k], f) for f in fields] == [getattr(before[k], f) for f in fields]
    assert after[(code(1), 2023)].revenue_wan == 12500.0 and after[(code(1), 2023)].tax_wan == 123.4567


def test_export_of_an_empty_year_and_bad_suffix(tmp_path, region):
    assert export_enterprise_years(region, 2001, tmp_path / "e.csv") == 0
    assert (tmp_path / "e.csv").read_text(encoding="utf-8-sig").startswith("uscc,name,year")
    from qunlian.core.errors import QunlianError

    with pytest.raises(QunlianError):
        export_enterprise_years(region, 2023, tmp_path / "e.json")


def test_problems_carry_the_users_file_name(tmp_path, region, counts):
    rows = [HEADER, *good_rows(2)]
    rows[1][3] = "新埭镇"
    f = write_xlsx(tmp_path / "upload-3f9a.xlsx", rows)
    before = counts()
    with pytest.raises(ValidationFailed) as info:
        import_enterprise_years(region, f, units=TAX_YUAN, filename="2023年税收.xlsx")
    assert [p.file for p in info.value.problems] == ["2023年税收.xlsx"]
    assert counts() == before
    res = import_enterprise_years(region, write_xlsx(tmp_path / "upload-1.xlsx", [HEADER, *good_rows(2)]),
                                  units=TAX_YUAN, filename="2023年税收.xlsx")
    with session_factory(region)() as s:
        assert s.get(ImportBatch, res.batch_id).filename == "2023年税收.xlsx"


def test_count_columns_need_no_unit_but_reject_a_wrong_one(tmp_path, region, counts):
    rows = [["统一社会信用代码", "企业名称", "年度", "从业人员（件）", "发明专利（件）"], [code(1), "甲", 2023, 5, 2]]
    p = only(rejected(region, write_xlsx(tmp_path / "c.xlsx", rows), counts), "不一致")
    assert (p.row, p.column) == (1, "从业人员（件）") and "从业人员（人）" in p.fix
