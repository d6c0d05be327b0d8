"""Enterprise lists, the profile and the years in scope: every read goes through the scope filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.chains.service import chain_enterprise_ids, find_chain_node
from qunlian.core.industry import get_industry
from qunlian.enterprises.figures import per_mu
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.scoping import enterprise_filter, enterprise_year_filter, get_enterprise
from qunlian.platform.permissions import ScopeHolder
from qunlian.regions.models import Park, Town


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
    #: of ``total``, the firms with figures for ``year`` (the others: closed, moved, not yet reported)
    with_year: int | None = None

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
        from qunlian.per_mu.service import final_grade_usccs  # per_mu reads this module's tables

        where.append(Enterprise.uscc.in_(final_grade_usccs(session, query.year, query.grade)))
    return where


def _year_join() -> ColumnElement[bool]:
    return and_(EnterpriseYear.enterprise_id == Enterprise.id, EnterpriseYear.year == bindparam("list_year"))


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
    with_year = None
    if query.year is not None:
        with_year = total if query.scale else session.scalar(
            select(func.count()).select_from(Enterprise).join(EnterpriseYear, _year_join()).where(*where), params) or 0
    if paginate and (page - 1) * page_size >= total:
        return EnterprisePage([], total, page, page_size, query.year, years, with_year)
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
    return EnterprisePage(items, total, page, page_size, query.year, years, with_year)


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
        "main_products": ent.main_products, "business_scope": ent.business_scope,
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
