"""Actuals to show monitoring working: from the seeds, and from the demo county's firm data.

- `load_seed_actuals`: the figures the seeds themselves print — each plan's baseline (2020 in 000
  and 004) and 001's "今年一季度，全市规上工业亩均税收达12.2万元" (2023 Q1, cumulative).
- `derive_demo_actuals`: indicator values computed from the store's EnterpriseYear rows (规上 firms)
  wherever the indicator can be computed from firm data — 亩均税收, 亩均增加值, 劳动生产率, 研发强度,
  增加值率, 规上总产值, 集群总产值, 增加值增长, 能耗强度降幅 — city-wide and per town where the plan
  decomposes the indicator. Source "演示县企业数据（虚构）", is_estimate = True.
- With `invent=True`, indicators that firm data cannot give (投资, 专利, 标准, 500强 …) get invented
  values near the plan's path, source "演示县虚构数据（无法由企业数据推算）", also is_estimate = True.

This module reads the store only; it does not import the demo generator.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any, Callable

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from qunlian.targets.actuals import ActualInput, add_actuals
from qunlian.targets.lookup import (
    concept_key,
    convert_to_unit,
    get_plan,
    indicators_of,
    plan_towns,
    plan_years,
)
from qunlian.targets.concepts import concept_of
from qunlian.core.units import UnitError
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.service import in_region
from qunlian.regions.models import Region
from qunlian.regions.service import region_scope
from qunlian.targets.models import Indicator, Plan, Target

DERIVED_SOURCE = "演示县企业数据（虚构）"
INVENTED_SOURCE = "演示县虚构数据（无法由企业数据推算）"
SEED_001 = ("《平湖打造“四群八链”》新闻特稿（2023）：“今年一季度，全市规上工业亩均税收达12.2万元”"
            "（seed 001_0bfc2728c4c24ec3.txt）")
CLUSTER_SYSTEM = "4q8l"
COUNT_UNITS = ("家", "项", "件", "个")

Agg = dict[str, float]
# concept → (unit of the computed value, formula text, f(this year, previous year, base year) → value)
Deriver = tuple[str, str, Callable[[Agg, Agg | None, Agg | None], float | None]]


def _div(a: float | None, b: float | None, k: float = 1.0) -> float | None:
    return None if a is None or not b else k * a / b


def _growth(cur: float | None, prev: float | None) -> float | None:
    return None if cur is None or not prev else 100 * (cur / prev - 1)


def _decline(cur: float | None, base: float | None) -> float | None:
    return None if cur is None or not base else 100 * (1 - cur / base)


def _lp(a: Agg | None) -> float | None:
    return None if a is None else _div(a.get("va"), a.get("emp"))


def _ei(a: Agg | None) -> float | None:
    return None if a is None else _div(a.get("energy"), a.get("va"))


DERIVERS: dict[str, Deriver] = {
    "tax-per-mu": ("万元/亩", "Σ税收 ÷ Σ用地面积（规上）", lambda a, p, b: _div(a.get("tax"), a.get("land"))),
    "va-per-mu": ("万元/亩", "Σ增加值 ÷ Σ用地面积（规上）", lambda a, p, b: _div(a.get("va"), a.get("land"))),
    "labour-productivity": ("万元/人", "Σ增加值 ÷ Σ从业人员（规上）", lambda a, p, b: _lp(a)),
    "rd-intensity": ("%", "Σ研发费用 ÷ Σ主营业务收入 × 100（规上）",
                     lambda a, p, b: _div(a.get("rd"), a.get("main_rev") or a.get("rev"), 100)),
    "va-rate": ("%", "Σ增加值 ÷ Σ工业总产值 × 100（规上）", lambda a, p, b: _div(a.get("va"), a.get("output"), 100)),
    "above-scale-output": ("亿元", "Σ工业总产值（规上）÷ 10000", lambda a, p, b: _div(a.get("output"), 1e4)),
    "cluster-output": ("亿元", "四群八链所属规上企业 Σ工业总产值 ÷ 10000",
                       lambda a, p, b: _div(a.get("cluster_output"), 1e4) if a.get("cluster_output") else None),
    "va-growth": ("%", "（Σ增加值 ÷ 上年 Σ增加值 − 1）× 100（规上，当年口径）",
                  lambda a, p, b: _growth(a.get("va"), p.get("va") if p else None)),
    "labour-productivity-growth": ("%", "（劳动生产率 ÷ 上年 − 1）× 100",
                                   lambda a, p, b: _growth(_lp(a), _lp(p))),
    "energy-intensity-decline": ("%", "（1 − 单位增加值能耗 ÷ 基期单位增加值能耗）× 100",
                                 lambda a, p, b: _decline(_ei(a), _ei(b))),
}
# Concepts whose town values make sense from firm data (sums over a town's own firms)
TOWN_DERIVABLE = {"tax-per-mu", "va-per-mu", "rd-intensity", "va-growth", "labour-productivity-growth",
                  "labour-productivity", "va-rate"}


def _aggregates(session: Session, years: range, region: ColumnElement[bool]) -> dict[tuple[int, int | None], Agg]:
    """Sums over the plan region's 规上 firms by (year, town_id), plus the region (town None)."""
    cols = {
        "tax": EnterpriseYear.tax_wan, "va": EnterpriseYear.value_added_wan, "land": EnterpriseYear.land_mu,
        "emp": EnterpriseYear.employees, "rd": EnterpriseYear.rd_wan, "main_rev": EnterpriseYear.main_revenue_wan,
        "rev": EnterpriseYear.revenue_wan, "output": EnterpriseYear.output_wan, "energy": EnterpriseYear.energy_tce,
    }
    base = (select(EnterpriseYear.year, Enterprise.town_id, *[func.sum(c) for c in cols.values()],
                   func.count(EnterpriseYear.id))
            .join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
            .where(EnterpriseYear.above_scale.is_(True), EnterpriseYear.year.between(years.start, years.stop - 1), region)
            .group_by(EnterpriseYear.year, Enterprise.town_id))
    out: dict[tuple[int, int | None], Agg] = {}
    city: dict[int, Agg] = defaultdict(lambda: defaultdict(float))
    for row in session.execute(base):
        year, town_id, *vals, n = row
        agg = {k: float(v) if v is not None else 0.0 for k, v in zip(cols, vals)}
        agg["firms"] = n
        if town_id is not None:
            out[(year, town_id)] = agg
        for k, v in agg.items():
            city[year][k] += v
    for year, agg in city.items():
        out[(year, None)] = dict(agg)
    # cluster output: firms on any node of the 四群八链 system (each firm counted once)
    members = (select(EnterpriseChainNode.enterprise_id)
               .join(ChainNode, ChainNode.id == EnterpriseChainNode.node_id)
               .where(ChainNode.system == CLUSTER_SYSTEM).distinct())
    q = (select(EnterpriseYear.year, func.sum(EnterpriseYear.output_wan))
         .where(EnterpriseYear.above_scale.is_(True), EnterpriseYear.enterprise_id.in_(members),
                EnterpriseYear.enterprise_id.in_(select(Enterprise.id).where(region)),
                EnterpriseYear.year.between(years.start, years.stop - 1))
         .group_by(EnterpriseYear.year))
    for year, total in session.execute(q):
        if (year, None) in out and total:
            out[(year, None)]["cluster_output"] = float(total)
    return out


