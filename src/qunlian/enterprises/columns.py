"""The canonical enterprise-year columns (DESIGN §5): name, meaning, dimension, internal unit, aliases.

This module is data. The importer reads a header cell, strips an optional unit in brackets
("税收（元）", "tax (万元)"), and looks the rest up here. A canonical English name carries its own unit
(``tax_wan`` is in 万元, ``land_mu`` in 亩 …); any other header of a column with a dimension must say
its unit, in the header or through the importer's ``units`` option.

Kinds:
  uscc      统一社会信用代码, checked against GB 32100-2015
  text      free text (enterprise name), up to 200 characters
  longtext  free text (主营产品, 经营范围), up to 4000 characters
  date      a calendar date (Excel date, serial number or text such as 2023-01-05)
  chains    chains the firm is on (beyond those its industry code gives): "体系 · 链" labels, SYSTEM:CODE
            or a chain's code or name, several separated by ；
  year      a calendar year
  town      a 镇街道 of the store (name, code or alias)
  park      a park of the store (name or code)
  industry  a GB/T 4754-2017 小类 (4 digits)
  bool      是/否
  number    a float in the column's internal unit
  integer   a whole number (people, firms, patents)
  ref_uscc  the 统一社会信用代码 of another firm (a tenant's landowner), checked like uscc
  exemption why a firm asks not to be evaluated: a code or a Chinese label of EXEMPTIONS
  events    event kinds separated by ';' (the 亩均 negative list)
  label     a short code or name (a chain)

Targets: "key" and "enterprise"/"year" (the importer stores them on Enterprise / EnterpriseYear);
"input": read by the engines' standalone modes from a file only (``ENGINE_COLUMNS``; the store keeps
these facts elsewhere or derives them). ``DERIVED`` are figures computed from the columns (亩均产值 …),
listed so that every table heading comes from here: ``heading("tax_wan")`` = "税收（万元）".

This is the one vocabulary of enterprise-year columns: the importer, the 亩均 engine's standalone
reader and the web's table headings read it (other capabilities through ``enterprises.service``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from qunlian.core.messages import N_, Message
from qunlian.core.units import split_header


@dataclass(frozen=True)
class Column:
    name: str  # canonical English name = model attribute
    label: str  # Chinese label used in messages and templates
    kind: str  # see the module docstring
    target: str  # "enterprise" (Enterprise attribute) | "year" (EnterpriseYear attribute) | "key"
    dimension: str | None = None  # money | area | energy | electricity | emission | count (core.units)
    unit: str | None = None  # internal unit symbol (core.units) for dimensioned columns
    aliases: tuple[str, ...] = ()  # accepted header texts besides name and label
    required: bool = False
    nonnegative: bool = False

    @property
    def needs_declared_unit(self) -> bool:
        """Money, area, energy … columns: the unit must be declared unless the header is the canonical name."""
        return self.dimension is not None and self.dimension != "count"


# Order = DESIGN §5 order, then the columns modules added since. Export writes them in this order.
COLUMNS: tuple[Column, ...] = (
    Column("uscc", "统一社会信用代码", "uscc", "key", required=True,
           aliases=("社会信用代码", "信用代码", "统一代码", "纳税人识别号", "credit code", "unified social credit code")),
    Column("name", "企业名称", "text", "enterprise",
           aliases=("单位名称", "企业名", "纳税人名称", "单位详细名称", "名称", "enterprise", "company", "enterprise name")),
    Column("year", "年度", "year", "key", required=True, aliases=("年份", "统计年度", "数据年度", "yr")),
    Column("town", "镇街道", "town", "enterprise",
           aliases=("所属镇街", "所属镇街道", "镇（街道）", "所属镇（街道）", "镇街", "镇/街道", "乡镇街道", "所在镇街道",
                    "属地", "town")),
    Column("park", "园区", "park", "enterprise", aliases=("所属园区", "所在园区", "园区平台", "所在平台")),
    Column("industry_code", "行业代码", "industry", "enterprise",
           aliases=("国民经济行业代码", "行业分类代码", "国民经济行业分类代码", "行业小类代码", "国标行业代码",
                    "industry", "industry code", "gbt4754")),
    Column("above_scale", "是否规上", "bool", "year",
           aliases=("规上", "是否规上企业", "规上企业", "规模以上", "是否规模以上", "是否规模以上工业企业", "above scale")),
    Column("land_mu", "用地面积", "number", "year", "area", "亩", nonnegative=True,
           aliases=("土地面积", "占地面积", "实际用地面积", "用地", "land", "land area")),
    Column("rented_out_mu", "出租面积", "number", "year", "area", "亩", nonnegative=True,
           aliases=("出租土地面积", "出租用地面积", "出租用地", "rented out", "rented out land")),
    Column("tenants", "承租企业数", "integer", "year", "count", "家", nonnegative=True,
           aliases=("租户数", "出租户数", "承租户数", "承租企业")),
    Column("tax_wan", "税收", "number", "year", "money", "万元",
           aliases=("实缴税金", "实缴税收", "税收实际贡献", "税收总额", "入库税金", "实际入库税金", "税金", "tax")),
    Column("value_added_wan", "增加值", "number", "year", "money", "万元",
           aliases=("工业增加值", "value added")),
    Column("revenue_wan", "营业收入", "number", "year", "money", "万元", nonnegative=True,
           aliases=("营收", "revenue")),
    Column("main_revenue_wan", "主营业务收入", "number", "year", "money", "万元", nonnegative=True,
           aliases=("主营收入", "main revenue")),
    Column("output_wan", "工业总产值", "number", "year", "money", "万元", nonnegative=True,
           aliases=("总产值", "产值", "工业产值", "output")),
    Column("energy_tce", "综合能耗", "number", "year", "energy", "吨标准煤", nonnegative=True,
           aliases=("能耗", "总能耗", "综合能源消费量", "能源消费量", "energy")),
    Column("electricity_wan_kwh", "用电量", "number", "year", "electricity", "万千瓦时", nonnegative=True,
           aliases=("总用电量", "工业用电量", "全年用电量", "electricity")),
    Column("emission_eq_t", "排放当量", "number", "year", "emission", "吨", nonnegative=True,
           aliases=("主要污染物排放当量", "污染物排放当量", "排污当量", "emission", "emissions")),
    Column("employees", "从业人员", "integer", "year", "count", "人", nonnegative=True,
           aliases=("年平均职工人数", "从业人员数", "从业人员平均人数", "职工人数", "员工人数", "employees")),
    Column("rd_wan", "研发费用", "number", "year", "money", "万元", nonnegative=True,
           aliases=("R&D经费", "R&D经费支出", "研发经费", "研发投入", "研究开发费用", "rd", "r&d")),
    Column("profit_wan", "利润总额", "number", "year", "money", "万元", aliases=("利润", "profit")),
    Column("assets_wan", "资产总计", "number", "year", "money", "万元", nonnegative=True,
           aliases=("总资产", "资产总额", "assets")),
    Column("liabilities_wan", "负债合计", "number", "year", "money", "万元", nonnegative=True,
           aliases=("总负债", "负债总额", "负债总计", "liabilities")),
    Column("export_wan", "出口交货值", "number", "year", "money", "万元", nonnegative=True,
           aliases=("出口额", "出口值", "export", "exports")),
    Column("high_tech_revenue_wan", "高新技术产品收入", "number", "year", "money", "万元", nonnegative=True,
           aliases=("高新技术产品销售收入", "高新产品收入", "high tech revenue", "high-tech revenue")),
    Column("invention_patents", "发明专利", "integer", "year", "count", "件", nonnegative=True,
           aliases=("有效发明专利数", "有效发明专利", "发明专利数", "发明专利拥有量", "invention patents", "patents")),
    Column("landowner_uscc", "土地所有企业代码", "ref_uscc", "year",
           aliases=("出租方统一社会信用代码", "出租方代码", "出租方信用代码", "土地权利人代码", "土地权利人信用代码",
                    "房东企业代码", "landowner", "landowner uscc")),
    Column("exemption", "免评原因", "exemption", "year",
           aliases=("不参评原因", "申请免评原因", "免评情形", "免评", "exemption")),
    # the registry (市场监管局) and IP/standards (科技局、市场监管局) templates' columns
    Column("established_on", "成立日期", "date", "enterprise",
           aliases=("成立时间", "注册日期", "登记日期", "设立日期", "established", "established on")),
    Column("main_products", "主营产品", "longtext", "enterprise",
           aliases=("主要产品", "主导产品", "主营产品名称", "main products")),
    Column("business_scope", "经营范围", "longtext", "enterprise", aliases=("许可经营范围", "business scope")),
    Column("chains", "所属产业链", "chains", "enterprise", aliases=("所属链", "所在产业链", "产业链节点", "chains")),
    Column("standards_led", "主导制定标准", "integer", "year", "count", "项", nonnegative=True,
           aliases=("主导制定标准数", "主导或参与制定标准", "主导（参与）制定标准数", "制定标准数", "standards led")),
    Column("zhejiang_made", "品字标浙江制造认证", "bool", "year",
           aliases=("品字标", "品字标认证", "是否品字标企业", "品字标企业", "浙江制造认证", "zhejiang made")),
)

# Read by the 亩均 engine's standalone mode (``qunlian muni evaluate --input``) and not stored on an
# enterprise-year: in the store, events are their own table, the chain comes from the industry code.
ENGINE_COLUMNS: tuple[Column, ...] = (
    Column("negative_events", "负面清单事件", "events", "input", aliases=("负面清单", "负面事件", "negative list")),
    Column("founded_year", "投产年份", "year", "input", aliases=("成立年份", "founded")),
    Column("chain", "产业链", "label", "input"),
)

# Figures derived from the columns, shown next to them (enterprise list, profile, exports). Their unit
# is for display only: nobody imports them.
DERIVED: tuple[Column, ...] = (
    Column("output_per_mu", "亩均产值", "number", "derived", unit="万元/亩"),
    Column("tax_per_mu", "亩均税收", "number", "derived", unit="万元/亩"),
)

# Exemption codes (as the 亩均 presets name them) and the labels a clerk may type instead.
EXEMPTIONS: dict[str, tuple[str, ...]] = {
    "new_firm": ("新办企业", "新设企业", "新投产企业"),
    "under_construction": ("在建企业", "在建", "建设期企业"),
    "relocated": ("搬迁企业", "搬迁", "异地搬迁"),
}

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
ENGINE_BY_NAME: dict[str, Column] = {c.name: c for c in (*COLUMNS, *ENGINE_COLUMNS)}
_EVERY: dict[str, Column] = {c.name: c for c in (*COLUMNS, *ENGINE_COLUMNS, *DERIVED)}
REQUIRED: tuple[Column, ...] = tuple(c for c in COLUMNS if c.required)
ENTERPRISE_FIELDS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.target == "enterprise")
# enterprise attributes other than name, town, park and industry code: stored as given, a blank keeps them
PLAIN_ENTERPRISE_FIELDS: tuple[str, ...] = ("established_on", "main_products", "business_scope")
# what `qunlian export enterprise-years` writes: every column but the chain links (the chains page lists those)
EXPORT_FIELDS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.name != "chains")
YEAR_FIELDS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.target == "year")


def header_key(text: object) -> str:
    """How a header is compared: NFKC (full-width → half-width), no whitespace or line breaks, lower case."""
    folded = unicodedata.normalize("NFKC", str(text))
    return "".join(folded.split()).lower()


def _alias_index(columns: Iterable[Column]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for col in columns:
        for text in (col.name, col.label, *col.aliases):
            key = header_key(text)
            if key in index and index[key] is not col:  # pragma: no cover - guards the table above
                raise AssertionError(f"alias {text!r} names both {index[key].name} and {col.name}")
            index[key] = col
    return index


ALIASES: dict[str, Column] = _alias_index(COLUMNS)
ENGINE_ALIASES: dict[str, Column] = _alias_index((*COLUMNS, *ENGINE_COLUMNS))


def lookup(header_name: str, *, engine: bool = False) -> Column | None:
    """The column a header (without its unit) names, or None. engine: also ``ENGINE_COLUMNS``."""
    return (ENGINE_ALIASES if engine else ALIASES).get(header_key(header_name))


def bind(header: str, *, engine: bool = False) -> tuple[Column | None, str | None]:
    """(column, unit text written in the header) of one header cell: "税收（元）" → (tax_wan, "元").

    The whole text is looked up first (an alias may itself hold brackets), then the text without
    its bracketed unit. (None, None) for a header that names no column.
    """
    if not header:
        return None, None
    col = lookup(header, engine=engine)
    if col is not None:
        return col, None
    name, unit = split_header(header)
    col = lookup(name, engine=engine)
    return (col, unit) if col is not None else (None, None)


# the internal units as the pages show them (msgids: the catalogue translates them with the labels)
UNIT_NAMES = (N_("万元"), N_("亩"), N_("万元/亩"), N_("吨标准煤"), N_("万千瓦时"), N_("吨"), N_("人"), N_("件"), N_("家"),
              N_("项"))


def heading(name: str) -> str:
    """A column's (or derived figure's) table heading: its label with its unit, "税收（万元）" — the
    one statement of a column's name for pages, exports and import templates. A Message: it is the
    Chinese text, and the catalogue renders it in the reader's language (labels are extracted from
    the ``Column(name, label, …)`` declarations)."""
    col = _EVERY[name]
    if not col.unit:
        return Message(col.label)
    return Message("%(label)s（%(unit)s）", label=Message(col.label), unit=Message(col.unit))


def headings(names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(name, heading) of each column, in the order given: what a table or an export writes on top."""
    return tuple((n, heading(n)) for n in names)


def is_canonical(header_name: str, col: Column) -> bool:
    """True when the header is the canonical English name, which implies the internal unit."""
    return header_key(header_name) == col.name
