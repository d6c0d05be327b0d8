"""绩效评价模拟器: change one firm's inputs and see its new score and class; per lever, the smallest
change that reaches the next class.

The simulator scores one firm in Python with the same rules as the engine, holding the run's
context fixed: the benchmarks, the group's min/max (min–max scoring), the group's average points
(missing-data rule) and the class boundaries. With cut-offs by rank share the boundary of a class is
the lowest score that reached it in the run. A derived benchmark would move a little if one firm's
figures changed; the simulator does not move it (the county publishes a benchmark and keeps it).
Tests check that this scorer gives every firm of the golden cases the engine's score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from qunlian.per_mu.engine import (
    STATUS_MISSING,
    STATUS_NEGATIVE,
    STATUS_OK,
    STATUS_ZERO,
    Evaluation,
    EvaluationError,
    _action,
)
from qunlian.per_mu.schema import Method, Part

# lever → (column, direction): +1 more is better, −1 less is better
LEVERS: dict[str, tuple[str, int, str]] = {
    "tax": ("tax_wan", +1, "税收（万元）"),
    "value_added": ("value_added_wan", +1, "增加值（万元）"),
    "land": ("land_mu", -1, "用地（亩）"),
    "energy": ("energy_tce", -1, "能耗（吨标准煤）"),
    "emissions": ("emission_eq_t", -1, "排放当量（吨）"),
    "rd": ("rd_wan", +1, "研发经费（万元）"),
}


def context_from_results(results: pa.Table, method: Method) -> dict[str, Any]:
    """Per part: each indicator's benchmark, min/max of scored values, average points; class boundaries."""
    rows = results.to_pylist()
    ctx: dict[str, Any] = {}
    for part in method.parts:
        mine = [r for r in rows if r.get("part") == part.id and r.get("excluded_reason") is None and r.get("tenant_note") is None]
        inds: dict[str, Any] = {}
        for ind in part.indicators:
            c = ind.code
            benches = [r[f"{c}__benchmark"] for r in mine if r.get(f"{c}__benchmark") is not None]
            ok_vals = [r[f"{c}__value"] for r in mine if r.get(f"{c}__status") == STATUS_OK and r.get(f"{c}__value") is not None]
            scored = [r[f"{c}__points"] for r in mine
                      if r.get(f"{c}__status") and _action(part, ind, r[f"{c}__status"]) == "score" and r.get(f"{c}__points") is not None]
            inds[c] = {
                "benchmark": benches[0] if benches else None,
                "min": min(ok_vals) if ok_vals else None,
                "max": max(ok_vals) if ok_vals else None,
                "mean_points": (sum(scored) / len(scored)) if scored else None,
            }
        bounds: dict[str, float] = {}
        if part.grades is not None:
            if part.grades.by == "score":
                bounds = {c.grade: c.min_score for c in part.grades.cutoffs[:-1]}  # type: ignore[misc]
            else:
                for c in part.grades.cutoffs[:-1]:
                    s = [r["total_score"] for r in mine if r.get("grade_by_score") == c.grade]
                    if s:
                        bounds[c.grade] = min(s)
        ctx[part.id] = {"indicators": inds, "boundaries": bounds}
    return ctx


def score_one(inputs: dict[str, Any], part: Part, pctx: dict[str, Any]) -> dict[str, Any]:
    """Total score and per-indicator value/status/points of one firm in one part (the engine's math)."""
    points: dict[str, Any] = {}
    total = 0.0
    for ind in part.indicators:
        ic = pctx["indicators"][ind.code]
        num, den = _num(inputs.get(ind.numerator)), _num(inputs.get(ind.denominator))
        value = None
        if num is None or den is None:
            status = STATUS_MISSING
        elif den == 0:
            status = STATUS_ZERO
        else:
            value = num / den * ind.scale
            status = STATUS_NEGATIVE if value < 0 else STATUS_OK
        act = _action(part, ind, status)
        if act == "exclude":
            return {"excluded": True, "total_score": None, "indicators": points,
                    "reason": f"{ind.name}：{status}，方法规定不予评价"}
        if act == "score":
            if ind.scoring == "ratio":
                b = ic["benchmark"]
                raw = value / b * ind.weight if b not in (None, 0) and value is not None else None
            else:
                base, span = (ind.minmax.base, ind.minmax.span) if ind.minmax else (20.0, 80.0)
                lo, hi = ic["min"], ic["max"]
                frac = (value - lo) / (hi - lo) if lo is not None and hi is not None and hi != lo else 1.0
                raw = ind.weight * (base + span * frac) / 100.0
            if raw is not None and ind.min_points is not None:
                raw = max(raw, ind.min_points)
            if raw is not None and ind.max_points is not None:
                raw = min(raw, ind.max_points)
            pts = raw if raw is not None else 0.0
        elif act == "zero":
            pts = 0.0
        elif act == "max":
            pts = ind.max_points or 0.0
        else:  # mean
            pts = ic["mean_points"] or 0.0
        points[ind.code] = {"value": value, "benchmark": ic["benchmark"], "points": pts, "status": status}
        total += pts
    deduction = 0.0
    if part.deductions is not None:
        n = int(_num(inputs.get("tenants")) or 0)
        deduction = (part.deductions.first_tenant if n >= 1 else 0.0) + max(n - 1, 0) * part.deductions.each_further_tenant
    return {"excluded": False, "total_score": total - deduction, "deduction": deduction, "indicators": points}


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def grade_for(score: float, part: Part, pctx: dict[str, Any]) -> str | None:
    if part.grades is None:
        return None
    for c in part.grades.cutoffs[:-1]:
        b = pctx["boundaries"].get(c.grade)
        if b is not None and score >= b:
            return c.grade
    return part.grades.cutoffs[-1].grade


