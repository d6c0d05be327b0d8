"""What an indicator measures, independent of the plan that prints it.

The province, 嘉兴 and 平湖 plans print the same indicator under slightly different names
("规模以上工业亩均增加值" in 000, "规上工业亩均增加值" in 003 and 004). A *concept* groups those
names so that plans can be compared side by side (alignment) and demo actuals can be derived once
per concept. Where two plans measure nearly the same thing on a different scope (工业 vs 制造业,
R&D 经费 vs 研发费用) the variant carries a ``scope`` label and alignment flags the difference.

A concept also says what *kind of quantity* the indicator is (``measure``), which decides how a
quarterly cumulative value is compared with an annual target:

- ``flow``       a total over the period (产值, 投资, 增加值 in 亿元): pro-rated within the year
- ``intensity``  a flow per stock (亩均税收 万元/亩, 劳动生产率 万元/人): pro-rated, numerator is a flow
- ``ratio``      a share of two flows of the same period (比重, 增加值率, R&D 强度): never pro-rated
- ``rate``       a growth rate or a decline (增长 %, 增速 %, 降幅 %): never pro-rated
- ``stock``      a count at a date (企业数, 累计…, 标准数): interpolated from the previous year-end
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MEASURES = ("flow", "intensity", "ratio", "rate", "stock")


@dataclass(frozen=True)
class Concept:
    key: str
    label: str  # short Chinese label
    measure: str
    names: dict[str, str] = field(default_factory=dict)  # normalised printed name → scope label ("" = core)


def _c(key: str, label: str, measure: str, *names: str | tuple[str, str]) -> Concept:
    out: dict[str, str] = {}
    for n in names:
        name, scope = (n, "") if isinstance(n, str) else n
        out[normalise_name(name)] = scope
    return Concept(key, label, measure, out)


def normalise_name(name: str) -> str:
    """Fold the printing differences that do not change meaning."""
    s = re.sub(r"\s+", "", name)
    s = re.sub(r"[（(][^（()）]*[)）]$", "", s)  # a trailing unit "(%)"
    for ch in "“”\"'‘’「」#＃*＊":
        s = s.replace(ch, "")
    s = s.replace("规模以上", "规上")
    return s


CONCEPTS: tuple[Concept, ...] = (
    _c("mfg-va-share-gdp", "制造业增加值占GDP比重", "ratio",
       "制造业增加值占GDP比重", ("工业增加值占GDP比重", "工业（含非制造业）")),
    _c("va-rate", "规上工业增加值率", "ratio", "规上工业增加值率"),
    _c("labour-productivity", "规上全员劳动生产率", "intensity",
       "规上制造业全员劳动生产率", ("规上工业全员劳动生产率", "工业（含非制造业）")),
    _c("tax-per-mu", "规上工业亩均税收", "intensity", "规上工业亩均税收"),
    _c("va-per-mu", "规上工业亩均增加值", "intensity", "规上工业亩均增加值"),
    _c("digital-core-share-gdp", "数字经济核心产业增加值占GDP比重", "ratio", "数字经济核心产业增加值占GDP比重"),
    _c("digital-core-va", "数字经济核心产业增加值", "flow", "数字经济核心产业增加值"),
    _c("high-tech-mfg-share", "高技术制造业增加值占规上工业比重", "ratio",
       "高技术制造业增加值占规上工业比重", "高技术制造业增加值占规上工业增加值比重"),
    _c("high-tech-industry-share", "高新技术产业增加值占规上工业增加值比重", "ratio",
       "高新技术产业增加值占规上工业增加值比重"),
    _c("strategic-emerging-share", "战略性新兴产业增加值占规上工业比重", "ratio",
       "战略性新兴产业增加值占规上工业比重"),
    _c("rd-intensity", "研发投入强度（占营业收入）", "ratio",
       "规上制造业企业研发费用占营业收入的比重",
       ("规上工业企业R&D经费支出占营业收入比重", "工业企业 R&D 经费"),
       ("规上制造业企业研究与试验发展经费占营业收入的比重", "R&D 经费")),
    _c("high-tech-firms", "高新技术企业数", "stock", "高新技术企业数"),
    _c("energy-intensity-decline", "单位增加值能耗降幅", "rate",
       "规上工业单位增加值能耗降幅", "规上工业单位工业增加值能耗下降"),
    _c("co2-intensity-decline", "单位增加值二氧化碳排放降幅", "rate",
       "单位工业增加值二氧化碳排放量降幅", "规上工业单位增加值二氧化碳排放降幅"),
    _c("water-intensity-decline", "万元工业增加值用水量降幅", "rate", "万元工业增加值用水量降幅"),
    _c("cluster-output", "“四群八链”集群规上企业总产值", "flow", "四群八链先进制造业集群规上企业总产值"),
    _c("above-scale-output", "规上工业总产值", "flow", "规上工业总产值"),
    _c("fortune500", "累计引进世界500强企业", "stock", "累计引进世界500强企业"),
    _c("patents-per-10k", "每万人口高价值发明专利拥有量", "stock", "每万人口高价值发明专利拥有量"),
    _c("patents-high-value", "高价值发明专利拥有量", "stock", "高价值发明专利拥有量"),
    _c("zhejiang-standards", "“浙江制造”标准", "stock", "制修订浙江制造标准", "浙江制造标准"),
    _c("pinzibiao-firms", "“品字标浙江制造”企业", "stock",
       "培育品字标浙江制造品牌企业", "品字标浙江制造认证企业"),
    _c("smart-factories", "省级智能工厂（数字化车间）", "stock", "累计建成省级智能工厂"),
    _c("green-factories", "国家级绿色工厂", "stock", "累计建成国家级绿色工厂"),
    _c("va-growth", "规上工业增加值增长", "rate", "规上工业增加值增长"),
    _c("mfg-investment", "制造业投资", "flow", "制造业投资"),
    _c("labour-productivity-growth", "规上工业全员劳动生产率增长", "rate", "规上工业全员劳动生产率增长"),
    _c("digital-core-mfg-growth", "数字经济核心产业制造业增加值增速", "rate", "数字经济核心产业制造业增加值增速"),
    _c("inefficient-firms-fixed", "高耗低效整治企业数", "flow", "高耗低效整治企业数"),
    _c("inefficient-land-freed", "高耗低效整治腾出用地面积", "flow", "高耗低效整治腾出用地面积"),
    _c("inefficient-energy-freed", "高耗低效整治腾出能耗空间", "flow", "高耗低效整治腾出能耗空间"),
)

_BY_NAME: dict[str, tuple[Concept, str]] = {n: (c, scope) for c in CONCEPTS for n, scope in c.names.items()}
_BY_KEY = {c.key: c for c in CONCEPTS}


def concept_of(name: str, code: str | None = None) -> tuple[Concept, str] | None:
    """The concept and scope label of a printed indicator name (or of an indicator code equal to a key)."""
    hit = _BY_NAME.get(normalise_name(name))
    if hit:
        return hit
    n = normalise_name(name)
    # "规上工业单位增加值能耗降幅" printed with a leading scope word or a trailing # mark
    for key, val in _BY_NAME.items():
        if n.endswith(key) and len(key) >= 6 and len(n) - len(key) <= 2:
            return val
    if code and code in _BY_KEY:
        return _BY_KEY[code], ""
    return None


def concept(key: str) -> Concept:
    return _BY_KEY[key]


def infer_measure(name: str, unit: str, code: str | None = None) -> str:
    """The measure of an indicator: from its concept, else from its unit and wording."""
    hit = concept_of(name, code)
    if hit:
        return hit[0].measure
    n = normalise_name(name)
    u = (unit or "").strip()
    if any(w in n for w in ("增长", "增速", "降幅", "下降")):
        return "rate"
    if u in ("%", "％", "‰") or "比重" in n or "占" in n:
        return "ratio"
    if "/" in u:
        return "intensity" if any(x in u.split("/")[0] for x in ("元",)) else "stock"
    if u in ("亿元", "万元", "元", "千元", "亩", "吨标准煤", "万吨标准煤"):
        return "flow"
    return "stock"
