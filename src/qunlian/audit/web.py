"""/audit: the audit log for administrators — filters (who, what, which entity, from where, dates),
50 lines a page, newest first, and the chain's status (/audit/verify: walking the whole chain costs a
read of every line, so the page fetches it after loading, by HTMX; without scripts it is a link)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from qunlian.audit import service
from qunlian.core.errors import QunlianError
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import get_db, render, require

router = APIRouter(include_in_schema=False)

auditor = require("audit.read")


@router.get("/audit")
def audit_page(
    request: Request,
    db: Annotated[Session, Depends(get_db)],
    user: Annotated[Principal, Depends(auditor)],
    actor: str = "",
    action: str = "",
    entity: str = "",
    entity_id: str = "",
    origin: str = "",
    since: str = "",
    until: str = "",
    upto: int | None = None,
    page: int = 1,
):
    params: dict[str, Any] = {"actor": actor.strip(), "action": action.strip(), "entity": entity.strip(),
                              "entity_id": entity_id.strip(), "origin": origin.strip(), "since": since.strip(),
                              "until": until.strip()}
    error = None
    try:
        bounds = {"since": service.parse_time(params["since"]), "until": service.parse_time(params["until"], end=True)}
    except QunlianError as exc:
        error, bounds = exc.args[0], {}
    filters = service.Filters(**{k: v for k, v in params.items() if k not in ("since", "until")}, **bounds,
                              upto_id=upto)
    params["upto"] = upto
    result = service.entries(db, filters, page=page)
    for item in result.items:
        item["detail_text"] = json.dumps(item["detail"], ensure_ascii=False, sort_keys=True) if item["detail"] else ""
    return render(request, "audit/audit.html", {
        "params": params, "result": result, "error": error, "filtered": filters.active(), **service.choices(db),
    })


@router.get("/audit/verify")
def audit_verify(request: Request, db: Annotated[Session, Depends(get_db)],
                 user: Annotated[Principal, Depends(auditor)]):
    report = service.chain_status(db)
    template = "audit/_chain.html" if request.headers.get("HX-Request") else "audit/verify.html"
    return render(request, template, {"report": report})
