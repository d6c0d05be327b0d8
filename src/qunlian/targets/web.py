"""Plan targets (规划目标) and the task ledger (任务台账): pages, forms and the JSON API.

Every figure comes from qunlian.targets; this module only checks who may do what, reads
the request and renders. Roles: admin, analyst, department and town see the targets pages; chain and
enterprise users get 403 (as /users does for the roles it is not for). A town user sees its own
town's decomposed status and actuals, never another town's (404, like a missing town).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qunlian.platform.cache import StoreCache
from qunlian.targets.service import (
    add_actual,
    add_progress,
    alignment,
    close_task,
    filter_tasks,
    list_tasks,
    plan_status,
    reconcile_plan,
    reopen_task,
    status_summary,
    town_rollup_and_map,
)
from qunlian.targets.service import LIGHTS
from qunlian.targets.lookup import TargetsError, get_plan, indicators_of, plan_towns
from qunlian.targets.service import (
    decomposed_indicators,
    indicator_view,
    latest_period,
    notes_by_item,
    notes_for,
    notes_on_indicator,
    plan_periods,
    town_targets,
)
from qunlian.core.errors import Problem, QunlianError, ValidationFailed
from qunlian.core.periods import Period, PeriodError
from qunlian.regions.models import Town
from qunlian.targets.models import Actual, Indicator, Plan, PlanTask, Target, TaskEvidence, TaskProgress
from qunlian.platform.permissions import Principal, can
from qunlian.targets.access import may_enter_actual, may_enter_some_actual, may_manage_task, own_town
from qunlian.targets.views_preset import targets_views
from qunlian.platform import i18n
from qunlian.platform.i18n import N_
from qunlian.platform.web.deps import API_AUTH_RESPONSES, api_user, get_db, lang_of, render, require
from qunlian.platform.web.exports import FILE_RESPONSES, api_format, header_choice

router = APIRouter()

AGGREGATIONS = {"sum": N_("可相加"), "weighted_mean": N_("加权平均"), "not_aggregable": N_("不可相加")}
VERDICTS = {"equal": N_("相等"), "exceeds": N_("超出"), "short": N_("不足"), "not_aggregable": N_("不可相加")}
TASK_STATUS = {"open": N_("未开始"), "in_progress": N_("推进中"), "closed": N_("已销号")}
WARNINGS = {"overdue": N_("逾期"), "due_soon": N_("临期"), "no_progress": N_("本季度未报进展"), "annual_silent": N_("年度无进展")}


# --------------------------------------------------------------------------- access


# the targets pages and API: admin, analyst, department and town (``targets.read``)
targets_user = require("targets.read")


def plan_or_404(db: Session, code: str) -> Plan:
    plan = db.scalar(select(Plan).where(Plan.code == code)) if len(code) <= 80 else None
    if plan is None:
        raise HTTPException(404)
    return plan


def _resolve_town(db: Session, user: Principal, plan: Plan, town: str | None) -> str | None:
    """The town whose view is asked for, as a name; a town user only ever gets its own (else 404)."""
    towns = {t.code: t.name for t in plan_towns(db, plan)}
    names = set(towns.values())
    if town in (None, "", "全市", "city"):
        return None
    name = towns.get(town, town)
    if name not in names:
        raise HTTPException(404)
    if user.role == "town" and name != own_town(db, user):
        raise HTTPException(404)
    return name


def _default_town(db: Session, user: Principal, plan: Plan) -> str | None:
    own = own_town(db, user)
    return own if own and own in {t.name for t in plan_towns(db, plan)} else None


def _as_of(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(Period.parse(value))
    except PeriodError:
        raise HTTPException(400) from None


# --------------------------------------------------------------------------- pages


@router.get("/targets", include_in_schema=False)
def targets_index(request: Request, db: Session = Depends(get_db), user: Principal = Depends(targets_user)):
    return render(request, "targets/targets.html", {"plans": _PLAN_PAGES.get(db, ("index",), lambda: _plan_list(db)),
                                                    "lights": LIGHTS})


def _plan_list(db: Session) -> list[dict[str, Any]]:
    """Every plan with its latest period's light summary (the same for every user who may read plans)."""
    plans = []
    for p in db.scalars(select(Plan).order_by(Plan.start_year, Plan.code)):
        period = latest_period(db, p.code)
        rows = plan_status(db, p.code, as_of=period) if period else []
        tasks = db.scalar(select(PlanTask.id).where(PlanTask.plan_id == p.id).limit(1)) is not None
        plans.append({"code": p.code, "title": p.title, "level": p.level, "region": p.region,
                      "start_year": p.start_year, "end_year": p.end_year, "indicators": len(indicators_of(db, p)),
                      "period": period, "summary": status_summary(rows), "decomposed": bool(plan_towns(db, p)),
                      "tasks": tasks})
    return plans


