"""The store holds exactly what the seed documents print.

Every expected value below was typed from the seed text (shared/seeds), not read from the YAML the
loader uses, so a typo in either shows up here. Numbers are written as on paper ("19.48"); the seed's
text extraction shows some of them with a blank after the decimal point ("19. 48").
"""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.targets.plans.loader import load_reference_data
from qunlian.platform.db import transaction
from qunlian.chains.models import ChainNode
from qunlian.regions.models import Town
from qunlian.targets.models import Indicator, Plan, PlanTask, Project, Target


@pytest.fixture
def store(engine):
    with transaction(engine) as s:
        load_reference_data(s, actor="test")
    with Session(engine) as s:
        yield s


def _indicators(s: Session, plan: str, table: str) -> dict[int, Indicator]:
    p = s.scalar(select(Plan).where(Plan.code == plan))
    assert p is not None, plan
    return {i.seq: i for i in p.indicators if i.table == table}


def _city(ind: Indicator) -> dict[int, tuple[str, float | None, str]]:
    return {t.year: (t.kind, t.value, t.text) for t in ind.targets if t.town_id is None}


V, LB, CUM, Q = "value", "lower_bound", "cumulative", "qualitative"

# --------------------------------------------------------------------------- 000 表1
# seq: (类别, 指标, 单位, 属性, 2020 text, 2020 value, {year: (kind, value, text)})
# fmt: off
MFG_14TH = {
    1: ("质效提升", "工业增加值占GDP比重", "%", "预期性", "53", 53, {2023: (LB, 50, ">50"), 2025: (LB, 50, ">50")}),
    2: ("质效提升", "规模以上工业增加值率", "%", "预期性", "21", 21, {2023: (LB, 20, ">20"), 2025: (LB, 20, ">20")}),
    3: ("质效提升", "规模以上工业全员劳动生产率", "万元/人", "预期性", "19.48", 19.48, {2023: (V, 29, "29"), 2025: (V, 30, "30")}),
    4: ("质效提升", "规模以上工业亩均税收", "万元/亩", "预期性", "25.1", 25.1, {2023: (V, 33, "33"), 2025: (V, 37, "37")}),
    5: ("质效提升", "规模以上工业亩均增加值", "万元/亩", "预期性", "102.9", 102.9, {2023: (V, 175, "175"), 2025: (V, 180, "180")}),
    6: ("结构优化", "数字经济核心产业增加值占GDP比重", "%", "预期性", "11", 11, {2023: (V, 12, "12"), 2025: (V, 15, "15")}),
    7: ("结构优化", "高技术制造业增加值占规上工业比重", "%", "预期性", "7.9", 7.9, {2023: (V, 10, "10"), 2025: (V, 12, "12")}),
    8: ("结构优化", "战略性新兴产业增加值占规模以上工业比重", "%", "预期性", "42.5", 42.5, {2023: (V, 46, "46"), 2025: (V, 50, "50")}),
    9: ("动能转换", "规模以上工业企业R&D经费支出占营业收入比重", "%", "预期性", "1.52", 1.52, {2023: (V, 1.62, "1.62"), 2025: (V, 2, "2")}),
    10: ("动能转换", "高新技术企业数", "家", "预期性", "297", 297, {2023: (V, 450, "450"), 2025: (V, 620, "620")}),
    11: ("绿色发展", "规模以上工业单位增加值能耗降幅", "%", "约束性", None, None, {2025: (CUM, 20, "[20]")}),
    12: ("绿色发展", "单位工业增加值二氧化碳排放量降幅", "%", "约束性", None, None, {2025: (Q, None, "完成上级下达任务")}),
    13: ("绿色发展", "万元工业增加值用水量降幅", "%", "约束性", None, None, {2025: (CUM, 16, "[16]")}),
}
# fmt: on


