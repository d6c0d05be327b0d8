"""亩均评价 pages and API: runs, one run (class mix, by town / chain, results, warnings, ledger,
measures, manual adjustment, 公示 export), the enterprise profile's 亩均 block and the simulator.

Everything is read through the engine's public API (qunlian.per_mu.runs / outputs /
simulate / files) and shaped by qunlian.per_mu.views; the rows a user may see are chosen
with the enterprises scope filter (qunlian.enterprises.service.enterprise_filter) before any figure is computed, so mixes, tables,
warnings and exports only ever count the user's own firms. Out-of-scope firms and runs → 404.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.per_mu import views
from qunlian.per_mu.runs import muni_evaluation
from qunlian.per_mu.chains import chain_pairs
from qunlian.per_mu.engine import EvaluationError
from qunlian.per_mu.fields import POINTS, SIMULATED, figure
from qunlian.per_mu.inputs import export_gongshi
from qunlian.platform.numbers import MAX_ID, NumberInvalid, parse_id, parse_number
from qunlian.per_mu.outputs import aggregates, measures
from qunlian.per_mu.runs import (
    adjust,
    get_run,
    result_row,
    list_runs,
    run_visible,
    run_method,
)
from qunlian.per_mu.simulate import LEVERS, levers, simulate
from qunlian.per_mu.schema import Method
from qunlian.platform.db import audit
from qunlian.platform.registry import ProfileSection
from qunlian.enterprises.models import Enterprise
from qunlian.per_mu.models import MuniAdjustment, MuniRemediation, MuniResult, MuniRun
from qunlian.accounts.models import AccessGrant
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.platform.cache import StoreCache, scope_key
from qunlian.platform.models import ImportBatch
from qunlian.regions.models import Town
from qunlian.enterprises.service import columns, get_enterprise
from qunlian.per_mu.service import firm_history, scoped_ledger, scoped_results, scoped_warnings
from qunlian.platform.permissions import Principal, can
from qunlian.platform import i18n
from qunlian.platform.i18n import N_
from qunlian.platform.web.deps import API_AUTH_RESPONSES, api_user, get_db, lang_of, render, render_fragment, require_user
from qunlian.platform.web.exports import (
    FILE_RESPONSES,
    ExportColumn,
    api_format,
    download,
    file_format,
    header_choice,
)

log = logging.getLogger("qunlian.per_mu.web")
router = APIRouter()

PAGE_SIZE = 50
WARNING_KINDS = {"grade_fell": N_("等级下降"), "near_boundary": N_("临界企业"), "remediation": N_("应列入整治")}  # by the method's rule; the ledger below is what was listed
KIND_NAMES = {"incentive": N_("激励"), "restriction": N_("约束")}
# simulator inputs (column → label with unit); the levers first, then other columns a method may read
SIM_FIELDS = dict(columns.headings(SIMULATED))
LEVER_LABELS = {k: SIM_FIELDS[col] for k, (col, _d, _l) in LEVERS.items()}


def _run_or_404(db: Session, run_id: int, user: Principal) -> MuniRun:
    run = db.get(MuniRun, run_id)
    if run is None or not run_visible(run, user.region_ids):  # another county's run: as missing
        raise HTTPException(404)
    return run


def _page_user(user: Principal) -> Principal:
    """Run-level pages need ``per_mu.read_runs``. An enterprise user has only its own row (on its
    profile), so a run URL is as missing to it as an unknown one (404, not 403)."""
    if user.role == "enterprise":
        raise HTTPException(404)
    if not can(user, "per_mu.read_runs"):
        raise HTTPException(403, detail="forbidden")
    return user


def _run_meta(run: MuniRun, method: Method) -> dict[str, Any]:
    return {"id": run.id, "method_id": run.method_id, "method_version": run.method_version, "title": method.title,
            "year": run.year, "firms": run.firms, "evaluated": run.evaluated, "created_by": run.created_by,
            "created_at": run.created_at, "note": run.note, "backend": run.backend, "data_source": run.data_source}


# --------------------------------------------------------------------------- pages: runs


@router.get("/muni", include_in_schema=False)
def runs_page(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    if user.role == "enterprise":
        ent = db.get(Enterprise, user.enterprise_id) if user.enterprise_id else None
        if ent is None:
            raise HTTPException(404)
        return RedirectResponse(f"/enterprises/{ent.uscc}#muni", status_code=303)
    _page_user(user)
    runs = []
    for run in list_runs(db, within=user.region_ids):
        snap = run.method_snapshot or {}
        runs.append({"id": run.id, "method_id": run.method_id, "method_version": run.method_version,
                     "title": snap.get("title", run.method_id), "year": run.year, "firms": run.firms,
                     "evaluated": run.evaluated, "created_by": run.created_by, "created_at": run.created_at,
                     "note": run.note})
    return render(request, "per_mu/muni.html", {"runs": runs, "city_wide": user.city_wide})


def _result_params(town: str | None, part: str | None, grade: str | None, q: str, sort: str, desc: bool, page: int) -> dict[str, Any]:
    return {"town": town or None, "part": part or None, "grade": grade or None, "q": q or "",
            "sort": sort if sort in views.RESULT_SORTS else "rank", "desc": desc, "page": page}


def result_params(
    town: str | None = Query(None, max_length=80),
    part: str | None = Query(None, max_length=40),
    grade: str | None = Query(None, max_length=8),
    q: str = Query("", max_length=200),
    sort: str = Query("rank", max_length=20),
    desc: bool = False,
    page: int = Query(1, ge=1, le=100000),
) -> dict[str, Any]:
    return _result_params(town, part, grade, q, sort, desc, page)


def _results_ctx(rows: list[dict[str, Any]], method: Method, params: dict[str, Any]) -> dict[str, Any]:
    chosen = _chosen(rows, method, params)
    total = len(chosen)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(params["page"], pages)
    # copies: the rows may be the shared cached ones (_RUN_ROWS)
    items = [{**r, "reasons": views.reasons(r)} for r in chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    return {"items": items, "total": total, "page": page, "pages": pages, "params": params,
            "parts": {p.id: p.name for p in method.parts}, "has_tax_per_mu": any(i.code == "tax_per_mu" for p in method.parts for i in p.indicators)}


# A run page's figures change only with the run's adjustments and ledger (each audited, so the
# fingerprint's newest audit line moves) or with the caller's scope (firms, chain links, grants).
_RUN_TABLES = (MuniRun, MuniAdjustment, MuniRemediation, Enterprise, EnterpriseChainNode, ChainNode, Town,
               AccessGrant, ImportBatch)
#: the scoped rows of a run, shared read-only between requests (thousands of rows: no copy per view)
_RUN_ROWS = StoreCache("muni-run-rows", _RUN_TABLES, entries=32, shared=True)
#: the run page's summary blocks (mix, towns, chains, warnings, ledger, measures) per scope and language
_RUN_SUMMARIES = StoreCache("muni-run-summary", _RUN_TABLES, entries=128)


def _scoped_rows(db: Session, user: Principal, run_id: int) -> list[dict[str, Any]]:
    """The run's results the user may see, as rows: read them, never change them (shared)."""
    return _RUN_ROWS.get(db, ("rows", run_id, scope_key(user)), lambda: scoped_results(db, user, run_id).to_pylist())


