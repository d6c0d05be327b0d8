"""Targets services over the store: status, reconciliation, roll-up, ranking, alignment.

These are the functions the web pages and the CLI call. They read the store and hand plain rows to
the pure modules (status, reconcile, alignment); they never write, except where named.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qunlian.platform.cache import FigureCache
from qunlian.targets.alignment import align
from qunlian.targets.concepts import concept_of, normalise_name
from qunlian.targets.lookup import (
    TargetsError,
    find_indicators,
    get_plan,
    indicators_of,
    lookup_town,
    measure_of,
    plan_towns,
)
from qunlian.targets.lights import StatusRules, load_status_rules
from qunlian.targets.reconcile import rank_towns, reconcile, rollup
from qunlian.targets.status import Observation, Series, TargetPoint, evaluate
from qunlian.core.periods import Period
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.regions.models import Town
from qunlian.regions.service import ancestors
from qunlian.targets.models import Actual, Indicator, Plan, Target


def _series(session: Session, plan: Plan, ind: Indicator, town: Town | None) -> Series:
    tq = select(Target).where(Target.indicator_id == ind.id)
    tq = tq.where(Target.town_id.is_(None) if town is None else Target.town_id == town.id)
    targets = [TargetPoint(t.year, t.kind, t.value, t.text) for t in session.scalars(tq.order_by(Target.year))]
    aq = select(Actual).where(Actual.indicator_id == ind.id, Actual.superseded.is_(False))
    aq = aq.where(Actual.town_id.is_(None) if town is None else Actual.town_id == town.id)
    actuals = [Observation(Period.parse(a.period), a.value, a.cumulative, a.source, a.is_estimate)
               for a in session.scalars(aq)]
    if town is None:
        # a city figure entered on the same indicator printed twice in the plan (003 附件1 #6 and
        # 附件3 #3 规上工业亩均税收) counts for both
        own = {(str(o.period), o.cumulative) for o in actuals}
        for sib in _siblings(session, plan, ind):
            for a in session.scalars(select(Actual).where(Actual.indicator_id == sib.id, Actual.town_id.is_(None),
                                                          Actual.superseded.is_(False))):
                if (a.period, a.cumulative) not in own:
                    own.add((a.period, a.cumulative))
                    actuals.append(Observation(Period.parse(a.period), a.value, a.cumulative, a.source,
                                               a.is_estimate))
    return Series(name=ind.name, unit=ind.unit, measure=measure_of(ind), direction=ind.direction, code=ind.code,
                  nature=ind.nature,
                  baseline_year=ind.baseline_year if town is None else None,
                  baseline_value=ind.baseline_value if town is None else None,
                  plan_start=plan.start_year, targets=targets, actuals=actuals)


def _siblings(session: Session, plan: Plan, ind: Indicator) -> list[Indicator]:
    n = normalise_name(ind.name)
    return [i for i in indicators_of(session, plan)
            if i.id != ind.id and i.unit == ind.unit and normalise_name(i.name) == n]


def _town_or_fail(session: Session, plan: Plan, town: str) -> Town:
    t = lookup_town(session, town)
    towns = plan_towns(session, plan)
    if t is None or t.id not in {x.id for x in towns}:
        avail = "、".join(x.name for x in towns) or "（该规划未分解到镇街道）"
        raise TargetsError(f"镇街道 {town!r} 不在规划 {plan.code} 的分解中；可用：{avail}")
    return t


# Statuses change only when actuals or targets do: pages and the API ask for the same plan's status
# many times a minute, so results are kept per database, plan, period, town, rules and a fingerprint
# of the plan's actuals and targets (any insert, revision or reloaded target changes it).
_STATUSES = FigureCache("plan-status", entries=64)


def plan_status(session: Session, plan_code: str, as_of: str | Period | None = None, town: str | None = None,
                rules: StatusRules | None = None) -> list[dict[str, Any]]:
    """One status object per indicator of the plan (city-wide, or one town's decomposed targets)."""
    plan = get_plan(session, plan_code)
    rules = rules or load_status_rules()
    p = Period.parse(as_of) if isinstance(as_of, (str, int)) else as_of
    key = (plan.code, str(p) if p else None, town, id(rules))
    return _STATUSES.get(session, key, _fingerprint(session, plan), lambda: _plan_status(session, plan, p, town, rules))


def _fingerprint(session: Session, plan: Plan) -> tuple:
    ind = select(Indicator.id).where(Indicator.plan_id == plan.id)
    actuals = session.execute(
        select(func.count(Actual.id), func.max(Actual.id), func.sum(Actual.value),
               func.sum(case((Actual.superseded.is_(True), 1), else_=0)))
        .where(Actual.indicator_id.in_(ind))
    ).one()
    targets = session.execute(
        select(func.count(Target.id), func.sum(Target.value)).where(Target.indicator_id.in_(ind))
    ).one()
    return tuple(actuals) + tuple(targets)


def _plan_status(session: Session, plan: Plan, p: Period | None, town: str | None,
                 rules: StatusRules) -> list[dict[str, Any]]:
    t = _town_or_fail(session, plan, town) if town else None
    out = []
    for ind in indicators_of(session, plan):
        s = _series(session, plan, ind, t)
        if t is not None and not s.targets:
            continue  # not decomposed to towns
        if t is None and not s.targets and s.baseline_value is None:
            continue  # a town-only indicator
        r = evaluate(s, p, rules)
        r.update(plan=plan.code, table=ind.table, seq=ind.seq, category=ind.category,
                 responsible_units=list(ind.responsible_units or []), town=t.name if t else None,
                 as_of=str(p) if p else None)
        out.append(r)
    return out


def reconcile_plan(session: Session, plan_code: str, year: int, rules: StatusRules | None = None,
                   weights: dict[str, dict[str, float]] | None = None) -> list[dict[str, Any]]:
    """Per indicator decomposed to towns in `year`: do the towns' targets add up to the city's?"""
    plan = get_plan(session, plan_code)
    rules = rules or load_status_rules()
    towns = plan_towns(session, plan)
    decomposition = _decomposition_table(session, plan)
    out = []
    for ind in indicators_of(session, plan):
        rows = session.scalars(select(Target).where(Target.indicator_id == ind.id, Target.year == year)).all()
        town_rows = {r.town_id: r for r in rows if r.town_id is not None}
        city = next((r for r in rows if r.town_id is None), None)
        if not town_rows and not (city and ind.table == decomposition):
            continue
        values = {t.name: (town_rows[t.id].value if t.id in town_rows else None) for t in towns}
        w = (weights or {}).get(ind.code) or (_weights(session, ind, towns, year) if ind.aggregation ==
                                              "weighted_mean" else None)
        rec = reconcile(city.value if city else None, values, ind.aggregation, ind.direction, w,
                        rules.reconciliation.relative_tolerance, unit=ind.unit)
        out.append({"indicator": ind.name, "code": ind.code, "unit": ind.unit, "year": year,
                    "aggregation": ind.aggregation, "city_target": city.value if city else None,
                    "city_target_text": city.text if city else None,
                    "towns": {t.name: {"value": values[t.name], "text": town_rows[t.id].text if t.id in town_rows
                                       else None} for t in towns},
                    **rec.as_dict()})
    return out


def _decomposition_table(session: Session, plan: Plan) -> str | None:
    row = session.execute(select(Indicator.table).join(Target).where(
        Indicator.plan_id == plan.id, Target.town_id.is_not(None)).limit(1)).first()
    return row[0] if row else None


_EY_COLUMNS = {c.key for c in EnterpriseYear.__table__.columns}


def _weights(session: Session, ind: Indicator, towns: list[Town], year: int) -> dict[str, float] | None:
    """Town weights for a weighted mean, from enterprise-year sums of the indicator's weight_by column."""
    col = ind.weight_by
    if not col or col not in _EY_COLUMNS:
        return None
    from sqlalchemy import func

    c = getattr(EnterpriseYear, col)
    rows = session.execute(
        select(Enterprise.town_id, func.sum(c)).join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
        .where(EnterpriseYear.year == year, EnterpriseYear.above_scale.is_(True))
        .group_by(Enterprise.town_id)).all()
    by_id = {tid: v for tid, v in rows}
    out = {t.name: by_id.get(t.id) for t in towns}
    return out if all(v for v in out.values()) else None


def town_rollup(session: Session, plan_code: str, period: str) -> list[dict[str, Any]]:
    """Town actuals of a period rolled up to the city by each indicator's aggregation rule."""
    plan = get_plan(session, plan_code)
    p = Period.parse(period)
    towns = plan_towns(session, plan)
    out = []
    for ind in indicators_of(session, plan):
        has_town_targets = session.scalar(select(Target.id).where(
            Target.indicator_id == ind.id, Target.town_id.is_not(None)).limit(1))
        if not has_town_targets:
            continue
        acts = session.scalars(select(Actual).where(
            Actual.indicator_id == ind.id, Actual.period == str(p), Actual.superseded.is_(False))).all()
        by_town = {a.town_id: a.value for a in acts if a.town_id is not None}
        city_actual = next((a.value for a in acts if a.town_id is None), None)
        values = {t.name: by_town.get(t.id) for t in towns}
        w = _weights(session, ind, towns, p.year) if ind.aggregation == "weighted_mean" else None
        total = rollup(values, ind.aggregation, w) if all(v is not None for v in values.values()) else None
        out.append({"indicator": ind.name, "code": ind.code, "unit": ind.unit, "period": str(p),
                    "aggregation": ind.aggregation, "towns": values, "rollup": total, "city_actual": city_actual,
                    "consistent": None if total is None or city_actual is None
                    else abs(total - city_actual) <= 1e-6 * max(1.0, abs(city_actual))})
    return out


def town_ranking(session: Session, plan_code: str, indicator: str, period: str) -> list[dict[str, Any]]:
    """Towns ranked on one indicator: by completion of their own target, then by the actual."""
    plan = get_plan(session, plan_code)
    inds = [i for i in find_indicators(session, plan, indicator)
            if session.scalar(select(Target.id).where(Target.indicator_id == i.id, Target.town_id.is_not(None))
                              .limit(1))]
    if len(inds) != 1:
        raise TargetsError(f"指标 {indicator!r} 在规划 {plan_code} 中没有唯一的镇街道分解")
    ind = inds[0]
    p = Period.parse(period)
    rows = []
    for t in plan_towns(session, plan):
        tgt = session.scalar(select(Target).where(Target.indicator_id == ind.id, Target.town_id == t.id,
                                                  Target.year == p.year))
        act = session.scalar(select(Actual).where(Actual.indicator_id == ind.id, Actual.town_id == t.id,
                                                  Actual.period == str(p), Actual.superseded.is_(False)))
        rows.append({"town": t.name, "actual": act.value if act else None, "target": tgt.value if tgt else None,
                     "target_text": tgt.text if tgt else None})
    ranked = rank_towns(rows, ind.direction)
    for r in ranked:
        r.update(indicator=ind.name, unit=ind.unit, period=str(p))
    return ranked


def alignment(session: Session, plans: list[str] | None = None) -> list[dict[str, Any]]:
    """The same indicator in the province, 嘉兴 and 平湖 plans side by side, with differences flagged."""
    q = select(Plan).order_by(Plan.id)
    if plans:
        q = q.where(Plan.code.in_(plans))
    rows = []
    for plan in session.scalars(q):
        lineage = [r.code for r in ancestors(session, plan.region_id)] if plan.region_id else []
        where = {"region_code": lineage[0], "ancestors": lineage[1:]} if lineage else {}
        for ind in indicators_of(session, plan):
            tg = session.scalars(select(Target).where(Target.indicator_id == ind.id, Target.town_id.is_(None))
                                 .order_by(Target.year)).all()
            if not tg:
                continue
            rows.append({**where, "plan": plan.code, "plan_title": plan.title, "level": plan.level, "region": plan.region,
                         "indicator": ind.name, "code": ind.code, "unit": ind.unit, "direction": ind.direction,
                         "baseline_year": ind.baseline_year, "baseline_value": ind.baseline_value,
                         "targets": {t.year: {"value": t.value, "text": t.text, "kind": t.kind} for t in tg}})
    return align(rows)


def status_summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["status"]] += 1
    return {k: counts.get(k, 0) for k in ("green", "amber", "red", "grey")}