def test_000_table1_every_baseline_and_target(store):
    inds = _indicators(store, "pinghu-mfg-14th", "表1")
    assert sorted(inds) == list(range(1, 14))
    for seq, (cat, name, unit, nature, btext, bvalue, targets) in MFG_14TH.items():
        i = inds[seq]
        assert (i.category, i.name, i.unit, i.nature) == (cat, name, unit, nature), seq
        if btext is None:
            assert (i.baseline_year, i.baseline_value, i.baseline_text) == (None, None, None), seq
        else:
            assert (i.baseline_year, i.baseline_value, i.baseline_text) == (2020, bvalue, btext), seq
        assert _city(i) == targets, seq


# --------------------------------------------------------------------------- 003 附件1
# seq: (一级指标, 二级指标, 单位, 2023, 2025, 2027 as printed, 责任单位)
# fmt: off
CLUSTERS_A1 = {
    1: ("发展质效", "制造业增加值占GDP比重", "%", "50%以上", "50%以上", "50%以上", ["市经信局"]),
    2: ("发展质效", "“四群八链”先进制造业集群规上企业总产值", "亿元", "1250", "2050", "2800", ["市经信局"]),
    3: ("发展质效", "累计引进世界500强企业", "家", "33", "35", "37", ["市经信局"]),
    4: ("发展质效", "规上制造业全员劳动生产率", "万元/人", "31", "35", "37", ["市经信局"]),
    5: ("发展质效", "规上工业亩均增加值", "万元/亩", "205", "240", "250", ["市经信局"]),
    6: ("发展质效", "规上工业亩均税收", "万元/亩", "35", "36", "37", ["市经信局"]),
    7: ("创新动能", "规上制造业企业研发费用占营业收入的比重", "%", "2.2", "2.3", "2.4", ["市科技局"]),
    8: ("创新动能", "每万人口高价值发明专利拥有量", "件/万人", "15.6", "18", "20", ["市市场监管局"]),
    9: ("产业结构", "高技术制造业增加值占规上工业增加值比重", "%", "11", "12", "15", ["市经信局"]),
    10: ("产业结构", "高新技术产业增加值占规上工业增加值比重", "%", "69", "70", "71", ["市科技局"]),
    11: ("产业结构", "数字经济核心产业增加值", "亿元", "91", "110", "130", ["市经信局"]),
    12: ("质量品牌", "制修订“浙江制造”标准", "项", "5", "15", "25", ["市市场监管局"]),
    13: ("质量品牌", "培育“品字标浙江制造”品牌企业", "家", "7", "21", "35", ["市市场监管局"]),
    14: ("两化改造", "累计建成省级智能工厂(数字化车间)", "家", "6", "10", "15", ["市经信局"]),
    15: ("两化改造", "累计建成国家级绿色工厂", "家", "1", "2", "3", ["市经信局"]),
    16: ("两化改造", "规上工业单位增加值能耗降幅", "%", *["完成嘉兴下达任务"] * 3, ["市发改局"]),
    17: ("两化改造", "规上工业单位增加值二氧化碳排放降幅", "%", *["完成嘉兴下达任务"] * 3, ["市经信局"]),
}
# fmt: on


def _expected_kind(text: str) -> tuple[str, float | None]:
    if text == "50%以上":
        return LB, 50.0
    if text.startswith("完成") or text.startswith("待"):
        return Q, None
    return V, float(text)


def test_003_annex1_every_target_and_unit(store):
    inds = _indicators(store, "pinghu-clusters-2023-2027", "附件1")
    assert sorted(inds) == list(range(1, 18))
    for seq, (cat, name, unit, t23, t25, t27, units) in CLUSTERS_A1.items():
        i = inds[seq]
        assert (i.category, i.name, i.unit, i.responsible_units) == (cat, name, unit, units), seq
        assert i.baseline_value is None
        assert _city(i) == {y: (*_expected_kind(t), t) for y, t in ((2023, t23), (2025, t25), (2027, t27))}, seq


