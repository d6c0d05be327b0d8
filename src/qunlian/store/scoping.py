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

Anything else (unknown role, a scoped role without its target, a disabled user) sees nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select, true
from sqlalchemy.orm import Session

from qunlian.analytics.overview import aggregate_years, build_chain_tree, per_mu, scale_counts
from qunlian.core.industry import get_industry
from qunlian.store.models import (
    AccessGrant,
    ChainNode,
    Enterprise,
    EnterpriseChainNode,
    EnterpriseYear,
    Indicator,
    Park,
    Plan,
    Town,
    User,
)

CITY_WIDE = ("admin", "analyst")


class ScopeHolder(Protocol):
    role: str
    town_id: int | None
    chain_node_id: int | None
    enterprise_id: int | None


@dataclass(frozen=True)
class Principal:
    """The caller as the query layer sees it: a role and its scope target (a detached User snapshot)."""

    id: int
    username: str
    role: str
    display_name: str = ""
    department: str | None = None
    town_id: int | None = None
    chain_node_id: int | None = None
    enterprise_id: int | None = None
    disabled: bool = False
    # a department's grants in force, as (scope, target id): ("all", None), ("town", id), ("chain", id)
    grants: tuple[tuple[str, int | None], ...] = ()

    @classmethod
    def from_user(cls, user: User, session: Session | None = None) -> Principal:
        """Snapshot of a user; with a session, a department user's grants in force are read too."""
        grants = active_grants(session, user.id) if session is not None and user.role == "department" else ()
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            display_name=user.display_name or user.username,
            department=user.department,
            town_id=user.town_id,
            chain_node_id=user.chain_node_id,
            enterprise_id=user.enterprise_id,
            disabled=bool(user.disabled),
            grants=grants,
        )

    @property
    def city_wide(self) -> bool:
        return self.role in CITY_WIDE and not self.disabled

    @property
    def granted(self) -> bool:
        """A department user holding an access grant in force: read-only firm pages open to it."""
        return self.role == "department" and bool(self.grants) and not self.disabled


def active_grants(session: Session, user_id: int, today: dt.date | None = None) -> tuple[tuple[str, int | None], ...]:
    """A user's access grants in force today (not revoked, not expired) as (scope, target id) pairs."""
    today = today or dt.date.today()
    rows = session.execute(
        select(AccessGrant.scope, AccessGrant.town_id, AccessGrant.chain_node_id)
        .where(AccessGrant.user_id == user_id, AccessGrant.revoked_at.is_(None),
               or_(AccessGrant.expires_on.is_(None), AccessGrant.expires_on >= today))
        .order_by(AccessGrant.id)
    )
    pairs = [(scope, town_id if scope == "town" else node_id if scope == "chain" else None)
             for scope, town_id, node_id in rows]
    return tuple(dict.fromkeys(pairs))


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


def subtree_select(node_id: int) -> Select:
    """SELECT of the ids of a chain node and all nodes below it (recursive CTE)."""
    tree = select(ChainNode.id).where(ChainNode.id == node_id).cte("chain_subtree", recursive=True, nesting=True)
    tree = tree.union_all(select(ChainNode.id).where(ChainNode.parent_id == tree.c.id))
    return select(tree.c.id)


def subtree_ids(session: Session, node_id: int) -> list[int]:
    return list(session.scalars(subtree_select(node_id)))


def chain_enterprise_ids(node_id: int) -> Select:
    """SELECT of the ids of enterprises linked to a node or any node below it."""
    return select(EnterpriseChainNode.enterprise_id).where(EnterpriseChainNode.node_id.in_(subtree_select(node_id)))


def enterprise_filter(user: ScopeHolder | None) -> ColumnElement[bool]:
    """WHERE clause on Enterprise restricting rows to what the user may see."""
    if user is None or getattr(user, "disabled", False):
        return false()
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
    if user is not None and not getattr(user, "disabled", False) and (
        user.role in CITY_WIDE or (user.role == "department" and ("all", None) in getattr(user, "grants", ()))
    ):
        return true()
    if user is not None and user.role == "enterprise" and user.enterprise_id is not None:
        return EnterpriseYear.enterprise_id == user.enterprise_id
    return EnterpriseYear.enterprise_id.in_(select(Enterprise.id).where(enterprise_filter(user)))


def scoped_enterprises(user: ScopeHolder | None) -> Select:
    return select(Enterprise).where(enterprise_filter(user))


