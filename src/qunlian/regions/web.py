"""Towns (镇街道): list with a schematic map, and one page per town with its firms and aggregates."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from qunlian.accounts.models import AccessGrant
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.service import EnterpriseQuery, list_enterprises
from qunlian.per_mu.models import MuniAdjustment, MuniRun
from qunlian.platform.cache import StoreCache, scope_key
from qunlian.platform.models import ImportBatch
from qunlian.regions.models import Park, Town
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


# A town page (its yearly figures and its 50 biggest taxpayers) per caller scope, until the firms, their
# figures (changed in place only by imports, which add a batch), chain links, classes or grants change.
_TOWN_PAGES = StoreCache("town-page", (Town, Park, Enterprise, EnterpriseYear, ImportBatch, ChainNode,
                                       EnterpriseChainNode, MuniRun, MuniAdjustment, AccessGrant), entries=128)


@router.get("/towns/{code}")
def town_page(request: Request, code: str, db: Session = Depends(get_db), user: Principal = Depends(require_user)):
    if len(code) > 40:
        raise HTTPException(404)

    def compute() -> dict | None:
        town = town_detail(db, user, code)
        if town is None:
            return None
        return {"town": town, "page": list_enterprises(db, user, EnterpriseQuery(town=code, sort="tax", desc=True,
                                                                                   page_size=50))}

    figures = _TOWN_PAGES.get(db, ("town", code, scope_key(user)), compute)
    if figures is None:
        raise HTTPException(404)
    return render(request, "regions/town.html", figures)
