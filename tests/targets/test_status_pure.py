"""Status arithmetic, checked against numbers computed by hand (no database)."""

import math

import pytest

from qunlian.platform.i18n import translate
from qunlian.targets.lights import load_status_rules
from qunlian.targets.status import Observation, Series, TargetPoint, evaluate
from qunlian.core.periods import Period

RULES = load_status_rules()
P = Period.parse


def obs(period, value, cumulative=False):
    return Observation(P(period), value, cumulative=cumulative, source="test")


def tp(year, value, kind="value", text=None):
    return TargetPoint(year, kind, value, text or str(value))


def test_first_quarter_is_compared_with_the_pro_rated_annual_target():
    # 003 附件1 #6 规上工业亩均税收 2023 target 35; 001: 2023 Q1 亩均税收 12.2 万元/亩 (cumulative)
    s = Series("规上工业亩均税收", "万元/亩", "intensity", targets=[tp(2023, 35), tp(2025, 36), tp(2027, 37)],
               actuals=[obs("2023Q1", 12.2, cumulative=True)])
    r = evaluate(s, P("2023Q1"), RULES)
    assert r["reference_method"] == "pro_rata"
    assert r["reference"] == pytest.approx(35 * 3 / 12)  # 8.75, not 35
    assert r["completion"] == pytest.approx(12.2 / 8.75, abs=1e-4)  # 1.3943
    assert r["target"] == 35 and r["milestone"] == 2023
    assert r["status"] == "green"
    # annualised year-to-date figure at the 2023 milestone: 12.2 × 12/3
    assert r["projected"] == pytest.approx(48.8)
    assert "3/12" in r["reason"] and "8.75" in r["reason"]


def test_same_period_last_year_share_is_preferred_when_known():
    s = Series("规上工业亩均税收", "万元/亩", "intensity", targets=[tp(2023, 35)],
               actuals=[obs("2022Q1", 12.0, True), obs("2022", 40.0), obs("2023Q1", 12.2, True)])
    r = evaluate(s, P("2023Q1"), RULES)
    assert r["reference_method"] == "same_period_last_year"
    assert r["reference"] == pytest.approx(35 * 12 / 40)  # 10.5
    assert r["completion"] == pytest.approx(12.2 / 10.5, abs=1e-4)  # 1.1619


def test_compound_growth_needed_against_growth_so_far():
    # 000 表1 #4 亩均税收: 2020 25.1, 2025 target 37; invented 2024 actual 34
    s = Series("规模以上工业亩均税收", "万元/亩", "intensity", baseline_year=2020, baseline_value=25.1,
               targets=[tp(2023, 33), tp(2025, 37)], actuals=[obs("2024", 34.0)])
    r = evaluate(s, P("2024"), RULES)
    assert r["milestone"] == 2025 and r["milestone_target"] == 37
    need = 37 / 34 - 1  # 8.82 %
    have = (34 / 25.1) ** (1 / 4) - 1  # 7.88 %
    assert r["growth_needed"] == pytest.approx(need, abs=1e-6)
    assert r["growth_achieved"] == pytest.approx(have, abs=1e-6)
    assert "需年均增长 8.8%" in r["reason"] and "年均增长 7.9%" in r["reason"]
    english = translate(r["reason"], "en")  # the reason is a message key with parameters, shown per language
    assert "needs 8.8% a year" in english and "has managed 7.9% a year" in english
    assert "reason_en" not in r
    # 2024 has no printed target: the plan path between 2023 (33) and 2025 (37), compound
    assert r["reference_method"] == "plan_path"
    assert r["reference"] == pytest.approx(33 * math.sqrt(37 / 33), abs=1e-6)
    # projections: compound through 2020 and 2024 to 2025 = 34 × (1 + have)
    assert r["projection_method"] == "compound"
    assert r["projected"] == pytest.approx(34 * (1 + have), abs=1e-6)
    lin = 34 + (34 - 25.1) / 4  # linear through the two points
    assert r["projections"][0]["linear"] == pytest.approx(lin, abs=1e-6)
    # time elapsed 4/5, progress (34-25.1)/(37-25.1) = 0.7479; schedule ratio 0.9349 → amber
    assert r["time_elapsed"] == pytest.approx(0.8)
    assert r["progress"] == pytest.approx(8.9 / 11.9, abs=1e-4)
    assert r["checks"]["schedule"]["light"] == "amber"
    # projection 36.68 / 37 = 0.9913 → amber; completion 34 / 34.94 = 0.973 → amber
    assert r["status"] == "amber"