# --------------------------------------------------------------------------- 003 附件3
TOWNS = ["当湖街道", "经开区", "曹桥街道", "新埭镇", "新仓镇", "独山港区", "广陈镇", "林埭镇"]
# seq: (指标名称, 单位, the 8 town cells in column order, 全市, 责任部门)
# fmt: off
ANNEX3 = {
    1: ("规上工业增加值增长", "%", "5 10 8 10 10 8 5 5", "7", "市经信局"),
    2: ("制造业投资", "亿元", "0.8 41 8.2 12.2 12.2 40.5 1.55 1.55", "118", "市经信局"),
    3: ("规上工业亩均税收", "万元/亩", "15 49 27 14 24 37 14 17", "35", "市经信局"),
    4: ("规上工业亩均增加值", "万元/亩", "89 255 155 136 178 221 81 129", "205", "市经信局"),
    5: ("规上工业全员劳动生产率增长", "%", "6 6 6 6 6 6 6 6", "6", "市经信局"),
    6: ("规上制造业企业研发费用占营业收入的比重", "%", "4.4 2.2 3.6 4.3 3.3 2 3.5 3.2", "2.2", "市科技局"),
    7: ("高新技术产业增加值占规上工业增加值比重", "%", "42 82 74 70 71 49 48 74", "69", "市科技局"),
    8: ("高价值发明专利拥有量", "件", "51 367 123 86 64 154 70 38", "953", "市市场监管局"),
    9: ("数字经济核心产业制造业增加值增速", "%", "- 15 20 20 20 20 15 15", "15", "市经信局"),
    10: ("“浙江制造”标准", "项", "1 2 1 2 2 2 1 1", "5", "市市场监管局"),
    11: ("“品字标浙江制造”认证企业", "家", "1 2 1 2 2 2 1 1", "7", "市市场监管局"),
    12: ("高耗低效整治企业数", "家", "20 80 25 50 25 65 15 20", "300", "市经信局"),
    13: ("高耗低效整治腾出用地面积", "亩", "150 810 250 810 260 810 205 205", "3500", "市经信局"),
    14: ("高耗低效整治腾出能耗空间", "万吨标准煤", "0.015 0.75 0.975 0.225 0.225 2.25 0.03 0.03", "4.5", "市经信局"),
}
# fmt: on


def test_003_annex3_every_cell(store):
    towns = {t.id: t.name for t in store.scalars(select(Town))}
    inds = _indicators(store, "pinghu-clusters-2023-2027", "附件3")
    assert sorted(inds) == list(range(1, 16))
    for seq, (name, unit, cells, city, dept) in ANNEX3.items():
        i = inds[seq]
        assert (i.name, i.unit, i.responsible_units, i.category) == (name, unit, [dept], ""), seq
        assert _city(i) == {2023: (V, float(city), city)}, seq
        got = {towns[t.town_id]: (t.year, t.kind, t.value, t.text) for t in i.targets if t.town_id is not None}
        want = {
            town: (2023, V, float(text), text) for town, text in zip(TOWNS, cells.split(), strict=True) if text != "-"
        }
        assert got == want, seq
    # row 9: 当湖街道 printed "-" → nothing stored
    assert "当湖街道" not in {towns[t.town_id] for t in inds[9].targets if t.town_id}
    # row 15: one merged cell over towns and 全市 → one qualitative city target, no town targets
    i15 = inds[15]
    assert (i15.name, i15.unit, i15.responsible_units) == ("规上工业单位工业增加值能耗下降", "%", ["市发改局"])
    assert [(t.year, t.town_id, t.kind, t.value, t.text) for t in i15.targets] == [
        (2023, None, Q, None, "待嘉兴市发改委确定后另行下达")
    ]


