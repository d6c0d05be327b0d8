"""The regions capability's public face: the hierarchy (load, find, root, descendants, the listing
contract of `qunlian regions list`), towns as the pages show them, with the firms in scope counted, and
each region's departments and people (``qunlian.regions.departments``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunlian.core.messages import N_, Message
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.service import aggregate_years, enterprise_filter
from qunlian.platform.permissions import ScopeHolder
from qunlian.regions.departments import (
    DEPARTMENT_FILES,
    add_person,
    find_department,
    list_departments,
    list_people,
    load_all_departments,
    load_departments,
    parse_department_file,
    read_department_file,
    unresolved_units,
)
from qunlian.regions.hierarchy import (
    ParkSpec,
    RegionDataError,
    RegionSpec,
    TownFile,
    TownSpec,
    ancestors,
    descendants,
    find_region,
    load_hierarchy,
    load_regions,
    load_towns,
    parse_hierarchy,
    parse_town_file,
    read_hierarchy,
    read_town_file,
    root_code,
    root_region,
    set_root,
)
from qunlian.regions.models import Park, Region, Town


def _towns_in(user: ScopeHolder | None) -> Any:
    """WHERE clause on Town: the towns of the user's region (a user of the root region: all towns)."""
    ids = getattr(user, "region_ids", None)
    return Town.id.is_not(None) if ids is None else Town.region_id.in_(sorted(ids))


def town_options(session: Session, user: ScopeHolder | None = None) -> list[dict[str, str]]:
    """The towns of the user's region (names are public) as a list filter: code and name, in the
    plan's order. The list page needs no per-town counts, so none are computed."""
    q = select(Town.code, Town.name).where(_towns_in(user)).order_by(Town.region_id, Town.seq, Town.code)
    return [{"code": c, "name": n} for c, n in session.execute(q)]



def towns_summary(session: Session, user: ScopeHolder | None) -> list[dict[str, Any]]:
    """The towns of the user's region (names are public) with the number of firms the user may see in it."""
    firms = (
        select(Enterprise.town_id, func.count().label("n"))
        .where(enterprise_filter(user))
        .group_by(Enterprise.town_id)
        .subquery()
    )
    return [
        {"code": t.code, "name": t.name, "kind": t.kind, "division_code": t.division_code, "firms": n or 0}
        for t, n in session.execute(
            select(Town, firms.c.n).outerjoin(firms, firms.c.town_id == Town.id).where(_towns_in(user))
            .order_by(Town.region_id, Town.seq, Town.code)
        )
    ]


def town_detail(session: Session, user: ScopeHolder | None, code: str) -> dict[str, Any] | None:
    town = session.scalars(select(Town).where(Town.code == code, _towns_in(user))).first()
    if town is None:  # missing, or in another county: the same 404
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



def descendant_ids(session: Session, region_id: int) -> set[int]:
    return descendants(session, region_id)


@dataclass(frozen=True)
class RegionScope:
    """The firms a command reads: those of ``region`` and the regions below it.

    ``ids`` None means every firm (a store whose hierarchy is not loaded yet). ``unplaced``: firms
    without a region are counted too, because they belong to the installation's root region (a store
    filled before regions existed, or a firm imported with no town into a single-county store).
    """

    region: Region | None
    ids: frozenset[int] | None
    unplaced: bool = True


def region_scope(session: Session, key: str | None) -> RegionScope:
    """The scope of `--region KEY` (default: the root region); RegionDataError names the choices."""
    if key is None and session.scalar(select(Region.id).limit(1)) is None:
        return RegionScope(None, None)
    region = find_region(session, key or root_code(session))
    if region is None:
        shown = key or root_code(session)
        raise RegionDataError.one(Message("没有地区 %(region)s", region=repr(shown)), key="--region",
                                  fix=N_("用 `qunlian regions list` 查看地区代码；未初始化的库先运行 qunlian init"))
    ids = frozenset(descendants(session, region.id))
    root = find_region(session, root_code(session))
    return RegionScope(region, ids, unplaced=root is not None and root.id in ids)


def region_listing(session: Session) -> list[dict[str, Any]]:
    """Every region and town, parents before children (the `qunlian regions list --format json` contract).

    Keys: code (division code where known, else a stable code), name, level (province, city, county,
    town or zone), parent (the parent's code, null at the top), division_code, aliases; towns also
    carry slug (their code in URLs, e.g. danghu) and kind.
    """
    regions = list(session.scalars(select(Region).order_by(Region.seq, Region.id)))
    by_id = {r.id: r for r in regions}
    children: dict[int | None, list[Region]] = {}
    for r in regions:
        children.setdefault(r.parent_id if r.parent_id in by_id else None, []).append(r)
    towns: dict[int | None, list[Town]] = {}
    for t in session.scalars(select(Town).order_by(Town.seq, Town.code)):
        towns.setdefault(t.region_id, []).append(t)
    out: list[dict[str, Any]] = []

    def walk(r: Region) -> None:
        out.append({"code": r.code, "name": r.name, "level": r.level,
                    "parent": by_id[r.parent_id].code if r.parent_id in by_id else None,
                    "division_code": r.division_code, "aliases": list(r.aliases or [])})
        for t in towns.get(r.id, ()):
            out.append({"code": t.division_code or t.code, "name": t.name,
                        "level": "zone" if t.kind == "开发区" else "town", "parent": r.code,
                        "division_code": t.division_code, "aliases": list(t.aliases or []), "slug": t.code,
                        "kind": t.kind})
        for c in children.get(r.id, ()):
            walk(c)

    for top in children.get(None, ()):
        walk(top)
    return out


__all__ = [
    "DEPARTMENT_FILES",
    "ParkSpec",
    "RegionSpec",
    "TownFile",
    "TownSpec",
    "RegionDataError",
    "RegionScope",
    "add_person",
    "ancestors",
    "descendant_ids",
    "descendants",
    "find_department",
    "find_region",
    "list_departments",
    "list_people",
    "load_all_departments",
    "load_departments",
    "load_hierarchy",
    "load_regions",
    "load_towns",
    "parse_department_file",
    "parse_hierarchy",
    "parse_town_file",
    "read_department_file",
    "read_hierarchy",
    "read_town_file",
    "region_listing",
    "region_scope",
    "root_code",
    "root_region",
    "set_root",
    "town_detail",
    "town_options",
    "towns_summary",
    "unresolved_units",
]
