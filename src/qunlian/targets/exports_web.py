"""Downloads of the targets tables (issue #11 item 4): the plan status table, the towns' target
reconciliation and the task ledger, as .xlsx or .csv — exactly the rows the page shows for the same
query parameters and user (a town user's default is its own town, as on the page) — and the columns
of the API's downloads (``/api/targets/{plan}/status|reconcile?format=xlsx|csv``).

The figures come from the same calls as the pages (``qunlian.targets.web``); this module only says
which columns a file has. Plan targets and statuses are public plan text and statistics, not firm
figures, so these downloads are not audited (an audit line would also reset every page cache).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import get_db
from qunlian.platform.web.exports import (
    ExportColumn,
    download,
    file_format,
    header_choice,
)
from qunlian.targets.lookup import plan_towns
from qunlian.targets.models import Plan
from qunlian.targets.service import LIGHTS, list_tasks, reconcile_plan, town_targets
from qunlian.targets.web import (
    AGGREGATIONS,
    TASK_STATUS,
    VERDICTS,
    WARNINGS,
    _as_of,
    _default_town,
    _plan_figures,
    _resolve_town,
    _tasks_plan,
    plan_or_404,
    targets_user,
)

router = APIRouter(include_in_schema=False)


def _number_or_text(value: Any, text: str | None) -> Any:
    """A target as the plan writes it: the number when the plan wrote a plain number ("7"), else the
    plan's words ("50%以上", "2000亩以上") — a qualifier is part of the target."""
    if text is None or text == "":
        return value
    try:
        return value if value is not None and float(text) == float(value) else text
    except ValueError:
        return text


def _percent(fraction: Any) -> Any:
    return None if fraction is None else round(fraction * 100, 2)


# /targets/{plan}: one row per indicator, the page's columns (table and seq apart, the code added)
STATUS_COLUMNS = (
    ExportColumn("table", "表"), ExportColumn("seq", "序号"), ExportColumn("code", "指标代码", width=24),
    ExportColumn("indicator", "指标", width=36), ExportColumn("unit", "单位"), ExportColumn("period", "期间"),
    ExportColumn("actual", "实际值"), ExportColumn("is_estimate", "估计值"), ExportColumn("reference", "参照值"),
    ExportColumn("completion_pct", "完成率（%）", value=lambda r: _percent(r.get("completion"))),
    ExportColumn("milestone", "节点年份"),
    ExportColumn("milestone_target", "节点目标",
                 value=lambda r: _number_or_text(r.get("milestone_target"), r.get("milestone_target_text"))),
    ExportColumn("projected", "节点预测"), ExportColumn("status", "状态", labels=LIGHTS),
    ExportColumn("reason", "状态说明", width=60),
)


def reconcile_columns(towns: list[Any]) -> list[ExportColumn]:
    """/targets/{plan}/towns, 目标核对: one row per indicator, one column per town (its target)."""
    return [
        ExportColumn("code", "指标代码", width=24), ExportColumn("indicator", "指标", width=36),
        ExportColumn("unit", "单位"), ExportColumn("aggregation", "汇总规则", labels=AGGREGATIONS),
        ExportColumn("city_target", "全市目标",
                     value=lambda r: _number_or_text(r.get("city_target"), r.get("city_target_text"))),
        *(ExportColumn(f"town_{t.code.replace('-', '_')}", t.name, value=lambda r, name=t.name: _number_or_text(
            (r["towns"].get(name) or {}).get("value"), (r["towns"].get(name) or {}).get("text"))) for t in towns),
        ExportColumn("towns_total", "各镇合计"), ExportColumn("verdict", "核对结果", labels=VERDICTS),
        ExportColumn("reason", "说明", width=50),
    ]


