"""驾驶舱: what the store holds, the plans' key indicators with status lights, this year's 亩均 class
mix, chain strength and overdue tasks — each as far as the user may see. The figures are computed by
qunlian.overview.dashboard, which keeps them per scope until the data under them changes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from qunlian.accounts.service import describe_scope
from qunlian.overview import compare
from qunlian.overview.dashboard import home_figures
from qunlian.accounts.models import User
from qunlian.platform.permissions import Principal
from qunlian.platform import i18n
from qunlian.platform.web.deps import get_db, lang_of, render, require, require_user
from qunlian.platform.permissions import can
from qunlian.targets.service import LIGHTS, key_plans

router = APIRouter(include_in_schema=False)



@router.get("/")
def home(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    scope = describe_scope(db, db.get(User, user.id))
    figures = home_figures(db, user, key_plans(), targets=can(user, "targets.read"),
                           muni=can(user, "overview.per_mu_mix"), firms=can(user, "overview.firm_figures"))
    ctx: dict[str, Any] = {**figures, "scope": scope, "lights": LIGHTS}
    return render(request, "overview/home.html", ctx)


@router.get("/regions")
def regions_compare(request: Request, year: int | None = Query(None, ge=1900, le=2100), db: Session = Depends(get_db),
                    user: Principal = Depends(require("regions.compare"))):
    data = compare.compare_counties(db, user, year)
    _ = i18n.translator(lang_of(request))
    charts = {"compare": compare.compare_chart(data["rows"], _), "mix": compare.mix_share_chart(data["rows"], _),
              "clusters": compare.clusters_chart(data["clusters"], _) if data["clusters"] else None}
    return render(request, "overview/regions.html", {"data": data, "charts": charts})


@router.get("/regions/{code}")
def region_page(request: Request, code: str, db: Session = Depends(get_db),
                user: Principal = Depends(require("regions.compare"))):
    region = compare.visible_region(db, user, code) if len(code) <= 40 else None
    if region is None:
        raise HTTPException(404)
    detail = compare.county_detail(db, user, region)
    chart = compare.county_path_chart(detail["path"], i18n.translator(lang_of(request)))
    return render(request, "overview/region.html", {"r": detail, "chart": chart})