def _run_summary(db: Session, user: Principal, run: MuniRun, method: Method, lang: str) -> dict[str, Any]:
    """The run page's summary blocks for the user's scope, rendered (``top``: KPIs, charts, by town and
    chain; ``bottom``: warnings, ledger, measures) with the towns for the filter. Kept per run, scope and
    language until the data under them changes: with hundreds of warnings the rendering alone costs
    more than a page may."""

    def compute() -> dict[str, Any]:
        _ = i18n.translator(lang)
        table = scoped_results(db, user, run.id)
        rows = _scoped_rows(db, user, run.id)
        mix = views.class_mix(rows, method)
        by_town = by_chain = []
        if rows and "part" in table.column_names:
            by_town = views.group_table(aggregates(table, method, "town", grade_column="final_grade").to_pylist(), method)
            pairs = chain_pairs(db, [r["uscc"] for r in rows])
            if pairs.num_rows:
                by_chain = views.group_table(aggregates(table, method, "chain", chains=pairs, grade_column="final_grade").to_pylist(), method)
        warns = scoped_warnings(db, run.id, {r["uscc"] for r in rows})
        firm_measures = measures(table, method, grade_column="final_grade") if rows else []
        blocks = {
            "grades": views.grade_order(method),
            "mix": mix,
            "mix_chart": views.class_mix_chart(mix, _("家")),
            "by_town": by_town,
            "town_chart": views.mix_chart(by_town, method, unit=_("家")),
            "by_chain": by_chain,
            "chain_chart": views.mix_chart(by_chain, method, unit=_("家")),
            "warnings": warns,
            "warning_counts": {k: sum(1 for w in warns if w.kind == k) for k in WARNING_KINDS},
            "warning_kinds": WARNING_KINDS,
            "ledger": scoped_ledger(db, user, run.year, run.region_id),
            "measures": views.measure_summary(firm_measures, method),
            "kind_names": KIND_NAMES,
        }
        return {"top": render_fragment("per_mu/_muni_run_top.html", lang, blocks),
                "bottom": render_fragment("per_mu/_muni_run_bottom.html", lang, blocks),
                "towns": sorted({r["town"] for r in rows if r.get("town")})}

    return _RUN_SUMMARIES.get(db, ("summary", run.id, scope_key(user), lang), compute)


