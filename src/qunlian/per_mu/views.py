"""Small pure functions that shape a 亩均 run's results for reading (web pages, API).

They take rows as the engine gives them (``runs.run_results(...).to_pylist()``), the method, and
the outputs of ``outputs.aggregates`` / ``outputs.measures``; none reads the store. Scoping is the
caller's job: pass only the rows the user may see, and every figure here is over those rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qunlian.core.messages import N_
from qunlian.per_mu.schema import Method

STATUS_NAMES = {"ok": N_("正常"), "missing": N_("数据缺失"), "zero_denominator": N_("分母为零"), "negative": N_("值为负")}
RESULT_SORTS = ("rank", "score", "name", "town", "grade", "part", "tax_per_mu")
NOT_GRADED = "none"  # grade filter value: not evaluated or no class


def grade_order(method: Method) -> list[str]:
    out: list[str] = []
    for p in method.parts:
        for g in p.grades.names if p.grades else []:
            if g not in out:
                out.append(g)
    return out


def counted(row: dict[str, Any]) -> bool:
    """Rows counted in class mixes: evaluated firms with a class of their own (tenants that take the
    landowner's class are left out, as in ``outputs.aggregates``)."""
    return row.get("tenant_note") is None and row.get("final_grade") is not None


def class_mix(rows: Iterable[dict[str, Any]], method: Method) -> dict[str, Any]:
    """Firms per final class (调档后) and their shares of the classed firms; also how many were not evaluated."""
    rows = list(rows)
    grades = grade_order(method)
    counts = {g: 0 for g in grades}
    for r in rows:
        if counted(r):
            counts[r["final_grade"]] = counts.get(r["final_grade"], 0) + 1
    classed = sum(counts.values())
    evaluated = sum(1 for r in rows if r.get("part") is not None and not r.get("excluded_reason"))
    return {
        "firms": len(rows),
        "evaluated": evaluated,
        "classed": classed,
        "not_evaluated": len(rows) - evaluated,
        "grades": [{"grade": g, "firms": n, "share": (n / classed) if classed else None} for g, n in counts.items()],
    }


def group_table(aggregated: list[dict[str, Any]], method: Method) -> list[dict[str, Any]]:
    """``outputs.aggregates(...).to_pylist()`` with each group's class shares added (share_<grade>)."""
    grades = grade_order(method)
    out = []
    for a in aggregated:
        classed = sum(a.get(f"firms_{g}") or 0 for g in grades)
        row = dict(a)
        row["classed"] = classed
        for g in grades:
            row[f"share_{g}"] = (a.get(f"firms_{g}") or 0) / classed if classed else None
        out.append(row)
    return out


def mix_chart(groups: list[dict[str, Any]], method: Method, label: str = "group", unit: str = "家") -> dict[str, Any]:
    """ECharts options: stacked bars of firms per class for each group."""
    grades = grade_order(method)
    colors = {"A": "#2f7d32", "B": "#1f5fa8", "C": "#d28a00", "D": "#b3261e"}
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "data": grades},
        "grid": {"left": 50, "right": 20, "top": 40, "bottom": 70},
        "xAxis": {"type": "category", "data": [g.get(label) or "—" for g in groups], "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "name": unit, "minInterval": 1},
        "series": [
            {"name": g, "type": "bar", "stack": "grades", "data": [r.get(f"firms_{g}") or 0 for r in groups],
             **({"itemStyle": {"color": colors[g]}} if g in colors else {})}
            for g in grades
        ],
    }


def class_mix_chart(mix: dict[str, Any], unit: str = "家") -> dict[str, Any]:
    colors = {"A": "#2f7d32", "B": "#1f5fa8", "C": "#d28a00", "D": "#b3261e"}
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 50, "right": 20, "top": 30, "bottom": 30},
        "xAxis": {"type": "category", "data": [g["grade"] for g in mix["grades"]]},
        "yAxis": {"type": "value", "name": unit, "minInterval": 1},
        "series": [{"type": "bar", "label": {"show": True, "position": "top"},
                    "data": [{"value": g["firms"], **({"itemStyle": {"color": colors[g["grade"]]}} if g["grade"] in colors else {})}
                             for g in mix["grades"]]}],
    }


