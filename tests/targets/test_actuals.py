"""Entering actuals: validation with reasons, all-or-nothing batches, revision history, seeds."""

import pytest
from sqlalchemy import func, select

from qunlian.targets.actuals import ActualInput, actual_history, add_actual, add_actuals, import_actuals
from qunlian.targets.demo_actuals import load_seed_actuals
from qunlian.core.errors import ValidationFailed
from qunlian.platform.models import AuditLog
from qunlian.targets.models import Actual

CLUSTERS = "pinghu-clusters-2023-2027"
MFG14 = "pinghu-mfg-14th"


def _count(s):
    return s.scalar(select(func.count(Actual.id)))


def test_correction_keeps_the_old_value_and_who_changed_it(session):
    a1 = add_actual(session, CLUSTERS, "tax-per-mu", "2023", 33.9, entered_by="统计员甲", source="统计快报")
    a2 = add_actual(session, CLUSTERS, "规上工业亩均税收", "2023年", 34.2, entered_by="统计员乙", source="统计年报")
    assert a1.indicator_id == a2.indicator_id  # a city figure by name goes to 附件1, not to 附件3
    hist = actual_history(session, CLUSTERS, "tax-per-mu", "2023")
    assert [(h["value"], h["revision"], h["superseded"], h["entered_by"]) for h in hist] == [
        (34.2, 2, False, "统计员乙"), (33.9, 1, True, "统计员甲")]
    # the same figure again changes nothing
    add_actual(session, CLUSTERS, "tax-per-mu", "2023", 34.2, entered_by="统计员乙", source="统计年报")
    assert len(actual_history(session, CLUSTERS, "tax-per-mu", "2023")) == 2
    assert session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "targets.actuals")) == 3


def test_unit_conversion_and_refusals(session):
    a = add_actual(session, CLUSTERS, "tax-per-mu", "2023Q1", 122000, unit="元/亩", cumulative=True,
                   entered_by="t", source="税务局")
    assert a.value == pytest.approx(12.2) and a.cumulative is True
    a = add_actual(session, CLUSTERS, "cluster-output", "2023", 13000000, unit="万元", entered_by="t", source="x")
    assert a.value == pytest.approx(1300)  # 万元 → 亿元
    a = add_actual(session, CLUSTERS, "t23-mfg-investment", "2023", 410000, unit="万元", town="经开区",
                   entered_by="t", source="发改局")
    assert a.value == pytest.approx(41.0)
    before = _count(session)
    bad = [
        ("no-such-indicator", "2023", 1, None, None, "没有这个指标"),
        ("tax-per-mu", "2019", 30, None, None, "不在规划期内"),  # 003 runs 2023–2027 (2022 as base)
        ("tax-per-mu", "2028", 30, None, None, "不在规划期内"),
        ("tax-per-mu", "2023", 30, "万元/人", None, "不能换算"),
        ("tax-per-mu", "2023", 30, "家", None, "不能换算"),
        ("t23-mfg-investment", "2023", 3, None, "上海市", "未知镇街道"),
        ("tax-per-mu", "2023", "三十", None, None, "不是数字"),
        ("tax-per-mu", "2023Q5", 3, None, None, "无法识别的期间"),
        # one check for every way a figure comes in: finite and within the unit's plausible range
        ("tax-per-mu", "2023", "nan", None, None, "必须是有限的数字"),
        ("tax-per-mu", "2023", "inf", None, None, "必须是有限的数字"),
        ("tax-per-mu", "2023", "-inf", None, None, "必须是有限的数字"),
        ("tax-per-mu", "2023", "abc", None, None, "不是数字"),
        ("tax-per-mu", "2023", -1e308, None, None, "超出可能的范围"),
        ("tax-per-mu", "2023", 1e308, None, None, "超出可能的范围"),
        ("cluster-output", "2023", 2.8e16, "元", None, "超出可能的范围"),  # 2.8 亿亿元: digits too many
    ]
    for ind, period, value, unit, town, reason in bad:
        with pytest.raises(ValidationFailed) as e:
            add_actual(session, CLUSTERS, ind, period, value, unit=unit, town=town, entered_by="t", source="x")
        assert reason in str(e.value), (ind, period, str(e.value))
    # 000 is not decomposed to towns: a town figure is refused
    with pytest.raises(ValidationFailed, match="未分解到 经开区"):
        add_actual(session, MFG14, "tax-per-mu", "2023", 40, town="经开区", entered_by="t", source="x")
    assert _count(session) == before


def test_batch_is_all_or_nothing(session, tmp_path):
    before = _count(session)
    items = [ActualInput("tax-per-mu", "2023", 34, row=2), ActualInput("va-per-mu", "2023", 200, row=3),
             ActualInput("va-per-mu", "2031", 200, row=4), ActualInput("tax-per-mu", "2023", 35, row=5)]
    with pytest.raises(ValidationFailed) as e:
        add_actuals(session, CLUSTERS, items, entered_by="t", source="x", file="a.csv")
    msg = str(e.value)
    assert "第 4 行" in msg and "不在规划期内" in msg and "重复" in msg and "第 5 行" in msg
    assert _count(session) == before
    f = tmp_path / "actuals.csv"
    f.write_text("指标,期间,数值,单位,镇街道,累计,来源\n"
                 "规上工业亩均税收,2023Q2,18.1,万元/亩,,是,税务局季报\n"
                 "t23-mfg-investment,2023,40.2,亿元,独山港区,,发改局\n"
                 "t23-mfg-investment,2023,1.1,亿元,广陈镇,,\n", encoding="utf-8-sig")
    res = import_actuals(session, CLUSTERS, f, entered_by="导入员", source="默认来源")
    assert res["added"] == 3
    rows = session.scalars(select(Actual).order_by(Actual.id.desc()).limit(3)).all()
    assert {r.source for r in rows} == {"税务局季报", "发改局", "默认来源"}
    assert any(r.cumulative and r.period == "2023Q2" for r in rows)


def test_seed_actuals(session):
    res = load_seed_actuals(session)
    assert res["added"] > 0
    again = load_seed_actuals(session)
    assert again["added"] == 0 and again["revised"] == 0  # idempotent
    h = actual_history(session, MFG14, "tax-per-mu")
    assert {(x["period"], x["value"], x["cumulative"]) for x in h} == {("2020", 25.1, False), ("2023Q1", 12.2, True)}
    h = actual_history(session, CLUSTERS, "tax-per-mu")
    assert [(x["period"], x["value"]) for x in h] == [("2023Q1", 12.2)]
    assert "12.2万元" in h[0]["source"] and "001" in h[0]["source"]
