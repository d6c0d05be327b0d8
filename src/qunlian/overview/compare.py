"""Views across regions: a city's (or province's) counties side by side, one county drilled down, and
for 嘉兴 the nine clusters of 002 on their counties against 002's 2021 / 2023 / 2025 figures.

Every figure comes from the capabilities' stored data as far as the caller may see it: firms and
their years (enterprises), the latest 亩均 run of each county (per_mu), chain links (chains), plan
targets and actuals (targets). Nothing here is stored; amounts are 亿元 unless said otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.chains.service import chain_enterprise_ids
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.service import enterprise_filter
from qunlian.per_mu.models import MuniResult, MuniRun
from qunlian.per_mu.service import final_of, latest_adjustments, method_title
from qunlian.regions.models import LEVEL_NAMES, Region, Town
from qunlian.regions.service import ancestors, descendants, root_region
from qunlian.targets.service import concept_of
from qunlian.targets.models import Actual, Indicator, Plan, Target

COMPARED_LEVELS = ("county", "zone")  # the units a city compares: its counties and city-level zones
CITY_CLUSTER_PLAN = "jiaxing-clusters-2022"  # 002: the nine clusters, each on its county
CLUSTER_ATTRIBUTE = "jiaxing_cluster"  # a county's chain node that is one of 002's clusters names it
GRADE_COLORS = {"A": "#2f7d32", "B": "#1f5fa8", "C": "#d28a00", "D": "#b3261e"}


def scope_region(session: Session, user: Any) -> Region | None:
    """The region the user's views start from: their own, else the installation's root."""
    rid = getattr(user, "region_id", None)
    return session.get(Region, rid) if rid else root_region(session)


def visible_region(session: Session, user: Any, code: str) -> Region | None:
    """A compared unit (county or zone) inside the user's region, else None (the page answers 404)."""
    top = scope_region(session, user)
    region = session.scalars(select(Region).where(Region.code == code)).first()
    if top is None or region is None or region.level not in COMPARED_LEVELS:
        return None
    return region if region.id in descendants(session, top.id) else None


def _units(session: Session, top: Region) -> list[Region]:
    ids = descendants(session, top.id)
    rows = session.scalars(select(Region).where(Region.id.in_(sorted(ids)), Region.level.in_(COMPARED_LEVELS)))
    return sorted(rows, key=lambda r: (r.seq, r.code))


def _years_in(session: Session, user: Any) -> list[int]:
    q = (select(EnterpriseYear.year).join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
         .where(enterprise_filter(user)).distinct())
    return sorted(session.scalars(q))


def _firm_figures(session: Session, user: Any, year: int | None) -> dict[int | None, dict[str, Any]]:
    """Per region id: firms, 规上 firms, 规上 output / value added / tax (亿元), 亩均税收 and 亩均增加值."""
    out: dict[int | None, dict[str, Any]] = defaultdict(dict)
    for rid, n in session.execute(
        select(Enterprise.region_id, func.count()).where(enterprise_filter(user)).group_by(Enterprise.region_id)
    ):
        out[rid]["firms"] = n
    if year is None:
        return out
    above = and_(EnterpriseYear.year == year, EnterpriseYear.above_scale.is_(True))
    q = (
        select(
            Enterprise.region_id,
            func.count(),
            func.sum(EnterpriseYear.output_wan),
            func.sum(EnterpriseYear.value_added_wan),
            func.sum(EnterpriseYear.tax_wan),
            func.sum(EnterpriseYear.land_mu),
        )
        .join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
        .where(enterprise_filter(user), above)
        .group_by(Enterprise.region_id)
    )
    for rid, n, output, va, tax, land in session.execute(q):
        out[rid].update(above=n, output_yi=_yi(output), va_yi=_yi(va), tax_yi=_yi(tax),
                        tax_per_mu=(tax / land) if tax is not None and land else None,
                        va_per_mu=(va / land) if va is not None and land else None)
    return out


def _yi(wan: float | None) -> float | None:
    return None if wan is None else wan / 1e4


def _class_mix(session: Session, user: Any, region_id: int, year: int | None) -> dict[str, Any] | None:
    """The final classes (调档后) of the county's latest run of the year, counting visible firms."""
    q = select(MuniRun).where(MuniRun.region_id == region_id)
    if year is not None:
        q = q.where(MuniRun.year == year)
    run = session.scalars(q.order_by(MuniRun.id.desc()).limit(1)).first()
    if run is None:
        return None
    visible = select(Enterprise.id).where(enterprise_filter(user))
    adjusted = latest_adjustments(session, run.id)
    counts: dict[str, int] = defaultdict(int)
    # the three columns final_of reads, not whole results (their JSON columns cost most of the time)
    for res in session.execute(select(MuniResult.uscc, MuniResult.total_score, MuniResult.grade)
                               .where(MuniResult.run_id == run.id, MuniResult.enterprise_id.in_(visible))):
        _score, final = final_of(res, adjusted.get(res.uscc))
        if final:
            counts[final] += 1
    total = sum(counts.values())
    return {"run_id": run.id, "method": method_title(run), "year": run.year, "evaluated": total,
            "grades": dict(sorted(counts.items())),
            "shares": {g: n / total for g, n in sorted(counts.items())} if total else {}}


