"""Towns (镇街道): list with a schematic map, and one page per town with its firms and aggregates."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from qunlian.enterprises.service import EnterpriseQuery, list_enterprises
from qunlian.platform.permissions import Principal
from qunlian.regions.service import town_detail, towns_summary
from qunlian.platform.web.deps import get_db, render, require_user

router = APIRouter(include_in_schema=False)


@router.get("/towns")
def towns_page(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    return render(request, "regions/towns.html", {"towns": towns_summary(db, user)})


@router.get("/towns/{code}")
def town_page(request: Request, code: str, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    town = town_detail(db, user, code) if len(code) <= 40 else None
    if town is None:
        raise HTTPException(404)
    page = list_enterprises(db, user, EnterpriseQuery(town=code, sort="tax", desc=True, page_size=50))
    return render(request, "regions/town.html", {"town": town, "page": page})
