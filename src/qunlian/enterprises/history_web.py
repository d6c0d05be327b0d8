"""/enterprises/{uscc}/history: a firm's imported figures as they stood on a date, and every change."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from qunlian.enterprises import columns
from qunlian.enterprises.history import figures_as_of, revisions
from qunlian.enterprises.scoping import get_enterprise
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import get_db, render, require

router = APIRouter(include_in_schema=False)

SHOWN = ("tax_wan", "revenue_wan", "output_wan", "value_added_wan", "land_mu", "electricity_wan_kwh", "energy_tce",
         "employees", "rd_wan", "invention_patents")


@router.get("/enterprises/{uscc}/history")
def history_page(request: Request, uscc: str, as_of: str = Query("", max_length=10),
                 db: Session = Depends(get_db), user: Principal = Depends(require("firms.read"))):
    ent = get_enterprise(db, user, uscc) if len(uscc) <= 18 else None
    if ent is None:
        raise HTTPException(404)
    when, error = None, None
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
            when = dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
        except ValueError:
            error = "日期应写成 2025-06-30 这样的格式"
    figures = figures_as_of(db, ent.id, when)
    present = [f for f in columns.YEAR_FIELDS if any(row.get(f) is not None for row in figures.values())]
    fields = [f for f in SHOWN if f in present] + [f for f in present if f not in SHOWN]
    return render(request, "enterprises/history.html", {
        "e": ent, "as_of": as_of if when else "", "error": error, "figures": figures, "fields": fields,
        "headings": {f: columns.heading(f) for f in (*columns.YEAR_FIELDS, *columns.ENTERPRISE_FIELDS)},
        "revisions": revisions(db, ent.id)[:500],
    })
