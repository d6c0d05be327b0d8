"""Import templates: one per installed source, opened and checked cell by cell, filled in and imported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from qunlian.cli import app as cli_app
from qunlian.core.errors import ValidationFailed
from qunlian.core.uscc import make_uscc
from qunlian.enterprises.enterprise_years import import_enterprise_years
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.sources import SOURCES
from qunlian.exchange.templates import load_choices, template_name, write_template
from qunlian.platform.db import session_factory, transaction
from qunlian.platform.models import ImportBatch
from qunlian.platform.sources import installed_sources

NEW = make_uscc("330482", "MA2T0001")


@pytest.fixture
def templates(web_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every template, made by the CLI contract `qunlian templates --output DIR` on the test store."""
    monkeypatch.setenv("QUNLIAN_DATABASE_URL", web_store.engine.url.render_as_string(hide_password=False))
    out = tmp_path / "templates"
    result = CliRunner().invoke(cli_app, ["templates", "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _validations(ws) -> dict[str, tuple[str, str | None]]:
    """first cell of each validated range → (type, formula1)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord.split(":")[0]] = (dv.type, dv.formula1)
    return out


def test_every_installed_source_has_a_template_that_opens_with_its_columns(templates: Path):
    files = sorted(templates.glob("*.xlsx"))
    assert {f.name for f in files} == {template_name(s) for s in installed_sources()}
    assert len(installed_sources()) >= 8  # tax, electricity, statistics, land, energy, ip, registry, all columns
    for src in installed_sources():
        wb = openpyxl.load_workbook(templates / template_name(src))
        data, guide, options = wb.worksheets
        assert [ws.sheet_state for ws in wb.worksheets] == ["visible", "visible", "hidden"]
        assert f"模板 {src.key} v{src.version}" in data["A1"].value and "平湖" not in src.key
        assert [c.value for c in data[2]][: len(src.columns)] == [c.heading for c in src.columns]
        assert wb.custom_doc_props["qunlian.template"].value == f"{src.key}@{src.version}"
        guide_text = "\n".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
        assert all(c.heading in guide_text for c in src.columns) and src.provider in guide_text
        assert options.title == "选项"


def test_template_dropdowns_hold_the_stores_towns_parks_yes_no_and_units(templates: Path):
    tax = openpyxl.load_workbook(templates / template_name(next(s for s in SOURCES if s.key == "tax")))
    ws = tax.worksheets[0]
    v = _validations(ws)
    assert v["A4"] == ("textLength", "18")  # USCC
    assert v["C4"][0] == "whole" and v["C4"][1] == "1980"  # year
    assert v["D3"] == ("list", '"元,千元,万元,亿元"')  # the unit row of 税收 offers the money units
    assert [c.value for c in ws[3]][:5] == ["单位", None, None, "万元", "万元"]
    assert ws["A4"].number_format == "@"  # codes are text: leading zeros and 18 digits survive
    reg = openpyxl.load_workbook(templates / template_name(next(s for s in SOURCES if s.key == "registry")))
    ws = reg.worksheets[0]
    towns_dv = next(dv for dv in ws.data_validations.dataValidation if dv.formula1 == "=list_towns")
    assert str(towns_dv.sqref).startswith("C3")
    ref = reg.defined_names["list_towns"].attr_text
    column = ref.split("!")[1].split(":")[0].replace("$", "")[0]
    listed = [c.value for c in reg["选项"][column][1:] if c.value]
    assert listed == ["当湖街道", "乍浦镇", "新埭镇"]  # the store's towns, in their order
    parks = reg.defined_names["list_parks"].attr_text
    assert reg["选项"][parks.split("!")[1].split(":")[0].replace("$", "")].value == "平湖经济技术开发区"
    land = openpyxl.load_workbook(templates / template_name(next(s for s in SOURCES if s.key == "land")))
    assert any(dv.formula1 == "=list_exemptions" for dv in land.worksheets[0].data_validations.dataValidation)
    ip = openpyxl.load_workbook(templates / template_name(next(s for s in SOURCES if s.key == "ip")))
    assert any(dv.formula1 == "=list_yes_no" for dv in ip.worksheets[0].data_validations.dataValidation)


def _fill(path: Path, rows: list[list], *, units: dict[int, str] | None = None) -> Path:
    """Fill a template as a clerk would in Excel: rows under the unit row, a unit picked from the dropdown."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    first = 4 if ws["A3"].value == "单位" else 3
    for col, unit in (units or {}).items():
        ws.cell(row=3, column=col, value=unit)
    for i, row in enumerate(rows):
        for j, value in enumerate(row, start=1):
            ws.cell(row=first + i, column=j, value=value)
    out = path.with_name("filled-" + path.name)
    wb.save(out)
    return out


def test_a_filled_template_imports_with_its_unit_row_and_is_recorded_with_its_version(web_store, templates: Path):
    src = next(s for s in SOURCES if s.key == "tax")
    firm = web_store.uscc["e1"]
    filled = _fill(templates / template_name(src), [[firm, None, 2024, 1_234_000, 5600]], units={4: "元"})
    res = import_enterprise_years(web_store.engine, filled, source="税务局")
    assert (res.template, res.template_version) == ("tax", src.version)
    with session_factory(web_store.engine)() as s:
        batch = s.get(ImportBatch, res.batch_id)
        assert (batch.template, batch.template_version, batch.source) == ("tax", src.version, "税务局")
        year = s.scalar(select(EnterpriseYear).join(Enterprise).where(Enterprise.uscc == firm, EnterpriseYear.year == 2024))
        assert year.tax_wan == pytest.approx(123.4) and year.revenue_wan == pytest.approx(5600)  # 元 → 万元; 万元 as is


def test_an_untouched_template_is_refused_as_having_no_rows(templates: Path, web_store):
    src = next(s for s in SOURCES if s.key == "electricity")
    with pytest.raises(ValidationFailed) as exc:
        import_enterprise_years(web_store.engine, templates / template_name(src))
    assert any("没有数据行" in str(p.message) for p in exc.value.problems)


def test_an_older_template_version_is_read_by_its_headers_and_noted(web_store, templates: Path):
    src = next(s for s in SOURCES if s.key == "electricity")
    wb = openpyxl.load_workbook(templates / template_name(src))
    wb.custom_doc_props["qunlian.template"].value = "electricity@2025.1"
    ws = wb.worksheets[0]
    ws["A1"] = "用电数据（供电公司）· 模板 electricity v2025.1"
    ws.append([web_store.uscc["e2"], None, 2024, 321.5])
    old = templates / "old.xlsx"
    wb.save(old)
    res = import_enterprise_years(web_store.engine, old)
    assert (res.template, res.template_version) == ("electricity", "2025.1")
    assert any("旧版模板" in str(n) and "v2025.1" in str(n) for n in res.notes)


def test_a_file_without_stamp_is_recognised_by_its_headers(web_store, tmp_path: Path):
    f = tmp_path / "用电.csv"
    f.write_text(f"统一社会信用代码,年度,用电量（万千瓦时）\n{web_store.uscc['e1']},2024,88\n", encoding="utf-8")
    assert import_enterprise_years(web_store.engine, f).template == "electricity"
    mixed = tmp_path / "混合.csv"
    mixed.write_text(f"uscc,year,electricity_wan_kwh,tax_wan\n{web_store.uscc['e1']},2024,88,12\n", encoding="utf-8")
    assert import_enterprise_years(web_store.engine, mixed).template == "enterprise-years"  # several sources' columns


def test_the_registry_template_sets_products_scope_and_founding_date_without_a_year(web_store, templates: Path):
    src = next(s for s in SOURCES if s.key == "registry")
    assert [c.name for c in src.columns][:2] == ["uscc", "name"] and "year" not in src.column_names()
    filled = _fill(templates / template_name(src), [
        [NEW, "平湖新登记精密机械有限公司", "乍浦镇", None, "3421", dt.datetime(2019, 5, 6), "数控刀具；精密夹具",
         "一般项目：刀具制造；机械零件、零部件加工"],
        [web_store.uscc["e1"], None, None, None, None, None, "光模块", None],
    ])
    res = import_enterprise_years(web_store.engine, filled)
    assert res.template == "registry" and res.years_created == 0 and res.enterprises_created == 1
    with session_factory(web_store.engine)() as s:
        new = s.scalar(select(Enterprise).where(Enterprise.uscc == NEW))
        assert (new.main_products, new.established_on, new.town.name) == ("数控刀具；精密夹具", dt.date(2019, 5, 6), "乍浦镇")
        assert new.business_scope.startswith("一般项目")
        old = s.scalar(select(Enterprise).where(Enterprise.uscc == web_store.uscc["e1"]))
        assert old.main_products == "光模块" and old.town.name == "当湖街道"  # blanks keep what is stored


def test_write_template_translates_for_an_english_reader(web_store, tmp_path: Path):
    src = next(s for s in SOURCES if s.key == "tax")
    with transaction(web_store.engine) as s:
        choices = load_choices(s)
    write_template(src, choices, tmp_path / "en.xlsx", locale="en")
    wb = openpyxl.load_workbook(tmp_path / "en.xlsx")
    assert wb.worksheets[0]["A1"].value.startswith("Tax")


def test_the_registry_links_firms_to_chains_from_the_dropdown_and_refuses_unknown_ones(web_store, templates: Path):
    from qunlian.chains.models import ChainNode, EnterpriseChainNode

    src = next(s for s in SOURCES if s.key == "registry")
    path = templates / template_name(src)
    wb = openpyxl.load_workbook(path)
    ref = wb.defined_names["list_chains"].attr_text.split("!")[1].split(":")[0].replace("$", "")
    listed = [c.value for c in wb["选项"][ref[0]][1:] if c.value]
    assert "四群八链 · 新能源汽车" in listed and "1212 产业体系 · 数字产业" in listed
    firm = web_store.uscc["e3"]
    res = import_enterprise_years(web_store.engine, _fill(path, [
        [firm, None, None, None, None, None, None, None, "四群八链 · 新能源汽车；1212 产业体系 · 数字产业"]]))
    assert [(c.field, c.old, c.new) for c in res.changes] == [
        ("chains", None, "1212 产业体系 · 数字产业；四群八链 · 新能源汽车")]
    with session_factory(web_store.engine)() as s:
        linked = set(s.scalars(select(ChainNode.code).join(EnterpriseChainNode).join(Enterprise).where(
            Enterprise.uscc == firm, EnterpriseChainNode.source == "import")))
        assert linked == {"nev", "digital"}
    with pytest.raises(ValidationFailed) as exc:
        import_enterprise_years(web_store.engine, _fill(path, [[firm, None, None, None, None, None, None, None, "不存在链"]]))
    assert "库中没有产业链" in str(exc.value.problems[0].message) and exc.value.problems[0].row == 3


@pytest.mark.parametrize("key", [s.key for s in SOURCES])
def test_every_template_column_refuses_a_bad_value_naming_where_and_how_to_fix(web_store, templates: Path, key: str):
    """Each source's template, filled with one wrong value in every column: each is named (file, sheet,
    row, column) with a fix, and nothing is stored."""
    src = next(s for s in SOURCES if s.key == key)
    bad = {"uscc": "12345", "year": "去年", "text": None, "longtext": "字" * 4001, "date": "某天",
           "number": "很多", "integer": 1.5, "bool": "也许", "choice": "不存在的选项"}
    row = [bad[c.kind] for c in src.columns]
    row[[c.name for c in src.columns].index("uscc")] = web_store.uscc["e1"]
    if "landowner_uscc" in src.column_names():
        row[[c.name for c in src.columns].index("landowner_uscc")] = "12345"
    path = _fill(templates / template_name(src), [row])
    with session_factory(web_store.engine)() as s:
        before = (s.scalar(select(func.count()).select_from(EnterpriseYear)), s.scalar(select(func.count()).select_from(ImportBatch)))
    with pytest.raises(ValidationFailed) as exc:
        import_enterprise_years(web_store.engine, path)
    problems = exc.value.problems
    data_row = 4 if any(c.units for c in src.columns) else 3
    named = {p.column for p in problems if p.row == data_row}
    expected = {c.heading for c in src.columns if bad[c.kind] is not None and c.name not in ("uscc", "name")}
    assert expected <= named, expected - named
    for p in problems:
        assert p.file == path.name and p.sheet == openpyxl.load_workbook(path).sheetnames[0]
        assert p.fix and p.row == data_row
    with session_factory(web_store.engine)() as s:
        assert (s.scalar(select(func.count()).select_from(EnterpriseYear)),
                s.scalar(select(func.count()).select_from(ImportBatch))) == before