# --------------------------------------------------------------------------- views for the web pages


def latest_period(session: Session, plan_code: str, town: str | None = None) -> str | None:
    """The latest period (by its end) with a current actual in the plan, city-wide or for one town."""
    plan = get_plan(session, plan_code)
    q = select(Actual.period).join(Indicator, Indicator.id == Actual.indicator_id).where(
        Indicator.plan_id == plan.id, Actual.superseded.is_(False)).distinct()
    if town:
        t = _town_or_fail(session, plan, town)
        q = q.where(Actual.town_id == t.id)
    else:
        q = q.where(Actual.town_id.is_(None))
    periods = [Period.parse(p) for p in session.scalars(q)]
    return str(max(periods)) if periods else None


def plan_periods(session: Session, plan_code: str) -> list[str]:
    """Every period with a current actual in the plan, newest first (the as-of choices)."""
    plan = get_plan(session, plan_code)
    q = select(Actual.period).join(Indicator, Indicator.id == Actual.indicator_id).where(
        Indicator.plan_id == plan.id, Actual.superseded.is_(False)).distinct()
    return [str(p) for p in sorted({Period.parse(p) for p in session.scalars(q)}, reverse=True)]


def decomposed_indicators(session: Session, plan_code: str) -> list[dict[str, Any]]:
    """Indicators of the plan with targets by town (003 附件3), in printed order."""
    plan = get_plan(session, plan_code)
    out = []
    for ind in indicators_of(session, plan):
        if session.scalar(select(Target.id).where(Target.indicator_id == ind.id, Target.town_id.is_not(None))
                          .limit(1)):
            out.append({"code": ind.code, "name": ind.name, "unit": ind.unit, "table": ind.table,
                        "aggregation": ind.aggregation, "direction": ind.direction})
    return out


