"""Towns and the city: roll-up, reconciliation of decomposed targets, ranking. Pure arithmetic.

An indicator's aggregation rule says how town figures make a city figure:

- ``sum``            the city figure is the sum of the towns' (投资 亿元, 企业数, 腾出用地 亩);
- ``weighted_mean``  the city figure is the towns' mean weighted by a base (亩均税收 by 亩); it can
                     be computed only when every town's base is known;
- ``not_aggregable`` ratios and growth rates printed without their bases: towns cannot be added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from qunlian.core.messages import Joined, Message

VERDICTS = ("equal", "exceeds", "short", "not_aggregable")


@dataclass(frozen=True)
class Reconciliation:
    verdict: str
    towns_total: float | None
    difference: float | None  # towns_total − city_target (the slack when positive)
    covers: bool | None  # do the towns' targets, taken together, meet the city target (direction-aware)
    reason: Message  # the Chinese text; translated where shown (qunlian.platform.i18n.translate)

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "towns_total": self.towns_total, "difference": self.difference,
                "covers": self.covers, "reason": self.reason}


def _fmt(x: float) -> str:
    s = f"{x:.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def rollup(values: dict[str, float | None], aggregation: str,
           weights: dict[str, float | None] | None = None) -> float | None:
    """The city figure from the towns' figures by the aggregation rule (None when it cannot be made)."""
    vals = {k: v for k, v in values.items() if v is not None}
    if not vals:
        return None
    if aggregation == "sum":
        return math.fsum(vals.values())
    if aggregation == "weighted_mean":
        if not weights or any(weights.get(k) is None for k in vals):
            return None
        total_w = math.fsum(weights[k] for k in vals)  # type: ignore[misc]
        if total_w <= 0:
            return None
        return math.fsum(v * weights[k] for k, v in vals.items()) / total_w  # type: ignore[operator]
    return None


def reconcile(city_target: float | None, town_targets: dict[str, float | None], aggregation: str,
              direction: str = "higher", weights: dict[str, float | None] | None = None,
              relative_tolerance: float = 1e-9, unit: str = "") -> Reconciliation:
    """Do the towns' targets add up to the city's target?"""
    missing = sorted(t for t, v in town_targets.items() if v is None)
    if aggregation == "not_aggregable" or (aggregation == "weighted_mean" and rollup(
            town_targets, aggregation, weights) is None):
        why = Message("比重、增速或亩均等相对数，缺少各镇基数，不能相加") if aggregation == "not_aggregable" \
            else Message("加权平均缺少各镇权重基数，无法汇总")
        return Reconciliation("not_aggregable", None, None, None, why)
    if city_target is None:
        return Reconciliation("not_aggregable", None, None, None, Message("全市目标未定量，无法核对"))
    if missing:
        return Reconciliation("not_aggregable", None, None, None,
                              Message("%(towns)s 无目标值，无法核对", towns=Joined("、", missing)))
    total = rollup(town_targets, aggregation, weights)
    assert total is not None
    diff = total - city_target
    tol = relative_tolerance * max(abs(city_target), abs(total), 1.0)
    said = {"word": Message("合计") if aggregation == "sum" else Message("加权平均"), "total": _fmt(total),
            "city": _fmt(city_target), "unit": unit}
    if abs(diff) <= tol:
        verdict, diff = "equal", 0.0
        why = Message("各镇%(word)s %(total)s%(unit)s 等于全市目标 %(city)s%(unit)s", **said)
    elif diff > 0:
        verdict = "exceeds"
        why = Message("各镇%(word)s %(total)s%(unit)s 超出全市目标 %(city)s%(unit)s，余量 %(diff)s%(unit)s",
                      diff=_fmt(diff), **said)
    else:
        verdict = "short"
        why = Message("各镇%(word)s %(total)s%(unit)s 低于全市目标 %(city)s%(unit)s，缺口 %(gap)s%(unit)s",
                      gap=_fmt(-diff), **said)
    covers = diff >= -tol if direction == "higher" else diff <= tol
    if not covers:
        why = Message("%(verdict)s（各镇目标合起来达不到全市目标）", verdict=why)
    return Reconciliation(verdict, round(total, 9), round(diff, 9), covers, why)


def rank_towns(rows: list[dict[str, Any]], direction: str = "higher") -> list[dict[str, Any]]:
    """Rank towns: by completion of their own target when known, then by the actual value.

    Each row: {"town": name, "actual": float|None, "target": float|None}. Adds completion and rank;
    towns without an actual come last, unranked.
    """
    out = []
    for r in rows:
        a, t = r.get("actual"), r.get("target")
        comp = None
        if a is not None and t is not None and t > 0:
            comp = a / t if direction == "higher" else (t / a if a > 0 else None)
        out.append({**r, "completion": None if comp is None else round(comp, 4)})
    sign = 1 if direction == "higher" else -1
    have = [r for r in out if r["actual"] is not None]
    none = [r for r in out if r["actual"] is None]
    have.sort(key=lambda r: (-(r["completion"] if r["completion"] is not None else -math.inf),
                             -sign * r["actual"]))
    for i, r in enumerate(have, 1):
        r["rank"] = i
    for r in none:
        r["rank"] = None
    return have + none
