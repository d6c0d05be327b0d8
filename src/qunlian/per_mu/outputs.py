"""What a run tells: group aggregates, differentiated measures per firm, warnings.

All three read an evaluation's results table (``Evaluation.results`` or ``runs.run_results``) and
the method; none needs the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from qunlian.per_mu.engine import EvaluationError
from qunlian.per_mu.schema import Method

GROUPS = {"town": "town", "park": "park", "industry": "industry_code", "industry2": "substr(industry_code, 1, 2)", "chain": "chain", "part": "part"}


def grade_names(method: Method) -> list[str]:
    out: list[str] = []
    for p in method.parts:
        if p.grades:
            for g in p.grades.names:
                if g not in out:
                    out.append(g)
    return out


def aggregates(results: pa.Table, method: Method, by: str = "town", chains: pa.Table | None = None, grade_column: str = "grade") -> pa.Table:
    """Per town / park / industry / industry2 / chain / part: firms by class, land and energy held by
    each class, and the group's 亩均 figures (Σ tax ÷ Σ land, Σ value added ÷ Σ land, Σ value added ÷ Σ energy).

    ``chains`` (for by="chain"): a table of (uscc, chain) pairs; a firm in two chains counts in both.
    """
    if by not in GROUPS:
        raise EvaluationError(f"不能按 {by!r} 汇总；可用：{', '.join(GROUPS)}")
    con = duckdb.connect()
    con.register("r0", results)
    if by == "chain":
        if chains is None:
            raise EvaluationError("按产业链汇总需要企业与产业链的对应表 (uscc, chain)")
        con.register("ch", chains)
        con.execute("CREATE VIEW r AS SELECT r0.*, ch.chain AS chain FROM r0 JOIN ch USING (uscc)")
    else:
        con.execute("CREATE VIEW r AS SELECT * FROM r0")
    key = GROUPS[by]
    grades = grade_names(method)
    gcol = f'"{grade_column}"'
    per_grade = []
    for i, g in enumerate(grades):
        lit = "'" + g.replace("'", "''") + "'"
        per_grade += [
            f"count(*) FILTER (WHERE {gcol} = {lit}) AS firms_{i}",
            f"coalesce(sum(land_mu) FILTER (WHERE {gcol} = {lit}), 0) AS land_mu_{i}",
            f"coalesce(sum(energy_tce) FILTER (WHERE {gcol} = {lit}), 0) AS energy_tce_{i}",
        ]
    sql = f"""
        SELECT {key} AS "group",
               count(*) AS firms,
               count(*) FILTER (WHERE excluded_reason IS NULL AND part IS NOT NULL) AS evaluated,
               count(*) FILTER (WHERE excluded_reason IS NOT NULL OR part IS NULL) AS not_evaluated,
               {', '.join(per_grade) + ',' if per_grade else ''}
               coalesce(sum(land_mu), 0) AS land_mu,
               coalesce(sum(energy_tce), 0) AS energy_tce,
               sum(tax_wan) / nullif(sum(land_mu) FILTER (WHERE tax_wan IS NOT NULL), 0) AS tax_per_mu,
               sum(value_added_wan) / nullif(sum(land_mu) FILTER (WHERE value_added_wan IS NOT NULL), 0) AS value_added_per_mu,
               sum(value_added_wan) FILTER (WHERE energy_tce > 0) / nullif(sum(energy_tce) FILTER (WHERE value_added_wan IS NOT NULL), 0) AS value_added_per_tce,
               avg(total_score) AS mean_score
        FROM r WHERE tenant_note IS NULL
        GROUP BY 1 ORDER BY 1 NULLS LAST"""
    tbl = con.sql(sql).to_arrow_table()
    # readable per-class column names
    names = []
    for n in tbl.column_names:
        for suffix in ("firms_", "land_mu_", "energy_tce_"):
            if n.startswith(suffix) and n[len(suffix):].isdigit():
                n = f"{suffix}{grades[int(n[len(suffix):])]}"
        names.append(n)
    return tbl.rename_columns(names)


@dataclass(frozen=True)
class FirmMeasure:
    uscc: str
    name: str | None
    grade: str
    code: str
    measure: str
    kind: str
    basis: str | None
    quantity: float | None
    rate: float | None
    rate_unit: str | None
    amount_wan: float | None
    placeholder: bool
    note: str | None


def measures(results: pa.Table, method: Method, grade_column: str = "grade") -> list[FirmMeasure]:
    """Per firm, the differentiated measures of its class; where priced, the yearly amount (万元)."""
    out: list[FirmMeasure] = []
    by_grade: dict[str, list] = {}
    for m in method.measures:
        for g in m.grades:
            by_grade.setdefault(g, []).append(m)
    for r in results.to_pylist():
        g = r.get(grade_column)
        for m in by_grade.get(g, []):
            qty = r.get(m.basis) if m.basis else None
            amount = m.rate * qty if (m.rate is not None and qty is not None) else None
            out.append(FirmMeasure(r["uscc"], r.get("name"), g, m.code, m.name, m.kind, m.basis, qty, m.rate,
                                   m.rate_unit, amount, m.placeholder, m.note))
    return out


@dataclass(frozen=True)
class Warning:
    kind: str  # grade_fell | near_boundary | remediation
    uscc: str
    name: str | None
    town: str | None
    grade: str | None
    detail: str
    data: dict[str, Any]


def high_energy_low_efficiency(row: dict[str, Any], method: Method) -> bool:
    rule = method.remediation.high_energy_low_efficiency if method.remediation else None
    if rule is None:
        return False
    e, va = row.get("energy_tce"), row.get("value_added_wan")
    if e is None or e < rule.min_energy_tce or e <= 0:
        return False
    return (va or 0.0) / e < rule.max_value_added_per_tce


def warnings(results: pa.Table, method: Method, previous: pa.Table | None = None, margin: float | None = None,
             grade_column: str = "grade", previous_grade_column: str = "grade") -> list[Warning]:
    """Firms whose class fell since ``previous``; firms within ``margin`` points above a class
    boundary (default: the method's warnings.margin_points); firms for the 整治 ledger."""
    from qunlian.per_mu.simulate import context_from_results

    out: list[Warning] = []
    rows = [r for r in results.to_pylist() if r.get("tenant_note") is None]
    order: dict[str, dict[str, int]] = {p.id: {g: i for i, g in enumerate(p.grades.names)} for p in method.parts if p.grades}
    if previous is not None:
        prev = {r["uscc"]: r for r in previous.to_pylist()}
        for r in rows:
            p = prev.get(r["uscc"])
            g0, g1 = (p or {}).get(previous_grade_column), r.get(grade_column)
            if g0 is None or g1 is None:
                continue
            ranks = order.get(r["part"], {})
            if g0 in ranks and g1 in ranks and ranks[g1] > ranks[g0]:
                out.append(Warning("grade_fell", r["uscc"], r.get("name"), r.get("town"), g1,
                                   f"等级由 {g0} 降为 {g1}", {"from": g0, "to": g1}))
    m = margin if margin is not None else (method.warnings.margin_points if method.warnings else None)
    if m is not None:
        ctx = context_from_results(results, method)
        for r in rows:
            s, g, part = r.get("total_score"), r.get("grade_by_score"), r.get("part")
            if s is None or g is None or part not in ctx:
                continue
            b = ctx[part]["boundaries"].get(g)
            if b is not None and 0 <= s - b < m:
                out.append(Warning("near_boundary", r["uscc"], r.get("name"), r.get("town"), g,
                                   f"得分 {s:.2f} 仅高出 {g} 类分数线 {b:.2f} {s - b:.2f} 分", {"score": s, "boundary": b}))
    for r in rows:
        reasons = remediation_reasons(r, method, grade_column)
        if reasons:
            out.append(Warning("remediation", r["uscc"], r.get("name"), r.get("town"), r.get(grade_column),
                               "应列入整治：" + "、".join(REMEDIATION_LABEL[x] for x in reasons), {"reasons": reasons}))
    return out


REMEDIATION_LABEL = {"high_energy_low_efficiency": "高耗低效"}


def remediation_reasons(row: dict[str, Any], method: Method, grade_column: str = "grade") -> list[str]:
    if method.remediation is None or row.get("part") is None or row.get("excluded_reason"):
        return []
    reasons = []
    g = row.get(grade_column)
    if g is not None and g in method.remediation.grades:
        reasons.append(f"grade_{g}")
        REMEDIATION_LABEL.setdefault(f"grade_{g}", f"{g} 类企业")
    if high_energy_low_efficiency(row, method):
        reasons.append("high_energy_low_efficiency")
    return reasons