def town_targets(session: Session, plan_code: str) -> dict[str, Any]:
    """The decomposition table: per decomposed indicator and year, the city target and each town's."""
    plan = get_plan(session, plan_code)
    towns = plan_towns(session, plan)
    rows = []
    for d in decomposed_indicators(session, plan_code):
        ind = session.scalar(select(Indicator).where(Indicator.plan_id == plan.id, Indicator.code == d["code"]))
        assert ind is not None
        tg = session.scalars(select(Target).where(Target.indicator_id == ind.id).order_by(Target.year)).all()
        for year in sorted({t.year for t in tg if t.town_id is not None}):
            by = {t.town_id: t for t in tg if t.year == year}
            city = by.get(None)
            rows.append({**d, "year": year, "city": city.value if city else None,
                         "city_text": city.text if city else None,
                         "towns": {t.name: ({"value": by[t.id].value, "text": by[t.id].text} if t.id in by else None)
                                   for t in towns}})
    return {"towns": [{"code": t.code, "name": t.name} for t in towns], "rows": rows}


def town_map(session: Session, plan_code: str, indicator: str, period: str,
             rules: StatusRules | None = None) -> list[dict[str, Any]]:
    """Each town's actual, target, completion and a light for the schematic map (ranking + the preset's
    completion thresholds; grey without an actual or a numeric target)."""
    rules = rules or load_status_rules()
    ranked = town_ranking(session, plan_code, indicator, period)
    plan = get_plan(session, plan_code)
    codes = {t.name: t.code for t in plan_towns(session, plan)}
    for r in ranked:
        c = r.get("completion")
        r["light"] = "grey" if c is None else rules.checks.completion.light(c)
        r["town_code"] = codes.get(r["town"])
    return ranked