@router.get("/targets/alignment", include_in_schema=False)
def targets_alignment(request: Request, db: Session = Depends(get_db), user: Principal = Depends(targets_user)):
    return render(request, "targets/targets_alignment.html",
                  {"groups": _PLAN_PAGES.get(db, ("alignment",), lambda: alignment(db))})


@router.get("/targets/{plan_code}", include_in_schema=False)
def plan_page(
    request: Request,
    plan_code: str,
    as_of: str | None = Query(None, max_length=10),
    town: str | None = Query(None, max_length=40),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    plan = plan_or_404(db, plan_code)
    town_name = _resolve_town(db, user, plan, town) if town is not None else _default_town(db, user, plan)
    fig = _plan_figures(db, plan, _as_of(as_of), town_name)
    own = own_town(db, user)
    towns = [t for t in fig["towns"] if own is None or t["name"] == own]
    return render(request, "targets/targets_plan.html", {
        "plan": plan, "rows": fig["rows"], "summary": fig["summary"], "as_of": fig["as_of"],
        "periods": fig["periods"], "town": town_name, "towns": towns, "lights": LIGHTS,
        # the link shows only where the page it opens lets the user enter something (no 403 behind it)
        "can_enter": may_enter_some_actual(user) and bool(_entry_indicators(db, user, plan)),
        "decomposed": bool(fig["towns"]),
        "notes": notes_for(plan.code), "note_index": notes_by_item(plan.code),
    })


# The plan page's statuses, periods and towns change only with the plan's indicators, targets and
# actuals (a new actual or a correction adds a row; a reload may change target values in place).
_PLAN_PAGES = StoreCache("plan-page", (Plan, Indicator, Target, Actual, Town), extra=(
    select(func.sum(case((Actual.superseded.is_(True), 1), else_=0))),
    select(func.sum(Target.value)),
))  # fmt: skip


def _plan_figures(db: Session, plan: Plan, as_of: str | None, town: str | None) -> dict[str, Any]:
    """Statuses at `as_of` (default: the latest period with actuals) for the city or one town, the
    periods to choose from and the plan's towns; the caller has checked that the user may see `town`."""

    def compute() -> dict[str, Any]:
        period = as_of or latest_period(db, plan.code)
        rows = plan_status(db, plan.code, as_of=period, town=town)
        return {"as_of": period, "rows": rows, "summary": status_summary(rows), "periods": plan_periods(db, plan.code),
                "towns": [{"code": t.code, "name": t.name} for t in plan_towns(db, plan)]}

    return _PLAN_PAGES.get(db, ("plan", plan.code, as_of, town), compute)


@router.get("/targets/{plan_code}/indicators/{code}", include_in_schema=False)
def indicator_page(
    request: Request,
    plan_code: str,
    code: str,
    town: str | None = Query(None, max_length=40),
    as_of: str | None = Query(None, max_length=10),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    plan = plan_or_404(db, plan_code)
    if len(code) > 80 or code not in {i.code for i in indicators_of(db, plan)}:
        raise HTTPException(404)
    town_name = _resolve_town(db, user, plan, town)
    try:
        view = indicator_view(db, plan.code, code, town=town_name, as_of=_as_of(as_of))
    except TargetsError:
        raise HTTPException(404) from None
    _ = i18n.translator(lang_of(request))
    unit = view["unit"]
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "data": [_("实际值"), _("目标值"), _("预测值")]},
        "grid": {"left": 70, "right": 30, "top": 50, "bottom": 30},
        "xAxis": {"type": "category", "data": [str(y) for y in view["years"]]},
        "yAxis": {"type": "value", "name": unit, "scale": True},
        "series": [
            {"name": _("实际值"), "type": "line", "connectNulls": True, "data": _rounded(view["actuals"])},
            {"name": _("目标值"), "type": "line", "connectNulls": True, "lineStyle": {"type": "dashed"},
             "symbol": "diamond", "data": _rounded(view["targets"])},
            {"name": _("预测值"), "type": "line", "connectNulls": True, "lineStyle": {"type": "dotted"},
             "data": _rounded(view["projections"])},
        ],
    }
    return render(request, "targets/targets_indicator.html", {
        "plan": plan, "v": view, "chart": chart, "lights": LIGHTS,
        "can_enter": may_enter_actual(user, view["responsible_units"]),
        "saved": request.query_params.get("saved"),
        "notes": notes_on_indicator(plan.code, code, town_name),
    })