@dataclass
class Simulation:
    uscc: str
    part: str
    before_score: float | None
    before_grade: str | None
    score: float | None
    grade: str | None
    indicators: dict[str, Any]
    changes: dict[str, Any]
    note: str = ""


@dataclass
class LeverResult:
    lever: str
    column: str
    label: str
    current: float | None
    needed: float | None
    change: float | None
    change_pct: float | None
    reachable: bool
    target_grade: str | None
    note: str = ""


def _firm(ev: Evaluation, uscc: str) -> tuple[dict[str, Any], Part]:
    row = ev.row(uscc)
    if row.get("tenant_note"):
        raise EvaluationError(f"{uscc} 是承租企业，结果随土地权利人 {row.get('landowner_uscc')}：请模拟土地权利人")
    if row.get("part") is None or row.get("excluded_reason"):
        raise EvaluationError(f"{uscc} 未参加评价：{row.get('excluded_reason')}")
    return row, ev.method.part(row["part"])


def simulate(ev: Evaluation, uscc: str, changes: dict[str, float | None]) -> Simulation:
    """The firm's score and class if its inputs were ``changes`` (column → new value)."""
    row, part = _firm(ev, uscc)
    unknown = [k for k in changes if k not in row]
    if unknown:
        raise EvaluationError(f"不能模拟的字段：{unknown}；可用：{[c for c, *_ in LEVERS.values()]} 等输入列")
    pctx = ev.context[part.id]
    inputs = {**row, **changes}
    out = score_one(inputs, part, pctx)
    if out["excluded"]:
        return Simulation(uscc, part.id, row["total_score"], row["grade"], None, None, out["indicators"], changes, out["reason"])
    grade = grade_for(out["total_score"], part, pctx)
    note = ""
    if row.get("negative_hit") and ev.method.negative_list and part.grades and grade is not None:
        cap = ev.method.negative_list.cap_grade
        names = part.grades.names
        if cap in names and names.index(grade) < names.index(cap):
            grade, note = cap, f"负面清单：等级封顶为 {cap}"
    return Simulation(uscc, part.id, row["total_score"], row["grade"], out["total_score"], grade, out["indicators"], changes, note)


def levers(ev: Evaluation, uscc: str) -> list[LeverResult]:
    """Per lever, the smallest change of that one input (others unchanged) that reaches the next class."""
    row, part = _firm(ev, uscc)
    pctx = ev.context[part.id]
    if part.grades is None:
        return []
    names = part.grades.names
    current = row.get("grade_by_score") or row.get("grade")
    idx = names.index(current) if current in names else len(names) - 1
    if idx == 0:
        return [LeverResult(k, c, lbl, _num(row.get(c)), None, None, None, False, None, "已是最高等级") for k, (c, _, lbl) in LEVERS.items()]
    target = names[idx - 1]
    boundary = pctx["boundaries"].get(target)
    used = {col for i in part.indicators for col in (i.numerator, i.denominator)}
    out: list[LeverResult] = []
    for key, (col, direction, label) in LEVERS.items():
        cur = _num(row.get(col))
        if col not in used:
            out.append(LeverResult(key, col, label, cur, None, None, None, False, target, "该方法不使用此项"))
            continue
        if boundary is None:
            out.append(LeverResult(key, col, label, cur, None, None, None, False, target, "本次评价中该等级无企业，无法确定分数线"))
            continue

        def score(x: float) -> float:
            r = score_one({**row, col: x}, part, pctx)
            return -math.inf if r["excluded"] else r["total_score"]

        needed = _search(score, cur, direction, boundary)
        if needed is None:
            out.append(LeverResult(key, col, label, cur, None, None, None, False, target, "仅调整此项达不到上一等级（封顶或无关）"))
            continue
        change = needed - (cur or 0.0)
        pct = change / cur if cur not in (None, 0) else None
        out.append(LeverResult(key, col, label, cur, needed, change, pct, True, target))
    return out


def _search(score: Any, cur: float | None, direction: int, boundary: float, iters: int = 80) -> float | None:
    """Smallest move of one input from ``cur`` in ``direction`` with score ≥ boundary (scores are monotone)."""
    c = cur if cur is not None else 0.0
    if score(c) >= boundary:
        return c
    if direction > 0:
        lo, hi = c, max(abs(c) * 2, 1.0)
        for _ in range(200):
            if score(hi) >= boundary:
                break
            lo, hi = hi, hi * 2
        else:
            return None
        for _ in range(iters):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if score(mid) >= boundary else (mid, hi)
        return hi
    if c <= 0:
        return None
    lo, hi = c * 1e-9, c
    if score(lo) < boundary:
        return None
    for _ in range(iters):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if score(mid) >= boundary else (lo, mid)
    return lo
