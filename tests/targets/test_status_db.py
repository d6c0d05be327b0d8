"""Status over the store: the seeds' own actuals, town status, alignment across levels."""

import pytest

from qunlian.targets.actuals import add_actual
from qunlian.targets.demo_actuals import load_seed_actuals
from qunlian.targets.service import alignment, plan_status, town_ranking, town_rollup
from qunlian.targets.lookup import TargetsError

CLUSTERS = "pinghu-clusters-2023-2027"
MFG14 = "pinghu-mfg-14th"
KEYS = {"indicator", "unit", "period", "actual", "target", "milestone", "completion", "projected", "status", "reason"}


def test_first_quarter_tax_per_mu_against_both_plans(session):
    load_seed_actuals(session)
    rows = {r["code"]: r for r in plan_status(session, CLUSTERS, as_of="2023Q1")}
    r = rows["tax-per-mu"]
    assert KEYS <= set(r)
    assert (r["period"], r["actual"], r["target"], r["milestone"]) == ("2023Q1", 12.2, 35, 2023)
    assert r["reference"] == pytest.approx(8.75) and r["reference_method"] == "pro_rata"
    assert r["completion"] == pytest.approx(1.3943, abs=1e-4) and r["status"] == "green"
    # 附件3 #3 prints the same indicator with the same 全市 target: the city figure counts there too
    assert rows["t23-tax-per-mu"]["completion"] == pytest.approx(1.3943, abs=1e-4)
    r = {x["code"]: x for x in plan_status(session, MFG14, as_of="2023Q1")}["tax-per-mu"]
    assert r["target"] == 33 and r["reference"] == pytest.approx(8.25)  # 000 表1: 2023 target 33
    assert r["completion"] == pytest.approx(12.2 / 8.25, abs=1e-4)
    # baselines only: 2020 values are there, no judgement without a later figure
    r = {x["code"]: x for x in plan_status(session, MFG14, as_of="2020")}["va-per-mu"]
    assert r["actual"] == 102.9 and r["period"] == "2020"


def test_status_with_annual_actuals_and_reason(session):
    load_seed_actuals(session)
    add_actual(session, MFG14, "va-per-mu", "2022", 140, entered_by="t", source="test")
    r = {x["code"]: x for x in plan_status(session, MFG14, as_of="2022")}["va-per-mu"]
    assert r["milestone"] == 2023 and r["milestone_target"] == 175
    assert r["growth_needed"] == pytest.approx(0.25)
    assert r["growth_achieved"] == pytest.approx((140 / 102.9) ** 0.5 - 1, abs=1e-6)
    assert r["status"] == "red" and "需年均增长 25.0%" in r["reason"]


def test_town_status_and_ranking(session):
    for town, v in {"经开区": 52, "当湖街道": 14, "独山港区": 37}.items():
        add_actual(session, CLUSTERS, "t23-tax-per-mu", "2023", v, town=town, entered_by="t", source="test")
    rows = plan_status(session, CLUSTERS, as_of="2023", town="经开区")
    assert {r["code"] for r in rows} == {r["code"] for r in rows if r["code"].startswith("t23-")}
    r = {x["code"]: x for x in rows}["t23-tax-per-mu"]
    assert (r["actual"], r["target"], r["town"]) == (52, 49, "经开区")
    assert r["completion"] == pytest.approx(52 / 49, abs=1e-4) and r["status"] == "green"
    ranked = town_ranking(session, CLUSTERS, "t23-tax-per-mu", "2023")
    assert [(x["town"], x["rank"]) for x in ranked[:3]] == [("经开区", 1), ("独山港区", 2), ("当湖街道", 3)]
    with pytest.raises(TargetsError, match="不在规划"):
        plan_status(session, MFG14, town="经开区")


def test_rollup_of_town_actuals(session):
    vals = dict(zip(["当湖街道", "经开区", "曹桥街道", "新埭镇", "新仓镇", "独山港区", "广陈镇", "林埭镇"],
                    [1, 40, 8, 12, 13, 41, 1.5, 1.5]))
    for town, v in vals.items():
        add_actual(session, CLUSTERS, "t23-mfg-investment", "2023", v, town=town, entered_by="t", source="test")
    add_actual(session, CLUSTERS, "t23-mfg-investment", "2023", 118, entered_by="t", source="test")
    r = {x["code"]: x for x in town_rollup(session, CLUSTERS, "2023")}
    assert r["t23-mfg-investment"]["rollup"] == pytest.approx(118.0)
    assert r["t23-mfg-investment"]["consistent"] is True
    assert r["t23-tax-per-mu"]["rollup"] is None  # not aggregable


def test_alignment_flags_va_per_mu(session):
    rows = {e["concept"]: e for e in alignment(session)}
    e = rows["va-per-mu"]
    by_plan = {p["plan"]: p for p in e["plans"]}
    assert by_plan["zhejiang-amb-14th"]["targets"][2025]["value"] == 180
    assert by_plan[MFG14]["targets"][2025]["value"] == 180
    assert by_plan[CLUSTERS]["targets"][2025]["value"] == 240
    assert [p["level"] for p in e["plans"]][0] == "province"
    flag = next(f for f in e["flags"] if f["kind"] == "different_target" and f["year"] == 2025)
    assert flag["values"] == {"zhejiang-amb-14th": 180, CLUSTERS: 240, MFG14: 180}
    assert not any(f["kind"] == "weaker_than_upper" for f in e["flags"])
    # 研发强度: 平湖 2025 (2.3 in 003, 2 in 000) below 浙江 3.4 → weaker than the level above; scopes differ
    kinds = {f["kind"] for f in rows["rd-intensity"]["flags"]}
    assert {"weaker_than_upper", "different_scope"} <= kinds