def chain_output(session: Session, user: Any, region_id: int, year: int | None) -> float | None:
    """规上 output (亿元) of the visible firms linked to any chain node of the county's own systems."""
    if year is None:
        return None
    nodes = select(ChainNode.id).where(ChainNode.region_id == region_id)
    firms = select(EnterpriseChainNode.enterprise_id).where(EnterpriseChainNode.node_id.in_(nodes))
    if session.scalar(nodes.limit(1)) is None:
        return None
    total = session.scalar(
        select(func.sum(EnterpriseYear.output_wan))
        .join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
        .where(enterprise_filter(user), Enterprise.id.in_(firms), EnterpriseYear.year == year,
               EnterpriseYear.above_scale.is_(True))
    )
    return _yi(total) if total is not None else 0.0


def chain_target(session: Session, region_id: int, year: int | None) -> dict[str, Any] | None:
    """The county's plan target for its clusters' 规上 output in the year (concept cluster-output)."""
    if year is None:
        return None
    q = (select(Indicator, Plan).join(Plan, Plan.id == Indicator.plan_id).where(Plan.region_id == region_id)
         .order_by(Plan.code, Indicator.seq))
    for ind, plan in session.execute(q):
        hit = concept_of(ind.name, ind.code)
        if not hit or hit[0].key != "cluster-output":
            continue
        target = session.scalars(select(Target).where(Target.indicator_id == ind.id, Target.town_id.is_(None),
                                                      Target.year >= year).order_by(Target.year)).first()
        if target is not None:
            return {"plan": plan.code, "indicator": ind.code, "name": ind.name, "year": target.year,
                    "value": target.value, "text": target.text, "unit": ind.unit}
    return None


def compare_counties(session: Session, user: Any, year: int | None = None) -> dict[str, Any]:
    """The counties (and zones) of the user's region side by side, for one data year."""
    top = scope_region(session, user)
    years = _years_in(session, user)
    if year is None or year not in years:
        year = years[-1] if years else None
    if top is None:
        return {"region": None, "year": year, "years": years, "rows": [], "clusters": None}
    figures = _firm_figures(session, user, year)
    rows = []
    for r in _units(session, top):
        f = figures.get(r.id, {})
        chain_out = chain_output(session, user, r.id, year)
        target = chain_target(session, r.id, year)
        rows.append({
            "code": r.code, "name": r.name, "level": r.level, "level_name": LEVEL_NAMES.get(r.level, r.level),
            "parent": _parent_name(session, r), "division_code": r.division_code,
            "firms": f.get("firms", 0), "above": f.get("above", 0), "output_yi": f.get("output_yi"),
            "va_yi": f.get("va_yi"), "tax_yi": f.get("tax_yi"), "tax_per_mu": f.get("tax_per_mu"),
            "va_per_mu": f.get("va_per_mu"), "mix": _class_mix(session, user, r.id, year),
            "chain_output_yi": chain_out, "chain_target": target,
            "chain_share": (chain_out / target["value"]) if chain_out is not None and target and target["value"] else None,
        })
    with_data = [r for r in rows if r["firms"]]
    clusters = city_clusters(session, user, top)
    return {
        "region": {"code": top.code, "name": top.name, "level": top.level},
        "year": year, "years": years, "rows": rows, "with_data": len(with_data), "clusters": clusters,
        "cluster_years": sorted({y for c in clusters or [] for y in c["figures"]}),
    }


def _parent_name(session: Session, r: Region) -> str | None:
    parent = session.get(Region, r.parent_id) if r.parent_id else None
    return parent.name if parent else None


# --------------------------------------------------------------------------- 002's nine clusters