def test_003_annex3_towns_add_up_where_the_seed_says_so(store):
    """Rows 2, 8, 12, 13, 14: the 8 towns add up to 全市 in the seed; the store keeps that."""
    inds = _indicators(store, "pinghu-clusters-2023-2027", "附件3")
    for seq in (2, 8, 12, 13, 14):
        towns = sum(t.value for t in inds[seq].targets if t.town_id is not None)
        city = next(t.value for t in inds[seq].targets if t.town_id is None)
        assert math.isclose(towns, city), seq
        assert inds[seq].aggregation == "sum"


def test_towns_in_column_order(store):
    towns = list(store.scalars(select(Town).order_by(Town.seq)))
    assert [t.name for t in towns] == TOWNS
    assert [t.kind for t in towns] == ["街道", "开发区", "街道", "镇", "镇", "开发区", "镇", "镇"]
    by_alias = {a: t.name for t in towns for a in t.aliases}
    assert by_alias["平湖经济技术开发区"] == "经开区"
    assert by_alias["独山港经济开发区"] == "独山港区"


# --------------------------------------------------------------------------- 003 附件2
# Lead unit (the first unit printed) of each of the 62 tasks, in order.
# fmt: off
LEADS = (
    ["市自然资源和规划局"] * 3 + ["市商务局", "市经信局", "市发改局", "市经信局", "市经信局"]  # 1–8
    + ["市商务局", "市发改局", "市发改局", "市经信局", "市经信局", "市发改局", "市发改局", "市委改革办", "市经信局"]  # 9–17
    + ["市经信局", "市金融发展服务中心", "市经信局", "市科技局", "市经信局", "市经信局", "市经信局", "市经信局"]  # 18–25
    + ["市商务局"] * 3  # 26–28
    + ["市市场监管局"] * 9  # 29–37
    + ["市经信局"] * 3  # 38–40
    + ["市科技局", "市经信局", "市经信局", "市科技局", "市经信局", "市科技局"]  # 41–46
    + ["市经信局", "市财政局", "市财政局", "市财政局", "市财政局", "市金融发展服务中心", "市自然资源和规划局", "市发改局"]  # 47–54
    + ["市发改局", "市发改局", "市教育局", "市人力社保局", "市委组织部(人才办)"]  # 55–59
    + ["市工业强市领导小组办公室"] * 3  # 60–62
)
# fmt: on


def test_003_annex2_62_tasks_with_their_lead_units(store):
    plan = store.scalar(select(Plan).where(Plan.code == "pinghu-clusters-2023-2027"))
    tasks = list(store.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.seq)))
    assert len(LEADS) == 62
    assert [t.seq for t in tasks] == list(range(1, 63))
    assert [t.lead_unit for t in tasks] == LEADS
    t = {x.seq: x for x in tasks}
    assert t[4].co_units == ["市发改局", "市科技局", "市经信局"]
    assert t[52].co_units == ["人行平湖市支行", "嘉兴银保监分局平湖监管组"]
    assert t[58].co_units == ["市教育局", "市总工会", "团市委"]
    assert (t[1].heading, t[3].heading, t[62].heading) == ("整治低效工业用地", "整治低效工业用地", "健全工作体系")
    assert t[1].section == "(一)着力空间腾换,优化制造业发展布局"
    assert t[62].section == "(七)保障措施"
    assert "完成低效工业用地改造开发2000亩以上" in t[1].content
    assert len({x.section for x in tasks}) == 7


