"""JSON API for other government systems: scoped enterprise reads.

Every read goes through the enterprises scope filter: an out-of-scope enterprise answers 404, exactly
like a missing one, so the API never tells a caller that a firm exists outside its scope.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from qunlian.enterprises.queries import EnterpriseQuery, enterprise_profile
from qunlian.enterprises.web import API_EXPORT_FILE, export_list, list_page
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import API_AUTH_RESPONSES, api_user, get_db
from qunlian.platform.web.exports import FILE_RESPONSES, api_format, header_choice

router = APIRouter(prefix="/api", tags=["api"])


class EnterpriseItem(BaseModel):
    uscc: str
    name: str
    town_code: str | None
    town: str | None
    industry_code: str | None
    year: int | None
    above_scale: bool | None
    land_mu: float | None = Field(description="亩")
    output_wan: float | None = Field(description="万元")
    tax_wan: float | None = Field(description="万元")
    revenue_wan: float | None = Field(description="万元")
    value_added_wan: float | None = Field(description="万元")
    energy_tce: float | None = Field(description="吨标准煤")
    electricity_wan_kwh: float | None = Field(description="万千瓦时")
    employees: int | None
    output_per_mu: float | None = Field(description="万元/亩")
    tax_per_mu: float | None = Field(description="万元/亩")


class EnterpriseList(BaseModel):
    items: list[EnterpriseItem]
    total: int
    page: int
    page_size: int
    year: int | None = Field(description="year of the figures; default the newest in scope")
    years: list[int]


class EnterpriseDetail(BaseModel):
    uscc: str
    name: str
    town: dict[str, str] | None
    park: dict[str, str] | None
    industry_code: str | None
    industry_name: str | None
    ownership: str | None
    established_on: str | None
    listed: bool
    is_demo: bool
    chain_nodes: list[dict[str, Any]]
    years: list[dict[str, Any]] = Field(description="figures per year; money in 万元, land in 亩, energy in 吨标准煤")


@router.get("/enterprises", response_model=EnterpriseList, responses={**API_AUTH_RESPONSES, **FILE_RESPONSES},
            summary="企业列表（按权限范围；format=xlsx|csv 下载） / enterprises in scope (format=xlsx|csv: a file)")
def enterprises(
    town: str | None = Query(None, max_length=40, description="town code, e.g. danghu"),
    chain: str | None = Query(None, max_length=130, description="chain node as system:code, e.g. 4q8l:optical"),
    year: int | None = Query(None, ge=1900, le=2200),
    q: str = Query("", max_length=200, description="part of the name or USCC"),
    scale: str | None = Query(None, pattern="^(above|below)$"),
    grade: str | None = Query(None, max_length=8, description="亩均 class (调档后) in the newest run of that year, e.g. A"),
    page: int = Query(1, ge=1, le=100000),
    page_size: int = Query(50, ge=1, le=500),
    fmt: str = Depends(api_format),
    headers: str = Depends(header_choice),
    db: Session = Depends(get_db),
    user: Principal = Depends(api_user),
) -> EnterpriseList:
    """JSON: one page. ``format=xlsx|csv``: every matching firm in scope as a file (the item's fields;
    headers Chinese with units, or the English field names with ``headers=en``), written to the audit log."""
    query = EnterpriseQuery(q=q, town=town, chain=chain, year=year, scale=scale, grade=grade, sort="uscc", page=page,
                            page_size=page_size)
    if fmt != "json":
        return export_list(db, user, query, fmt, headers, API_EXPORT_FILE)
    result = list_page(db, user, query)
    return EnterpriseList(items=result.items, total=result.total, page=result.page, page_size=result.page_size,
                          year=result.year, years=result.years)


@router.get(
    "/enterprises/{uscc}",
    response_model=EnterpriseDetail,
    summary="企业画像 / one enterprise",
    responses={**API_AUTH_RESPONSES, 404: {"description": "no such enterprise in the caller's scope"}},
)
def enterprise(uscc: str, db: Session = Depends(get_db), user: Principal = Depends(api_user)) -> EnterpriseDetail:
    profile = enterprise_profile(db, user, uscc) if len(uscc) <= 18 else None
    if profile is None:
        raise HTTPException(404, detail="not found")
    return EnterpriseDetail(**profile)