def test_behind_schedule_is_red():
    # 000 #5 亩均增加值: 2020 102.9, 2023 target 175; 2022 actual 140
    s = Series("规模以上工业亩均增加值", "万元/亩", "intensity", baseline_year=2020, baseline_value=102.9,
               targets=[tp(2023, 175), tp(2025, 180)], actuals=[obs("2022", 140.0)])
    r = evaluate(s, None, RULES)
    assert r["milestone"] == 2023
    assert r["growth_needed"] == pytest.approx(175 / 140 - 1)  # 25 %
    assert r["growth_achieved"] == pytest.approx(math.sqrt(140 / 102.9) - 1, abs=1e-6)  # 16.6 %
    assert r["time_elapsed"] == pytest.approx(2 / 3, abs=1e-4)
    assert r["progress"] == pytest.approx(37.1 / 72.1, abs=1e-4)
    assert r["checks"]["schedule"]["light"] == "red"  # 0.772 < 0.8
    assert r["projected"] == pytest.approx(140 * math.sqrt(140 / 102.9), abs=1e-4)  # 163.30
    assert r["status"] == "red"


def test_ratio_is_not_pro_rated_within_the_year():
    s = Series("规上制造业企业研发费用占营业收入的比重", "%", "ratio", targets=[tp(2023, 2.2)],
               actuals=[obs("2023Q2", 2.0, True)])
    r = evaluate(s, P("2023Q2"), RULES)
    assert r["reference_method"] == "annual_rate" and r["reference"] == 2.2
    assert r["completion"] == pytest.approx(2.0 / 2.2, abs=1e-4)
    assert r["status"] == "amber"


def test_stock_quarter_follows_the_path_from_last_year_end():
    s = Series("高新技术企业数", "家", "stock", targets=[tp(2023, 450)],
               actuals=[obs("2022", 400), obs("2023Q3", 430, True)])
    r = evaluate(s, P("2023Q3"), RULES)
    assert r["reference_method"] == "year_end_path"
    assert r["reference"] == pytest.approx(400 + 50 * 9 / 12)  # 437.5
    assert r["completion"] == pytest.approx(430 / 437.5, abs=1e-4)


def test_five_year_cumulative_target():
    # 000 表1 #11 能耗降幅 [20] by 2025 (plan 2021–2025); invented 2023 cumulative decline 10 %
    s = Series("规模以上工业单位增加值能耗降幅", "%", "rate", plan_start=2021,
               targets=[tp(2025, 20, "cumulative", "[20]")], actuals=[obs("2023", 10.0)])
    r = evaluate(s, None, RULES)
    assert r["target_kind"] == "cumulative"
    assert r["reference"] == pytest.approx(12.0)  # 20 × 3/5 on the plan path
    assert r["completion"] == pytest.approx(10 / 12, abs=1e-4)
    assert r["projected"] == pytest.approx(10 + 10 / 3 * 2, abs=1e-4)  # 16.67, linear
    assert r["projection_method"] == "linear"
    assert r["status"] == "red"


def test_lower_bound_met_and_held():
    s = Series("工业增加值占GDP比重", "%", "ratio", baseline_year=2020, baseline_value=53,
               targets=[tp(2023, 50, "lower_bound", ">50"), tp(2025, 50, "lower_bound", ">50")],
               actuals=[obs("2023", 52.0)])
    r = evaluate(s, None, RULES)
    assert r["completion"] == pytest.approx(52 / 50)
    assert r["milestone"] == 2025
    assert "已高于 2025 年底线 50%" in r["reason"]
    assert r["status"] == "green"