def indicator_view(session: Session, plan_code: str, indicator: str, town: str | None = None,
                   as_of: str | None = None) -> dict[str, Any]:
    """One indicator for its drill-down page: status, and by year its actual, target and projection,
    plus every revision of its actuals (city-wide or one town's)."""
    plan = get_plan(session, plan_code)
    inds = [i for i in find_indicators(session, plan, indicator) if i.code == indicator] or \
        find_indicators(session, plan, indicator)
    if len(inds) != 1:
        raise TargetsError(f"指标 {indicator!r} 在规划 {plan_code} 中{'不存在' if not inds else '不唯一'}")
    ind = inds[0]
    t = _town_or_fail(session, plan, town) if town else None
    status = next((r for r in plan_status(session, plan_code, as_of=as_of, town=town) if r["code"] == ind.code),
                  None)
    s = _series(session, plan, ind, t)
    annual = {o.period.year: o.value for o in s.actuals if o.period.kind == "year"}
    if s.baseline_year is not None and s.baseline_value is not None:
        annual.setdefault(s.baseline_year, s.baseline_value)
    targets = {tp.year: tp for tp in s.targets}
    projected = {p["milestone"]: p.get("projected") for p in (status or {}).get("projections") or []}
    lo = min([*annual, *targets, plan.start_year - 1])
    hi = max([*annual, *targets, plan.end_year])
    years = list(range(lo, hi + 1))
    last = max(annual) if annual else None
    proj_series: list[float | None] = []
    for y in years:  # the projection line starts at the last annual actual and runs to each milestone
        if y in projected and projected[y] is not None and (last is None or y > last):
            proj_series.append(projected[y])
        elif last is not None and y == last and projected:
            proj_series.append(annual[last])
        else:
            proj_series.append(None)
    history = actual_history_rows(session, ind, t)
    return {
        "plan": plan.code, "plan_title": plan.title, "code": ind.code, "name": ind.name, "unit": ind.unit,
        "table": ind.table, "category": ind.category, "direction": ind.direction, "nature": ind.nature,
        "aggregation": ind.aggregation, "responsible_units": list(ind.responsible_units or []),
        "baseline_year": ind.baseline_year, "baseline_value": ind.baseline_value,
        "town": t.name if t else None, "status": status,
        "years": years,
        "actuals": [annual.get(y) for y in years],
        "targets": [targets[y].value if y in targets else None for y in years],
        "target_texts": {y: targets[y].text for y in targets},
        "projections": proj_series,
        "history": history,
    }


