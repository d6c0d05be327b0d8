"""Towns as the pages show them, with the firms in scope counted (the regions capability's service)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.service import aggregate_years, enterprise_filter
from qunlian.platform.permissions import ScopeHolder
from qunlian.regions.models import Park, Town


def town_options(session: Session) -> list[dict[str, str]]:
    """Every town (names are public) as a list filter: code and name, in the plan's order. The list
    page needs no per-town counts, so none are computed."""
    return [{"code": c, "name": n} for c, n in session.execute(select(Town.code, Town.name).order_by(Town.seq, Town.code))]



def towns_summary(session: Session, user: ScopeHolder | None) -> list[dict[str, Any]]:
    """Every town (names are public) with the number of firms the user may see in it."""
    firms = (
        select(Enterprise.town_id, func.count().label("n"))
        .where(enterprise_filter(user))
        .group_by(Enterprise.town_id)
        .subquery()
    )
    return [
        {"code": t.code, "name": t.name, "kind": t.kind, "division_code": t.division_code, "firms": n or 0}
        for t, n in session.execute(
            select(Town, firms.c.n).outerjoin(firms, firms.c.town_id == Town.id).order_by(Town.seq, Town.code)
        )
    ]


def town_detail(session: Session, user: ScopeHolder | None, code: str) -> dict[str, Any] | None:
    town = session.scalars(select(Town).where(Town.code == code)).first()
    if town is None:
        return None
    rows = session.execute(
        select(
            EnterpriseYear.year, EnterpriseYear.above_scale, EnterpriseYear.land_mu,
            EnterpriseYear.output_wan, EnterpriseYear.tax_wan,
        )
        .join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
        .where(Enterprise.town_id == town.id, enterprise_filter(user))
    ).mappings()  # fmt: skip
    parks = list(session.scalars(select(Park).where(Park.town_id == town.id).order_by(Park.name)))
    return {
        "code": town.code,
        "name": town.name,
        "kind": town.kind,
        "division_code": town.division_code,
        "parks": [{"code": p.code, "name": p.name, "kind": p.kind} for p in parks],
        "years": aggregate_years(rows),
    }