def filter_results(rows: Iterable[dict[str, Any]], *, town: str | None = None, part: str | None = None,
                   grade: str | None = None, q: str = "") -> list[dict[str, Any]]:
    out = []
    q = (q or "").strip()
    for r in rows:
        if town and r.get("town") != town:
            continue
        if part and r.get("part") != part:
            continue
        if grade == NOT_GRADED and r.get("final_grade") is not None:
            continue
        if grade and grade != NOT_GRADED and r.get("final_grade") != grade:
            continue
        if q and q not in (r.get("name") or "") and q.upper() not in (r.get("uscc") or ""):
            continue
        out.append(r)
    return out


def sort_results(rows: list[dict[str, Any]], key: str = "rank", desc: bool = False, method: Method | None = None) -> list[dict[str, Any]]:
    """Sort with missing values last whatever the direction."""
    parts = {p.id: i for i, p in enumerate(method.parts)} if method else {}
    grades = {g: i for i, g in enumerate(grade_order(method))} if method else {}

    def value(r: dict[str, Any]) -> Any:
        if key == "rank":
            return None if r.get("rank") is None else (parts.get(r.get("part"), 99), r["rank"])
        if key == "score":
            return r.get("final_score")
        if key == "grade":
            return grades.get(r.get("final_grade"))
        if key == "part":
            return parts.get(r.get("part"))
        if key == "tax_per_mu":
            return r.get("tax_per_mu__value")
        return r.get(key) or None

    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=lambda r: (value(r), r.get("uscc") or ""), reverse=desc)
    missing.sort(key=lambda r: r.get("uscc") or "")
    return present + missing


def measure_summary(firm_measures: Iterable[Any], method: Method) -> list[dict[str, Any]]:
    """Per differentiated measure of the method: the classes it applies to, the firms it reaches and,
    where the method prices it, the yearly amount (万元) summed over those firms."""
    acc: dict[str, dict[str, Any]] = {}
    for m in method.measures:
        acc[m.code] = {"code": m.code, "name": m.name, "kind": m.kind, "grades": list(m.grades), "basis": m.basis,
                       "rate": m.rate, "rate_unit": m.rate_unit, "placeholder": m.placeholder, "note": m.note,
                       "firms": 0, "amount_wan": None, "priced": m.rate is not None}
    for fm in firm_measures:
        d = acc.get(fm.code)
        if d is None:
            continue
        d["firms"] += 1
        if fm.amount_wan is not None:
            d["amount_wan"] = (d["amount_wan"] or 0.0) + fm.amount_wan
    return list(acc.values())


def explain(row: dict[str, Any], method: Method) -> list[dict[str, Any]]:
    """Per indicator of the firm's part: value, benchmark, points, status and what the status meant."""
    if row.get("part") is None:
        return []
    part = method.part(row["part"])
    out = []
    for ind in part.indicators:
        c = ind.code
        status = row.get(f"{c}__status")
        out.append({
            "code": c, "name": ind.name, "unit": ind.unit, "weight": ind.weight, "max_points": ind.max_points,
            "value": row.get(f"{c}__value"), "benchmark": row.get(f"{c}__benchmark"), "points": row.get(f"{c}__points"),
            "status": status, "status_name": STATUS_NAMES.get(status or "", status or "—"),
            "capped": ind.max_points is not None and row.get(f"{c}__points") is not None
            and row[f"{c}__points"] >= ind.max_points,
            "example": ind.example, "note": ind.note,
        })
    return out


def reasons(row: dict[str, Any]) -> list[str]:
    """Why a firm was not evaluated, lost points or had its class moved (text from the engine and users)."""
    out = [row[k] for k in ("excluded_reason", "cap_note", "tenant_note") if row.get(k)]
    if row.get("deduction"):
        out.append(f"出租土地扣分 {row['deduction']:g}（承租企业 {int(row.get('tenants') or 0)} 家）")
    if row.get("adjustment_reason"):
        out.append(f"人工调整：{row['adjustment_reason']}")
    return out