def actual_history_rows(session: Session, ind: Indicator, town: Town | None) -> list[dict[str, Any]]:
    """Every revision of one indicator's actuals (city-wide when town is None), newest period first."""
    q = select(Actual).where(Actual.indicator_id == ind.id)
    q = q.where(Actual.town_id.is_(None) if town is None else Actual.town_id == town.id)
    rows = session.scalars(q).all()
    rows = sorted(rows, key=lambda a: (Period.parse(a.period), a.cumulative, a.revision), reverse=True)
    return [{"id": a.id, "period": a.period, "cumulative": a.cumulative, "value": a.value, "unit": ind.unit,
             "source": a.source, "is_estimate": a.is_estimate, "revision": a.revision, "superseded": a.superseded,
             "entered_by": a.entered_by, "entered_at": a.entered_at} for a in rows]


def indicator_responsible(session: Session, plan_code: str, indicator: str) -> list[str]:
    """The units responsible for an indicator (first one leads); [] when it is unknown."""
    plan = get_plan(session, plan_code)
    inds = find_indicators(session, plan, indicator)
    return list(inds[0].responsible_units or []) if len(inds) == 1 else []


def chain_strength(session: Session, user: Any, system: str = "4q8l", year: int | None = None) -> dict[str, Any]:
    """Per chain of a system: firms linked to it (or a node below), their output and 规上 count in `year`
    (default: the latest year in the user's scope). Only firms the user may see are counted."""
    from sqlalchemy import func

    from qunlian.chains.models import ChainNode, EnterpriseChainNode
    from qunlian.enterprises.service import enterprise_filter, enterprise_year_filter

    if year is None:
        year = session.scalar(select(func.max(EnterpriseYear.year)).where(enterprise_year_filter(user)))
    nodes = session.execute(select(ChainNode.id, ChainNode.parent_id, ChainNode.name, ChainNode.level,
                                   ChainNode.code, ChainNode.seq).where(ChainNode.system == system)).all()
    parent = {n.id: n.parent_id for n in nodes}
    chains = {n.id: n for n in nodes if n.level == "chain"}

    def chain_of(node_id: int | None) -> int | None:
        seen = 0
        while node_id is not None and node_id not in chains and seen < 50:
            node_id, seen = parent.get(node_id), seen + 1
        return node_id if node_id in chains else None

    links = session.execute(
        select(EnterpriseChainNode.node_id, EnterpriseChainNode.enterprise_id)
        .join(Enterprise, Enterprise.id == EnterpriseChainNode.enterprise_id)
        .where(EnterpriseChainNode.node_id.in_(list(parent)), enterprise_filter(user))).all()
    firms: dict[int, set[int]] = defaultdict(set)
    for node_id, ent_id in links:
        c = chain_of(node_id)
        if c is not None:
            firms[c].add(ent_id)
    figures: dict[int, tuple[float | None, bool | None]] = {}
    ids = sorted({e for s in firms.values() for e in s})
    for i in range(0, len(ids), 900):
        for eid, out, above in session.execute(
                select(EnterpriseYear.enterprise_id, EnterpriseYear.output_wan, EnterpriseYear.above_scale)
                .where(EnterpriseYear.enterprise_id.in_(ids[i:i + 900]), EnterpriseYear.year == year)):
            figures[eid] = (out, above)
    by_id = {n.id: n for n in nodes}

    def tree_order(node_id: int) -> tuple[tuple[int, str], ...]:
        # (seq, code) of every ancestor from the root: chains in the system's printed order, cluster by cluster
        path, seen = [], 0
        while node_id in by_id and seen < 50:
            path.append(((by_id[node_id].seq or 0), by_id[node_id].code))
            node_id, seen = by_id[node_id].parent_id, seen + 1
        return tuple(reversed(path))

    rows = []
    for cid, n in sorted(chains.items(), key=lambda kv: tree_order(kv[0])):
        f = firms.get(cid, set())
        outs = [figures[e][0] for e in f if e in figures and figures[e][0] is not None]
        rows.append({"code": n.code, "name": n.name, "ref": f"{system}:{n.code}", "firms": len(f),
                     "output_wan": sum(outs) if outs else None,
                     "above_scale": sum(1 for e in f if e in figures and figures[e][1])})
    return {"system": system, "year": year, "chains": rows}


