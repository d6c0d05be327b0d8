"""The task ledger (任务台账) of a plan's responsibility table (003 附件2: 62 tasks).

Quarterly progress notes with evidence, status, and closure (销号) with who and when; overdue and
silent tasks are warned. "五年任务、年度计划、季度跟踪" (003 保障措施七).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.targets.lookup import TargetsError, get_plan
from qunlian.targets.evidence import evidence_by_task
from qunlian.core.errors import Problem, ValidationFailed
from qunlian.core.messages import N_, Message
from qunlian.core.periods import Period, PeriodError
from qunlian.platform.db import audit
from qunlian.targets.models import Plan, PlanTask, TaskProgress

_BY_YEAR = re.compile(r"(?:到|至)\s*(20\d\d)\s*年")
_EVERY_YEAR = ("每年", "年度")


def current_quarter(today: dt.date | None = None) -> Period:
    d = today or dt.date.today()
    return Period(d.year, "quarter", (d.month - 1) // 3 + 1)


def effective_due_year(task: PlanTask, plan: Plan) -> tuple[int, str]:
    """(year, how): the stored due year, else the '到2027年' in the text, else the plan's last year."""
    if task.due_year:
        return task.due_year, "stored"
    years = [int(y) for y in _BY_YEAR.findall(task.content)]
    if years:
        return max(years), "text"
    return plan.end_year, "plan_end"


def _task(session: Session, plan: Plan, seq: int) -> PlanTask:
    t = session.scalar(select(PlanTask).where(PlanTask.plan_id == plan.id, PlanTask.seq == seq))
    if t is None:
        raise TargetsError(f"规划 {plan.code} 没有第 {seq} 项任务")
    return t


def _progress(session: Session, task: PlanTask) -> list[TaskProgress]:
    return list(session.scalars(select(TaskProgress).where(TaskProgress.task_id == task.id)
                                .order_by(TaskProgress.entered_at, TaskProgress.id)))


def task_row(session: Session, plan: Plan, task: PlanTask, as_of: Period,
             files: list[dict[str, Any]] | None = None, progress: list[TaskProgress] | None = None) -> dict[str, Any]:
    """One ledger row; `files` (evidence metadata) and `progress` when the caller fetched them for many tasks."""
    prog = _progress(session, task) if progress is None else progress
    if files is None:
        files = evidence_by_task(session, [task.id])[task.id]
    due, due_how = effective_due_year(task, plan)
    warnings: list[dict[str, str]] = []
    closed = task.status == "closed"
    recurring = any(w in task.content for w in _EVERY_YEAR)
    if not closed:
        if as_of.year > due:
            warnings.append({"kind": "overdue", "message": f"逾期：应于 {due} 年底前完成，尚未销号"})
        elif as_of.year == due and as_of.kind != "year" and as_of.index >= (4 if as_of.kind == "quarter" else 10):
            warnings.append({"kind": "due_soon", "message": f"临期：应于 {due} 年底前完成"})
        periods = {p.period for p in prog}
        this_q = str(Period(as_of.year, "quarter", (as_of.end.month - 1) // 3 + 1))
        if this_q not in periods and task.plan.start_year <= as_of.year:
            warnings.append({"kind": "no_progress", "message": f"{this_q} 未报送进展（季度跟踪）"})
        if recurring and not any(p.startswith(str(as_of.year)) for p in periods):
            warnings.append({"kind": "annual_silent", "message": f"年度任务：{as_of.year} 年尚无进展记录"})
    return {
        "seq": task.seq, "section": task.section, "heading": task.heading, "content": task.content,
        "lead_unit": task.lead_unit, "co_units": list(task.co_units or []), "due_year": due, "due_from": due_how,
        "recurring": recurring, "status": task.status, "closed_by": task.closed_by,
        "closed_at": task.closed_at.isoformat() if task.closed_at else None,
        "progress": [{"id": p.id, "period": p.period, "note": p.note, "evidence": list(p.evidence or []),
                      "files": [f for f in files if f["progress_id"] == p.id],
                      "entered_by": p.entered_by, "entered_at": p.entered_at.isoformat() if p.entered_at else None}
                     for p in prog],
        # uploaded evidence (metadata only; the bytes are fetched one file at a time on download)
        "evidence_count": len(files), "evidence_files": files,
        "warnings": warnings,
    }


def list_tasks(session: Session, plan_code: str, as_of: str | Period | None = None, unit: str | None = None,
               status: str | None = None) -> list[dict[str, Any]]:
    """The ledger: every task with progress, status and warnings at `as_of` (default: this quarter).

    `unit` keeps tasks led or co-owned by that unit; `status` keeps open | in_progress | closed | warned.
    """
    plan = get_plan(session, plan_code)
    p = Period.parse(as_of) if isinstance(as_of, (str, int)) else (as_of or current_quarter())
    tasks = session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.seq)).all()
    files = evidence_by_task(session, [t.id for t in tasks])  # one query for the whole ledger
    progress: dict[int, list[TaskProgress]] = {t.id: [] for t in tasks}
    for prog in session.scalars(select(TaskProgress).where(TaskProgress.task_id.in_(list(progress)))
                                .order_by(TaskProgress.entered_at, TaskProgress.id)):
        progress[prog.task_id].append(prog)
    return filter_tasks([task_row(session, plan, t, p, files[t.id], progress[t.id]) for t in tasks], unit, status)


