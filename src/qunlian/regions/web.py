"""Towns (镇街道): list with a schematic map, and one page per town with its firms and aggregates."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from qunlian.enterprises.service import EnterpriseQuery, list_enterprises
from qunlian.platform.permissions import Principal
from qunlian.regions.service import town_detail, towns_summary
from qunlian.platform.i18n import Message
from qunlian.platform.web.deps import get_db, render, require_user
from qunlian.platform.web.exports import ExportColumn, download, file_format, header_choice

router = APIRouter(include_in_schema=False)


@router.get("/towns")
def towns_page(request: Request, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    return render(request, "regions/towns.html", {"towns": towns_summary(db, user)})


# the town list of /towns as a file; the kind (镇, 街道 …) is a msgid, in English with headers=en
TOWN_COLUMNS = (
    ExportColumn("name", "名称", width=16), ExportColumn("code", "代码"),
    ExportColumn("kind", "类型", value=lambda t: Message(t["kind"]) if t.get("kind") else None),
    ExportColumn("division_code", "区划代码"), ExportColumn("firms", "企业（家）"),
)


@router.get("/towns.xlsx")
@router.get("/towns.csv")
def towns_export(request: Request, headers: str = Depends(header_choice), db: Session = Depends(get_db),
                 user: Principal = Depends(require_user)):
    """The town list (firm counts of the user's scope) as a file."""
    return download(TOWN_COLUMNS, towns_summary(db, user), file_format(request), headers, name="towns", title="镇街道")


@router.get("/towns/{code}")
def town_page(request: Request, code: str, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    town = town_detail(db, user, code) if len(code) <= 40 else None
    if town is None:
        raise HTTPException(404)
    page = list_enterprises(db, user, EnterpriseQuery(town=code, sort="tax", desc=True, page_size=50))
    return render(request, "regions/town.html", {"town": town, "page": page})