def _plan_region(session: Session, plan: Any) -> ColumnElement[bool]:
    """The firms a plan's figures come from: those of its region (and, for the root's plans, the unplaced)."""
    if plan.region_id is None:
        return true()
    scope = region_scope(session, str(session.get(Region, plan.region_id).code))
    return in_region(scope.ids, scope.unplaced)


def _noise(*key: Any) -> float:
    """A deterministic number in [0, 1) from the key (the same demo always invents the same values)."""
    h = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _path_value(ind_targets: list[Target], baseline: tuple[int, float] | None, year: int) -> float | None:
    pts = sorted({t.year: t.value for t in ind_targets if t.value is not None}.items())
    if baseline:
        pts = sorted((dict(pts) | {baseline[0]: baseline[1]}).items())
    if not pts:
        return None
    if year <= pts[0][0]:
        return pts[0][1] * (0.92 if year < pts[0][0] else 1.0)
    for (y0, v0), (y1, v1) in zip(pts, pts[1:]):
        if y0 <= year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return pts[-1][1]


def derive_demo_actuals(session: Session, plan_code: str, invent: bool = True) -> list[dict[str, Any]]:
    """Indicator actuals per year (and per town where the plan decomposes it), computed, not stored.

    Each row: indicator, code, unit, period, town, value, how ("derived" | "invented"), formula, source,
    is_estimate (always True). Years are those with enterprise data inside the plan's window.
    """
    plan = get_plan(session, plan_code)
    inds = indicators_of(session, plan)
    lo, hi = plan_years(plan, inds)
    aggs = _aggregates(session, range(lo - 1, hi + 1), _plan_region(session, plan))
    data_years = sorted({y for (y, t) in aggs if t is None and lo <= y <= hi})
    towns = plan_towns(session, plan)
    out: list[dict[str, Any]] = []
    for ind in inds:
        targets = list(session.scalars(select(Target).where(Target.indicator_id == ind.id)))
        city_t = [t for t in targets if t.town_id is None]
        town_t = [t for t in targets if t.town_id is not None]
        if city_t and all(t.kind == "qualitative" for t in city_t):
            continue  # "完成上级下达任务": confirmed by a person, never computed
        key = concept_key(ind)
        cumulative_target = any(t.kind == "cumulative" for t in city_t)
        deriver = DERIVERS.get(key or "")
        base_year = (plan.start_year - 1) if cumulative_target else None

        def make(year: int, town_id: int | None) -> float | None:
            if deriver is None:
                return None
            a = aggs.get((year, town_id))
            if not a:
                return None
            prev = aggs.get((year - 1, town_id))
            if key == "energy-intensity-decline":
                b = aggs.get((base_year, town_id)) if cumulative_target else prev
                if b is None or (cumulative_target and year <= base_year):  # type: ignore[operator]
                    return None
                return deriver[2](a, prev, b)
            return deriver[2](a, prev, None)

        def emit(year: int, town, value: float, how: str) -> None:
            unit = deriver[0] if how == "derived" and deriver else ind.unit
            try:
                v = convert_to_unit(value, unit, ind.unit)
            except UnitError:
                return
            if how == "invented" and ind.unit in COUNT_UNITS:
                v = float(round(v))
            out.append({"indicator": ind.name, "code": ind.code, "unit": ind.unit, "period": str(year),
                        "town": town.name if town else None, "value": round(v, 6), "how": how,
                        "formula": deriver[1] if how == "derived" and deriver else "按规划路径 ± 随机扰动虚构",
                        "source": DERIVED_SOURCE if how == "derived" else INVENTED_SOURCE, "is_estimate": True})

        for year in data_years:
            if city_t or ind.baseline_value is not None:
                v = make(year, None)
                if v is not None:
                    emit(year, None, v, "derived")
                elif invent and city_t and not (ind.baseline_year == year):
                    if cumulative_target:
                        target = next(t.value for t in city_t if t.kind == "cumulative")
                        pv = target * max(0, year - base_year) / (plan.end_year - base_year)  # type: ignore[operator]
                    else:
                        pv = _path_value(city_t, (ind.baseline_year, ind.baseline_value)
                                         if ind.baseline_value is not None else None, year)
                    if pv is not None:
                        emit(year, None, pv * (0.9 + 0.14 * _noise(plan.code, ind.code, year)), "invented")  # type: ignore[operator]
            town_years = {t.year for t in town_t}
            for town in towns:
                if not town_t:
                    break
                tv = next((t.value for t in town_t if t.town_id == town.id and t.year == year), None)
                v = make(year, town.id) if key in TOWN_DERIVABLE else None
                if v is not None:
                    emit(year, town, v, "derived")
                elif invent and year in town_years and tv is not None:
                    emit(year, town, tv * (0.85 + 0.25 * _noise(plan.code, ind.code, town.code, year)), "invented")
    return out