def get_enterprise(session: Session, user: ScopeHolder | None, uscc: str) -> Enterprise | None:
    """The enterprise with this USCC if the user may see it; None when missing or out of scope."""
    return session.scalars(
        select(Enterprise).where(Enterprise.uscc == uscc.strip().upper(), enterprise_filter(user))
    ).first()


# --------------------------------------------------------------------------- enterprise lists

SORTS = ("name", "uscc", "town", "industry", "scale", "land", "output", "tax", "output_per_mu", "tax_per_mu")
MAX_PAGE_SIZE = 500


@dataclass
class EnterpriseQuery:
    q: str = ""  # part of a name or USCC
    town: str | None = None  # town code
    chain: str | None = None  # chain node as "system:code"
    year: int | None = None  # default: newest year with figures in scope
    scale: str | None = None  # above | below
    grade: str | None = None  # 亩均 class (调档后) in the newest run of the year
    sort: str = "name"
    desc: bool = False
    page: int = 1
    page_size: int = 50


@dataclass
class EnterprisePage:
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    year: int | None
    years: list[int]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def scoped_years(session: Session, user: ScopeHolder | None) -> list[int]:
    """Years with figures of a firm in scope, newest first. A DISTINCT would read every firm-year on
    each list view; instead the few years are found by stepping down the year index (max, then the
    max below it …) and each is kept if one firm-year in scope exists."""
    ey = EnterpriseYear
    years = select(func.max(ey.year).label("year")).cte("list_years", recursive=True)
    below = select(func.max(ey.year)).where(ey.year < years.c.year).scalar_subquery()
    years = years.union_all(select(below).where(years.c.year.is_not(None)))
    if getattr(user, "city_wide", False):  # every firm-year is in scope
        return list(session.scalars(select(years.c.year).where(years.c.year.is_not(None)).order_by(years.c.year.desc())))
    # a scalar subquery with LIMIT 1 (not EXISTS, which PostgreSQL turns into a join over every row)
    # stops at the first firm-year in scope
    one = select(ey.id).where(ey.year == years.c.year, enterprise_year_filter(user)).limit(1).scalar_subquery()
    rows = session.execute(select(years.c.year, one).where(years.c.year.is_not(None)).order_by(years.c.year.desc()))
    return [year for year, hit in rows if hit is not None]


def find_chain_node(session: Session, ref: str | None) -> ChainNode | None:
    if not ref or ":" not in ref:
        return None
    system, code = ref.split(":", 1)
    return session.scalars(select(ChainNode).where(ChainNode.system == system, ChainNode.code == code)).first()


def _enterprise_where(session: Session, user: ScopeHolder | None, query: EnterpriseQuery) -> list[ColumnElement[bool]] | None:
    """The scope and the list filters as WHERE clauses on Enterprise and the year's EnterpriseYear
    (joined on query.year); None when a filter names something missing (→ no rows)."""
    ey = EnterpriseYear
    where: list[ColumnElement[bool]] = [enterprise_filter(user)]
    q = (query.q or "").strip()
    if q:
        where.append(or_(Enterprise.name.contains(q, autoescape=True), Enterprise.uscc.contains(q.upper(), autoescape=True)))
    if query.town:
        # by id, so neither the count nor the page needs the towns join to filter
        where.append(Enterprise.town_id == select(Town.id).where(Town.code == query.town).scalar_subquery())
    if query.chain:
        node = find_chain_node(session, query.chain)
        if node is None:
            return None
        where.append(Enterprise.id.in_(chain_enterprise_ids(node.id)))
    if query.scale == "above":
        where.append(ey.above_scale.is_(True))
    elif query.scale == "below":
        where.append(ey.above_scale.is_(False))
    if query.grade:
        where.append(Enterprise.uscc.in_(muni_grade_usccs(session, query.year, query.grade)))
    return where


def _year_join() -> ColumnElement[bool]:
    return and_(EnterpriseYear.enterprise_id == Enterprise.id, EnterpriseYear.year == bindparam("list_year"))


def muni_grade_usccs(session: Session, year: int | None, grade: str) -> Select:
    """SELECT of the USCCs whose 亩均 class (after the latest manual adjustment) is ``grade`` in the
    newest run of ``year`` (no run that year → no rows)."""
    from qunlian.store.muni_models import MuniAdjustment, MuniResult, MuniRun

    run_id = session.scalar(select(func.max(MuniRun.id)).where(MuniRun.year == year)) if year is not None else None
    if run_id is None:
        return select(MuniResult.uscc).where(false())
    latest = select(func.max(MuniAdjustment.id)).where(MuniAdjustment.run_id == run_id).group_by(MuniAdjustment.uscc)
    adj = select(MuniAdjustment.uscc, MuniAdjustment.grade_after).where(MuniAdjustment.id.in_(latest)).subquery()
    return (
        select(MuniResult.uscc)
        .outerjoin(adj, adj.c.uscc == MuniResult.uscc)
        .where(MuniResult.run_id == run_id, func.coalesce(adj.c.grade_after, MuniResult.grade) == grade)
    )