# --------------------------------------------------------------------------- 000 附件 projects
def test_000_key_projects_count_and_investment(store):
    plan = store.scalar(select(Plan).where(Plan.code == "pinghu-mfg-14th"))
    projects = list(store.scalars(select(Project).where(Project.plan_id == plan.id).order_by(Project.seq)))
    assert len(projects) == 55
    # per 产业名称: 数字产业 7, 先进装备制造 19, 新材料 11, 时尚智造 7, 新能源 3, 生命健康 8
    counts: dict[str, int] = {}
    for p in projects:
        counts[p.industry] = counts.get(p.industry, 0) + 1
    assert counts == {"数字产业": 7, "先进装备制造": 19, "新材料": 11, "时尚智造": 7, "新能源": 3, "生命健康": 8}
    # column 总投资(亿元), typed from the seed in table order ("1 5" printed for 1.5)
    amounts = [
        10, 10, 10, 5, 5, 2.1, 1.5,
        150, 115, 110, 21.95, 6.4, 5, 3.5, 3, 2, 2, 1.6, 1.5, 1.5, 1.3, 1.25, 1.13, 1.07, 1.02, 1,
        130.8, 15, 10.9, 7.28, 5, 4.48, 3, 2.61, 1.2, 1, 1,
        6.87, 3, 2.29, 1.92, 1.5, 1.5, 1.3,
        115, 10, 6,
        20, 10, 6.4, 3.8, 3.37, 3, 2, 0.76,
    ]  # fmt: skip
    assert [p.total_investment_yi for p in projects] == amounts
    assert math.isclose(sum(p.total_investment_yi for p in projects), 854.8)
    by_investor = {p.investor: p for p in projects}
    assert by_investor["浙江巨传电子股份有限公司"].total_investment_text == "1 5"
    assert by_investor["浙江独山能源有限公司"].name == "年产400万吨PTA及210万吨智能化、功能性差别化纤维一体化项目"
    assert projects[7].investor == ""  # 商业火箭 row: the investor cell is empty in the seed
    assert all(p.chain_node_id is not None for p in projects)


# --------------------------------------------------------------------------- 004 关键指标
# seq: (类别, 指标, 单位, 属性, baseline (year, value, text) or None, 2025 (kind, value, text))
# fmt: off
ZJ = {
    1: ("发展质效", "制造业增加值占GDP比重", "%", "预期性", (2020, 32.7, "32.7"), (V, 33.3, "33.3左右")),
    2: ("发展质效", "规上制造业全员劳动生产率", "万元/人", "预期性", (2020, 23.5, "23.5"), (V, 33, "33")),
    3: ("发展质效", "规上工业亩均增加值", "万元/亩", "预期性", (2020, 136, "136"), (V, 180, "180")),
    4: ("技术创新", "规上制造业企业研究与试验发展经费占营业收入的比重", "%", "预期性", (2020, 2.8, "2.8"), (V, 3.4, "3.4")),
    5: ("技术创新", "规上工业企业每百亿元营业收入有效发明专利数", "件", "预期性", (2020, 103, "103"), (V, 140, "140")),
    6: ("产业结构", "数字经济核心产业增加值占GDP比重", "%", "预期性", (2020, 10.9, "10.9"), (V, 15, "15")),
    7: ("产业结构", "高技术制造业增加值占规上工业比重", "%", "预期性", (2020, 15.6, "15.6"), (V, 19, "19")),
    8: ("绿色发展", "规上工业单位增加值能耗降幅", "%", "约束性", None, (CUM, 16, "[16]以上")),
    9: ("绿色发展", "万元工业增加值用水量降幅", "%", "约束性", None, (CUM, 16, "[16]")),
    10: ("营商环境", "营商环境便利度指数", "", "预期性", (2019, 76.1, "76.1*"), (V, 90, "90")),
}
# fmt: on


def test_004_key_indicators(store):
    inds = _indicators(store, "zhejiang-amb-14th", "关键指标")
    assert sorted(inds) == list(range(1, 11))
    for seq, (cat, name, unit, nature, base, target) in ZJ.items():
        i = inds[seq]
        assert (i.category, i.name, i.unit, i.nature) == (cat, name, unit, nature), seq
        assert (i.baseline_year, i.baseline_value, i.baseline_text) == (base or (None, None, None)), seq
        assert _city(i) == {2025: target}, seq


