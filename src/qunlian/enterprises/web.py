"""Enterprises: scoped search and list, Excel export, and the profile (企业画像)."""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from qunlian.enterprises import columns
from qunlian.platform.cache import StoreCache, scope_key
from qunlian.platform.db import audit
from qunlian.accounts.models import AccessGrant
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.models import ImportBatch
from qunlian.per_mu.models import MuniAdjustment, MuniRun  # the list filters by 亩均 class
from qunlian.regions.models import Park, Town
from qunlian.chains.service import chain_options
from qunlian.enterprises.queries import SORTS, EnterprisePage, EnterpriseQuery, enterprise_profile, list_enterprises
from qunlian.enterprises.scoping import get_enterprise
from qunlian.platform.permissions import Principal
from qunlian.regions.service import town_options
from qunlian.platform import i18n
from qunlian.platform.web.deps import get_db, lang_of, render, require_user
from qunlian.platform.web.exports import ExportColumn, download, file_format, header_choice

router = APIRouter(include_in_schema=False)

# labels with units come from the columns module, the one vocabulary of the import templates too
FIGURE_LABELS = columns.headings((
    "above_scale", "land_mu", "rented_out_mu", "output_wan", "revenue_wan", "main_revenue_wan", "value_added_wan",
    "tax_wan", "profit_wan", "rd_wan", "export_wan", "high_tech_revenue_wan", "assets_wan", "liabilities_wan",
    "energy_tce", "electricity_wan_kwh", "emission_eq_t", "employees", "invention_patents", "output_per_mu",
    "tax_per_mu",
))
EXPORT_COLUMNS = columns.headings((
    "uscc", "name", "town", "industry_code", "year", "above_scale", "land_mu", "output_wan", "tax_wan",
    "output_per_mu", "tax_per_mu",
))
# the downloads of the list (/enterprises.xlsx, .csv): the page's columns, Chinese heading with unit or
# English key (headers=en); the API's download (/api/enterprises?format=…) has the JSON item's fields
EXPORT_FILE = tuple(ExportColumn(key, label, width=w) for (key, label), w in
                    zip(EXPORT_COLUMNS, (22, 36, 12, 10, 8, 8, 12, 14, 14, 18, 18)))
API_EXPORT_FILE = tuple(ExportColumn(key, "镇街道代码" if key == "town_code" else columns.heading(key)) for key in (
    "uscc", "name", "town_code", "town", "industry_code", "year", "above_scale", "land_mu", "output_wan", "tax_wan",
    "revenue_wan", "value_added_wan", "energy_tce", "electricity_wan_kwh", "employees", "output_per_mu", "tax_per_mu",
))


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
    ctx.update(towns=town_options(db, user), chains=chain_options(db, user))
    return render(request, "enterprises/enterprises.html", ctx)


@router.get("/enterprises.xlsx")
@router.get("/enterprises.csv")
def enterprises_export(
    request: Request,
    query: EnterpriseQuery = Depends(list_params),
    headers: str = Depends(header_choice),
    db: Session = Depends(get_db),
    user: Principal = Depends(require_user),
):
    """The filtered, scoped table as an Excel workbook or a CSV file (all pages); the export is audited."""
    return export_list(db, user, query, file_format(request), headers, EXPORT_FILE)


def export_list(db: Session, user: Principal, query: EnterpriseQuery, fmt: str, headers: str,
                cols: tuple[ExportColumn, ...]):
    """Every row of the scoped, filtered list (no paging) as a download, written to the audit log
    (enterprise figures are confidential): the page's and the API's downloads."""
    page = list_enterprises(db, user, query, paginate=False)
    audit(db, user.username, "enterprises.export", "enterprise", "", rows=len(page.items), filters=_params(query),
          format=fmt)
    db.commit()
    return download(cols, page.items, fmt, headers, name="enterprises", title="企业")


# A profile is the firm's identity, chain nodes, yearly figures and 亩均 history: about fifteen
# queries. Kept per caller scope, firm and language until one of these tables changes (firms and
# their years change in place only through imports, which add a batch; 亩均 results only with a run).
_PROFILE_TABLES = (Enterprise, EnterpriseYear, ImportBatch, Town, Park, ChainNode, EnterpriseChainNode)
_PROFILES: dict[tuple[str, ...], StoreCache] = {}


def _profile_cache(request: Request) -> StoreCache:
    """One cache per set of installed profile sections (their tables join the fingerprint)."""
    sections = request.app.state.profile_sections
    key = tuple(s.key for s in sections)
    if key not in _PROFILES:
        tables = (*_PROFILE_TABLES, *(t for s in sections for t in s.tables))
        _PROFILES[key] = StoreCache("enterprise-profile", tables, entries=512)
    return _PROFILES[key]


@router.get("/enterprises/{uscc}")
def enterprise_page(request: Request, uscc: str, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    ent = get_enterprise(db, user, uscc) if len(uscc) <= 18 else None
    if ent is None:  # missing and out of scope look the same
        raise HTTPException(404)
    lang = lang_of(request)
    ctx = _profile_cache(request).get(db, ("profile", scope_key(user), ent.uscc, lang),
                        lambda: _profile_context(db, request, user, ent.uscc))
    if ctx is None:
        raise HTTPException(404)
    return render(request, "enterprises/enterprise.html", {**ctx, "figure_labels": FIGURE_LABELS})


def _profile_context(db: Session, request: Request, user: Principal, uscc: str) -> dict[str, Any] | None:
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
    # the blocks other capabilities add (亩均 history and simulator …), each in its own template
    sections = []
    for section in request.app.state.profile_sections:
        sections.append({"key": section.key, "template": section.template,
                         "block": section.build(db, request, profile["uscc"])})
    return {"e": profile, "chart": chart, "sections": sections}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
