"""Who may see which enterprises: scope rules applied in the query layer (DESIGN §2).

Enterprise tax, energy and land figures are confidential, so every read of enterprises or their
yearly figures goes through `enterprise_filter` / `enterprise_year_filter`; hiding links in the UI
is not the protection. Out-of-scope firms are indistinguishable from missing ones (None → 404).

| role       | enterprises visible                                                    |
|------------|------------------------------------------------------------------------|
| admin      | all                                                                    |
| analyst    | all                                                                    |
| department | only through access grants (read-only): all firms, a town's or a chain's |
| town       | firms whose town is the user's town                                    |
| chain      | firms linked to the user's chain node or any node below it             |
| enterprise | the user's own firm                                                    |

Every role is also held to the user's region (``Principal.region_ids``): a county analyst sees that
county's firms, a city analyst every county of the city, a user of the installation's root region
everything; a department's "all firms" grant means all firms of its region.

Anything else (unknown role, a scoped role without its target, a disabled user) sees nothing.
"""


from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session

from qunlian.chains.service import chain_enterprise_ids
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.permissions import CITY_WIDE, ScopeHolder


def _grant_filter(grants: tuple[tuple[str, int | None], ...]) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    for scope, target in grants:
        if scope == "all":
            return true()
        if scope == "town" and target is not None:
            clauses.append(Enterprise.town_id == target)
        elif scope == "chain" and target is not None:
            clauses.append(Enterprise.id.in_(chain_enterprise_ids(target)))
    return or_(*clauses) if clauses else false()


# --------------------------------------------------------------------------- filters


def enterprise_filter(user: ScopeHolder | None) -> ColumnElement[bool]:
    """WHERE clause on Enterprise restricting rows to what the user may see."""
    if user is None or getattr(user, "disabled", False):
        return false()
    regions = getattr(user, "region_ids", None)
    scope = _role_filter(user)
    return scope if regions is None else in_region(regions) & scope


def _role_filter(user: ScopeHolder) -> ColumnElement[bool]:
    role = user.role
    if role in CITY_WIDE:
        return true()
    if role == "town" and user.town_id is not None:
        return Enterprise.town_id == user.town_id
    if role == "chain" and user.chain_node_id is not None:
        return Enterprise.id.in_(chain_enterprise_ids(user.chain_node_id))
    if role == "enterprise" and user.enterprise_id is not None:
        return Enterprise.id == user.enterprise_id
    if role == "department":
        return _grant_filter(getattr(user, "grants", ()))
    return false()


def enterprise_year_filter(user: ScopeHolder | None) -> ColumnElement[bool]:
    """WHERE clause on EnterpriseYear: only the figures of enterprises the user may see."""
    if user is not None and not getattr(user, "disabled", False) and getattr(user, "region_ids", None) is None and (
        user.role in CITY_WIDE or (user.role == "department" and ("all", None) in getattr(user, "grants", ()))
    ):
        return true()
    if user is not None and user.role == "enterprise" and user.enterprise_id is not None:
        return EnterpriseYear.enterprise_id == user.enterprise_id
    return EnterpriseYear.enterprise_id.in_(select(Enterprise.id).where(enterprise_filter(user)))


def in_region(region_ids: set[int] | frozenset[int] | None, unplaced: bool = False) -> ColumnElement[bool]:
    """WHERE clause on Enterprise: firms of these regions (None: every region); ``unplaced`` adds the
    firms that have no region yet (they belong to the installation's root region)."""
    if region_ids is None:
        return true()
    placed = Enterprise.region_id.in_(sorted(region_ids))
    return or_(placed, Enterprise.region_id.is_(None)) if unplaced else placed


def scoped_enterprises(user: ScopeHolder | None) -> Select:
    return select(Enterprise).where(enterprise_filter(user))


def get_enterprise(session: Session, user: ScopeHolder | None, uscc: str) -> Enterprise | None:
    """The enterprise with this USCC if the user may see it; None when missing or out of scope."""
    return session.scalars(
        select(Enterprise).where(Enterprise.uscc == uscc.strip().upper(), enterprise_filter(user))
    ).first()