def town_rollup_and_map(session: Session, plan_code: str, period: str, indicator: str,
                        own_town: str | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The towns' roll-up against the city at ``period`` and the town map of one indicator. For a
    town user (``own_town``) the other towns' actuals, completions, ranks and the city roll-up are
    withheld: a town sees every town's targets (the plan's text) but only its own figures."""
    rollup = town_rollup(session, plan_code, period)
    tmap = town_map(session, plan_code, indicator, period)
    if own_town is not None:
        for r in rollup:
            r["towns"] = {k: (v if k == own_town else None) for k, v in r["towns"].items()}
            r["rollup"] = r["consistent"] = None
        for r in tmap:
            if r["town"] != own_town:
                r.update(actual=None, completion=None, rank=None, light="hidden")
    return rollup, tmap


# status lights (the status rules' values) → their names in the UI (msgids)
LIGHTS = {"green": "绿灯", "amber": "黄灯", "red": "红灯", "grey": "无法评价"}


def key_plans() -> tuple[tuple[str, str], ...]:
    """(plan code, table) of the plans the 驾驶舱 leads with, from the targets-views preset."""
    from qunlian.targets.views_preset import targets_views

    return targets_views().key_plan_pairs


# The rest of the capability's public surface (other capabilities and the CLI use only this module).
from qunlian.targets.plans.loader import load_reference_data, load_system, read_system_text  # noqa: E402
from qunlian.targets.actuals import (
    ActualInput,
    actual_history,
    add_actual,
    add_actuals,
    import_actuals,
)
from qunlian.targets.demo_actuals import derive_demo_actuals, load_demo_actuals, load_seed_actuals
from qunlian.targets.demo_ledger import load_demo_progress
from qunlian.targets.access import own_town
from qunlian.targets.ledger import add_progress, close_task, filter_tasks, list_tasks, reopen_task
# data notes (数据说明) on the shipped plan data: the pages, the CLI and the reports print them from here
from qunlian.targets.plans.notes import (
    ITEM_KINDS as NOTE_ITEM_KINDS,
    NOTE_KINDS,
    notes_by_item,
    notes_for,
    notes_on_indicator,
)

__all__ = [
    "LIGHTS", "TargetsError", "concept_of", "key_plans", "load_reference_data", "load_system", "read_system_text", "town_rollup_and_map",
    "ActualInput", "StatusRules", "actual_history", "add_actual", "add_actuals", "add_progress", "alignment",
    "close_task", "derive_demo_actuals", "filter_tasks", "import_actuals", "list_tasks", "load_demo_actuals", "load_demo_progress", "own_town", "load_seed_actuals",
    "load_status_rules", "plan_status", "reconcile_plan", "reopen_task", "status_summary", "town_ranking",
    "town_rollup", "NOTE_ITEM_KINDS", "NOTE_KINDS", "notes_by_item", "notes_for",
    "notes_on_indicator",
]