def load_demo_actuals(session: Session, plan_code: str, actor: str = "demo", invent: bool = True) -> dict[str, Any]:
    """Store `derive_demo_actuals` (idempotent: unchanged values are not stored again)."""
    rows = derive_demo_actuals(session, plan_code, invent=invent)
    items = [ActualInput(r["code"], r["period"], r["value"], None, r["town"], False, r["source"]) for r in rows]
    if not items:
        return {"plan": plan_code, "added": 0, "revised": 0, "unchanged": 0, "derived": 0, "invented": 0}
    res = add_actuals(session, plan_code, items, entered_by=actor, is_estimate=True)
    res.pop("ids", None)
    res["derived"] = sum(r["how"] == "derived" for r in rows)
    res["invented"] = sum(r["how"] == "invented" for r in rows)
    return res


def seed_actuals(session: Session) -> list[tuple[Plan, Indicator, ActualInput]]:
    """The actuals the seeds print: each plan's baselines, and 001's 2023 Q1 亩均税收."""
    out = []
    for plan in session.scalars(select(Plan).order_by(Plan.id)):
        lo, hi = plan_years(plan, indicators_of(session, plan))
        for ind in indicators_of(session, plan):
            if ind.baseline_year is not None and ind.baseline_value is not None:
                out.append((plan, ind, ActualInput(ind.code, str(ind.baseline_year), ind.baseline_value, None, None,
                                                   False, f"{plan.source}：{ind.baseline_year} 年基期值"
                                                   f"（印作 {ind.baseline_text or ind.baseline_value}）")))
            hit = concept_of(ind.name, ind.code)
            has_city_target = session.scalar(select(Target.id).where(Target.indicator_id == ind.id,
                                                                     Target.town_id.is_(None)).limit(1))
            if hit and hit[0].key == "tax-per-mu" and lo <= 2023 <= hi and has_city_target:
                out.append((plan, ind, ActualInput(ind.code, "2023Q1", 12.2, "万元/亩", None, True, SEED_001)))
    return out


def load_seed_actuals(session: Session, actor: str = "seed") -> dict[str, int]:
    by_plan: dict[str, list[ActualInput]] = defaultdict(list)
    for plan, _ind, item in seed_actuals(session):
        by_plan[plan.code].append(item)
    totals = {"added": 0, "revised": 0, "unchanged": 0}
    for code, items in by_plan.items():
        res = add_actuals(session, code, items, entered_by=actor, is_estimate=False)
        for k in totals:
            totals[k] += res[k]
    return totals
