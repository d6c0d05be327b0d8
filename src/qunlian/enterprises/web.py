"""Enterprises: scoped search and list, Excel export, and the profile (企业画像)."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple
from io import BytesIO
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.platform.cache import StoreCache, scope_key
from qunlian.platform.db import audit
from qunlian.accounts.models import AccessGrant
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.models import ImportBatch
from qunlian.regions.models import Park, Town
from qunlian.per_mu.models import MuniAdjustment, MuniResult, MuniRun
from qunlian.chains.service import chain_options
from qunlian.enterprises.queries import SORTS, EnterprisePage, EnterpriseQuery, enterprise_profile, list_enterprises
from qunlian.enterprises.scoping import get_enterprise
from qunlian.platform.permissions import Principal
from qunlian.regions.service import town_options
from qunlian.platform.web import i18n
from qunlian.platform.web.deps import get_db, lang_of, render, require_user

router = APIRouter(include_in_schema=False)

FIGURE_LABELS = (
    ("above_scale", "规上/规下"),
    ("land_mu", "用地（亩）"),
    ("rented_out_mu", "出租用地（亩）"),
    ("output_wan", "产值（万元）"),
    ("revenue_wan", "营业收入（万元）"),
    ("main_revenue_wan", "主营业务收入（万元）"),
    ("value_added_wan", "增加值（万元）"),
    ("tax_wan", "税收（万元）"),
    ("profit_wan", "利润（万元）"),
    ("rd_wan", "研发经费（万元）"),
    ("export_wan", "出口额（万元）"),
    ("high_tech_revenue_wan", "高新技术产品收入（万元）"),
    ("assets_wan", "资产（万元）"),
    ("liabilities_wan", "负债（万元）"),
    ("energy_tce", "综合能耗（吨标准煤）"),
    ("electricity_wan_kwh", "用电量（万千瓦时）"),
    ("emission_eq_t", "排放当量（吨）"),
    ("employees", "从业人员（人）"),
    ("invention_patents", "发明专利（件）"),
    ("output_per_mu", "亩均产值（万元/亩）"),
    ("tax_per_mu", "亩均税收（万元/亩）"),
)

EXPORT_COLUMNS = (
    ("uscc", "统一社会信用代码"),
    ("name", "企业名称"),
    ("town", "镇街道"),
    ("industry_code", "行业代码"),
    ("year", "年份"),
    ("above_scale", "规上"),
    ("land_mu", "用地（亩）"),
    ("output_wan", "产值（万元）"),
    ("tax_wan", "税收（万元）"),
    ("output_per_mu", "亩均产值（万元/亩）"),
    ("tax_per_mu", "亩均税收（万元/亩）"),
)


def list_params(
    q: str = Query("", max_length=200),
    town: str | None = Query(None, max_length=40),
    chain: str | None = Query(None, max_length=130),
    year: int | None = Query(None, ge=1900, le=2200),
    scale: str | None = Query(None, pattern="^(above|below)?$"),
    grade: str | None = Query(None, max_length=8),
    sort: str = Query("name"),
    desc: bool = False,
    page: int = Query(1, ge=1, le=100000),
) -> EnterpriseQuery:
    return EnterpriseQuery(
        q=q, town=town or None, chain=chain or None, year=year, scale=scale or None, grade=grade or None,
        sort=sort if sort in SORTS else "name", desc=desc, page=page,
    )  # fmt: skip


def _params(query: EnterpriseQuery) -> dict[str, Any]:
    return {"q": query.q, "town": query.town, "chain": query.chain, "year": query.year, "scale": query.scale,
            "grade": query.grade, "sort": query.sort, "desc": query.desc, "page": query.page}


# One page of the list (its count, its rows and the scope's years) for a scope and a query, until the
# firms, their figures (changed in place only by imports, which add a batch), the chain links, the
# 亩均 classes or the grants change. The default view and paging back and forth are the common case.
_LISTS = StoreCache("enterprise-list", (Enterprise, EnterpriseYear, ImportBatch, Town, ChainNode,
                                        EnterpriseChainNode, MuniRun, MuniAdjustment, AccessGrant), entries=512)


def list_page(db: Session, user: Principal, query: EnterpriseQuery) -> EnterprisePage:
    """list_enterprises, kept per caller scope and query (the page, the HTMX partial and the API).
    Pages of more than 100 rows (API bulk reads) are not kept: they would crowd out the rest."""
    if query.page_size > 100:
        return list_enterprises(db, user, query)
    key = ("list", scope_key(user), astuple(query))
    page = _LISTS.get(db, key, lambda: list_enterprises(db, user, query))
    query.year = page.year  # as list_enterprises does: the default year is the newest in scope
    return page


@router.get("/enterprises")
def enterprises_page(
    request: Request,
    query: EnterpriseQuery = Depends(list_params),
    db: Session = Depends(get_db),
    user: Principal = Depends(require_user),
):
    page = list_page(db, user, query)
    ctx = {"page": page, "params": _params(query)}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "enterprises/_enterprise_results.html", ctx)
    ctx.update(towns=town_options(db), chains=chain_options(db))
    return render(request, "enterprises/enterprises.html", ctx)


@router.get("/enterprises.xlsx")
def enterprises_export(
    request: Request,
    query: EnterpriseQuery = Depends(list_params),
    db: Session = Depends(get_db),
    user: Principal = Depends(require_user),
):
    """The filtered, scoped table as an Excel workbook (all pages); the export is audited."""
    page = list_enterprises(db, user, query, paginate=False)
    _ = i18n.translator(lang_of(request))
    wb = Workbook()
    ws = wb.active
    ws.title = _("企业")
    ws.append([_(label) for _key, label in EXPORT_COLUMNS])
    for row in page.items:
        ws.append([row[key] for key, _label in EXPORT_COLUMNS])
    ws.freeze_panes = "A2"
    for col, width in zip("ABCDEFGHIJK", (22, 36, 12, 10, 8, 8, 12, 14, 14, 18, 18), strict=True):
        ws.column_dimensions[col].width = width
    buf = BytesIO()
    wb.save(buf)
    audit(db, user.username, "enterprises.export", "enterprise", "", rows=len(page.items), filters=_params(query))
    db.commit()
    stamp = dt.date.today().strftime("%Y%m%d")
    return Response(
        buf.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="qunlian-enterprises-{stamp}.xlsx"'},
    )


# A profile is the firm's identity, chain nodes, yearly figures and 亩均 history: about fifteen
# queries. Kept per caller scope, firm and language until one of these tables changes (firms and
# their years change in place only through imports, which add a batch; 亩均 results only with a run).
_PROFILES = StoreCache("enterprise-profile", (Enterprise, EnterpriseYear, ImportBatch, Town, Park, ChainNode,
                                              EnterpriseChainNode, MuniRun, MuniAdjustment), entries=512)


@router.get("/enterprises/{uscc}")
def enterprise_page(request: Request, uscc: str, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    ent = get_enterprise(db, user, uscc) if len(uscc) <= 18 else None
    if ent is None:  # missing and out of scope look the same
        raise HTTPException(404)
    lang = lang_of(request)
    ctx = _PROFILES.get(db, ("profile", scope_key(user), ent.uscc, lang),
                        lambda: _profile_context(db, request, user, ent.uscc))
    if ctx is None:
        raise HTTPException(404)
    return render(request, "enterprises/enterprise.html", {**ctx, "figure_labels": FIGURE_LABELS})


def _profile_context(db: Session, request: Request, user: Principal, uscc: str) -> dict[str, Any] | None:
    from qunlian.per_mu.web import profile_block  # 亩均 history, explanation, simulator inputs

    profile = enterprise_profile(db, user, uscc)
    if profile is None:
        return None
    _ = i18n.translator(lang_of(request))
    years = [str(y["year"]) for y in profile["years"]]
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "data": [_("亩均产值（万元/亩）"), _("亩均税收（万元/亩）")]},
        "grid": {"left": 60, "right": 60, "top": 60, "bottom": 30},
        "xAxis": {"type": "category", "data": years},
        "yAxis": [
            {"type": "value", "name": _("产值 万元/亩")},
            {"type": "value", "name": _("税收 万元/亩")},
        ],
        "series": [
            {"name": _("亩均产值（万元/亩）"), "type": "line", "yAxisIndex": 0,
             "data": [_round(y["output_per_mu"]) for y in profile["years"]]},
            {"name": _("亩均税收（万元/亩）"), "type": "line", "yAxisIndex": 1,
             "data": [_round(y["tax_per_mu"]) for y in profile["years"]]},
        ],
    }  # fmt: skip
    block = profile_block(db, request, profile["uscc"])
    if block is not None:  # the run's method and whole row are not shown; keep the entry small
        block = {k: v for k, v in block.items() if k not in ("method", "row")}
    return {"e": profile, "chart": chart, "muni": block}


@router.get("/enterprises/{uscc}/muni-levers")
def enterprise_levers(
    request: Request,
    uscc: str,
    run: int | None = Query(None, ge=1),
    db: Session = Depends(get_db),
    user: Principal = Depends(require_user),
):
    """Per lever, the smallest change of that one input that reaches the next 亩均 class, in the firm's
    latest run (or `run`): a search per input over the simulator, whose context for the run takes
    ~30 ms to build the first time (then kept, see analytics.cache.muni_evaluation). So the profile asks
    for it on demand (HTMX, when the block scrolls into view) instead of on every view. Same scope as
    the profile: a firm the caller may not see is 404."""
    from qunlian.per_mu.runs import muni_evaluation
    from qunlian.per_mu.engine import EvaluationError
    from qunlian.per_mu.simulate import levers
    from qunlian.per_mu.web import LEVER_LABELS

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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
