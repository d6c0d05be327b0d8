"""驾驶舱: what the store holds, the plans' key indicators with status lights, this year's 亩均 class
mix, chain strength and overdue tasks — each as far as the user may see. The figures are computed by
qunlian.overview.dashboard, which keeps them per scope until the data under them changes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from qunlian.accounts.service import describe_scope
from qunlian.overview import cockpit, compare
from qunlian.overview.dashboard import home_figures, region_figures, regions_figures
from qunlian.accounts.models import User
from qunlian.platform.permissions import Principal
from qunlian.platform import i18n
from qunlian.platform.web.deps import get_db, lang_of, render, require, require_user
from qunlian.platform.web.exports import ExportColumn, download, file_format, header_choice
from qunlian.platform.permissions import can
from qunlian.targets.service import LIGHTS, key_plans

router = APIRouter(include_in_schema=False)



@router.get("/")
def home(request: Request, by: str = Query("output_yi", max_length=20), db: Session = Depends(get_db),
         user: Principal = Depends(require_user)):
    if user.role == "enterprise" and user.enterprise_id is not None:
        # a firm's 驾驶舱 is its own page: its class and trend, the simulator, what would move it up
        from qunlian.enterprises.models import Enterprise

        firm = db.get(Enterprise, user.enterprise_id)
        if firm is not None:
            return RedirectResponse(f"/enterprises/{firm.uscc}", status_code=303)
    scope = describe_scope(db, db.get(User, user.id))
    figures = home_figures(db, user, key_plans(), targets=can(user, "targets.read"),
                           muni=can(user, "overview.per_mu_mix"), firms=can(user, "overview.firm_figures"))
    _ = i18n.translator(lang_of(request))
    by = by if by in cockpit.TOWN_FIGURES else "output_yi"
    mix, clusters = figures["mix"], figures["clusters"]
    ctx: dict[str, Any] = {
        **figures, "scope": scope, "lights": LIGHTS, "by": by, "town_figures": cockpit.TOWN_FIGURES,
        "cards": cockpit.cards(figures["trend"]),
        "towns": cockpit.town_buckets(figures["towns"], by),
        "key_summary": (key_summary := cockpit.light_summary(figures["key"] or [])),
        "charts": {"mix": cockpit.mix_pie(mix["grades"], _) if mix and mix.get("grades") else None,
                   "lights": cockpit.lights_ring(key_summary, LIGHTS, _) if any(key_summary.values()) else None,
                   "clusters": cockpit.cluster_bar(clusters, _) if clusters else None},
    }
    return render(request, "overview/home.html", ctx)


@router.get("/regions")
def regions_compare(request: Request, year: int | None = Query(None, ge=1900, le=2100), db: Session = Depends(get_db),
                    user: Principal = Depends(require("regions.compare"))):
    data = regions_figures(db, user, year)
    _ = i18n.translator(lang_of(request))
    charts = {"compare": compare.compare_chart(data["rows"], _), "mix": compare.mix_share_chart(data["rows"], _),
              "clusters": compare.clusters_chart(data["clusters"], _) if data["clusters"] else None}
    return render(request, "overview/regions.html", {"data": data, "charts": charts})


def _compare_columns(rows: list[dict[str, Any]]) -> list[ExportColumn]:
    """The county comparison table as a file: its columns, the class mix one column per class."""
    grades = sorted({g for r in rows if r.get("mix") for g in r["mix"]["grades"]})

    def target(field: str):
        return lambda r: (r.get("chain_target") or {}).get(field)

    return [
        ExportColumn("code", "地区代码"), ExportColumn("name", "地区", width=20),
        ExportColumn("level", "层级", labels={r["level"]: r["level_name"] for r in rows}),
        ExportColumn("firms", "企业（家）"), ExportColumn("above", "规上（家）"),
        ExportColumn("output_yi", "规上产值（亿元）"), ExportColumn("va_yi", "规上增加值（亿元）"),
        ExportColumn("tax_per_mu", "亩均税收（万元/亩）"),
        *(ExportColumn(f"per_mu_{g}", f"亩均 {g} 类（家）", value=lambda r, g=g: (r.get("mix") or {}).get("grades", {}).get(g))
          for g in grades),
        ExportColumn("per_mu_method", "亩均评价方法", value=lambda r: (r.get("mix") or {}).get("method")),
        ExportColumn("chain_output_yi", "集群规上产值（亿元）"),
        ExportColumn("chain_target_year", "规划目标年份", value=target("year")),
        ExportColumn("chain_target", "规划目标", value=target("text")),
        ExportColumn("chain_target_unit", "规划目标单位", value=target("unit")),
        ExportColumn("chain_share_pct", "已达规划目标（%）",
                     value=lambda r: None if r.get("chain_share") is None else round(r["chain_share"] * 100, 2)),
    ]


@router.get("/regions.xlsx")
@router.get("/regions.csv")
def regions_export(request: Request, year: int | None = Query(None, ge=1900, le=2100),
                   headers: str = Depends(header_choice), db: Session = Depends(get_db),
                   user: Principal = Depends(require("regions.compare"))):
    """The comparison table of /regions (the regions with firms in the user's scope) as a file."""
    data = regions_figures(db, user, year)
    rows = [r for r in data["rows"] if r["firms"]]
    return download(_compare_columns(rows), rows, file_format(request), headers,
                    name=f"regions-{data['year'] or 'all'}", title="地区对比")


@router.get("/regions/{code}")
def region_page(request: Request, code: str, db: Session = Depends(get_db),
                user: Principal = Depends(require("regions.compare"))):
    region = compare.visible_region(db, user, code) if len(code) <= 40 else None
    if region is None:
        raise HTTPException(404)
    detail = region_figures(db, user, region)
    chart = compare.county_path_chart(detail["path"], i18n.translator(lang_of(request)))
    return render(request, "overview/region.html", {"r": detail, "chart": chart})
