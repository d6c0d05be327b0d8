"""What the store holds, as far as the caller may see (the 驾驶舱's data-status block)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunlian.chains.service import chain_systems
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.service import enterprise_filter, enterprise_year_filter, scale_counts
from qunlian.platform.permissions import ScopeHolder
from qunlian.regions.service import towns_summary
from qunlian.targets.models import Indicator, Plan


def overview(session: Session, user: ScopeHolder | None) -> dict[str, Any]:
    """What the store holds, as far as the user may see: plans, towns, firms by year and scale, chains."""
    plans = [
        {"code": code, "title": title, "start_year": s, "end_year": e, "indicators": n}
        for code, title, s, e, n in session.execute(
            select(Plan.code, Plan.title, Plan.start_year, Plan.end_year, func.count(Indicator.id))
            .outerjoin(Indicator, Indicator.plan_id == Plan.id)
            .group_by(Plan.id, Plan.code, Plan.title, Plan.start_year, Plan.end_year)
            .order_by(Plan.start_year, Plan.code)
        )
    ]
    counts = scale_counts(
        session.execute(
            select(EnterpriseYear.year, EnterpriseYear.above_scale, func.count())
            .where(enterprise_year_filter(user))
            .group_by(EnterpriseYear.year, EnterpriseYear.above_scale)
        ).all()
    )
    enterprises = session.scalar(select(func.count()).select_from(Enterprise).where(enterprise_filter(user))) or 0
    return {
        "plans": plans,
        "towns": towns_summary(session, user),
        "enterprise_years": counts,
        "enterprises": enterprises,
        "chain_systems": chain_systems(session),
    }
