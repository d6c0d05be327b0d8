"""The data sources of enterprise-years: one template per sender, all read by the one importer.

Each bureau sends its own columns for the same firms and year; the importer joins them on USCC and
year, so a source here is a choice of canonical columns (``columns.COLUMNS``) with the sender, the
instructions and a version. Raise a source's version when its columns change; older files are still
read by their headers (and noted). The data-exchange capability turns these into templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qunlian.core.messages import N_
from qunlian.core.units import UNITS
from qunlian.enterprises import columns as C
from qunlian.platform.sources import (
    DataSource,
    Recognised,
    TemplateColumn,
    read_stamp,
    recognise,
)

if TYPE_CHECKING:
    from qunlian.platform.tabular import Table

IMPORTER = "qunlian.enterprises.enterprise_years:import_enterprise_years"
KIND = "enterprise-years"
VERSION = "2026.1"

_CHOICES = {"town": "towns", "park": "parks", "bool": "yes_no", "exemption": "exemptions", "chains": "chains"}
_KINDS = {"uscc": "uscc", "ref_uscc": "uscc", "year": "year", "text": "text", "longtext": "longtext",
          "date": "date", "number": "number", "integer": "integer", "bool": "bool", "town": "choice",
          "park": "choice", "exemption": "choice", "industry": "text", "chains": "choice"}
_NOTES = {
    "uscc": N_("18 位统一社会信用代码，按营业执照填写；单元格为文本格式，开头的 0 不会丢"),
    "name": N_("营业执照上的企业全称；库中已有的企业可留空"),
    "year": N_("数据所属年度，4 位数字，如 2025"),
    "town": N_("从下拉列表中选择企业所在镇（街道）"),
    "park": N_("从下拉列表中选择所在园区；不在园区内请留空"),
    "industry_code": N_("GB/T 4754-2017 的 4 位小类代码，如 3976；单元格为文本格式"),
    "above_scale": N_("是否规模以上工业企业：从下拉列表中选择 是/否"),
    "exemption": N_("申请不参加亩均评价的原因：从下拉列表中选择；参评请留空"),
    "landowner_uscc": N_("承租企业填写出租方（土地所有企业）的统一社会信用代码；自有土地请留空"),
    "established_on": N_("成立日期，如 2015-03-20；Excel 的日期单元格也可以"),
    "main_products": N_("主营产品，多个产品用顿号或分号隔开"),
    "business_scope": N_("营业执照上的经营范围原文"),
    "zhejiang_made": N_("是否持有“品字标浙江制造”认证：从下拉列表中选择 是/否"),
    "chains": N_("行业代码之外企业所在的产业链：从下拉列表中选择；在几条链上时用；隔开"),
}


def _column(name: str, required: bool = False) -> TemplateColumn:
    col = C.BY_NAME[name]
    dimensioned = col.dimension is not None and col.dimension != "count"
    note = _NOTES.get(name, "")
    if not note and col.unit:
        note = N_("只填数字，单位见第 3 行（可从下拉列表改选）") if dimensioned else N_("只填整数")
    return TemplateColumn(
        name=name, heading=col.label if dimensioned or not col.unit else f"{col.label}（{col.unit}）",
        kind=_KINDS[col.kind], unit=col.unit if dimensioned else None,
        units=tuple(u.symbol for u in UNITS if u.dimension == col.dimension) if dimensioned else (),
        required=required or col.required, choices=_CHOICES.get(col.kind), note=note)


def _source(key: str, title: str, provider: str, names: tuple[str, ...], instructions: tuple[str, ...] = (),
            with_year: bool = True) -> DataSource:
    keys = ("uscc", "name", "year") if with_year else ("uscc", "name")
    return DataSource(
        key=key, title=title, provider=provider, version=VERSION, kind=KIND, importer=IMPORTER,
        columns=tuple(_column(n) for n in (*keys, *names)),
        instructions=(
            N_("每行一家企业一年的数据；第 1 行是模板标题，第 2 行是表头，第 3 行是单位，从第 4 行起填数据"),
            N_("表头和单位行请勿删改；不需要的列可以整列删除，库里这一列的数据保持不变"),
            N_("空白单元格表示“缺失”，会清空库里这一项；未列出的列不受影响"),
            *instructions,
            N_("填好后在“数据导入”页面上传，先预览逐项变化，确认后才写入；有问题时可下载校验报告，改好后重新上传"),
        ) if with_year else (
            N_("每行一家企业；第 1 行是模板标题，第 2 行是表头，从第 3 行起填数据"),
            N_("库中已有的企业按统一社会信用代码更新；空白单元格保持库里原有的内容"),
            *instructions,
            N_("填好后在“数据导入”页面上传，先预览逐项变化，确认后才写入；有问题时可下载校验报告，改好后重新上传"),
        ))


SOURCES: tuple[DataSource, ...] = (
    _source("registry", N_("企业名录"), N_("市场监督管理局"),
            ("town", "park", "industry_code", "established_on", "main_products", "business_scope", "chains"),
            (N_("新企业必须填写企业名称和镇（街道）"),), with_year=False),
    _source("tax", N_("税收数据"), N_("税务局"), ("tax_wan", "revenue_wan"),
            (N_("税收为企业实缴税金（含各税种，扣除留抵退税），按年度汇总"),)),
    _source("electricity", N_("用电数据"), N_("供电公司"), ("electricity_wan_kwh",),
            (N_("用电量为企业全部户号的全年合计"),)),
    _source("statistics", N_("产值、增加值、从业人员与研发"), N_("统计局"),
            ("above_scale", "output_wan", "value_added_wan", "main_revenue_wan", "profit_wan", "employees",
             "rd_wan", "export_wan", "high_tech_revenue_wan", "assets_wan", "liabilities_wan"),
            (N_("规上企业按统计年报填写；规下企业可只填有数的列"),)),
    _source("land", N_("用地数据"), N_("自然资源和规划局"),
            ("land_mu", "rented_out_mu", "tenants", "landowner_uscc", "exemption"),
            (N_("用地面积为企业实际占用的工业用地（含自有和租用），出租面积为租给其他企业的部分"),)),
    _source("energy", N_("能耗与排放"), N_("发展和改革局、生态环境分局"), ("energy_tce", "emission_eq_t"),
            (N_("综合能耗按当量值折算为吨标准煤；排放当量为主要污染物排放当量"),)),
    _source("ip", N_("知识产权、标准与品字标"), N_("市场监督管理局、科学技术局"),
            ("invention_patents", "standards_led", "zhejiang_made"),
            (N_("发明专利为年末有效发明专利数；标准为企业主导或参与制定的国家、行业、团体和“浙江制造”标准"),)),
    _source("enterprise-years", N_("企业年度数据（全部列）"), N_("经信局汇总"),
            tuple(c.name for c in C.COLUMNS if c.name not in ("uscc", "name", "year")),
            (N_("汇总各部门数据时使用；只需导入一部分列时，请用对应部门的模板"),)),
)


def identify(path: Path, table: Table, columns: list[str]) -> Recognised:
    """Which of these sources a file is (stamp first, then headers)."""
    title_rows = [cells for _n, cells in table.rows[:3]]  # a template's stamp is in its title row
    return recognise(SOURCES, columns, read_stamp(path, title_rows))


__all__ = ["SOURCES", "identify"]