def _sort_column(sort: str) -> ColumnElement[Any]:
    ey = EnterpriseYear
    return {
        "name": Enterprise.name,
        "uscc": Enterprise.uscc,
        "town": Town.seq,
        "industry": Enterprise.industry_code,
        "scale": ey.above_scale,
        "land": ey.land_mu,
        "output": ey.output_wan,
        "tax": ey.tax_wan,
        "output_per_mu": ey.output_wan / func.nullif(ey.land_mu, 0),
        "tax_per_mu": ey.tax_wan / func.nullif(ey.land_mu, 0),
    }.get(sort, Enterprise.name)


def _ordered(col: ColumnElement[Any], desc: bool) -> ColumnElement[Any]:
    """Missing values last whatever the direction. Name and USCC are never missing: ordering them
    plainly lets the database walk their index and stop at the page's last row."""
    order = col.desc() if desc else col.asc()
    return order if any(col is c for c in (Enterprise.name, Enterprise.uscc)) else order.nulls_last()


def enterprise_row(row: Any) -> dict[str, Any]:
    """One list row (a result row of the list query) as the pages, the API and the export show it."""
    fig = {c: getattr(row, c) for c in FIGURES}
    return {
        "uscc": row.uscc,
        "name": row.name,
        "town_code": row.town_code,
        "town": row.town,
        "industry_code": row.industry_code,
        "year": row.year,
        **fig,
        "output_per_mu": per_mu(fig["output_wan"], fig["land_mu"]),
        "tax_per_mu": per_mu(fig["tax_wan"], fig["land_mu"]),
    }


def list_enterprises(
    session: Session, user: ScopeHolder | None, query: EnterpriseQuery, paginate: bool = True
) -> EnterprisePage:
    """One page of the scoped, filtered list with its total. The count joins only what the filters
    need and the page reads plain columns (no ORM objects): both run on every list view."""
    years = scoped_years(session, user)
    if query.year is None and years:
        query.year = years[0]
    page_size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    page = max(1, query.page)
    where = _enterprise_where(session, user, query)
    if where is None:
        return EnterprisePage([], 0, page, page_size, query.year, years)
    params = {"list_year": query.year if query.year else -1}
    count = select(func.count()).select_from(Enterprise)
    if query.scale:
        count = count.join(EnterpriseYear, _year_join())
    total = session.scalar(count.where(*where), params) or 0
    if paginate and (page - 1) * page_size >= total:
        return EnterprisePage([], total, page, page_size, query.year, years)
    ey = EnterpriseYear
    col = _sort_column(query.sort)
    stmt = (
        select(Enterprise.uscc, Enterprise.name, Town.code.label("town_code"), Town.name.label("town"),
               Enterprise.industry_code, ey.year, *(getattr(ey, c) for c in FIGURES))
        .select_from(Enterprise)
        .outerjoin(ey, _year_join())
        .outerjoin(Town, Town.id == Enterprise.town_id)
        .where(*where)
        .order_by(_ordered(col, query.desc), Enterprise.uscc)
    )  # fmt: skip
    if paginate:
        stmt = stmt.limit(page_size).offset((page - 1) * page_size)
    items = [enterprise_row(r) for r in session.execute(stmt, params)]
    return EnterprisePage(items, total, page, page_size, query.year, years)


def town_options(session: Session) -> list[dict[str, str]]:
    """Every town (names are public) as a list filter: code and name, in the plan's order. The list
    page needs no per-town counts, so none are computed."""
    return [{"code": c, "name": n} for c, n in session.execute(select(Town.code, Town.name).order_by(Town.seq, Town.code))]


FIGURES = (
    "above_scale", "land_mu", "rented_out_mu", "tax_wan", "value_added_wan", "revenue_wan", "main_revenue_wan",
    "output_wan", "energy_tce", "electricity_wan_kwh", "emission_eq_t", "employees", "rd_wan", "profit_wan",
    "assets_wan", "liabilities_wan", "export_wan", "high_tech_revenue_wan", "invention_patents",
)  # fmt: skip