def _run_page(request: Request, db: Session, user: Principal, run_id: int, params: dict[str, Any],
              error: str | None = None, status_code: int = 200):
    run = _run_or_404(db, run_id, user)
    method = run_method(run)
    results = _results_ctx(_scoped_rows(db, user, run_id), method, params)
    results["run"] = run
    results["can_adjust"] = can(user, "per_mu.adjust")
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "muni-results" and error is None:
        return render(request, "per_mu/_muni_results.html", results)
    summary = _run_summary(db, user, run, method, lang_of(request))
    ctx = {
        **results,
        "summary": summary,
        "towns": summary["towns"],
        "meta": _run_meta(run, method),
        "method": method,
        "grades": views.grade_order(method),
        "error": error,
        "city_wide": user.city_wide,
    }
    return render(request, "per_mu/muni_run.html", ctx, status_code=status_code)


@router.get("/muni/runs/{run_id}", include_in_schema=False)
def run_page(request: Request, run_id: int, params: dict[str, Any] = Depends(result_params),
             db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    _page_user(user)
    return _run_page(request, db, user, run_id, params)


@router.get("/muni/runs/{run_id}/export.xlsx", include_in_schema=False)
def run_export(run_id: int, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    """The engine's 公示 list (one sheet per part, then the firms not evaluated), of the user's firms only."""
    _page_user(user)
    run = _run_or_404(db, run_id, user)
    method = run_method(run)
    table = scoped_results(db, user, run_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gongshi.xlsx"
        export_gongshi(table, method.title, run.year, path, {p.id: p.name for p in method.parts}, grade_column="final_grade")
        data = path.read_bytes()
    audit(db, user.username, "muni.export", "muni_run", run_id, rows=table.num_rows, scope="city" if user.city_wide else user.role)
    db.commit()
    stamp = dt.date.today().strftime("%Y%m%d")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="qunlian-muni-run{run_id}-{run.year}-{stamp}.xlsx"'})


def _chosen(rows: list[dict[str, Any]], method: Method, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The results table's rows, every page: the page's filters and order."""
    chosen = views.filter_results(rows, town=params["town"], part=params["part"], grade=params["grade"], q=params["q"])
    return views.sort_results(chosen, params["sort"], params["desc"], method)


def _result_columns(method: Method) -> list[ExportColumn]:
    """The results table of the run page as a file: its columns, the rank and its group size apart."""
    has_tax_per_mu = any(i.code == "tax_per_mu" for p in method.parts for i in p.indicators)
    return [
        ExportColumn("rank", "名次"), ExportColumn("group_size", "组内企业数（家）"),
        ExportColumn("uscc", columns.heading("uscc"), width=22), ExportColumn("name", columns.heading("name"), width=36),
        ExportColumn("town", columns.heading("town")),
        ExportColumn("part", "评价组", labels={p.id: p.name for p in method.parts}, width=24),
        ExportColumn("tax_per_mu", columns.heading("tax_per_mu"),
                     value=lambda r: r.get("tax_per_mu__value") if has_tax_per_mu else None),
        ExportColumn("final_score", "调档后得分（分）"), ExportColumn("initial_score", "初评得分（分）"),
        ExportColumn("adjustment", "加减分（分）"), ExportColumn("final_grade", "调档后等级"),
        ExportColumn("initial_grade", "初评等级"),
        ExportColumn("reasons", "说明", value=lambda r: "；".join(str(x) for x in views.reasons(r)), width=50),
    ]


def _audit_results_export(db: Session, user: Principal, run_id: int, rows: int, fmt: str, params: dict[str, Any]) -> None:
    audit(db, user.username, "muni.export", "muni_run", run_id, rows=rows, scope="city" if user.city_wide else user.role,
          format=fmt, filters={k: v for k, v in params.items() if k != "page"})
    db.commit()


@router.get("/muni/runs/{run_id}/results.xlsx", include_in_schema=False)
@router.get("/muni/runs/{run_id}/results.csv", include_in_schema=False)
def run_results_export(request: Request, run_id: int, params: dict[str, Any] = Depends(result_params),
                       headers: str = Depends(header_choice), db: Session = Depends(get_db),
                       user: Principal = Depends(require_user)):
    """The run page's results table (its filters and order, every page), of the user's firms only; audited."""
    _page_user(user)
    run = _run_or_404(db, run_id, user)
    method = run_method(run)
    chosen = _chosen(_scoped_rows(db, user, run_id), method, params)
    fmt = file_format(request)
    _audit_results_export(db, user, run_id, len(chosen), fmt, params)
    return download(_result_columns(method), chosen, fmt, headers, name=f"muni-run{run_id}-{run.year}-results",
                    title="评价结果")


@router.post("/muni/runs/{run_id}/adjust", include_in_schema=False)
def run_adjust(
    request: Request,
    run_id: int,
    uscc: str = Form(..., max_length=18),
    points: str = Form("", max_length=20),
    grade: str = Form("", max_length=8),
    reason: str = Form("", max_length=500),
    db: Session = Depends(get_db),
    user: Principal = Depends(require_user),
):
    """初评 → 加减分 → 调档后: admin and analyst only; reason required; audited by the engine (muni.adjust)."""
    _page_user(user)
    if not can(user, "per_mu.adjust"):
        raise HTTPException(403, detail="forbidden")
    _run_or_404(db, run_id, user)
    uscc = uscc.strip().upper()
    params = _result_params(None, None, None, uscc, "rank", False, 1)
    _ = i18n.translator(lang_of(request))
    try:
        pts = parse_number(points, POINTS, blank=True)
    except NumberInvalid as exc:
        return _run_page(request, db, user, run_id, params, error=exc.render(_), status_code=400)
    try:
        adjust(db, run_id, uscc, reason=reason, actor=user.username, points=pts, grade=grade.strip() or None)
    except EvaluationError as exc:
        db.rollback()
        return _run_page(request, db, user, run_id, params, error=str(exc), status_code=400)
    db.commit()
    return RedirectResponse(f"/muni/runs/{run_id}?q={uscc}#muni-results", status_code=303)


# --------------------------------------------------------------------------- enterprise profile block and simulator


def _sim_fields(row: dict[str, Any], method: Method) -> list[dict[str, Any]]:
    """The simulator's inputs: the six levers and any other column the firm's part reads."""
    used = {c for i in method.part(row["part"]).indicators for c in (i.numerator, i.denominator)}
    lever_cols = {col for col, _d, _l in LEVERS.values()}
    return [{"column": c, "label": label, "value": row.get(c), "used": c in used}
            for c, label in SIM_FIELDS.items() if c in row and (c in used or c in lever_cols)]


def profile_block(db: Session, request: Request, uscc: str) -> dict[str, Any] | None:
    """The profile's 亩均 block for an enterprise the caller may see (the caller checked the scope):
    history across runs, the latest run's explanation per indicator and the simulator's inputs. The
    levers (smallest change to the next class) are not computed here: the page asks for them on demand
    (GET /enterprises/{uscc}/muni-levers), so a profile view stays cheap."""
    history = firm_history(db, uscc)
    if not history:
        return None
    latest = max(history, key=lambda h: (h["year"], h["run_id"]))
    _ = i18n.translator(lang_of(request))
    block: dict[str, Any] = {"uscc": uscc, "history": history, "latest": latest, "explain": [], "reasons": [], "simulator": None}
    try:  # the firm's own stored result, not the whole run
        method = run_method(get_run(db, latest["run_id"]))
        row = result_row(db, latest["run_id"], uscc)
    except EvaluationError:
        return block
    block["method"] = method
    block["row"] = row
    block["part_name"] = method.part(row["part"]).name if row.get("part") else None
    block["explain"] = views.explain(row, method)
    block["reasons"] = views.reasons(row)
    if row.get("part") and not row.get("excluded_reason") and not row.get("tenant_note"):
        block["simulator"] = _sim_fields(row, method)
    chart_rows = [h for h in history if h["final_score"] is not None]
    block["chart"] = {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 50, "right": 20, "top": 30, "bottom": 30},
        "xAxis": {"type": "category", "data": [f"{h['year']}" for h in chart_rows]},
        "yAxis": {"type": "value", "name": _("分")},
        "series": [{"name": _("调档后得分"), "type": "line",
                    "data": [round(h["final_score"], 1) for h in chart_rows],
                    "label": {"show": True, "formatter": "{c}"}}],
    } if chart_rows else None
    return block


@router.get("/enterprises/{uscc}/muni-levers", include_in_schema=False)
def enterprise_levers(
    request: Request,
    uscc: str,
    run: int | None = Query(None, ge=1, le=MAX_ID),
    db: Session = Depends(get_db),
    user: Principal = Depends(require_user),
):
    """Per lever, the smallest change of that one input that reaches the next 亩均 class, in the firm's
    latest run (or `run`): a search per input over the simulator, whose context for the run takes
    ~30 ms to build the first time (then kept, see per_mu.runs.muni_evaluation). So the profile asks
    for it on demand (HTMX, when the block scrolls into view) instead of on every view. Same scope as
    the profile: a firm the caller may not see is 404."""
    ent = get_enterprise(db, user, uscc) if len(uscc) <= 18 else None
    if ent is None:
        raise HTTPException(404)
    run_id = latest_run_of(db, ent.uscc, run)
    if run_id is None:
        raise HTTPException(404)
    ctx: dict[str, Any] = {"uscc": ent.uscc, "name": ent.name, "levers": [], "sim_error": None,
                           "lever_labels": LEVER_LABELS}
    try:
        ctx["levers"] = levers(muni_evaluation(db, run_id), ent.uscc)
    except EvaluationError as exc:  # a tenant, a firm not evaluated, or no class boundary
        ctx["sim_error"] = str(exc)
    if request.headers.get("HX-Request"):
        return render(request, "per_mu/_muni_levers.html", ctx)
    return render(request, "per_mu/enterprise_levers.html", ctx)  # without JavaScript: a page of its own


def latest_run_of(db: Session, uscc: str, run: int | None = None) -> int | None:
    """The newest 亩均 run (by data year, then id) with a result for the firm; `run` if it has one."""
    q = select(MuniResult.run_id).join(MuniRun, MuniRun.id == MuniResult.run_id).where(MuniResult.uscc == uscc)
    if run is not None:
        q = q.where(MuniResult.run_id == run)
    return db.scalar(q.order_by(MuniRun.year.desc(), MuniRun.id.desc()).limit(1))


def _profile_section(db: Session, request: Request, uscc: str) -> dict[str, Any] | None:
    block = profile_block(db, request, uscc)
    if block is not None:  # the run's method and whole row are not shown; keep the cached entry small
        block = {k: v for k, v in block.items() if k not in ("method", "row")}
    return block


PROFILE_SECTION = ProfileSection("muni", "per_mu/_muni_profile.html", _profile_section,
                                 tables=(MuniRun, MuniAdjustment))


@router.post("/muni/simulate/{uscc}", include_in_schema=False)
async def simulate_partial(request: Request, uscc: str, user: Principal = Depends(require_user)):
    """绩效评价模拟器 (HTMX partial): the firm's new score and class with the inputs of the form.

    Reading the form is the only awaited work; the evaluation and the store run in the thread pool,
    never on the event loop (a slow simulation must not stall other users' requests)."""
    form = await request.form()
    return await run_in_threadpool(_simulate_in_thread, request, uscc, form, user)


def _simulate_in_thread(request: Request, uscc: str, form: Any, user: Principal) -> Any:
    with request.app.state.sessions() as db:
        return _simulate(request, uscc, form, db, user)


def _simulate(request: Request, uscc: str, form: Any, db: Session, user: Principal) -> Any:
    ent = get_enterprise(db, user, uscc) if len(uscc) <= 18 else None
    if ent is None:
        raise HTTPException(404)
    run_id = parse_id(form.get("run", ""))
    if run_id is None:  # no run, or one that cannot exist
        raise HTTPException(404)
    _ = i18n.translator(lang_of(request))
    try:
        ev = muni_evaluation(db, run_id)  # the run's simulator context is kept between requests
        row = ev.row(ent.uscc)
    except EvaluationError:
        raise HTTPException(404) from None
    changes: dict[str, float | None] = {}
    errors = []
    for col in SIM_FIELDS:
        raw = form.get(col)
        if raw is None or col not in row:
            continue
        try:
            value = parse_number(raw, figure(col), blank=True)  # nan, inf, a negative figure: refused
        except NumberInvalid as exc:
            errors.append(exc.render(_))
            continue
        if value is None:
            continue
        if row.get(col) is None or abs(value - float(row[col])) > 1e-9:
            changes[col] = value
    ctx: dict[str, Any] = {"errors": errors, "sim": None, "sim_error": None, "labels": SIM_FIELDS}
    if not errors:
        try:
            sim = simulate(ev, ent.uscc, changes)
            ctx["sim"] = sim
            ctx["explain"] = [
                {**e, "new_points": (sim.indicators.get(e["code"]) or {}).get("points"),
                 "new_value": (sim.indicators.get(e["code"]) or {}).get("value")}
                for e in views.explain(row, ev.method)
            ]
        except EvaluationError as exc:
            ctx["sim_error"] = str(exc)
    return render(request, "per_mu/_muni_simulation.html", ctx, status_code=200 if not errors else 400)


# --------------------------------------------------------------------------- API


class RunItem(BaseModel):
    id: int
    method_id: str
    method_version: str
    title: str
    year: int = Field(description="data year evaluated")
    firms: int | None = Field(description="firms in the run; only for city-wide roles")
    evaluated: int | None = Field(description="firms evaluated; only for city-wide roles")
    created_by: str
    created_at: dt.datetime

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        # SQLite gives back the naive UTC it stored; the schema promises an RFC 3339 date-time (with offset)
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class GradeCount(BaseModel):
    grade: str
    firms: int
    share: float | None = Field(description="share of the classed firms in scope, 0–1")


class ClassMix(BaseModel):
    firms: int
    evaluated: int
    classed: int
    not_evaluated: int
    grades: list[GradeCount]


class RunDetail(RunItem):
    scope: str = Field(description="city: all firms; scoped: only the caller's firms are counted")
    parts: dict[str, str]
    class_mix: ClassMix = Field(description="final classes (调档后) of the firms in the caller's scope")


class ResultItem(BaseModel):
    uscc: str
    name: str | None
    town: str | None
    part: str | None
    rank: int | None
    group_size: int | None
    initial_score: float | None = Field(description="初评得分")
    adjustment: float | None = Field(description="加减分")
    final_score: float | None = Field(description="调档后得分")
    initial_grade: str | None
    final_grade: str | None
    excluded_reason: str | None
    adjustment_reason: str | None
    indicators: dict[str, dict[str, Any]] = Field(description="code → value, benchmark, points, status")


class ResultPage(BaseModel):
    items: list[ResultItem]
    total: int
    page: int
    page_size: int


def _api_run(db: Session, run_id: int, user: Principal) -> MuniRun:
    run = db.get(MuniRun, run_id)  # (an id beyond INTEGER never gets here: platform.web.bounds)
    if run is None or not run_visible(run, user.region_ids):
        raise HTTPException(404, detail="not found")
    return run


def _run_item(run: MuniRun, user: Principal) -> dict[str, Any]:
    snap = run.method_snapshot or {}
    return {"id": run.id, "method_id": run.method_id, "method_version": run.method_version,
            "title": snap.get("title", run.method_id), "year": run.year,
            "firms": run.firms if user.city_wide else None, "evaluated": run.evaluated if user.city_wide else None,
            "created_by": run.created_by, "created_at": run.created_at}


@router.get("/api/muni/runs", response_model=list[RunItem], tags=["muni"], summary="亩均评价列表 / 亩均 evaluation runs",
            responses=API_AUTH_RESPONSES)
def api_runs(year: int | None = Query(None, ge=1900, le=2200), db: Session = Depends(get_db),
             user: Principal = Depends(api_user)) -> list[RunItem]:
    return [RunItem(**_run_item(r, user)) for r in list_runs(db, year, within=user.region_ids)]


@router.get("/api/muni/runs/{run_id}", response_model=RunDetail, tags=["muni"],
            summary="一次评价：概要与分类构成 / one run: summary and class mix",
            responses={**API_AUTH_RESPONSES, 404: {"description": "no such run"}})
def api_run(run_id: int, db: Session = Depends(get_db), user: Principal = Depends(api_user)) -> RunDetail:
    run = _api_run(db, run_id, user)
    method = run_method(run)
    rows = _scoped_rows(db, user, run_id)
    return RunDetail(**_run_item(run, user), scope="city" if user.city_wide else "scoped",
                     parts={p.id: p.name for p in method.parts}, class_mix=ClassMix(**views.class_mix(rows, method)))


def _api_result_columns(method: Method) -> list[ExportColumn]:
    """The API item's fields as file columns, each indicator's value, benchmark, points and status flattened."""
    cols = [ExportColumn("uscc", columns.heading("uscc")), ExportColumn("name", columns.heading("name")),
            ExportColumn("town", columns.heading("town")),
            ExportColumn("part", "评价组", labels={p.id: p.name for p in method.parts}),
            ExportColumn("rank", "名次"), ExportColumn("group_size", "组内企业数（家）"),
            ExportColumn("initial_score", "初评得分（分）"), ExportColumn("adjustment", "加减分（分）"),
            ExportColumn("final_score", "调档后得分（分）"), ExportColumn("initial_grade", "初评等级"),
            ExportColumn("final_grade", "调档后等级"), ExportColumn("excluded_reason", "未参评原因"),
            ExportColumn("adjustment_reason", "调整理由")]
    named = {}
    for part in method.parts:
        for ind in part.indicators:
            named.setdefault(ind.code, ind)
    for code in method.indicator_codes:
        ind = named[code]
        cols += [
            ExportColumn(f"{code}_value", f"{ind.name}（{ind.unit}）", value=lambda r, c=code: r.get(f"{c}__value")),
            ExportColumn(f"{code}_benchmark", f"{ind.name}基准值（{ind.unit}）",
                         value=lambda r, c=code: r.get(f"{c}__benchmark")),
            ExportColumn(f"{code}_points", f"{ind.name}得分（分）", value=lambda r, c=code: r.get(f"{c}__points")),
            ExportColumn(f"{code}_status", f"{ind.name}数据状态", labels=views.STATUS_NAMES,
                         value=lambda r, c=code: r.get(f"{c}__status")),
        ]
    return cols


@router.get("/api/muni/runs/{run_id}/results", response_model=ResultPage, tags=["muni"],
            summary="一次评价的企业结果（按权限范围；format=xlsx|csv 下载） / per-firm results in scope "
                    "(format=xlsx|csv: a file)",
            responses={**API_AUTH_RESPONSES, 404: {"description": "no such run"}, **FILE_RESPONSES})
def api_results(
    run_id: int,
    town: str | None = Query(None, max_length=80, description="town name, e.g. 当湖街道"),
    part: str | None = Query(None, max_length=40, description="part id, e.g. above"),
    grade: str | None = Query(None, max_length=8, description="final class, or 'none' for not classed"),
    q: str = Query("", max_length=200, description="part of the name or USCC"),
    sort: str = Query("rank", pattern="^(rank|score|name|town|grade|part|tax_per_mu)$"),
    desc: bool = False,
    page: int = Query(1, ge=1, le=100000),
    page_size: int = Query(100, ge=1, le=1000),
    fmt: str = Depends(api_format),
    headers: str = Depends(header_choice),
    db: Session = Depends(get_db),
    user: Principal = Depends(api_user),
) -> ResultPage:
    """JSON: one page. ``format=xlsx|csv``: every matching result in scope as a file (the item's fields, each
    indicator as value, benchmark, points and status columns), written to the audit log."""
    run = _api_run(db, run_id, user)
    method = run_method(run)
    rows = _scoped_rows(db, user, run_id)
    chosen = views.sort_results(views.filter_results(rows, town=town, part=part, grade=grade, q=q), sort, desc, method)
    if fmt != "json":
        _audit_results_export(db, user, run_id, len(chosen), fmt,
                              {"town": town, "part": part, "grade": grade, "q": q, "sort": sort, "desc": desc})
        return download(_api_result_columns(method), chosen, fmt, headers, name=f"muni-run{run_id}-{run.year}-results",
                        title="评价结果")
    codes = method.indicator_codes
    items = []
    for r in chosen[(page - 1) * page_size : page * page_size]:
        inds = {c: {k: r.get(f"{c}__{k}") for k in ("value", "benchmark", "points", "status")}
                for c in codes if r.get(f"{c}__status") is not None or r.get(f"{c}__points") is not None}
        items.append(ResultItem(
            uscc=r["uscc"], name=r.get("name"), town=r.get("town"), part=r.get("part"), rank=r.get("rank"),
            group_size=r.get("group_size"), initial_score=r.get("initial_score"), adjustment=r.get("adjustment"),
            final_score=r.get("final_score"), initial_grade=r.get("initial_grade"), final_grade=r.get("final_grade"),
            excluded_reason=r.get("excluded_reason"), adjustment_reason=r.get("adjustment_reason"), indicators=inds,
        ))
    return ResultPage(items=items, total=len(chosen), page=page, page_size=page_size)
