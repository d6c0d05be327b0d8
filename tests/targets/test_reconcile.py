"""Town decomposition (003 附件3): reconciliation verdicts on the real figures, roll-up, ranking."""

import math
import re
from pathlib import Path

import pytest

from qunlian.targets.reconcile import rank_towns, reconcile, rollup
from qunlian.targets.service import reconcile_plan

CLUSTERS = "pinghu-clusters-2023-2027"

SEED_003 = Path("/work/shared/seeds/003_86af085e02e72586.txt")
TOWNS = ["当湖街道", "经开区", "曹桥街道", "新埭镇", "新仓镇", "独山港区", "广陈镇", "林埭镇"]


def _seed_rows() -> dict[str, list[str]]:
    """附件3 rows parsed straight from the seed text, independently of the plan YAML."""
    text = SEED_003.read_text(encoding="utf-8")
    part = text[text.index("附件3\n2023年"):]
    rows = {}
    for line in part.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 12 and cells[0].isdigit():
            rows[re.sub(r"\s+", "", cells[1])] = cells[2:11]  # 8 towns + 全市
    return rows


@pytest.mark.skipif(not SEED_003.exists(), reason="seed documents not available")
def test_seed_sums_computed_independently():
    rows = _seed_rows()
    sums = {k: (math.fsum(float(x) for x in v[:8]), float(v[8])) for k, v in rows.items()
            if all(re.fullmatch(r"\d+(\.\d+)?", x) for x in v)}
    assert sums["制造业投资(亿元)"] == pytest.approx((118.0, 118.0))  # 0.8+41+8.2+12.2+12.2+40.5+1.55+1.55
    assert sums["高耗低效整治企业数(家)"] == (300.0, 300.0)
    assert sums["高耗低效整治腾出用地面积(亩)"] == (3500.0, 3500.0)
    assert sums["高耗低效整治腾出能耗空间(万吨标准煤)"] == pytest.approx((4.5, 4.5))
    assert sums["高价值发明专利拥有量(件)"] == (953.0, 953.0)
    assert sums["“浙江制造”标准(项)"] == (12.0, 5.0)
    assert sums["“品字标浙江制造”认证企业(家)"] == (12.0, 7.0)


def test_reconcile_real_decomposition(session):
    rows = {r["indicator"]: r for r in reconcile_plan(session, CLUSTERS, 2023)}
    inv = rows["制造业投资"]
    assert inv["city_target"] == 118 and inv["towns_total"] == pytest.approx(118.0) and inv["verdict"] == "equal"
    assert inv["towns"]["独山港区"]["value"] == 40.5 and inv["unit"] == "亿元"
    assert rows["高耗低效整治企业数"]["verdict"] == "equal" and rows["高耗低效整治企业数"]["towns_total"] == 300
    assert rows["高耗低效整治腾出用地面积"]["towns_total"] == 3500 and rows["高耗低效整治腾出用地面积"]["verdict"] == "equal"
    assert rows["高耗低效整治腾出能耗空间"]["towns_total"] == pytest.approx(4.5)
    assert rows["高耗低效整治腾出能耗空间"]["verdict"] == "equal"
    assert rows["高价值发明专利拥有量"]["verdict"] == "equal"
    # counts whose towns add up to more than the city: 1+2+1+2+2+2+1+1 = 12
    std = rows["“浙江制造”标准"]
    assert (std["city_target"], std["towns_total"], std["verdict"], std["difference"]) == (5, 12, "exceeds", 7)
    assert "余量 7项" in std["reason"] and std["covers"] is True
    pzb = rows["“品字标浙江制造”认证企业"]
    assert (pzb["city_target"], pzb["towns_total"], pzb["verdict"], pzb["difference"]) == (7, 12, "exceeds", 5)
    for name in ("规上工业亩均税收", "规上工业亩均增加值", "规上工业增加值增长",
                 "规上制造业企业研发费用占营业收入的比重", "数字经济核心产业制造业增加值增速"):
        assert rows[name]["verdict"] == "not_aggregable" and rows[name]["towns_total"] is None, name
    assert rows["规上工业亩均税收"]["city_target"] == 35
    # the printed "-" for 当湖街道 (row 9) is no target, not a zero
    assert rows["数字经济核心产业制造业增加值增速"]["towns"]["当湖街道"]["value"] is None
    # 15 of 附件3's indicators, every verdict one of the four
    assert len(rows) == 15
    assert {r["verdict"] for r in rows.values()} <= {"equal", "exceeds", "short", "not_aggregable"}


def test_reconcile_verdicts_pure():
    towns = {"a": 1.0, "b": 2.0}
    r = reconcile(3.0, towns, "sum")
    assert (r.verdict, r.towns_total, r.difference, r.covers) == ("equal", 3.0, 0.0, True)
    r = reconcile(2.5, towns, "sum")
    assert (r.verdict, r.difference, r.covers) == ("exceeds", 0.5, True) and "余量 0.5" in r.reason
    r = reconcile(4.0, towns, "sum")
    assert (r.verdict, r.difference, r.covers) == ("short", -1.0, False) and "缺口 1" in r.reason
    # lower is better: towns exceeding the city's cap do not cover it
    assert reconcile(2.5, towns, "sum", direction="lower").covers is False
    r = reconcile(35, {"a": 15, "b": 49}, "not_aggregable")
    assert r.verdict == "not_aggregable" and r.towns_total is None
    # a weighted mean needs the bases; with them (亩) it reconciles
    assert reconcile(35, {"a": 15, "b": 49}, "weighted_mean").verdict == "not_aggregable"
    r = reconcile(35, {"a": 15, "b": 49}, "weighted_mean", weights={"a": 100, "b": 100 * 20 / 14})
    assert r.verdict == "equal" and r.towns_total == pytest.approx(35)
    assert reconcile(10, {"a": 1.0, "b": None}, "sum").verdict == "not_aggregable"


def test_rollup_and_ranking():
    assert rollup({"a": 1, "b": 2, "c": None}, "sum") == 3
    assert rollup({"a": 10, "b": 40}, "weighted_mean", {"a": 3, "b": 1}) == pytest.approx(17.5)
    assert rollup({"a": 10}, "not_aggregable") is None
    ranked = rank_towns([{"town": "甲", "actual": 30, "target": 27}, {"town": "乙", "actual": 50, "target": 49},
                         {"town": "丙", "actual": 12, "target": 15}, {"town": "丁", "actual": None, "target": 14}])
    assert [r["town"] for r in ranked] == ["甲", "乙", "丙", "丁"]  # 111 %, 102 %, 80 %, no data
    assert [r["rank"] for r in ranked] == [1, 2, 3, None]
