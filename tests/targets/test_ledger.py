"""The task ledger of 003 附件2: 62 tasks, progress with evidence, 销号 with who and when, warnings."""

import datetime as dt

import pytest

from qunlian.targets.lookup import TargetsError
from qunlian.targets.ledger import add_progress, close_task, list_tasks, reopen_task
from qunlian.core.errors import ValidationFailed

CLUSTERS = "pinghu-clusters-2023-2027"


def test_ledger_lists_the_62_tasks(session):
    rows = list_tasks(session, CLUSTERS, as_of="2024Q2")
    assert len(rows) == 62 and [r["seq"] for r in rows] == list(range(1, 63))
    t4 = rows[3]
    assert t4["lead_unit"] == "市商务局" and t4["co_units"] == ["市发改局", "市科技局", "市经信局"]
    assert rows[5]["due_year"] == 2027 and rows[5]["due_from"] in ("text", "stored")  # "到2027年…"
    assert all(r["status"] == "open" for r in rows)
    assert all(any(w["kind"] == "no_progress" for w in r["warnings"]) for r in rows)
    assert len(list_tasks(session, CLUSTERS, as_of="2024Q2", unit="市市场监管局")) >= 9


def test_progress_close_and_overdue(session):
    r = add_progress(session, CLUSTERS, 20, "2024Q2", "新增省级专精特新 12 家", entered_by="经信局张三",
                     evidence=["2024Q2-专精特新名单.pdf"])
    assert r["status"] == "in_progress" and r["progress"][0]["evidence"] == ["2024Q2-专精特新名单.pdf"]
    assert not any(w["kind"] == "no_progress" for w in r["warnings"])
    when = dt.datetime(2027, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
    r = close_task(session, CLUSTERS, 20, closed_by="工业强市办李四", note="累计小巨人 20 家、省级 100 家，达标",
                   evidence=["验收报告.pdf"], at=when)
    assert r["status"] == "closed" and r["closed_by"] == "工业强市办李四"
    assert r["closed_at"].startswith("2027-11-30")
    assert r["progress"][-1]["note"].startswith("销号：")
    with pytest.raises(TargetsError, match="已于 2027-11-30 由 工业强市办李四 销号"):
        add_progress(session, CLUSTERS, 20, "2027Q4", "x", entered_by="x")
    # 2028: every task still open is overdue (the plan ends 2027); the closed one is not
    rows = {r["seq"]: r for r in list_tasks(session, CLUSTERS, as_of="2028Q1")}
    assert not rows[20]["warnings"]
    assert any(w["kind"] == "overdue" for w in rows[6]["warnings"])
    assert list_tasks(session, CLUSTERS, as_of="2028Q1", status="closed")[0]["seq"] == 20
    r = reopen_task(session, CLUSTERS, 20, by="李四", reason="复核发现数据口径有误")
    assert r["status"] == "in_progress" and r["closed_by"] is None


def test_bad_progress_refused(session):
    with pytest.raises(ValidationFailed, match="不在规划期"):
        add_progress(session, CLUSTERS, 1, "2022Q4", "x", entered_by="x")
    with pytest.raises(ValidationFailed, match="进展说明为空"):
        add_progress(session, CLUSTERS, 1, "2024Q1", "  ", entered_by="x")
    with pytest.raises(TargetsError, match="没有第 99 项任务"):
        add_progress(session, CLUSTERS, 99, "2024Q1", "x", entered_by="x")
