"""The 驾驶舱's lead figures: what a 局长 reads in ten seconds, as far as the caller may see.

- ``trend``: 规上 firms, output, value added and 亩均税收 per data year (the KPI cards' sparklines);
- ``towns``: the same per town for the newest year (the town schematic, coloured by a chosen figure);
- ``clusters``: the output of the firms on the region's own chain systems against the plan's
  cluster-output target (四群八链 2800 亿元 for 平湖);
- charts as ECharts options (built here, drawn by the page's script).

Pure queries over the scoped firm tables and the targets' public service; cached with the rest of
the 驾驶舱 (``qunlian.overview.dashboard``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qunlian.core.messages import N_
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.enterprises.service import enterprise_filter
from qunlian.overview import compare
from qunlian.regions.models import Town

#: the figures the town schematic can be coloured by: key → (label msgid, unit msgid)
TOWN_FIGURES = {
    "output_yi": (N_("规上工业总产值"), N_("亿元")),
    "tax_per_mu": (N_("规上亩均税收"), N_("万元/亩")),
    "above": (N_("规上企业"), N_("家")),
    "firms": (N_("企业"), N_("家")),
}


def _per_mu(value: float | None, land: float | None) -> float | None:
    return value / land if value is not None and land else None


def trend(session: Session, user: Any) -> list[dict[str, Any]]:
    """Per data year, oldest first: 规上 firms, their output and value added (亿元), 亩均税收 and 亩均增加值."""
    rows = session.execute(
        select(EnterpriseYear.year, func.count(), func.sum(EnterpriseYear.output_wan), func.sum(EnterpriseYear.value_added_wan),
               func.sum(EnterpriseYear.tax_wan), func.sum(EnterpriseYear.land_mu))
        .join(Enterprise, Enterprise.id == EnterpriseYear.enterprise_id)
        .where(enterprise_filter(user), EnterpriseYear.above_scale.is_(True))
        .group_by(EnterpriseYear.year).order_by(EnterpriseYear.year)
    ).all()
    return [{"year": y, "above": n, "output_yi": out / 1e4 if out is not None else None,
             "va_yi": va / 1e4 if va is not None else None, "tax_per_mu": _per_mu(tax, land),
             "va_per_mu": _per_mu(va, land)} for y, n, out, va, tax, land in rows]


def towns(session: Session, user: Any, year: int | None) -> list[dict[str, Any]]:
    """Per town the user may see (in its printed order), for ``year``: firms, 规上 firms, 规上 output
    (亿元) and 规上亩均税收."""
    if year is None:
        return []
    above = EnterpriseYear.above_scale.is_(True)

    def of_above(col: Any) -> Any:
        return func.sum(case((above, col), else_=None))

    q = (select(Enterprise.town_id, func.count(), func.sum(case((above, 1), else_=0)),
                of_above(EnterpriseYear.output_wan), of_above(EnterpriseYear.tax_wan), of_above(EnterpriseYear.land_mu))
         .join(EnterpriseYear, EnterpriseYear.enterprise_id == Enterprise.id)
         .where(enterprise_filter(user), EnterpriseYear.year == year).group_by(Enterprise.town_id))
    figures = {tid: (n, a or 0, out, tax, land) for tid, n, a, out, tax, land in session.execute(q)}
    out = []
    for t in session.scalars(select(Town).where(Town.id.in_([k for k in figures if k is not None]))
                             .order_by(Town.region_id, Town.seq, Town.code)):
        n, a, output, tax, land = figures[t.id]
        out.append({"code": t.code, "name": t.name, "firms": n, "above": a,
                    "output_yi": output / 1e4 if output is not None else None, "tax_per_mu": _per_mu(tax, land)})
    return out


def clusters(session: Session, user: Any, year: int | None) -> dict[str, Any] | None:
    """规上 output of the firms on the chains of the user's region against the plan's cluster-output target."""
    region = compare.scope_region(session, user)
    if region is None or year is None:
        return None
    output = compare.chain_output(session, user, region.id, year)
    target = compare.chain_target(session, region.id, year)
    if output is None and target is None:
        return None
    share = output / target["value"] if output is not None and target and target.get("value") else None
    return {"region": region.name, "year": year, "output_yi": output, "target": target, "share": share}


#: the KPI cards: (key in ``trend``, label msgid, unit msgid, decimals)
CARDS = (("above", N_("规上企业"), N_("家"), 0), ("output_yi", N_("规上工业总产值"), N_("亿元"), 1),
         ("tax_per_mu", N_("规上亩均税收"), N_("万元/亩"), 2), ("va_per_mu", N_("规上亩均增加值"), N_("万元/亩"), 2))


def cards(path: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The KPI cards from the yearly path: the newest value, its change on the year before and the
    sparkline of every year."""
    if not path:
        return []
    last, prev = path[-1], path[-2] if len(path) > 1 else None
    out = []
    for key, label, unit, digits in CARDS:
        value = last.get(key)
        before = prev.get(key) if prev else None
        change = (value / before - 1) if value is not None and before else None
        out.append({"key": key, "label": label, "unit": unit, "digits": digits, "value": value, "change": change,
                    "year": last["year"], "years": f"{path[0]['year']}–{last['year']}",
                    "spark": sparkline([p.get(key) for p in path]) if len(path) > 1 else None})
    return out