# /tasks: one row per task, what each card of the ledger says
TASK_COLUMNS = (
    ExportColumn("seq", "序号"), ExportColumn("heading", "重点任务", width=30),
    ExportColumn("content", "任务内容", width=60), ExportColumn("lead_unit", "牵头单位", width=20),
    ExportColumn("co_units", "配合单位", width=30), ExportColumn("due_year", "期限（年底）"),
    ExportColumn("recurring", "每年"), ExportColumn("status", "状态", labels=TASK_STATUS),
    ExportColumn("warning_kinds", "提醒类型", labels=WARNINGS, value=lambda t: [w["kind"] for w in t["warnings"]]),
    ExportColumn("warnings", "提醒", value=lambda t: "；".join(w["message"] for w in t["warnings"]), width=40),
    ExportColumn("last_progress", "最近进展期间", value=lambda t: t["progress"][-1]["period"] if t["progress"] else None),
    ExportColumn("progress_count", "进展记录（条）", value=lambda t: len(t["progress"])),
    ExportColumn("evidence_count", "佐证材料（个）"), ExportColumn("closed_by", "销号人"),
    ExportColumn("closed_at", "销号时间",
                 value=lambda t: t["closed_at"][:16].replace("T", " ") if t.get("closed_at") else None),
)


def status_file(db: Session, plan: Plan, rows: list[dict[str, Any]], period: str | None, town: str | None,
                fmt: str, headers: str):
    codes = {t.name: t.code for t in plan_towns(db, plan)}
    name = f"targets-{plan.code}-status-{period or 'latest'}" + (f"-{codes.get(town, 'town')}" if town else "")
    return download(STATUS_COLUMNS, rows, fmt, headers, name=name, title="指标状态")


def reconcile_file(db: Session, plan: Plan, rows: list[dict[str, Any]], year: int, fmt: str, headers: str):
    return download(reconcile_columns(plan_towns(db, plan)), rows, fmt, headers,
                    name=f"targets-{plan.code}-reconcile-{year}", title="目标核对")


@router.get("/targets/{plan_code}/status.xlsx")
@router.get("/targets/{plan_code}/status.csv")
def status_export(
    request: Request,
    plan_code: str,
    as_of: str | None = Query(None, max_length=10),
    town: str | None = Query(None, max_length=40),
    headers: str = Depends(header_choice),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    """The status table of /targets/{plan} for the same as_of and town (a town user: its own by default)."""
    plan = plan_or_404(db, plan_code)
    town_name = _resolve_town(db, user, plan, town) if town is not None else _default_town(db, user, plan)
    fig = _plan_figures(db, plan, _as_of(as_of), town_name)
    return status_file(db, plan, fig["rows"], fig["as_of"], town_name, file_format(request), headers)


@router.get("/targets/{plan_code}/reconcile.xlsx")
@router.get("/targets/{plan_code}/reconcile.csv")
def reconcile_export(
    request: Request,
    plan_code: str,
    year: int | None = Query(None, ge=2000, le=2100),
    headers: str = Depends(header_choice),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    """The target reconciliation of /targets/{plan}/towns for the same year (the plan's text: every town)."""
    plan = plan_or_404(db, plan_code)
    if not plan_towns(db, plan):
        raise HTTPException(404)
    years = sorted({r["year"] for r in town_targets(db, plan.code)["rows"]})
    year = year if year in years else (years[0] if years else plan.start_year)
    return reconcile_file(db, plan, reconcile_plan(db, plan.code, year), year, file_format(request), headers)


@router.get("/tasks.xlsx")
@router.get("/tasks.csv")
def tasks_export(
    request: Request,
    plan: str | None = Query(None, max_length=80),
    unit: str | None = Query(None, max_length=120),
    status: str | None = Query(None, pattern="^(open|in_progress|closed|warned)?$"),
    overdue: bool = False,
    as_of: str | None = Query(None, max_length=10),
    headers: str = Depends(header_choice),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    """The task ledger of /tasks with the same filters, one row per task."""
    p = _tasks_plan(db, plan)
    period = _as_of(as_of)
    rows = list_tasks(db, p.code, as_of=period, unit=unit or None, status=status or None)
    if overdue:
        rows = [r for r in rows if any(w["kind"] == "overdue" for w in r["warnings"])]
    return download(TASK_COLUMNS, rows, file_format(request), headers, name=f"tasks-{p.code}", title="任务台账")


__all__ = ["STATUS_COLUMNS", "TASK_COLUMNS", "reconcile_columns", "reconcile_file", "router", "status_file"]