def filter_tasks(rows: list[dict[str, Any]], unit: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """The ledger rows led or co-owned by `unit`, in `status` (open | in_progress | closed | warned)."""
    if unit:
        rows = [r for r in rows if unit == r["lead_unit"] or unit in r["co_units"]]
    if status == "warned":
        rows = [r for r in rows if r["warnings"]]
    elif status:
        rows = [r for r in rows if r["status"] == status]
    return rows


def _check_period(plan: Plan, period: str) -> Period:
    try:
        p = Period.parse(period)
    except PeriodError as exc:
        raise ValidationFailed([Problem(str(exc), N_("写成 2024Q2"), column="period", value=period)]) from None
    if not plan.start_year <= p.year <= plan.end_year:
        raise ValidationFailed([Problem(Message("期间 %(period)s 不在规划期 %(start)s—%(end)s 内", period=str(p),
                                                start=plan.start_year, end=plan.end_year),
                                        N_("填写规划期内的季度"), column="period", value=period)])
    return p


def add_progress(session: Session, plan_code: str, seq: int, period: str, note: str, entered_by: str,
                 evidence: list[str] | None = None) -> dict[str, Any]:
    """Record a (quarterly) progress note with evidence references; an open task becomes in_progress."""
    plan = get_plan(session, plan_code)
    task = _task(session, plan, seq)
    p = _check_period(plan, period)
    if task.status == "closed":
        raise TargetsError(f"任务 {seq} 已于 {task.closed_at:%Y-%m-%d} 由 {task.closed_by} 销号，不能再报进展")
    if not note.strip():
        raise ValidationFailed([Problem(N_("进展说明为空"), N_("写明本期做了什么、完成到哪一步"), column="note")])
    session.add(TaskProgress(task_id=task.id, period=str(p), note=note.strip(), evidence=list(evidence or []),
                             entered_by=entered_by))
    if task.status == "open":
        task.status = "in_progress"
    audit(session, entered_by, "targets.task.progress", "plan_task", f"{plan.code}#{seq}", period=str(p))
    session.flush()
    return task_row(session, plan, task, p)


def close_task(session: Session, plan_code: str, seq: int, closed_by: str, note: str,
               evidence: list[str] | None = None, at: dt.datetime | None = None) -> dict[str, Any]:
    """销号: close a task with who, when, a closing note and its evidence."""
    plan = get_plan(session, plan_code)
    task = _task(session, plan, seq)
    if task.status == "closed":
        raise TargetsError(f"任务 {seq} 已于 {task.closed_at:%Y-%m-%d} 由 {task.closed_by} 销号")
    if not note.strip():
        raise ValidationFailed([Problem(N_("销号说明为空"), N_("写明完成情况和依据"), column="note")])
    when = at or dt.datetime.now(dt.timezone.utc)
    p = Period(when.year, "quarter", (when.month - 1) // 3 + 1)
    session.add(TaskProgress(task_id=task.id, period=str(p), note=f"销号：{note.strip()}",
                             evidence=list(evidence or []), entered_by=closed_by, entered_at=when))
    task.status, task.closed_by, task.closed_at = "closed", closed_by, when
    audit(session, closed_by, "targets.task.close", "plan_task", f"{plan.code}#{seq}", note=note.strip())
    session.flush()
    return task_row(session, plan, task, p)


def reopen_task(session: Session, plan_code: str, seq: int, by: str, reason: str) -> dict[str, Any]:
    """Undo a closure (the closure stays in the progress history and the audit log)."""
    plan = get_plan(session, plan_code)
    task = _task(session, plan, seq)
    if task.status != "closed":
        raise TargetsError(f"任务 {seq} 未销号")
    now = dt.datetime.now(dt.timezone.utc)
    p = Period(now.year, "quarter", (now.month - 1) // 3 + 1)
    session.add(TaskProgress(task_id=task.id, period=str(p), note=f"撤销销号：{reason}", entered_by=by))
    audit(session, by, "targets.task.reopen", "plan_task", f"{plan.code}#{seq}", reason=reason,
          closed_by=task.closed_by, closed_at=task.closed_at.isoformat() if task.closed_at else None)
    task.status, task.closed_by, task.closed_at = "in_progress", None, None
    session.flush()
    return task_row(session, plan, task, p)