def light_summary(key: list[dict[str, Any]]) -> dict[str, int]:
    """The key indicators' lights counted over every key plan."""
    total = {"green": 0, "amber": 0, "red": 0, "grey": 0}
    for k in key:
        for s, n in (k.get("summary") or {}).items():
            if s in total:
                total[s] += n
    return total


# --------------------------------------------------------------------------- charts (ECharts options)


def sparkline(values: list[float | None]) -> dict[str, Any]:
    """A line without axes for a KPI card."""
    return {"grid": {"left": 2, "right": 2, "top": 4, "bottom": 2}, "animation": False,
            "xAxis": {"type": "category", "show": False, "data": list(range(len(values)))},
            "yAxis": {"type": "value", "show": False, "scale": True},
            "series": [{"type": "line", "data": [None if v is None else round(v, 4) for v in values], "symbol": "none",
                        "smooth": True, "lineStyle": {"width": 2}, "areaStyle": {"opacity": 0.15}}]}


def mix_pie(grades: dict[str, int], _: Callable[[str], str] = str) -> dict[str, Any]:
    """The 亩均 class mix as a ring: one slice per class, A green to D red."""
    colours = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}
    return {"animation": False, "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"}, "legend": {"bottom": 0},
            "series": [{"type": "pie", "radius": ["45%", "72%"], "avoidLabelOverlap": True,
                        "label": {"formatter": "{b}\n{c}"},
                        "data": [{"name": _("{g} 类").format(g=g), "value": n,
                                  "itemStyle": {"color": colours.get(g, "#78909c")}} for g, n in grades.items()]}]}


def lights_ring(summary: dict[str, int], lights: dict[str, str], _: Callable[[str], str] = str) -> dict[str, Any]:
    """The key indicators' lights as a ring (green, amber, red, cannot be judged)."""
    colours = {"green": "#2f7d32", "amber": "#d39b00", "red": "#b3261e", "grey": "#9aa5b1"}
    return {"animation": False, "tooltip": {"trigger": "item", "formatter": "{b}: {c}"}, "legend": {"show": False},
            "series": [{"type": "pie", "radius": ["50%", "78%"], "label": {"formatter": "{b} {c}"},
                        "data": [{"name": _(lights[k]), "value": summary.get(k, 0), "itemStyle": {"color": colours[k]}}
                                 for k in ("green", "amber", "red", "grey") if summary.get(k)]}]}


def cluster_bar(c: dict[str, Any], _: Callable[[str], str] = str) -> dict[str, Any]:
    """One bar of the clusters' output against the target's line (亿元)."""
    target = (c.get("target") or {}).get("value")
    series: list[dict[str, Any]] = [{"type": "bar", "name": _("规上产值（%(year)s 年）") % {"year": c["year"]},
                                     "data": [round(c["output_yi"] or 0, 1)], "barWidth": "40%", "label": {"show": True, "position": "right"}}]
    if target:
        series[0]["markLine"] = {"symbol": "none", "label": {"formatter": _("目标 %(v)s 亿元") % {"v": f"{target:,.0f}"}},
                                 "data": [{"xAxis": target}]}
    return {"animation": False, "grid": {"left": 10, "right": 60, "top": 30, "bottom": 20, "containLabel": True},
            "xAxis": {"type": "value", "max": max(target or 0, c["output_yi"] or 0) * 1.1 or None, "name": _("亿元")},
            "yAxis": {"type": "category", "data": [_("四群八链")]}, "series": series, "tooltip": {}}


def town_buckets(rows: list[dict[str, Any]], key: str, buckets: int = 4) -> list[dict[str, Any]]:
    """Each town with the quartile (1 … 4) of ``key`` among the towns, for the schematic's colours."""
    values = sorted(r[key] for r in rows if r.get(key) is not None)
    out = []
    for r in rows:
        v = r.get(key)
        if v is None or not values:
            level = 0
        else:
            rank = sum(1 for x in values if x <= v) / len(values)
            level = max(1, min(buckets, int(rank * buckets + 0.9999)))
        out.append({**r, "level": level, "value": v})
    return out
