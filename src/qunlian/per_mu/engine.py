"""The 亩均 evaluation engine: a method preset compiled into one Ibis table expression.

Why Ibis: the same expression runs on DuckDB (default, in-process) and on Spark (DESIGN §6). The
expression uses only CASE, NULLIF, one-row aggregates cross-joined back, one rank window over narrow
columns joined back on the row id, and joins for tenants — no UDFs, temp tables or asof joins — so
that both engines compute the same numbers (shape and reasons: ``_scored`` and docs/muni.md §6). Every division is ``x / NULLIF(y, 0)``: no division by zero on Spark's ANSI mode, no
infinity or NaN on DuckDB.

``evaluate(table, method, year)`` takes canonical enterprise-year columns (DESIGN §5) for the year
(and the previous year where a benchmark needs it) and returns an :class:`Evaluation` with one row
per firm: part, total score, grade, rank in its part, each indicator's value, benchmark, points and
status, and the reason for any exclusion, cap or deduction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Callable

import duckdb
import ibis
import numpy as np
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from qunlian.core.errors import Problem, QunlianError, ValidationFailed
from qunlian.per_mu.schema import Indicator, Method, Part

# Columns the engine reads besides the method's own numerator/denominator columns.
TEXT_COLUMNS = ("uscc", "name", "town", "park", "industry_code", "landowner_uscc", "exemption", "negative_events", "chain")
FLOAT_COLUMNS = ("land_mu", "tax_wan", "value_added_wan", "energy_tce", "electricity_wan_kwh", "emission_eq_t")
INT_COLUMNS = ("year", "tenants", "founded_year")
ROW_ID = "_row"  # added by ``prepare``: the input row's position, the key that joins the rank back
# Input columns carried into the results (figures for aggregates, measures and the simulator).
CARRIED = (
    "land_mu", "tax_wan", "value_added_wan", "energy_tce", "electricity_wan_kwh", "emission_eq_t",
    "employees", "rd_wan", "main_revenue_wan", "tenants",
)

STATUS_OK = "ok"
STATUS_MISSING = "missing"
STATUS_ZERO = "zero_denominator"
STATUS_NEGATIVE = "negative"

STATUS_LABEL = {STATUS_OK: "", STATUS_MISSING: "数据缺失", STATUS_ZERO: "分母为零", STATUS_NEGATIVE: "值为负"}
# Inside the expression statuses and actions are int8 codes: the position in these tuples.
STATUS_CODES = (STATUS_OK, STATUS_MISSING, STATUS_ZERO, STATUS_NEGATIVE)
ACTIONS = ("score", "zero", "mean", "max", "exclude")
_ST = {s: i for i, s in enumerate(STATUS_CODES)}
_ACT = {a: i for i, a in enumerate(ACTIONS)}


class EvaluationError(QunlianError):
    pass


# --------------------------------------------------------------------------- input preparation


def prepare(table: pa.Table, method: Method, source: str = "input") -> pa.Table:
    """Canonical columns with the types the engine expects; NaN and ±inf → null; absent optional
    columns → null; plus ``_row`` (the row's position). Columns that already have their type are not
    copied, so the engine reads the caller's Arrow buffers (DuckDB scans them in place)."""
    missing_required = [c for c in ("uscc", "year") if c not in table.column_names]
    if missing_required:
        raise ValidationFailed(
            [Problem(f"缺少必需的列 {c}", fix="加上这一列（统一社会信用代码、年度）", file=source, column=c) for c in missing_required],
            summary=f"{source}：输入数据缺少必需的列",
        )
    n = table.num_rows
    cols: dict[str, pa.Array | pa.ChunkedArray] = {}
    floats = _float_columns(method)
    for name in TEXT_COLUMNS:
        cols[name] = _cast(table, name, pa.string(), n)
    cols["above_scale"] = _cast(table, "above_scale", pa.bool_(), n)
    for name in INT_COLUMNS:
        cols[name] = _cast(table, name, pa.int64(), n)
    for name in floats:
        arr = _cast(table, name, pa.float64(), n)
        # NaN and ±inf → null; one cheap check first, since most inputs have neither
        if arr.null_count < len(arr) and not pc.all(pc.is_finite(arr)).as_py():
            arr = pc.if_else(pc.is_finite(arr), arr, pa.scalar(None, pa.float64()))
        cols[name] = arr
    cols[ROW_ID] = pa.array(np.arange(n, dtype=np.int64))
    out = pa.table(cols)
    if out.column("uscc").null_count or out.column("year").null_count:
        raise ValidationFailed(
            [Problem("uscc 或 year 有空值", fix="每行都要有统一社会信用代码和年度", file=source)],
            summary=f"{source}：输入数据有空的键",
        )
    return out


def _cast(table: pa.Table, name: str, typ: pa.DataType, n: int) -> pa.ChunkedArray | pa.Array:
    """The column as ``typ``; a column that already has the type is passed on as it is (no copy)."""
    if name not in table.column_names:
        return pa.nulls(n, typ)
    col = table.column(name)
    if col.type == typ:
        return col
    if pa.types.is_null(col.type):
        return pa.nulls(n, typ)
    if typ == pa.string() and not pa.types.is_string(col.type):
        return pc.cast(col, pa.string())
    try:
        return pc.cast(col, typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValidationFailed(
            [Problem(f"列 {name} 的值不能转换为 {typ}：{exc}", column=name)], summary="输入数据类型错误"
        ) from None


# --------------------------------------------------------------------------- the expression


def _null(typ: str) -> ir.Value:
    return ibis.null(typ)


def _part_condition(t: ir.Table, part: Part) -> ir.BooleanValue:
    cond = ibis.literal(True)
    s = part.select
    if s.above_scale is not None:
        cond = cond & (t.above_scale == s.above_scale).fill_null(False)
    if s.min_land_mu is not None:
        cond = cond & (t.land_mu >= s.min_land_mu).fill_null(False)
    if s.max_land_mu is not None:
        cond = cond & (t.land_mu < s.max_land_mu).fill_null(False)
    return cond


def describe_selector(part: Part) -> str:
    s = part.select
    bits = []
    if s.above_scale is not None:
        bits.append("规上" if s.above_scale else "规下")
    if s.min_land_mu is not None:
        bits.append(f"用地 ≥ {s.min_land_mu:g} 亩")
    if s.max_land_mu is not None:
        bits.append(f"用地 < {s.max_land_mu:g} 亩")
    return "、".join(bits) or "全部企业"


def _with_part(t: ir.Table, method: Method) -> ir.Table:
    part = ibis.cases(*[(_part_condition(t, p), p.id) for p in method.parts], else_=_null("string"))
    return t.mutate(part=part)


def _exclusion_conds(t: ir.Table, method: Method) -> list[tuple[ir.BooleanValue, str]]:
    out = []
    for e in method.scope.exclusions:
        cond = (t.exemption == e.code).fill_null(False)
        if e.founded_within_years is not None:
            cond = cond | ((t.year - t.founded_year) < e.founded_within_years).fill_null(False)
        out.append((cond, f"{e.reason}（{e.code}）"))
    return out


def _excluded(t: ir.Table, method: Method) -> ir.BooleanValue | None:
    """True where a scope exclusion applies (None: the method has none)."""
    out = None
    for cond, _ in _exclusion_conds(t, method):
        out = cond if out is None else out | cond
    return out


def _exclusion(t: ir.Table, method: Method) -> ir.StringValue:
    branches = [(cond, ibis.literal(text)) for cond, text in _exclusion_conds(t, method)]
    if not branches:
        return _null("string")
    return ibis.cases(*branches, else_=_null("string"))


def _code(i: int) -> ir.IntegerValue:
    return ibis.literal(i, type="int8")


def _raw(t: ir.Table, ind: Indicator) -> tuple[ir.FloatingValue, ir.IntegerValue]:
    """The indicator's value and its status code (position in ``STATUS_CODES``)."""
    num, den = t[ind.numerator].cast("float64"), t[ind.denominator].cast("float64")
    value = num / den.nullif(0.0) * ind.scale if ind.scale != 1 else num / den.nullif(0.0)
    status = ibis.cases(
        (num.isnull() | den.isnull(), _code(_ST[STATUS_MISSING])),
        (den == 0, _code(_ST[STATUS_ZERO])),
        (value < 0, _code(_ST[STATUS_NEGATIVE])),
        else_=_code(_ST[STATUS_OK]),
    )
    return value, status


def _action(part: Part, ind: Indicator, status: str) -> str:
    """score | zero | mean | max | exclude — what the part's rules make of a status."""
    if status == STATUS_OK:
        return "score"
    if status == STATUS_NEGATIVE:
        return {"allow": "score", "zero_points": "zero", "exclude": "exclude"}[part.rule(ind, "negative_value")]
    if status == STATUS_ZERO:
        zr = part.rule(ind, "zero_denominator")
        if zr != "missing":
            return {"zero_points": "zero", "max_points": "max", "exclude": "exclude"}[zr]
    return {"zero_points": "zero", "group_mean_points": "mean", "exclude": "exclude"}[part.rule(ind, "missing")]


def _parts_with(method: Method, code: str) -> list[tuple[Part, Indicator]]:
    return [(p, i) for p in method.parts for i in p.indicators if i.code == code]


def _agg_stat(value: ir.FloatingValue, num: ir.FloatingValue, den: ir.FloatingValue, ok: ir.BooleanValue,
              stat: str, factor: float) -> ir.FloatingScalar:
    """A derived benchmark as one aggregate over the rows where ``ok``."""
    if stat == "mean":
        s = ibis.ifelse(ok, value, _null("float64")).mean()
    elif stat == "median":
        s = ibis.ifelse(ok, value, _null("float64")).median()
    else:
        s = ibis.ifelse(ok, num, _null("float64")).sum() / ibis.ifelse(ok, den, _null("float64")).sum().nullif(0.0)
    return s * factor if factor != 1 else s


def _status_text(st: ir.IntegerValue) -> ir.StringValue:
    return ibis.cases(*[(st == _code(i), s) for i, s in enumerate(STATUS_CODES)], else_=_null("string"))


def _scored(source: Callable[[str | None], ir.Table], method: Method, prev_bench: ir.Table | None) -> ir.Table:
    """Part, exclusion, indicator values/status/benchmarks/points, total, rank and grade.

    Shape (see docs/muni.md §6): the per-firm arithmetic is one streaming projection; every group
    statistic (derived benchmarks, min/max, average points, group size) is a one-row aggregate over
    the evaluated firms, cross-joined back; the rank is the only window, computed over three narrow
    columns (row id, part, total) and joined back on the row id. Statuses and actions are small
    integer codes until the final projection turns statuses into text.

    ``source(tag)`` gives the firms to evaluate; with a tag, a copy that is its own subtree. Each
    statistic and the rank read their own copy, so no engine shares (and materialises) the wide
    per-firm rows between them: the per-row arithmetic is recomputed from the input instead, and each
    copy only reads the columns it needs.
    """
    codes = method.indicator_codes
    parts_of = {code: _parts_with(method, code) for code in codes}

    def ok_in(tt: ir.Table, part: Part, code: str) -> ir.BooleanValue:
        return ((tt.part == part.id) & (tt[f"{code}__st"] == _code(_ST[STATUS_OK]))).fill_null(False)

    def rows(t: ir.Table) -> ir.Table:
        t = _with_part(t, method)
        # values and status codes
        vals: dict[str, Any] = {}
        for code in codes:
            value, status = _raw(t, method.indicator(code))
            in_part = t.part.isin([p.id for p, _ in parts_of[code]])
            vals[f"{code}__value"] = ibis.ifelse(in_part, value, _null("float64"))
            vals[f"{code}__st"] = ibis.ifelse(in_part, status, _null("int8"))
        t = t.mutate(**vals)
        # action codes, exclusion and the reason for it
        acts: dict[str, Any] = {}
        for code in codes:
            st = t[f"{code}__st"]
            branches = []
            for part, ind in parts_of[code]:
                by_action: dict[str, list[int]] = {}
                for s in STATUS_CODES:
                    by_action.setdefault(_action(part, ind, s), []).append(_ST[s])
                for a, sts in by_action.items():
                    cond = st == _code(sts[0]) if len(sts) == 1 else st.isin([_code(x) for x in sts])
                    branches.append(((t.part == part.id) & cond, _code(_ACT[a])))
            acts[f"{code}__act"] = ibis.cases(*branches, else_=_null("int8"))
        t = t.mutate(**acts)
        # only indicators whose rules can exclude a firm take part in the exclusion test
        data_excl = [((t[f"{code}__act"] == _code(_ACT["exclude"])).fill_null(False), code) for code in codes
                     if any(_action(p, i, s) == "exclude" for p, i in parts_of[code] for s in STATUS_CODES)]
        scope_excl = _excluded(t, method)
        not_evaluated = t.part.isnull()
        if scope_excl is not None:
            not_evaluated = not_evaluated | scope_excl
        for cond, _ in data_excl:
            not_evaluated = not_evaluated | cond
        scope_reason = "不在评价范围：不符合任何评价对象条件（" + "；".join(
            f"{p.name}：{describe_selector(p)}" for p in method.parts) + "）"
        excl = _exclusion(t, method)
        reason_branches = []
        for cond, code in data_excl:
            st = t[f"{code}__st"]
            label = ibis.cases(*[(st == _code(_ST[k]), v) for k, v in STATUS_LABEL.items() if v], else_="")
            reason_branches.append((cond, ibis.literal(f"{method.indicator(code).name}：").concat(label, "，方法规定不予评价")))
        reason = ibis.cases(
            (t.part.isnull(), ibis.literal(scope_reason)),
            (excl.notnull(), excl),
            *reason_branches,
            else_=_null("string"),
        )
        t = t.mutate(excluded_reason=reason, evaluated=~not_evaluated)

        return t

    def stats1_of(t: ir.Table) -> ir.Table | None:
        # group statistics that the raw points need: derived current-year benchmarks, min and max
        ev = t.filter(t.evaluated)
        s1: dict[str, Any] = {}
        for code in codes:
            for part, ind in parts_of[code]:
                ok = ok_in(ev, part, code)
                value = ev[f"{code}__value"]
                if ind.scoring == "ratio" and ind.benchmark.derived is not None and ind.benchmark.derived.year == "current":
                    d = ind.benchmark.derived
                    num, den = ev[ind.numerator].cast("float64"), ev[ind.denominator].cast("float64")
                    s1[f"s1__{part.id}__{code}__bench"] = _agg_stat(value, num, den, ok, d.stat, d.factor)
                elif ind.scoring == "minmax":
                    vv = ibis.ifelse(ok, value, _null("float64"))
                    s1[f"s1__{part.id}__{code}__lo"] = vv.min()
                    s1[f"s1__{part.id}__{code}__hi"] = vv.max()
        return ev.aggregate(**s1) if s1 else None

    def raw(t: ir.Table, stats1: ir.Table | None) -> ir.Table:
        if stats1 is not None:
            t = t.cross_join(stats1)
        if prev_bench is not None:  # one row of previous-year benchmarks, broadcast to every firm
            t = t.cross_join(prev_bench)
        # benchmarks and raw points
        cols: dict[str, Any] = {}
        for code in codes:
            value = t[f"{code}__value"]
            bench_branches, pts_branches = [], []
            for part, ind in parts_of[code]:
                in_p = t.part == part.id
                if ind.scoring == "ratio":
                    b = ind.benchmark
                    assert b is not None
                    if b.fixed is not None:
                        bench = ibis.literal(b.fixed, type="float64")
                    elif b.derived.year == "current":
                        bench = ibis.ifelse(t.evaluated, t[f"s1__{part.id}__{code}__bench"], _null("float64"))
                    else:
                        bench = t[f"pb__{part.id}__{code}"]
                    bench_branches.append((in_p, bench))
                    raw_pts = value / bench.nullif(0.0) * ind.weight
                else:
                    mm = ind.minmax
                    base, span = (mm.base, mm.span) if mm else (20.0, 80.0)
                    lo, hi = t[f"s1__{part.id}__{code}__lo"], t[f"s1__{part.id}__{code}__hi"]
                    frac = ((value - lo) / (hi - lo).nullif(0.0)).fill_null(1.0)
                    raw_pts = ind.weight * (base + span * frac) / 100.0
                if ind.min_points is not None:
                    raw_pts = ibis.greatest(raw_pts, ind.min_points)
                if ind.max_points is not None:
                    raw_pts = ibis.least(raw_pts, ind.max_points)
                pts_branches.append((in_p, raw_pts))
            cols[f"{code}__benchmark"] = ibis.cases(*bench_branches, else_=_null("float64")) if bench_branches else _null("float64")
            cols[f"{code}__raw_points"] = ibis.cases(*pts_branches, else_=_null("float64"))
        t = t.mutate(**cols)

        return t

    def stats2_of(t: ir.Table) -> ir.Table:
        # group statistics that the points need: average points (missing-data rule) and group sizes
        ev = t.filter(t.evaluated)
        s2: dict[str, Any] = {f"s2__{p.id}__n": ev.part.count(where=ev.part == p.id) for p in method.parts}
        for code in codes:
            for part, ind in parts_of[code]:
                if any(_action(part, ind, st) == "mean" for st in (STATUS_MISSING, STATUS_ZERO, STATUS_NEGATIVE)):
                    scored = ((ev.part == part.id) & (ev[f"{code}__act"] == _code(_ACT["score"]))).fill_null(False)
                    s2[f"s2__{part.id}__{code}__mean"] = ibis.ifelse(scored, ev[f"{code}__raw_points"], _null("float64")).mean()
        return ev.aggregate(**s2)

    def points(t: ir.Table, stats2: ir.Table) -> ir.Table:
        t = t.cross_join(stats2)
        # final points per action
        pts: dict[str, Any] = {}
        for code in codes:
            act, raw = t[f"{code}__act"], t[f"{code}__raw_points"]
            mean_branches = [(t.part == p.id, t[f"s2__{p.id}__{code}__mean"]) for p, _ in parts_of[code]
                             if f"s2__{p.id}__{code}__mean" in t.columns]
            mean_pts = ibis.cases(*mean_branches, else_=_null("float64")) if mean_branches else _null("float64")
            max_branches = [(t.part == p.id, ibis.literal(i.max_points if i.max_points is not None else 0.0, type="float64"))
                            for p, i in parts_of[code]]
            pts[f"{code}__points"] = ibis.ifelse(
                t.evaluated,
                ibis.cases(
                    (act == _code(_ACT["score"]), raw.fill_null(0.0)),
                    (act == _code(_ACT["zero"]), 0.0),
                    (act == _code(_ACT["mean"]), mean_pts.fill_null(0.0)),
                    (act == _code(_ACT["max"]), ibis.cases(*max_branches, else_=0.0)),
                    else_=_null("float64"),
                ),
                _null("float64"),
            )
        t = t.mutate(**pts)

        # total, deductions
        subtotal_branches, ded_branches = [], []
        tenants = t.tenants.fill_null(0).cast("float64")
        for p in method.parts:
            s = None
            for i in p.indicators:
                s = t[f"{i.code}__points"] if s is None else s + t[f"{i.code}__points"]
            subtotal_branches.append((t.part == p.id, s))
            if p.deductions is not None:
                d = p.deductions
                ded = ibis.ifelse(tenants >= 1, d.first_tenant, 0.0) + ibis.greatest(tenants - 1.0, 0.0) * d.each_further_tenant
                ded_branches.append((t.part == p.id, ded))
        subtotal = ibis.cases(*subtotal_branches, else_=_null("float64"))
        deduction = ibis.cases(*ded_branches, else_=0.0) if ded_branches else ibis.literal(0.0)
        t = t.mutate(
            score_before_deduction=ibis.ifelse(t.evaluated, subtotal, _null("float64")),
            deduction=ibis.ifelse(t.evaluated, deduction, _null("float64")),
        )
        t = t.mutate(total_score=t.score_before_deduction - t.deduction)
        return t

    s1 = stats1_of(rows(source("stats1")))
    s2 = stats2_of(raw(rows(source("stats2")), s1))
    n = points(raw(rows(source("rank")), s1), s2)
    t = points(raw(rows(source(None)), s1), s2)
    # rank in the part: the one window, over three narrow columns, joined back on the row id
    f = n.filter(n.evaluated)
    ev = f.select(r_row=f[ROW_ID], r_part=f.part, r_total=f.total_score)
    ranks = ev.select(ev.r_row, r_rank=ibis.rank().over(group_by=ev.r_part, order_by=ibis.desc(ev.r_total)) + 1)
    t = t.left_join(ranks, t[ROW_ID] == ranks.r_row)
    gs = ibis.cases(*[(t.part == p.id, t[f"s2__{p.id}__n"]) for p in method.parts], else_=_null("int64"))
    t = t.mutate(
        rank=ibis.ifelse(t.evaluated, t.r_rank.cast("int64"), _null("int64")),
        group_size=ibis.ifelse(t.evaluated, gs.cast("int64"), _null("int64")),
    )
    # grades
    grade_branches = []
    for p in method.parts:
        if p.grades is None:
            continue
        for c in p.grades.cutoffs[:-1] if p.grades.by == "score" else p.grades.cutoffs:
            if p.grades.by == "score":
                cond = t.total_score >= c.min_score
            else:
                cond = t.rank.cast("float64") <= c.top_share * t.group_size.cast("float64")
            grade_branches.append(((t.part == p.id) & t.evaluated & cond, c.grade))
        if p.grades.by == "score":
            grade_branches.append(((t.part == p.id) & t.evaluated, p.grades.cutoffs[-1].grade))
    initial = ibis.cases(*grade_branches, else_=_null("string")) if grade_branches else _null("string")
    t = t.mutate(grade_by_score=initial)
    # negative list caps the class
    nl = method.negative_list
    if nl is not None:
        ev = ibis.literal(";").concat(t.negative_events.fill_null(""), ";")
        hit = None
        for k in nl.kinds:
            h = ev.contains(f";{k};")
            hit = h if hit is None else hit | h
        cap_branches = []
        for p in method.parts:
            if p.grades is None or nl.cap_grade not in p.grades.names:
                continue
            worse = p.grades.names[p.grades.names.index(nl.cap_grade) + 1 :]
            keep = ibis.cases((t.grade_by_score.isin(worse), t.grade_by_score), else_=nl.cap_grade)
            cap_branches.append(((t.part == p.id) & hit & t.evaluated, keep))
        capped = ibis.cases(*cap_branches, else_=t.grade_by_score) if cap_branches else t.grade_by_score
        note = ibis.ifelse(
            hit & t.evaluated & (capped != t.grade_by_score).fill_null(False),
            ibis.literal(f"负面清单（{'、'.join(nl.kinds)}）：等级封顶为 {nl.cap_grade}，原为 ").concat(t.grade_by_score),
            _null("string"),
        )
        t = t.mutate(grade=capped, cap_note=note, negative_hit=(hit & t.evaluated))
    else:
        t = t.mutate(grade=t.grade_by_score, cap_note=_null("string"), negative_hit=ibis.literal(False))
    return t


def build(t: ir.Table, method: Method, year: int) -> ir.Table:
    """The whole evaluation as one Ibis expression over a table of canonical columns."""
    prev_bench = None
    needed = [(p, i) for p in method.parts for i in p.indicators
              if i.benchmark and i.benchmark.derived and i.benchmark.derived.year == "previous"]
    if needed:
        prev = _with_part(t.filter(t.year == year - 1), method)
        excl = _excluded(prev, method)
        prev = prev.filter(prev.part.notnull() & ~excl) if excl is not None else prev.filter(prev.part.notnull())
        aggs = {}
        for p, i in needed:
            value, status = _raw(prev, i)
            ok = ((status == _code(_ST[STATUS_OK])) & (prev.part == p.id)).fill_null(False)
            d = i.benchmark.derived
            aggs[f"pb__{p.id}__{i.code}"] = _agg_stat(
                value, prev[i.numerator].cast("float64"), prev[i.denominator].cast("float64"), ok, d.stat, d.factor
            )
        prev_bench = prev.aggregate(**aggs)

    mode = method.tenants.mode

    def firms(base: ir.Table) -> tuple[ir.Table, ir.Table]:
        """The firms to evaluate and the tenant rows that take their landowner's result."""
        cur = base.filter(base.year == year)
        owners = cur.select(o_uscc=cur.uscc).distinct()
        c2 = cur.left_join(owners, cur.landowner_uscc == owners.o_uscc)
        c2 = c2.mutate(owner_key=ibis.ifelse(c2.o_uscc.notnull() & (c2.landowner_uscc != c2.uscc), c2.landowner_uscc, c2.uscc)).drop("o_uscc")
        tenants_rows = c2.filter(c2.owner_key != c2.uscc)
        own_rows = c2.filter(c2.owner_key == c2.uscc)
        if mode == "separate":
            return cur, tenants_rows
        if mode == "landowner_grade":
            return own_rows.drop("owner_key"), tenants_rows
        # merge: figures of the landowner and its tenants added up; attributes are the landowner's
        sums = [c for c in dict.fromkeys([*method.input_columns, *FLOAT_COLUMNS, "employees", "rd_wan", "main_revenue_wan"])
                if c not in ("land_mu",)]
        agg = c2.group_by(m_key=c2.owner_key).aggregate(**{f"m__{c}": c2[c].sum() for c in sums})
        own = own_rows.drop("owner_key")
        j = own.left_join(agg, own.uscc == agg.m_key)
        return j.mutate(**{c: j[f"m__{c}"] for c in sums}).drop("m_key", *[f"m__{c}" for c in sums]), tenants_rows

    def source(tag: str | None) -> ir.Table:
        # a tagged copy of the input is a subtree of its own (see ``_scored``); the tag is never read
        return firms(t if tag is None else t.mutate(_use=ibis.literal(tag)))[0]

    tenants_rows = firms(t)[1]
    scored = _scored(source, method, prev_bench)
    out = _select(scored, method)
    if mode in ("merge", "landowner_grade"):
        ind_cols = [c for c in out.columns if c.startswith(tuple(f"{code}__" for code in method.indicator_codes))]
        res = out.select(
            r_uscc=out.uscc, r_part=out.part, r_total=out.total_score, r_sbd=out.score_before_deduction,
            r_ded=out.deduction, r_rank=out.rank, r_n=out.group_size, r_gbs=out.grade_by_score, r_grade=out.grade,
            r_excl=out.excluded_reason, r_cap=out.cap_note, r_neg=out.negative_hit, **{f"r_{c}": out[c] for c in ind_cols},
        )
        tj = tenants_rows.left_join(res, tenants_rows.owner_key == res.r_uscc)
        label = "合并至土地权利人" if mode == "merge" else "按土地权利人等级"
        tenant_out = tj.select(
            uscc=tj.uscc, name=tj.name, year=tj.year, town=tj.town, park=tj.park, industry_code=tj.industry_code,
            above_scale=tj.above_scale, part=tj.r_part, total_score=tj.r_total, score_before_deduction=tj.r_sbd,
            deduction=tj.r_ded, rank=tj.r_rank, group_size=tj.r_n, grade_by_score=tj.r_gbs, grade=tj.r_grade,
            excluded_reason=tj.r_excl, cap_note=tj.r_cap, negative_hit=tj.r_neg,
            tenant_note=ibis.literal(f"承租企业，{label} ").concat(tj.owner_key),
            landowner_uscc=tj.owner_key,
            **{c: tj[c].cast("float64") for c in CARRIED},
            **{c: tj[f"r_{c}"] for c in ind_cols},
        )
        out = out.union(tenant_out.select(*out.columns))
    return out


def _select(t: ir.Table, method: Method) -> ir.Table:
    cols: dict[str, Any] = {
        "uscc": t.uscc, "name": t.name, "year": t.year, "town": t.town, "park": t.park,
        "industry_code": t.industry_code, "above_scale": t.above_scale, "part": t.part,
        "total_score": t.total_score, "score_before_deduction": t.score_before_deduction, "deduction": t.deduction,
        "rank": t.rank.cast("int64"), "group_size": t.group_size.cast("int64"),
        "grade_by_score": t.grade_by_score, "grade": t.grade, "excluded_reason": t.excluded_reason,
        "cap_note": t.cap_note, "negative_hit": t.negative_hit, "tenant_note": _null("string"), "landowner_uscc": t.landowner_uscc,
    }
    for c in CARRIED:
        cols[c] = t[c].cast("float64")
    for code in method.indicator_codes:
        cols[f"{code}__value"] = t[f"{code}__value"]
        cols[f"{code}__benchmark"] = t[f"{code}__benchmark"]
        cols[f"{code}__points"] = t[f"{code}__points"]
        cols[f"{code}__status"] = _status_text(t[f"{code}__st"])
    return t.select(**cols)


# --------------------------------------------------------------------------- running it


@dataclass
class Evaluation:
    """One evaluation's results: one row per firm (see docs/muni.md for the columns)."""

    method: Method
    year: int
    results: pa.Table
    backend: str = "duckdb"
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def context(self) -> dict[str, Any]:
        from qunlian.per_mu.simulate import context_from_results

        return context_from_results(self.results, self.method)

    def row(self, uscc: str) -> dict[str, Any]:
        mask = pc.equal(self.results.column("uscc"), uscc)
        rows = self.results.filter(mask).to_pylist()
        if not rows:
            raise EvaluationError(f"评价结果中没有企业 {uscc}")
        return rows[0]


def duckdb_connection(memory_limit: str | None = None, threads: int | None = None, temp_directory: str | None = None):
    """An in-process DuckDB connection with explicit limits (DESIGN §6)."""
    raw = duckdb.connect()
    if memory_limit:
        raw.execute(f"SET memory_limit='{memory_limit}'")
    if threads:
        raw.execute(f"SET threads={int(threads)}")
    if temp_directory:
        raw.execute(f"SET temp_directory='{temp_directory}'")
    return raw


def evaluate(
    table: pa.Table,
    method: Method,
    year: int,
    *,
    backend: Any = None,
    source: str = "input",
    order: bool = True,
) -> Evaluation:
    """Evaluate the firms of ``year`` in ``table`` (canonical columns) with ``method``.

    ``backend``: a DuckDB connection (default: a fresh in-process one; the method's SQL is compiled
    once by Ibis and cached) or any Ibis backend, e.g. ``ibis.pyspark.connect(spark)``. Rows come back ordered by
    part, rank and uscc (``order=False`` skips the sort, e.g. for benchmarks).
    """
    if not method.effective.contains(year):
        raise EvaluationError(
            f"方法 {method.id}（版本 {method.version}）适用于 {method.effective.from_year}–{method.effective.to_year or ''} 年的数据，"
            f"不适用于 {year} 年"
        )
    prepared = prepare(table, method, source)
    _check_previous(method, prepared, year)
    if backend is None or isinstance(backend, duckdb.DuckDBPyConnection):
        con = backend if backend is not None else duckdb_connection()
        sql = _compiled(method.model_dump_json(), year, order)
        con.register("enterprise_years", prepared)
        try:
            results = con.sql(sql).to_arrow_table()
        finally:
            con.unregister("enterprise_years")
        return Evaluation(method=method, year=year, results=results, backend="duckdb")
    mt = _spark_input(backend, prepared) if getattr(backend, "name", "") == "pyspark" else ibis.memtable(prepared)
    expr = build(mt, method, year)
    if order:
        expr = expr.order_by([expr.part.isnull(), expr.part, expr.rank, expr.uscc])
    results = backend.to_pyarrow(expr)
    return Evaluation(method=method, year=year, results=results, backend=getattr(backend, "name", "ibis"))


def _spark_input(backend: Any, prepared: pa.Table) -> ir.Table:
    """Hand the Arrow table to Spark as it is (Ibis's memtable goes through pandas, which turns null
    strings into 'NaN' on Spark); the view is the input's name only, the pipeline creates no tables."""
    import uuid

    name = f"qunlian_muni_input_{uuid.uuid4().hex[:12]}"
    backend._session.createDataFrame(prepared).createOrReplaceTempView(name)
    return backend.table(name)


@lru_cache(maxsize=64)
def _compiled(method_json: str, year: int, order: bool) -> str:
    """The method's DuckDB SQL over a table named ``enterprise_years`` (compiled once per method and year)."""
    method = Method.model_validate_json(method_json)
    t = ibis.table(input_schema(method), name="enterprise_years")
    expr = build(t, method, year)
    if order:
        expr = expr.order_by([expr.part.isnull(), expr.part, expr.rank, expr.uscc])
    return str(ibis.to_sql(expr, dialect="duckdb"))


def input_schema(method: Method) -> dict[str, str]:
    """Column → Ibis type of the prepared input table (see ``prepare``)."""
    cols = {c: "string" for c in TEXT_COLUMNS}
    cols["above_scale"] = "boolean"
    cols.update({c: "int64" for c in INT_COLUMNS})
    for c in _float_columns(method):
        cols[c] = "float64"
    cols[ROW_ID] = "int64"
    return cols


def _float_columns(method: Method) -> list[str]:
    return list(dict.fromkeys([*FLOAT_COLUMNS, *method.input_columns, "employees", "rd_wan", "main_revenue_wan"]))


def _check_previous(method: Method, prepared: pa.Table, year: int) -> None:
    needs_prev = any(i.benchmark and i.benchmark.derived and i.benchmark.derived.year == "previous"
                     for p in method.parts for i in p.indicators)
    if needs_prev and not pc.any(pc.equal(prepared.column("year"), year - 1)).as_py():
        raise EvaluationError(
            f"方法 {method.id} 的基准值取上一年（{year - 1}）同组平均，但输入中没有 {year - 1} 年的数据：请一并提供"
        )


def compile_sql(method: Method, year: int, dialect: str = "duckdb") -> str:
    """The SQL the method compiles to, over a table named ``enterprise_years`` (for review and docs)."""
    t = ibis.table(input_schema(method), name="enterprise_years")
    return str(ibis.to_sql(build(t, method, year), dialect=dialect))


def finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