def city_clusters(session: Session, user: Any, top: Region) -> list[dict[str, Any]] | None:
    """002's clusters within the user's region: county, industry, the 2021 / 2023 / 2025 value added
    of 002 (亿元), the actuals stored for them, and the value-added path from firm data where the
    county's own chain system marks a node as the cluster (attribute jiaxing_cluster)."""
    plan = session.scalars(select(Plan).where(Plan.code == CITY_CLUSTER_PLAN)).first()
    if plan is None:
        return None
    inside = descendants(session, top.id)
    above_top = {r.id for r in ancestors(session, top.id)}
    if plan.region_id not in inside | above_top:
        return None
    nodes = session.scalars(select(ChainNode).where(ChainNode.system == CITY_CLUSTER_PLAN,
                                                    ChainNode.level == "cluster").order_by(ChainNode.seq))
    out = []
    for node in nodes:
        county_name = (node.attributes or {}).get("county")
        county = session.scalars(select(Region).where((Region.name == county_name) | (Region.code == county_name))).first()
        if county is None:
            county = next((r for r in session.scalars(select(Region)) if county_name in (r.aliases or [])), None)
        if county is not None and county.id not in inside:
            continue  # a county user sees their own county's cluster only
        ind = session.scalars(select(Indicator).where(Indicator.plan_id == plan.id,
                                                      Indicator.code == f"va-{node.code}")).first()
        figures = _plan_path(session, ind) if ind is not None else {}
        mapped = _mapped_node(session, node.code, county)
        out.append({
            "code": node.code, "name": (node.attributes or {}).get("industry", node.name),
            "county": county.name if county else county_name,
            "county_code": county.code if county else None, "tier": (node.attributes or {}).get("tier"),
            "figures": figures,
            "stored": _stored_actuals(session, ind) if ind is not None else {},
            "from_firms": _va_path(session, user, mapped) if mapped is not None else {},
            "mapped_node": f"{mapped.system}:{mapped.code}" if mapped is not None else None,
            "mapped_name": mapped.name if mapped is not None else None,
        })
    return out


def _plan_path(session: Session, ind: Indicator) -> dict[int, float | None]:
    path: dict[int, float | None] = {}
    if ind.baseline_year is not None:
        path[ind.baseline_year] = ind.baseline_value
    for t in session.scalars(select(Target).where(Target.indicator_id == ind.id, Target.town_id.is_(None))):
        path[t.year] = t.value
    return dict(sorted(path.items()))


def _stored_actuals(session: Session, ind: Indicator) -> dict[str, float]:
    rows = session.scalars(select(Actual).where(Actual.indicator_id == ind.id, Actual.town_id.is_(None),
                                                Actual.superseded.is_(False)).order_by(Actual.period))
    return {a.period: a.value for a in rows if a.value is not None}


def _mapped_node(session: Session, cluster_code: str, county: Region | None) -> ChainNode | None:
    if county is None:
        return None
    for node in session.scalars(select(ChainNode).where(ChainNode.region_id == county.id)):
        if (node.attributes or {}).get(CLUSTER_ATTRIBUTE) == cluster_code:
            return node
    return None


def _va_path(session: Session, user: Any, node: ChainNode) -> dict[int, float]:
    """Yearly 规上 value added (亿元) of the visible firms linked to the node or below it."""

    q = (select(EnterpriseYear.year, func.sum(EnterpriseYear.value_added_wan))
         .join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
         .where(enterprise_filter(user), Enterprise.id.in_(chain_enterprise_ids(node.id)),
                EnterpriseYear.above_scale.is_(True))
         .group_by(EnterpriseYear.year).order_by(EnterpriseYear.year))
    return {y: v / 1e4 for y, v in session.execute(q) if v is not None}


# --------------------------------------------------------------------------- one county


def county_detail(session: Session, user: Any, region: Region) -> dict[str, Any]:
    """One county drilled down: figures per year, its towns, latest class mix, chain systems, plans."""
    years = _years_in(session, user)
    path = []
    for y in years:
        f = _firm_figures(session, user, y).get(region.id, {})
        path.append({"year": y, "above": f.get("above", 0), "output_yi": f.get("output_yi"), "va_yi": f.get("va_yi"),
                     "tax_per_mu": f.get("tax_per_mu"), "va_per_mu": f.get("va_per_mu"),
                     "chain_output_yi": chain_output(session, user, region.id, y)})
    year = years[-1] if years else None
    towns = []
    q = (select(Enterprise.town_id, func.count()).where(enterprise_filter(user), Enterprise.region_id == region.id)
         .group_by(Enterprise.town_id))
    counts: dict[int | None, int] = {tid: n for tid, n in session.execute(q)}
    for t in session.scalars(select(Town).where(Town.region_id == region.id).order_by(Town.seq, Town.code)):
        towns.append({"code": t.code, "name": t.name, "kind": t.kind, "firms": counts.get(t.id, 0)})
    systems = []
    for root in session.scalars(select(ChainNode).where(ChainNode.region_id == region.id, ChainNode.level == "system")
                                .order_by(ChainNode.system)):
        systems.append({"system": root.system, "name": root.name})
    plans = [{"code": p.code, "title": p.title} for p in
             session.scalars(select(Plan).where(Plan.region_id == region.id).order_by(Plan.code))]
    return {
        "code": region.code, "name": region.name, "level": region.level,
        "level_name": LEVEL_NAMES.get(region.level, region.level), "division_code": region.division_code,
        "parent": _parent_name(session, region), "year": year, "path": path, "towns": towns,
        "mix": _class_mix(session, user, region.id, None), "systems": systems, "plans": plans,
        "firms": sum(counts.values()),
    }


