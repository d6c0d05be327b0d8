"""Invented progress for the demo county's task ledgers, so the 任务台账 shows itself working.

The plans' tasks are real (loaded from the seeds); what the demo adds is invented and says so in every
note: quarterly progress reports for about half the tasks (some quarters missed, so the ledger warns),
some tasks 销号 with a short evidence file, the rest untouched (overdue where their due year has
passed). Everything goes through the ledger's own functions (add_progress, add_evidence, close_task),
so it is validated and audited like a user's entry. The same seed gives the same ledger.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.core.periods import Period
from qunlian.targets.evidence import add_evidence
from qunlian.targets.ledger import add_progress, close_task
from qunlian.targets.lookup import get_plan
from qunlian.targets.models import PlanTask, TaskProgress

#: what a demo progress note says it did (invented; every note is marked as such)
STAGES = ("制定年度工作方案，明确责任分工", "召开专题推进会，梳理问题清单", "完成阶段性目标，形成工作小结",
          "对接重点企业和项目，推进落地", "开展督查评估，整改发现的问题")
CLOSED_SHARE, REPORTING_SHARE = 0.15, 0.5


def _quarters(start_year: int, today: dt.date) -> list[str]:
    """Every quarter from the plan's start to the last one that has ended."""
    last = Period(today.year, "quarter", (today.month - 1) // 3 + 1)
    out, year, q = [], start_year, 1
    while (year, q) < (last.year, last.index):
        out.append(str(Period(year, "quarter", q)))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def load_demo_progress(session: Session, plan_code: str, seed: int = 2024, actor: str = "demo",
                       today: dt.date | None = None) -> dict[str, Any]:
    """Invented progress on a plan's tasks (only on tasks with none yet: running it again adds nothing)."""
    plan = get_plan(session, plan_code)
    tasks = list(session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.seq)))
    reported = set(session.scalars(select(TaskProgress.task_id).where(TaskProgress.task_id.in_([t.id for t in tasks]))))
    quarters = [q for q in _quarters(plan.start_year, today or dt.date.today()) if int(q[:4]) <= plan.end_year]
    counts = {"reported": 0, "closed": 0, "notes": 0}
    for task in tasks:
        # each task its own draw: a task's fate does not depend on the others (running again adds nothing)
        rnd = random.Random(f"{seed}:{plan_code}:{task.seq}")
        roll = rnd.random()
        if task.id in reported or task.status == "closed" or roll >= CLOSED_SHARE + REPORTING_SHARE or not quarters:
            continue
        by = f"{task.lead_unit or '牵头单位'}（演示）"
        # the recent quarters, one or two of them skipped: the ledger's "未报送进展" warning shows itself
        recent = quarters[-rnd.randint(3, 6):]
        periods = [q for q in recent if rnd.random() > 0.2] or recent[-1:]
        for q in periods:
            add_progress(session, plan.code, task.seq, q, f"演示进展（虚构）：{rnd.choice(STAGES)}。", entered_by=by)
            counts["notes"] += 1
        counts["reported"] += 1
        if roll < CLOSED_SHARE:
            text = (f"演示佐证材料（虚构，非真实文件）\n规划：{plan.title}\n任务 {task.seq}：{task.heading or task.content[:40]}\n"
                    f"完成情况：已按计划完成。\n").encode("utf-8")
            add_evidence(session, plan.code, task.seq, f"任务{task.seq}完成情况（演示）.txt", text, by=by,
                         description="演示佐证材料（虚构）")
            close_task(session, plan.code, task.seq, closed_by=by, note="演示销号（虚构）：任务已完成，佐证材料已上传。")
            counts["closed"] += 1
    return counts