def enterprise_profile(session: Session, user: ScopeHolder | None, uscc: str) -> dict[str, Any] | None:
    """Identity, place, industry, chain nodes and yearly figures of one in-scope enterprise, else None."""
    ent = get_enterprise(session, user, uscc)
    if ent is None:
        return None
    town = session.get(Town, ent.town_id) if ent.town_id else None
    industry = get_industry(ent.industry_code)
    park = session.get(Park, ent.park_id) if ent.park_id else None
    nodes = []
    for link, node in session.execute(
        select(EnterpriseChainNode, ChainNode)
        .join(ChainNode, ChainNode.id == EnterpriseChainNode.node_id)
        .where(EnterpriseChainNode.enterprise_id == ent.id)
        .order_by(ChainNode.system, ChainNode.seq, ChainNode.code)
    ):
        nodes.append({"system": node.system, "code": node.code, "name": node.name, "level": node.level,
                      "path": _node_path(session, node), "role": link.role, "source": link.source})
    years = []
    for y in session.scalars(
        select(EnterpriseYear).where(EnterpriseYear.enterprise_id == ent.id).order_by(EnterpriseYear.year)
    ):
        row = {"year": y.year, **{c: getattr(y, c) for c in FIGURES}}
        row["output_per_mu"] = per_mu(y.output_wan, y.land_mu)
        row["tax_per_mu"] = per_mu(y.tax_wan, y.land_mu)
        years.append(row)
    return {
        "uscc": ent.uscc,
        "name": ent.name,
        "town": {"code": town.code, "name": town.name} if town else None,
        "park": {"code": park.code, "name": park.name} if park else None,
        "industry_code": ent.industry_code,
        "industry_name": industry.name if industry else None,
        "ownership": ent.ownership,
        "established_on": ent.established_on.isoformat() if ent.established_on else None,
        "listed": ent.listed,
        "is_demo": ent.is_demo,
        "chain_nodes": nodes,
        "years": years,
    }


def _node_path(session: Session, node: ChainNode) -> list[str]:
    path, seen = [], set()
    cur: ChainNode | None = node
    while cur is not None and cur.id not in seen and cur.level != "system":
        seen.add(cur.id)
        path.append(cur.name)
        cur = session.get(ChainNode, cur.parent_id) if cur.parent_id else None
    return list(reversed(path))


# --------------------------------------------------------------------------- overview, towns, chains


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


def chain_systems(session: Session) -> list[dict[str, Any]]:
    """Chain taxonomies (public structure): system code, its root's name and node counts by level."""
    systems: dict[str, dict[str, Any]] = {}
    for system, level, n in session.execute(
        select(ChainNode.system, ChainNode.level, func.count()).group_by(ChainNode.system, ChainNode.level)
    ):
        d = systems.setdefault(system, {"system": system, "name": system, "levels": {}, "nodes": 0})
        d["levels"][level] = n
        d["nodes"] += n
    for root in session.scalars(select(ChainNode).where(ChainNode.level == "system")):
        if root.system in systems:
            systems[root.system]["name"] = root.name
    return [systems[k] for k in sorted(systems)]


def chain_tree(session: Session, user: ScopeHolder | None, system: str) -> list[Any] | None:
    """The nodes of one system as a tree, with the firms the user may see counted per node."""
    nodes = session.execute(
        select(
            ChainNode.id, ChainNode.parent_id, ChainNode.code, ChainNode.name, ChainNode.level,
            ChainNode.kind, ChainNode.industry_codes, ChainNode.seq,
        ).where(ChainNode.system == system)
    ).mappings().all()  # fmt: skip
    if not nodes:
        return None
    links = session.execute(
        select(EnterpriseChainNode.node_id, Enterprise.id, Enterprise.industry_code)
        .join(Enterprise, Enterprise.id == EnterpriseChainNode.enterprise_id)
        .join(ChainNode, ChainNode.id == EnterpriseChainNode.node_id)
        .where(ChainNode.system == system, enterprise_filter(user))
    ).all()
    industry_counts = dict(
        session.execute(
            select(Enterprise.industry_code, func.count())
            .where(enterprise_filter(user))
            .group_by(Enterprise.industry_code)
        ).all()
    )
    return build_chain_tree(nodes, links, industry_counts)


def chain_options(session: Session) -> list[dict[str, str]]:
    """Chain-level nodes offered as list filters, as {"ref": "system:code", "label": …}."""
    return [
        {"ref": f"{n.system}:{n.code}", "label": f"{n.system} · {n.name}"}
        for n in session.scalars(
            select(ChainNode).where(ChainNode.level == "chain").order_by(ChainNode.system, ChainNode.seq, ChainNode.code)
        )
    ]