def _rounded(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 4) for v in values]


@router.get("/targets/{plan_code}/towns", include_in_schema=False)
def towns_page(
    request: Request,
    plan_code: str,
    year: int | None = Query(None, ge=2000, le=2100),
    period: str | None = Query(None, max_length=10),
    indicator: str | None = Query(None, max_length=80),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    plan = plan_or_404(db, plan_code)
    towns = plan_towns(db, plan)
    if not towns:
        raise HTTPException(404)
    own = own_town(db, user)
    figures = _PLAN_PAGES.get(db, ("towns", plan.code, year, period, indicator, own),
                              lambda: _towns_figures(db, plan, year, period, indicator, own))
    return render(request, "targets/targets_towns.html", {
        "plan": plan, "towns": towns, **figures, "verdicts": VERDICTS, "lights": LIGHTS, "aggregations": AGGREGATIONS,
        "all_towns": own is None,  # a town sees the plan's targets for every town, but only its own actuals
        "own": own, "note_index": notes_by_item(plan.code),
    })


def _towns_figures(db: Session, plan: Plan, year: int | None, period: str | None, indicator: str | None,
                   own: str | None) -> dict[str, Any]:
    """The towns page's tables and map for the chosen year, period and indicator (``own``: a town user's town name)."""
    inds = decomposed_indicators(db, plan.code)
    table = town_targets(db, plan.code)
    years = sorted({r["year"] for r in table["rows"]})
    periods = [p for p in plan_periods(db, plan.code) if Period.parse(p).kind == "year"]
    # opens on data: the newest target year whose towns have actuals for that very year (actual and
    # target side by side), else the newest target year and the newest period with towns' actuals
    town_years = {str(p) for p in db.scalars(select(Actual.period).join(Indicator, Indicator.id == Actual.indicator_id)
                                              .where(Indicator.plan_id == plan.id, Actual.town_id.is_not(None),
                                                     Actual.superseded.is_(False)).distinct())}
    if year not in years:
        matched = [y for y in years if str(y) in town_years]
        year = matched[-1] if matched else (years[-1] if years else plan.start_year)
    per = _as_of(period) or (str(year) if str(year) in town_years else
                             next((p for p in periods if p in town_years), periods[0] if periods else str(year)))
    codes = [i["code"] for i in inds]
    default = targets_views().town_map_default.get(plan.code)
    ind = indicator if indicator in codes else (default if default in codes else codes[0])
    rollup, tmap = town_rollup_and_map(db, plan.code, per, ind, own_town=own)
    return {"indicators": inds, "table": table, "years": years, "year": year,
            "reconcile": reconcile_plan(db, plan.code, year), "periods": periods, "period": per,
            "rollup": rollup, "map": tmap, "indicator": ind, "ind": next(i for i in inds if i["code"] == ind)}


# --------------------------------------------------------------------------- entering an actual


def _entry_indicators(db: Session, user: Principal, plan: Plan) -> list[Any]:
    return [i for i in indicators_of(db, plan) if may_enter_actual(user, list(i.responsible_units or []))]


@router.get("/targets/{plan_code}/actuals/new", include_in_schema=False)
def actual_form(
    request: Request,
    plan_code: str,
    indicator: str | None = Query(None, max_length=80),
    town: str | None = Query(None, max_length=40),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    plan = plan_or_404(db, plan_code)
    inds = _entry_indicators(db, user, plan)
    if not inds:
        raise HTTPException(403, detail="forbidden")
    form = {"indicator": indicator or "", "town": town or "", "period": "", "value": "", "unit": "",
            "cumulative": "", "source": ""}
    return _actual_page(request, db, plan, inds, form, [])


def _actual_page(request: Request, db: Session, plan: Plan, inds: list[Any], form: dict[str, Any],
                 problems: list[Problem], status_code: int = 200):
    return render(request, "targets/targets_actual.html", {
        "plan": plan, "indicators": inds, "towns": plan_towns(db, plan), "form": form, "problems": problems,
    }, status_code=status_code)


@router.post("/targets/{plan_code}/actuals", include_in_schema=False)
def actual_submit(
    request: Request,
    plan_code: str,
    indicator: str = Form("", max_length=80),
    period: str = Form("", max_length=20),
    value: str = Form("", max_length=40),
    unit: str = Form("", max_length=40),
    town: str = Form("", max_length=40),
    cumulative: str = Form("", max_length=10),
    source: str = Form("", max_length=200),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    plan = plan_or_404(db, plan_code)
    inds = _entry_indicators(db, user, plan)
    if not inds:
        raise HTTPException(403, detail="forbidden")
    form = {"indicator": indicator, "period": period, "value": value, "unit": unit, "town": town,
            "cumulative": cumulative, "source": source}
    allowed = {i.code for i in inds}
    if indicator and indicator not in allowed and indicator in {i.code for i in indicators_of(db, plan)}:
        raise HTTPException(403, detail="forbidden")  # a department entering another unit's indicator
    try:
        add_actual(db, plan.code, indicator, period, value, entered_by=user.username,  # type: ignore[arg-type]
                   unit=unit or None, town=town or None, cumulative=cumulative in ("1", "on", "true"),
                   source=source)
    except ValidationFailed as exc:
        db.rollback()
        return _actual_page(request, db, plan, inds, form, exc.problems, status_code=400)
    except QunlianError as exc:
        db.rollback()
        return _actual_page(request, db, plan, inds, form, [Problem(str(exc))], status_code=400)
    db.commit()
    target = f"/targets/{quote(plan.code)}/indicators/{quote(indicator)}?saved=1"
    if town:
        target += f"&town={quote(town)}"
    return RedirectResponse(target, status_code=303)


# --------------------------------------------------------------------------- task ledger


def _tasks_plan(db: Session, plan: str | None) -> Plan:
    """The plan asked for, else the first plan with a task ledger (404 when there is none)."""
    if plan:
        return plan_or_404(db, plan)
    p = db.scalar(select(Plan).join(PlanTask, PlanTask.plan_id == Plan.id).order_by(Plan.id).limit(1))
    if p is None:
        raise HTTPException(404)
    return p


_LEDGERS = StoreCache("task-ledger", (Plan, PlanTask, TaskProgress, TaskEvidence), entries=32)


@router.get("/tasks", include_in_schema=False)
def tasks_page(
    request: Request,
    plan: str | None = Query(None, max_length=80),
    unit: str | None = Query(None, max_length=120),
    status: str | None = Query(None, pattern="^(open|in_progress|closed|warned)?$"),
    overdue: bool = False,
    as_of: str | None = Query(None, max_length=10),
    db: Session = Depends(get_db),
    user: Principal = Depends(targets_user),
):
    if plan is None and db.scalar(select(PlanTask.id).limit(1)) is None:  # in the navigation: never a 404
        return render(request, "targets/tasks_empty.html")
    p = _tasks_plan(db, plan)
    period = _as_of(as_of)
    # the ledger at the period, kept until a task, its progress or evidence changes (each write audited)
    every = _LEDGERS.get(db, ("ledger", p.code, period), lambda: list_tasks(db, p.code, as_of=period or None))
    units = sorted({t["lead_unit"] for t in every})
    rows = filter_tasks(every, unit=unit or None, status=status or None)
    if overdue:
        rows = [r for r in rows if any(w["kind"] == "overdue" for w in r["warnings"])]
    counts = {"total": len(every), "closed": sum(t["status"] == "closed" for t in every),
              "overdue": sum(any(w["kind"] == "overdue" for w in t["warnings"]) for t in every),
              "due_soon": sum(any(w["kind"] == "due_soon" for w in t["warnings"]) for t in every)}
    for r in rows:
        r["can_manage"] = may_manage_task(user, r["lead_unit"])
    plans = list(db.scalars(select(Plan).join(PlanTask, PlanTask.plan_id == Plan.id).distinct().order_by(Plan.code)))
    return render(request, "targets/tasks.html", {
        "plan": p, "plans": plans, "rows": rows, "units": units, "counts": counts,
        "params": {"plan": p.code, "unit": unit or "", "status": status or "", "overdue": overdue,
                   "as_of": period or ""},
        "task_status": TASK_STATUS, "warnings": WARNINGS, "error": request.query_params.get("error"),
        "done": request.query_params.get("done"), "note_index": notes_by_item(p.code),
    })


def task_or_404(db: Session, plan: Plan, seq: int) -> PlanTask:
    t = db.scalar(select(PlanTask).where(PlanTask.plan_id == plan.id, PlanTask.seq == seq))
    if t is None:
        raise HTTPException(404)
    return t


def _evidence(text: str) -> list[str]:
    return [e.strip() for e in text.replace("；", "\n").replace(";", "\n").splitlines() if e.strip()][:20]


def back_to_ledger(plan: Plan, seq: int, back: str, **extra: str) -> RedirectResponse:
    """Back to the ledger as it was filtered (only a /tasks URL), with the outcome in the query."""
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or parts.path != "/tasks":
        parts = urlsplit(f"/tasks?plan={quote(plan.code)}")
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("done", "error")] + list(extra.items())
    return RedirectResponse(f"/tasks?{urlencode(query)}#task-{seq}", status_code=303)


def _task_action(request: Request, db: Session, user: Principal, plan_code: str, seq: int, back: str, action):
    plan = plan_or_404(db, plan_code)
    task = task_or_404(db, plan, seq)
    if not may_manage_task(user, task.lead_unit):
        raise HTTPException(403, detail="forbidden")
    try:
        action(plan)
    except ValidationFailed as exc:
        db.rollback()
        msg = "；".join(p.message + (f"（{p.fix}）" if p.fix else "") for p in exc.problems)
        return back_to_ledger(plan, seq, back, error=f"{seq}:{msg}")
    except QunlianError as exc:
        db.rollback()
        return back_to_ledger(plan, seq, back, error=f"{seq}:{exc}")
    db.commit()
    return back_to_ledger(plan, seq, back, done=str(seq))


@router.post("/tasks/{plan_code}/{seq}/progress", include_in_schema=False)
def task_progress(
    request: Request, plan_code: str, seq: int,
    period: str = Form("", max_length=20), note: str = Form("", max_length=4000),
    evidence: str = Form("", max_length=2000), back: str = Form("", max_length=500),
    db: Session = Depends(get_db), user: Principal = Depends(targets_user),
):  # fmt: skip
    return _task_action(request, db, user, plan_code, seq, back, lambda plan: add_progress(
        db, plan.code, seq, period, note, entered_by=user.username, evidence=_evidence(evidence)))


@router.post("/tasks/{plan_code}/{seq}/close", include_in_schema=False)
def task_close(
    request: Request, plan_code: str, seq: int,
    note: str = Form("", max_length=4000), evidence: str = Form("", max_length=2000),
    back: str = Form("", max_length=500),
    db: Session = Depends(get_db), user: Principal = Depends(targets_user),
):  # fmt: skip
    return _task_action(request, db, user, plan_code, seq, back, lambda plan: close_task(
        db, plan.code, seq, closed_by=user.username, note=note, evidence=_evidence(evidence)))


@router.post("/tasks/{plan_code}/{seq}/reopen", include_in_schema=False)
def task_reopen(
    request: Request, plan_code: str, seq: int,
    reason: str = Form("", max_length=2000), back: str = Form("", max_length=500),
    db: Session = Depends(get_db), user: Principal = Depends(targets_user),
):  # fmt: skip
    def act(plan: Plan) -> None:
        if not reason.strip():
            raise ValidationFailed([Problem(N_("撤销原因为空"), N_("写明为什么撤销销号"), column="reason")])
        reopen_task(db, plan.code, seq, by=user.username, reason=reason.strip())

    return _task_action(request, db, user, plan_code, seq, back, act)


# --------------------------------------------------------------------------- JSON API


def api_targets_user(user: Principal = Depends(api_user)) -> Principal:
    if not can(user, "targets.read"):
        raise HTTPException(403, detail="forbidden")
    return user


def _api_plan(db: Session, code: str) -> Plan:
    try:
        return get_plan(db, code)
    except TargetsError:
        raise HTTPException(404, detail="no such plan") from None


@router.get("/api/targets/{plan_code}/status", tags=["targets"],
            summary="规划指标状态（红黄绿灯；format=xlsx|csv 下载） / status of a plan's indicators "
                    "(format=xlsx|csv: a file)",
            responses={**API_AUTH_RESPONSES, 403: {"description": "role without targets"},
                       404: {"description": "no such plan or town"},
                       **FILE_RESPONSES})
def api_status(
    plan_code: str,
    as_of: str | None = Query(None, max_length=10, description="2023, 2023Q1 or 2023-03; default: latest actual"),
    town: str | None = Query(None, max_length=40, description="town name or code (decomposed targets)"),
    fmt: str = Depends(api_format),
    headers: str = Depends(header_choice),
    db: Session = Depends(get_db),
    user: Principal = Depends(api_targets_user),
) -> list[dict[str, Any]]:
    """The same objects as `qunlian targets status --format json`. A town user gets its own town's
    decomposed status by default and 404 for any other town. ``format=xlsx|csv``: the status table of
    the plan page as a file (Chinese headings with units, or the English keys with ``headers=en``)."""
    plan = _api_plan(db, plan_code)
    town_name = _resolve_town(db, user, plan, town) if town is not None else _default_town(db, user, plan)
    try:
        period = str(Period.parse(as_of)) if as_of else None
    except PeriodError as exc:
        raise HTTPException(400, detail=str(exc)) from None
    if fmt != "json":
        # a lazy import: the exports module reads this module's helpers
        from qunlian.targets.exports_web import status_file

        return status_file(db, plan, plan_status(db, plan.code, as_of=period, town=town_name), period, town_name,
                           fmt, headers)
    # reason_en: published in the API before reasons became messages; now rendered from the catalogue
    return i18n.with_translation(plan_status(db, plan.code, as_of=period, town=town_name))


@router.get("/api/targets/{plan_code}/reconcile", tags=["targets"],
            summary="镇街道目标核对（format=xlsx|csv 下载） / do the towns' targets add up to the city's "
                    "(format=xlsx|csv: a file)",
            responses={**API_AUTH_RESPONSES, 403: {"description": "role without targets"},
                       404: {"description": "no such plan"},
                       **FILE_RESPONSES})
def api_reconcile(
    plan_code: str,
    year: int = Query(..., ge=2000, le=2100),
    fmt: str = Depends(api_format),
    headers: str = Depends(header_choice),
    db: Session = Depends(get_db),
    user: Principal = Depends(api_targets_user),
) -> list[dict[str, Any]]:
    """The same objects as `qunlian targets reconcile --format json` (targets only: public plan text).
    ``format=xlsx|csv``: the reconciliation table of the towns page as a file, one column per town."""
    plan = _api_plan(db, plan_code)
    if fmt != "json":
        # a lazy import: the exports module reads this module's helpers
        from qunlian.targets.exports_web import reconcile_file

        return reconcile_file(db, plan, reconcile_plan(db, plan.code, year), year, fmt, headers)
    return i18n.with_translation(reconcile_plan(db, plan.code, year))  # reason_en, as status