# --------------------------------------------------------------------------- charts (ECharts options)


def compare_chart(rows: list[dict[str, Any]], _: Callable[[str], str] = str) -> dict[str, Any]:
    """Bars: 规上 output per county; line: its 亩均税收 on a second axis."""
    rows = [r for r in rows if r["firms"]]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "data": [_("规上工业总产值（亿元）"), _("亩均税收（万元/亩）")]},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 40},
        "xAxis": {"type": "category", "data": [r["name"] for r in rows]},
        "yAxis": [{"type": "value", "name": _("亿元")}, {"type": "value", "name": _("万元/亩")}],
        "series": [
            {"name": _("规上工业总产值（亿元）"), "type": "bar", "data": [_round(r["output_yi"]) for r in rows]},
            {"name": _("亩均税收（万元/亩）"), "type": "line", "yAxisIndex": 1, "data": [_round(r["tax_per_mu"]) for r in rows]},
        ],
    }


def mix_share_chart(rows: list[dict[str, Any]], _: Callable[[str], str] = str) -> dict[str, Any]:
    """Stacked 100 % bars: each county's 亩均 class shares (final classes of its latest run)."""
    rows = [r for r in rows if r["mix"]]
    grades = sorted({g for r in rows for g in r["mix"]["grades"]})
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "data": grades},
        "grid": {"left": 50, "right": 20, "top": 40, "bottom": 40},
        "xAxis": {"type": "category", "data": [r["name"] for r in rows]},
        "yAxis": {"type": "value", "name": "%", "max": 100},
        "series": [
            {"name": g, "type": "bar", "stack": "mix",
             "data": [round(100 * r["mix"]["shares"].get(g, 0.0), 1) for r in rows],
             **({"itemStyle": {"color": GRADE_COLORS[g]}} if g in GRADE_COLORS else {})}
            for g in grades
        ],
    }


def clusters_chart(clusters: list[dict[str, Any]], _: Callable[[str], str] = str) -> dict[str, Any]:
    """002's clusters: 2021 value added and the 2023 / 2025 figures as bars; firm-data value added of
    the latest year as a marker where a county's chain carries the cluster."""
    years = sorted({y for c in clusters for y in c["figures"]})
    labels = [f"{c['county']}·{c['name']}" for c in clusters]
    series: list[dict[str, Any]] = [
        {"name": _("%(year)s 年（002）") % {"year": y}, "type": "bar", "data": [_round(c["figures"].get(y)) for c in clusters]} for y in years
    ]
    if any(c["from_firms"] for c in clusters):
        series.append({"name": _("企业数据汇总（最近年份）"), "type": "scatter", "symbolSize": 14,
                       "data": [_round(c["from_firms"][max(c["from_firms"])]) if c["from_firms"] else None
                                for c in clusters]})
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 40, "bottom": 90},
        "xAxis": {"type": "category", "data": labels, "axisLabel": {"rotate": 30, "interval": 0}},
        "yAxis": {"type": "value", "name": _("亿元")},
        "series": series,
    }


def county_path_chart(path: list[dict[str, Any]], _: Callable[[str], str] = str) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "data": [_("规上工业总产值（亿元）"), _("规上工业增加值（亿元）"), _("集群规上产值（亿元）")]},
        "grid": {"left": 60, "right": 20, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [str(p["year"]) for p in path]},
        "yAxis": {"type": "value", "name": _("亿元")},
        "series": [
            {"name": _("规上工业总产值（亿元）"), "type": "line", "data": [_round(p["output_yi"]) for p in path]},
            {"name": _("规上工业增加值（亿元）"), "type": "line", "data": [_round(p["va_yi"]) for p in path]},
            {"name": _("集群规上产值（亿元）"), "type": "line", "data": [_round(p["chain_output_yi"]) for p in path]},
        ],
    }


def _round(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


__all__ = ["city_clusters", "clusters_chart", "compare_chart", "compare_counties", "county_detail",
           "county_path_chart", "mix_share_chart", "scope_region", "visible_region"]