def test_lower_is_better():
    s = Series("单位能耗", "吨标准煤/万元", "intensity", direction="lower", targets=[tp(2023, 0.5)],
               actuals=[obs("2023", 0.55)])
    r = evaluate(s, None, RULES)
    assert r["completion"] == pytest.approx(0.5 / 0.55, abs=1e-4)
    assert r["status"] == "amber"


def test_qualitative_and_missing():
    s = Series("单位工业增加值二氧化碳排放量降幅", "%", "rate",
               targets=[TargetPoint(2025, "qualitative", None, "完成上级下达任务")])
    r = evaluate(s, None, RULES)
    assert r["status"] == "grey" and r["actual"] is None and "尚无实际值" in r["reason"]
    s.actuals.append(obs("2025", 1))
    r = evaluate(s, None, RULES)
    assert r["status"] == "green" and "完成上级下达任务" in r["reason"]


def test_as_of_ignores_later_actuals():
    s = Series("x", "亿元", "flow", targets=[tp(2023, 100)], actuals=[obs("2023Q1", 20, True), obs("2023Q2", 55, True)])
    r = evaluate(s, P("2023Q1"), RULES)
    assert r["period"] == "2023Q1" and r["reference"] == 25 and r["completion"] == 0.8
    assert r["status"] == "red"
    r = evaluate(s, P("2023Q2"), RULES)
    assert r["period"] == "2023Q2" and r["reference"] == 50 and r["completion"] == 1.1


def test_baseline_alone_is_not_judged_but_shows_growth_needed():
    s = Series("规模以上工业亩均增加值", "万元/亩", "intensity", baseline_year=2020, baseline_value=102.9,
               targets=[tp(2023, 175), tp(2025, 180)], actuals=[obs("2020", 102.9)])
    r = evaluate(s, None, RULES)
    assert r["status"] == "grey" and r["completion"] is None and r["reference_method"] == "baseline"
    assert r["growth_needed"] == pytest.approx((175 / 102.9) ** (1 / 3) - 1, abs=1e-6)  # 19.4 % a year
    assert "基期值" in r["reason"] and "需年均增长 19.4%" in r["reason"]


def test_no_target_after_the_last_one():
    # 003 附件3 decomposes 2023 only: a 2024 figure has no target to be judged against
    s = Series("制造业投资", "亿元", "flow", targets=[tp(2023, 118)], actuals=[obs("2023", 120), obs("2024", 100)])
    r = evaluate(s, P("2024"), RULES)
    assert r["status"] == "grey" and r["target"] is None and "规划未设 2024 年目标" in r["reason"]
    r = evaluate(s, P("2023"), RULES)
    assert r["status"] == "green" and r["completion"] == pytest.approx(120 / 118, abs=1e-4)


def test_the_light_says_which_rule_set_it():
    # 品字标-like count: this year's target met exactly (100 %), but the path to 2027 falls short: red,
    # and the sentence beside the light says it judges the 2027 target, with the projection
    s = Series("品字标认证企业", "家", "level", targets=[tp(2023, 15), tp(2024, 21), tp(2027, 60)],
               actuals=[obs("2023", 15), obs("2024", 21)])
    r = evaluate(s, P("2024"), RULES)
    assert r["completion"] == pytest.approx(1.0) and r["status"] == "red"
    assert r["decided_by"] == "projection"
    assert r["why"] == "红灯看的是 2027 年目标：按线性趋势推算 2027 年为 39家（目标的 65.0%）"
    assert "judged on the 2027 target" in translate(r["why"], "en")
    # on track for the end target: the light is this period's, and says so
    s = Series("品字标认证企业", "家", "level", targets=[tp(2024, 20), tp(2027, 30)],
               actuals=[obs("2023", 17), obs("2024", 21)])
    r = evaluate(s, P("2024"), RULES)
    assert r["status"] == "green" and r["why"].startswith("绿灯看的是")
