"""JSON API for other government systems: bearer tokens, scoped enterprise reads, OpenAPI docs.

Every read goes through qunlian.store.scoping: an out-of-scope enterprise answers 404, exactly
like a missing one, so the API never tells a caller that a firm exists outside its scope.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from qunlian.store.scoping import EnterpriseQuery, Principal, enterprise_profile
from qunlian.web.deps import api_user, attempt_login, get_db
from qunlian.web.routers.enterprises import list_page

router = APIRouter(prefix="/api", tags=["api"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=80)
    password: str = Field(max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")


class Me(BaseModel):
    username: str
    role: str
    town_id: int | None
    chain_node_id: int | None
    enterprise_id: int | None


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


@router.post("/token", response_model=TokenResponse, summary="取得访问令牌 / get an access token")
def token(body: TokenRequest, request: Request, db: Session = Depends(get_db)) -> TokenResponse:
    user, wait = attempt_login(request, db, body.username, body.password, via="api")
    if wait:
        raise HTTPException(429, detail=f"too many failed logins; retry in {wait} s / 登录失败次数过多，请稍后再试",
                            headers={"Retry-After": str(wait)})
    if user is None:
        raise HTTPException(401, detail="wrong username or password / 用户名或密码错误")
    tokens = request.app.state.tokens
    return TokenResponse(access_token=tokens.issue(user.id), expires_in=tokens.ttl_s)


@router.get("/me", response_model=Me, summary="当前用户与范围 / the caller and its scope")
def me(user: Principal = Depends(api_user)) -> Me:
    return Me(username=user.username, role=user.role, town_id=user.town_id, chain_node_id=user.chain_node_id,
              enterprise_id=user.enterprise_id)


@router.get("/enterprises", response_model=EnterpriseList, summary="企业列表（按权限范围） / enterprises in scope")
def enterprises(
    town: str | None = Query(None, max_length=40, description="town code, e.g. danghu"),
    chain: str | None = Query(None, max_length=130, description="chain node as system:code, e.g. 4q8l:optical"),
    year: int | None = Query(None, ge=1900, le=2200),
    q: str = Query("", max_length=200, description="part of the name or USCC"),
    scale: str | None = Query(None, pattern="^(above|below)$"),
    grade: str | None = Query(None, max_length=8, description="亩均 class (调档后) in the newest run of that year, e.g. A"),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    db: Session = Depends(get_db),
    user: Principal = Depends(api_user),
) -> EnterpriseList:
    query = EnterpriseQuery(q=q, town=town, chain=chain, year=year, scale=scale, grade=grade, sort="uscc", page=page,
                            page_size=page_size)
    result = list_page(db, user, query)
    return EnterpriseList(items=result.items, total=result.total, page=result.page, page_size=result.page_size,
                          year=result.year, years=result.years)


@router.get(
    "/enterprises/{uscc}",
    response_model=EnterpriseDetail,
    summary="企业画像 / one enterprise",
    responses={404: {"description": "no such enterprise in the caller's scope"}},
)
def enterprise(uscc: str, db: Session = Depends(get_db), user: Principal = Depends(api_user)) -> EnterpriseDetail:
    profile = enterprise_profile(db, user, uscc) if len(uscc) <= 18 else None
    if profile is None:
        raise HTTPException(404, detail="not found")
    return EnterpriseDetail(**profile)


DOCS_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>群链 qunlian API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/vendor/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="/api/openapi.json"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/js/api-docs.js"></script></body></html>"""


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI from the app's own static files (no CDN, no inline script)."""
    return HTMLResponse(DOCS_HTML)