# --------------------------------------------------------------------------- 002 附件
# (地区, 产业, 层级, 2021, 2023（预测）, 2025（预测）, 龙头企业)
# fmt: off
JX = [
    ("南湖区", "微电子", "长三角", 40, 100, 150, ["闻泰通讯", "斯达半导", "天通精电"]),
    ("秀洲区", "光伏新能源", "全国", 35, 120, 190, ["福莱特", "隆基", "阿特斯"]),
    ("嘉善县", "集成电路", "全国", 90, 120, 160, ["格科微电子", "日善", "立讯智造"]),
    ("平湖市", "高档数控机床", "长三角", 30, 50, 80, ["津上精密", "日本电产京利机械"]),
    ("海盐县", "核电关联及核技术应用", "全国", 90, 120, 150, ["秦山核电", "中核核电运行", "中核秦山同位素"]),
    ("海宁市", "泛半导体", "长三角", 30, 80, 140, ["天通控股", "天通瑞宏", "立昂东芯", "芯晖装备", "奕斯伟"]),
    ("桐乡市", "新材料", "全球", 150, 310, 430, ["巨石集团", "华友钴业", "桐昆", "新凤鸣"]),
    ("嘉兴经济技术开发区", "健康食品", "长三角", 10, 20, 30, ["玛氏食品", "雅培营养品", "荷美尔食品"]),
    ("嘉兴港区", "氢能", "长三角", 25, 50, 70, ["美锦国鸿", "重塑", "嘉化能源"]),
]
# fmt: on


def test_002_clusters_value_added_and_nodes(store):
    inds = _indicators(store, "jiaxing-clusters-2022", "附件")
    assert sorted(inds) == list(range(1, 10))
    nodes = {
        n.attributes["county"]: n
        for n in store.scalars(
            select(ChainNode).where(ChainNode.system == "jiaxing-clusters-2022", ChainNode.level == "cluster")
        )
    }
    assert len(nodes) == 9
    for seq, (county, industry, tier, v21, v23, v25, firms) in enumerate(JX, 1):
        i = inds[seq]
        assert i.unit == "亿元" and county in i.name and industry in i.name, seq
        assert (i.baseline_year, i.baseline_value, i.baseline_text) == (2021, v21, str(v21)), seq
        assert _city(i) == {2023: (V, v23, str(v23)), 2025: (V, v25, str(v25))}, seq
        n = nodes[county]
        assert (n.attributes["industry"], n.attributes["tier"], n.kind) == (industry, tier, tier), seq
        assert n.attributes["leading_firms"] == firms, seq
        assert n.parent is not None and n.parent.level == "system"
    # cross-checks printed in the body: 1 全球 + 3 全国 + 5 长三角; 2025 adds up to 1400 亿元
    assert [x[2] for x in JX].count("全球") == 1 and [x[2] for x in JX].count("全国") == 3
    assert sum(_city(i)[2025][1] for i in inds.values()) == 1400
    pinghu = nodes["平湖市"].attributes
    assert pinghu["institutes"] == ["杭州电子科技大学平湖数字技术创新研究院", "清华长三角研究院平湖创新中心"]
    assert pinghu["funds_text"] == "中小企业发展基金浙普创投基金、华睿科创3号基金"


def test_target_counts(store):
    """Nothing extra: 000 23, 003 51 (附件1) + 15 + 111 (附件3), 004 10, 002 18."""
    counts = {}
    for p in store.scalars(select(Plan)):
        counts[p.code] = sum(len(i.targets) for i in p.indicators)
    assert counts == {
        "pinghu-mfg-14th": 23,
        "pinghu-clusters-2023-2027": 51 + 15 + 8 * 14 - 1,
        "zhejiang-amb-14th": 10,
        "jiaxing-clusters-2022": 18,
    }
    assert (
        store.scalar(select(Target).where(Target.kind.not_in(["value", "lower_bound", "cumulative", "qualitative"])))
        is None
    )
