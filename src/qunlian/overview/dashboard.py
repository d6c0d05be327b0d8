"""The 驾驶舱's figures and the county comparison's (/regions), computed once per scope and store
state (see qunlian.platform.cache).

Computed in full the page reads the plans' statuses, the 62-task ledger, the latest 亩均 run and
every chain link (~35 ms of queries and Python for the demo county) — on every view, though the
data changes a few times a day. Here the whole set is kept per caller scope and day, keyed by one
fingerprint of every table it reads; any committed write to those tables changes the fingerprint.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qunlian.platform.cache import StoreCache, scope_key
from qunlian.targets.service import list_tasks, plan_status, status_summary
from qunlian.per_mu.service import class_mix_in_scope
from qunlian.targets.service import TargetsError, chain_strength, latest_period
from qunlian.targets.service import own_town, plan_towns
from qunlian.accounts.models import AccessGrant
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.models import ImportBatch
from qunlian.regions.models import Region, Town
from qunlian.targets.models import Actual, Indicator, Plan, PlanTask, Target, TaskProgress
from qunlian.per_mu.models import MuniAdjustment, MuniRun
from qunlian.overview import cockpit, compare
from qunlian.overview.service import overview

# Every table a tile reads, directly or through the caller's scope (chain subtrees, grants).
# Enterprises and their years are changed in place only by imports, which always add a batch.
HOME_TABLES = (Plan, Indicator, Target, Actual, PlanTask, TaskProgress, Town, Enterprise, EnterpriseYear,
               ImportBatch, ChainNode, EnterpriseChainNode, MuniRun, MuniAdjustment, AccessGrant)

# what changes in place: superseded actuals, reloaded target values, task status, closure and due years,
# revoked grants
_HOME = StoreCache("home", HOME_TABLES, extra=(
    select(func.sum(case((Actual.superseded.is_(True), 1), else_=0))),
    select(func.sum(Target.value)),
    select(func.sum(case((PlanTask.status == "closed", 1), else_=0))),
    select(func.sum(case((PlanTask.status == "in_progress", 1), else_=0))),
    select(func.max(PlanTask.closed_at)),
    select(func.sum(PlanTask.due_year)),
    select(func.count(AccessGrant.revoked_at)),
))  # fmt: skip
# the comparison reads the same tables, the regions, the 亩均 results (added with their run) and the
# installation's root region (a setting whose change is audited)
_REGIONS = StoreCache("regions", (*HOME_TABLES, Region), extra=_HOME.extra, entries=128)


def home_figures(session: Session, user: Any, key_plans: tuple[tuple[str, str], ...], *, targets: bool,
                 muni: bool, firms: bool) -> dict[str, Any]:
    """overview (what is loaded, scoped counts); key (plans' key indicators) and overdue (the task
    ledger) when `targets`; mix (latest 亩均 class mix) when `muni`; chains (4q8l strength) when `firms`.
    Tiles not asked for are None."""
    key = ("home", scope_key(user), key_plans, targets, muni, firms)  # the cache adds today's date

    def compute() -> dict[str, Any]:
        town = own_town(session, user)
        path = cockpit.trend(session, user) if firms else []
        year = path[-1]["year"] if path else None
        return {
            "data": overview(session, user),
            # a town user's key indicators are its own (the plans' town decomposition, 003 附件3)
            "key": key_indicators(session, key_plans, town=town,
                                  unit=user.department if user.role == "department" else None) if targets else None,
            "chain_home": _chain_home(session, user),
            "town": town,
            "overdue": overdue_tasks(session, user, key_plans) if targets else None,
            "mix": class_mix_in_scope(session, user) if muni else None,
            "chains": chain_strength(session, user) if firms else None,
            "trend": path,
            "towns": cockpit.towns(session, user, year) if firms and town is None else [],
            "clusters": cockpit.clusters(session, user, year) if firms and user.city_wide else None,
        }

    return _HOME.get(session, key, compute)


def _chain_home(session: Session, user: Any) -> dict[str, Any] | None:
    """A chain user's chain: where its 驾驶舱 sends it first."""
    if user.role != "chain" or user.chain_node_id is None:
        return None
    node = session.get(ChainNode, user.chain_node_id)
    return {"system": node.system, "code": node.code, "name": node.name} if node is not None else None


def regions_figures(session: Session, user: Any, year: int | None) -> dict[str, Any]:
    """``compare.compare_counties`` for the user and year, kept until the data under it changes."""
    return _REGIONS.get(session, ("compare", scope_key(user), year),
                        lambda: compare.compare_counties(session, user, year))


def region_figures(session: Session, user: Any, region: Region) -> dict[str, Any]:
    """``compare.county_detail`` of one region for the user, kept until the data under it changes."""
    return _REGIONS.get(session, ("detail", scope_key(user), region.id),
                        lambda: compare.county_detail(session, user, region))


def key_indicators(session: Session, key_plans: tuple[tuple[str, str], ...], town: str | None = None,
                   unit: str | None = None) -> list[dict[str, Any]]:
    """Per (plan, table): the statuses at the latest period with actuals; plans not loaded are left out.
    ``town``: that town's decomposed targets instead, of the plans decomposed to it (the others left out).
    ``unit`` (a department): only the indicators it is responsible for, in every table of the plan."""
    out = []
    for code, table in key_plans:
        try:
            period = latest_period(session, code)
            plan = session.scalar(select(Plan).where(Plan.code == code))
            if town is not None:
                if plan is None or town not in {t.name for t in plan_towns(session, plan)}:
                    continue
                rows = plan_status(session, code, as_of=period, town=town) if period else []
            elif unit is not None:
                rows = [r for r in plan_status(session, code, as_of=period) if unit in (r.get("responsible_units") or [])] \
                    if period else []
                if not rows:
                    continue
            else:
                rows = [r for r in plan_status(session, code, as_of=period) if r["table"] == table] if period else []
        except TargetsError:  # plan not loaded
            continue
        out.append({"plan": code, "title": plan.title if plan else code,
                    "table": table if town is None and unit is None else None,
                    "period": period, "rows": rows, "summary": status_summary(rows), "town": town, "unit": unit})
    return out


def overdue_tasks(session: Session, user: Any, key_plans: tuple[tuple[str, str], ...]) -> dict[str, Any] | None:
    """Overdue tasks of the first key plan with a task ledger; a department counts the tasks it leads."""
    for code, _table in key_plans:
        try:
            tasks = list_tasks(session, code)
        except TargetsError:
            continue
        if not tasks:
            continue
        if user.role == "department" and user.department:
            tasks = [t for t in tasks if t["lead_unit"] == user.department]
        overdue = [t for t in tasks if any(w["kind"] == "overdue" for w in t["warnings"])]
        return {"plan": code, "count": len(overdue), "total": len(tasks),
                "unit": user.department if user.role == "department" else None}
    return None
