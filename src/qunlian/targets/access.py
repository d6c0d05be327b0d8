"""Who may do what to which plan object: the named actions (qunlian.platform.permissions) plus the
object checks that depend on the plan's data (a department's own indicators and tasks, a town's own
figures). Pure: no web, no request objects."""

from __future__ import annotations

from sqlalchemy.orm import Session

from qunlian.platform.permissions import Principal, can
from qunlian.regions.models import Town


def may_enter_actual(user: Principal, responsible_units: list[str]) -> bool:
    """Enter an actual value of an indicator: city-wide editors always, a department for the
    indicators the plan names it responsible for."""
    if can(user, "targets.enter_actuals"):
        return True
    return can(user, "targets.enter_own_actuals") and bool(user.department) and user.department in responsible_units


def may_enter_some_actual(user: Principal) -> bool:
    return can(user, "targets.enter_actuals") or can(user, "targets.enter_own_actuals")


def may_manage_task(user: Principal, lead_unit: str) -> bool:
    """Report progress on, close or reopen a task: city-wide editors always, a department for the
    tasks it leads (牵头单位)."""
    if can(user, "targets.manage_tasks"):
        return True
    return can(user, "targets.manage_own_tasks") and bool(user.department) and user.department == lead_unit


def own_town(session: Session, user: Principal) -> str | None:
    """The name of the town a town user belongs to; None for every other role. A town user sees its
    own town's actuals and statuses only (others answer 404, like a missing town)."""
    if user.role == "town" and user.town_id is not None:
        town = session.get(Town, user.town_id)
        return town.name if town else None
    return None
