"""Status of one indicator at one period: pure arithmetic, no database.

Given an indicator's baseline, its targets by year and its actuals by period, `evaluate` answers:

- which observation counts at the as-of period, and against which *reference* it is compared — the
  annual target for a year; for a quarter or month the annual target pro-rated by months elapsed,
  or scaled by last year's same-period share of last year's total (flows, intensities), the annual
  target itself (ratios and growth rates are never pro-rated), or the path from last year-end to
  the target (stocks). Never a first-quarter figure against a full-year target;
- completion (actual against reference, direction-aware);
- time elapsed against progress since the baseline (时间过半、任务过半);
- growth needed per year from the latest annual value to the milestone, against growth so far
  (compound % a year for levels, percentage points a year for ratios);
- projected values at every milestone, linear (least squares) and compound (log-linear), and
  the headline method the rule preset names for the measure;
- a green / amber / red light by the preset's checks, and a plain-language reason: a Message (the
  Chinese text, which is its msgid with parameters filled in), shown in the reader's language through
  the catalogue (``qunlian.platform.i18n.translate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from qunlian.core.messages import N_, Joined, Message
from qunlian.targets.lights import StatusRules
from qunlian.core.periods import Period

LIGHT_ORDER = {"green": 0, "amber": 1, "red": 2}
LIGHT_ZH = {"green": N_("绿灯"), "amber": N_("黄灯"), "red": N_("红灯"), "grey": N_("无法评价")}
PROJECTION_METHODS = {"linear": N_("线性趋势"), "compound": N_("复合增长"), "annualised": N_("年内进度")}

#: the sentence that says which check set the light (``why``): the end target, or this period
DECIDERS = {
    "projection": N_("%(light)s看的是 %(year)s 年目标：%(said)s"),
    "schedule": N_("%(light)s看的是时间进度：%(said)s"),
    "completion": N_("%(light)s看的是本期参照值：%(said)s"),
}


@dataclass(frozen=True)
class TargetPoint:
    year: int
    kind: str  # value | lower_bound | cumulative | qualitative
    value: float | None
    text: str = ""


@dataclass(frozen=True)
class Observation:
    period: Period
    value: float
    cumulative: bool = False
    source: str = ""
    is_estimate: bool = False


@dataclass
class Series:
    """One indicator's data, city-wide or for one town."""

    name: str
    unit: str
    measure: str  # flow | intensity | ratio | rate | stock
    direction: str = "higher"
    code: str = ""
    nature: str | None = None
    baseline_year: int | None = None
    baseline_value: float | None = None
    plan_start: int | None = None  # first year of the plan (cumulative targets start at start - 1)
    targets: list[TargetPoint] = field(default_factory=list)
    actuals: list[Observation] = field(default_factory=list)


# --------------------------------------------------------------------------- small maths


def t_of(period: Period) -> float:
    """Time coordinate of a period's end: year-end 2023 → 2023.0, 2023Q1 → 2022.25."""
    return period.year - 1 + period.months_elapsed_in_year / 12


def completion_ratio(actual: float | None, reference: float | None, direction: str) -> float | None:
    """Actual against reference, ≥ 1 when on or above the line whichever way is better."""
    if actual is None or reference is None:
        return None
    if direction == "lower":
        if actual <= 0 or reference <= 0:
            return None
        return reference / actual
    if reference <= 0:
        return None
    return actual / reference


def cagr(v0: float, v1: float, years: float) -> float | None:
    if years <= 0 or v0 <= 0 or v1 <= 0:
        return None
    return (v1 / v0) ** (1 / years) - 1


def linear_fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares (intercept, slope); two points give the line through them."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    slope = sum((p[0] - mx) * (p[1] - my) for p in points) / sxx
    return my - slope * mx, slope


def project_linear(points: list[tuple[float, float]], t: float) -> float | None:
    fit = linear_fit(points)
    return None if fit is None else fit[0] + fit[1] * t


def project_compound(points: list[tuple[float, float]], t: float) -> float | None:
    """Log-linear least squares (constant growth rate); two points give their CAGR."""
    if len(points) < 2 or any(v <= 0 for _, v in points):
        return None
    fit = linear_fit([(x, math.log(v)) for x, v in points])
    return None if fit is None else math.exp(fit[0] + fit[1] * t)


def compound_rate(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 2 or any(v <= 0 for _, v in points):
        return None
    fit = linear_fit([(x, math.log(v)) for x, v in points])
    return None if fit is None else math.exp(fit[1]) - 1


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def fmt(x: float | None, nd: int = 2) -> str:
    if x is None:
        return "—"
    s = f"{x:.{nd}f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def pct(x: float | None, nd: int = 1) -> str:
    return "—" if x is None else f"{x * 100:.{nd}f}%"


# --------------------------------------------------------------------------- evaluation


def evaluate(series: Series, as_of: Period | None, rules: StatusRules) -> dict[str, Any]:
    """The status of one series at `as_of` (default: its latest actual). See the module docstring."""
    targets = {t.year: t for t in series.targets}
    out: dict[str, Any] = {
        "indicator": series.name,
        "code": series.code,
        "unit": series.unit,
        "measure": series.measure,
        "direction": series.direction,
        "nature": series.nature,
        "period": None,
        "actual": None,
        "cumulative": None,
        "source": None,
        "is_estimate": None,
        "target": None,
        "target_text": None,
        "target_kind": None,
        "reference": None,
        "reference_method": None,
        "completion": None,
        "milestone": None,
        "milestone_target": None,
        "milestone_target_text": None,
        "projected": None,
        "projection_method": None,
        "projections": [],
        "time_elapsed": None,
        "progress": None,
        "growth_needed": None,
        "growth_achieved": None,
        "growth_unit": None,
        "checks": {},
        "status": "grey",
        "reason": "",
        "rules": rules.label(),
    }
    obs = _pick_observation(series.actuals, as_of)
    ref_end = obs.period if obs else as_of
    milestone = _milestone(targets, ref_end)
    if milestone is not None:
        mt = targets[milestone]
        out.update(milestone=milestone, milestone_target=mt.value, milestone_target_text=mt.text)
    if obs is None:
        out["reason"] = Message("截至 %(as_of)s，尚无实际值，无法评价", as_of=str(as_of)) if as_of \
            else Message("尚无实际值，无法评价")
        return out

    p = obs.period
    out.update(period=str(p), actual=obs.value, cumulative=obs.cumulative, source=obs.source,
               is_estimate=obs.is_estimate)
    year_target = targets.get(p.year)
    kind = (year_target or (targets[milestone] if milestone else None) or TargetPoint(0, "value", None)).kind
    out["target_kind"] = kind

    if kind == "qualitative":
        return _qualitative(out, obs, year_target or targets.get(milestone or -1))

    anchors = _anchors(series, targets)
    path = _PathModel(anchors, series.measure, cumulative_kind=(kind == "cumulative"))
    T_y = year_target.value if year_target and year_target.value is not None else path.at(p.year)
    out["target"] = _r(T_y, 6)
    out["target_text"] = year_target.text if year_target else None
    annual_pts = _annual_points(series, obs, kind)

    # ---- the period's reference
    if series.baseline_year is not None and p.year <= series.baseline_year and year_target is None:
        # the baseline itself (or earlier): nothing to judge yet, but the growth needed is worth showing
        reference, method = None, "baseline"
        ref_msg = Message("为规划基期值，尚无规划期内实际值")
    else:
        reference, method, ref_msg = _reference(series, obs, T_y, year_target, path, rules)
    out.update(reference=_r(reference, 6), reference_method=method)
    comp = completion_ratio(obs.value, reference, series.direction)
    out["completion"] = _r(comp)
    checks: dict[str, dict[str, Any]] = {}
    if comp is not None and rules.checks.completion.enabled:
        checks["completion"] = {"ratio": _r(comp), "light": rules.checks.completion.light(comp)}

    # ---- schedule and growth toward the milestone, from the latest annual value
    M = milestone
    T_M = targets[M].value if M is not None else None
    latest = annual_pts[-1] if annual_pts else None
    first = annual_pts[0] if annual_pts else None
    sched_msg = growth_msg = proj_msg = None
    growth_as_pp = series.measure in ("ratio", "rate") or kind == "cumulative"
    out["growth_unit"] = (f"{series.unit}/年（个百分点）" if series.unit in ("%", "％") else f"{series.unit}/年") \
        if growth_as_pp else "%/年"
    if M is not None and T_M is not None and latest is not None and M > latest[0]:
        a_year, A = latest
        if first is not None and first[0] < a_year and kind != "lower_bound" and T_M != first[1]:
            b_year, B = first
            time_elapsed = (a_year - b_year) / (M - b_year)
            progress = (A - B) / (T_M - B)
            out.update(time_elapsed=_r(time_elapsed), progress=_r(progress))
            if rules.checks.schedule.enabled and time_elapsed > 0:
                ratio = progress / time_elapsed
                checks["schedule"] = {"ratio": _r(ratio), "light": rules.checks.schedule.light(ratio)}
            sched_msg = Message("时间进度 %(time)s，目标进度 %(progress)s", time=pct(time_elapsed),
                                progress=pct(progress))
        if series.measure != "rate" or kind == "cumulative":
            years_left = M - a_year
            if growth_as_pp:
                need = (T_M - A) / years_left
                have = (A - first[1]) / (a_year - first[0]) if first and first[0] < a_year else None
                u = Message("个百分点") if series.unit in ("%", "％") else series.unit
                out.update(growth_needed=_r(need, 6), growth_achieved=_r(have, 6))
                if kind == "lower_bound" and _meets(A, T_M, series.direction):
                    bound = {"year": M, "bound": fmt(T_M), "unit": series.unit}
                    if series.direction == "higher":
                        growth_msg = Message("已高于 %(year)s 年底线 %(bound)s%(unit)s，需保持", **bound)
                    else:
                        growth_msg = Message("已低于 %(year)s 年上限 %(bound)s%(unit)s，需保持", **bound)
                else:
                    growth_msg = Message("距 %(year)s 年目标 %(target)s 需每年%(change)s %(need)s %(u)s", year=M,
                                         target=fmt(T_M), change=_signed(need), need=fmt(abs(need)), u=u)
                    if have is not None:
                        growth_msg = Message("%(needed)s，%(achieved)s", needed=growth_msg, achieved=Message(
                            "%(first)s—%(last)s 年每年%(change)s %(have)s %(u)s", first=first[0], last=a_year,
                            change=_signed(have), have=fmt(abs(have)), u=u))
            else:
                need = cagr(A, T_M, years_left)
                have = compound_rate(annual_pts) if len(annual_pts) >= 2 else None
                out.update(growth_needed=_r(need, 6), growth_achieved=_r(have, 6))
                if need is not None:
                    growth_msg = Message("距 %(year)s 年目标 %(target)s%(unit)s 需年均增长 %(need)s", year=M,
                                         target=fmt(T_M), unit=series.unit, need=pct(need))
                    if have is not None:
                        growth_msg = Message("%(needed)s，%(achieved)s", needed=growth_msg, achieved=Message(
                            "%(first)s—%(last)s 年年均增长 %(have)s", first=first[0], last=a_year, have=pct(have)))

    # ---- projections at every milestone after the latest annual value
    pts = [(float(y), v) for y, v in annual_pts]
    headline = rules.projection.headline.get(series.measure, "linear")
    if kind == "cumulative":
        headline = "linear"
    projections = []
    can_project = (series.measure != "rate" or kind == "cumulative") and len(pts) >= rules.projection.min_points
    for y in sorted(targets):
        tp = targets[y]
        if tp.kind == "qualitative" or (latest is not None and y <= latest[0]):
            continue
        lin = project_linear(pts, y) if can_project else None
        com = project_compound(pts, y) if can_project and kind != "cumulative" else None
        if y == p.year and p.kind != "year":
            # a milestone inside the observation's year: annualise the year-to-date figure
            ann = _annualise(obs, reference, T_y, series.measure)
            if ann is not None:
                projections.append({"milestone": y, "target": tp.value, "target_text": tp.text,
                                    "linear": _r(lin, 6), "compound": _r(com, 6),
                                    "annualised": _r(ann, 6), "headline": "annualised",
                                    "projected": _r(ann, 6)})
                continue
        chosen = com if headline == "compound" else lin
        projections.append({"milestone": y, "target": tp.value, "target_text": tp.text, "linear": _r(lin, 6),
                            "compound": _r(com, 6), "headline": headline, "projected": _r(chosen, 6)})
    out["projections"] = projections
    current = next((x for x in projections if x["milestone"] == M), None)
    if current is not None and current["projected"] is not None and T_M is not None:
        out.update(projected=current["projected"], projection_method=current["headline"])
        ratio = completion_ratio(current["projected"], T_M, series.direction)
        if ratio is not None and rules.checks.projection.enabled:
            checks["projection"] = {"ratio": _r(ratio), "light": rules.checks.projection.light(ratio)}
        proj_params = {"method": Message(PROJECTION_METHODS[current["headline"]]), "year": M,
                       "value": fmt(current["projected"]), "unit": series.unit}
        proj_msg = Message("按%(method)s推算 %(year)s 年为 %(value)s%(unit)s", **proj_params) if ratio is None \
            else Message("按%(method)s推算 %(year)s 年为 %(value)s%(unit)s（目标的 %(ratio)s）", ratio=pct(ratio),
                         **proj_params)

    out["checks"] = checks
    if checks:
        out["status"] = max((c["light"] for c in checks.values()), key=LIGHT_ORDER.__getitem__)
        # which rule set the light, in one sentence beside it: the path to the milestone when that is
        # what decided (a 100 % year can still be red for 2027), else this period's progress
        decider = next(name for name in ("projection", "schedule", "completion")
                       if name in checks and checks[name]["light"] == out["status"])
        said = {"projection": proj_msg, "schedule": sched_msg,
                "completion": Message("本期完成 %(ratio)s", ratio=pct(comp)) if comp is not None else None}[decider]
        out["decided_by"] = decider
        if said is not None:
            out["why"] = Message(DECIDERS[decider], year=M, light=Message(LIGHT_ZH[out["status"]]), said=said) \
                if decider == "projection" else Message(DECIDERS[decider], light=Message(LIGHT_ZH[out["status"]]), said=said)
    observed = {"period": str(p), "value": fmt(obs.value), "unit": series.unit}
    head = Message("%(period)s 累计 %(value)s%(unit)s", **observed) if obs.cumulative and p.kind != "year" \
        else Message("%(period)s 实际 %(value)s%(unit)s", **observed)
    if method == "baseline":
        first_part = Message("%(head)s，%(reference)s", head=head, reference=ref_msg)
    else:
        first_part = Message("%(head)s，%(reference)s，%(completion)s", head=head, reference=ref_msg,
                             completion=Message("完成 %(ratio)s", ratio=pct(comp)) if comp is not None
                             else Message("无可比参照"))
    parts = [first_part, *(x for x in (sched_msg, growth_msg, proj_msg) if x is not None)]
    out["reason"] = Message("%(light)s：%(body)s", light=Message(LIGHT_ZH[out["status"]]), body=Joined("；", parts))
    return out


# --------------------------------------------------------------------------- helpers


def _signed(x: float) -> Message:
    return Message("提高") if x >= 0 else Message("降低")


def _meets(a: float, bound: float, direction: str) -> bool:
    return a >= bound if direction == "higher" else a <= bound


def _pick_observation(actuals: list[Observation], as_of: Period | None) -> Observation | None:
    cands = [o for o in actuals if as_of is None or o.period <= as_of]
    if not cands:
        return None
    # latest period; at equal periods a cumulative value beats a point value
    return max(cands, key=lambda o: (o.period, o.cumulative or o.period.kind == "year"))


def _milestone(targets: dict[int, TargetPoint], ref: Period | None) -> int | None:
    if not targets:
        return None
    if ref is None:
        return min(targets)
    after = [y for y in targets if Period(y, "year").end > ref.end or (y == ref.year and ref.kind != "year")]
    if ref.kind == "year":
        after = [y for y in targets if y > ref.year]
    return min(after) if after else max(targets)


def _anchors(series: Series, targets: dict[int, TargetPoint]) -> list[tuple[int, float]]:
    """Known points of the plan's path: the baseline (or 0 before a cumulative target) and the targets."""
    pts: dict[int, float] = {}
    if any(t.kind == "cumulative" for t in targets.values()):
        start = series.plan_start or (series.baseline_year + 1 if series.baseline_year else None)
        if start is not None:
            pts[start - 1] = 0.0
    elif series.baseline_year is not None and series.baseline_value is not None:
        pts[series.baseline_year] = series.baseline_value
    for y, t in targets.items():
        if t.value is not None and t.kind != "qualitative":
            pts[y] = t.value
    return sorted(pts.items())


class _PathModel:
    """The plan's own path between its anchors, for years and dates without a printed target."""

    def __init__(self, anchors: list[tuple[int, float]], measure: str, cumulative_kind: bool) -> None:
        self.anchors = anchors
        self.cumulative = cumulative_kind
        self.compound = measure in ("flow", "intensity") and not cumulative_kind

    def at(self, t: float) -> float | None:
        a = self.anchors
        if not a:
            return None
        if t <= a[0][0]:
            return a[0][1] if t == a[0][0] else None
        for (y0, v0), (y1, v1) in zip(a, a[1:]):
            if y0 <= t <= y1:
                f = (t - y0) / (y1 - y0)
                if self.compound and v0 > 0 and v1 > 0:
                    return v0 * (v1 / v0) ** f
                return v0 + (v1 - v0) * f
        return None  # after the last target: the plan sets nothing for that year


def _annual_points(series: Series, obs: Observation, kind: str) -> list[tuple[int, float]]:
    """(year, value) of the baseline and annual actuals up to the observation's period."""
    pts: dict[int, float] = {}
    if kind == "cumulative":
        start = series.plan_start or (series.baseline_year + 1 if series.baseline_year else None)
        if start is not None:
            pts[start - 1] = 0.0
    elif series.baseline_year is not None and series.baseline_value is not None:
        pts[series.baseline_year] = series.baseline_value
    for o in series.actuals:
        if o.period.kind == "year" and o.period <= obs.period:
            pts[o.period.year] = o.value
    return sorted(pts.items())


def _find(actuals: list[Observation], period: Period, cumulative: bool | None = None) -> Observation | None:
    for o in actuals:
        if o.period == period and (cumulative is None or o.cumulative == cumulative or period.kind == "year"):
            return o
    return None


def _reference(series: Series, obs: Observation, T_y: float | None, year_target: TargetPoint | None,
               path: _PathModel, rules: StatusRules) -> tuple[float | None, str | None, Message]:
    """(reference, method, phrase) for comparing the observation. Each phrase's parameters hold both the
    printed target text (``label``: the plan's own figure as printed)."""
    p = obs.period
    printed = year_target is not None
    lbl = year_target.text if year_target and year_target.text else fmt(T_y)
    u = series.unit
    if T_y is None:
        return None, None, Message("规划未设 %(year)s 年目标", year=p.year)
    said = {"year": p.year, "label": lbl, "target": fmt(T_y)}  # label: as printed; target: the figure
    if p.kind == "year":
        if printed:
            return T_y, "annual_target", Message("%(year)s 年目标 %(label)s", **said)
        return T_y, "plan_path", Message("按规划路径 %(year)s 年应达 %(target)s", **said)
    m = p.months_elapsed_in_year
    span = 12 if obs.cumulative else (3 if p.kind == "quarter" else 1)
    if series.measure in ("flow", "intensity"):
        if rules.quarterly_reference.prefer_same_period_last_year:
            ly = _find(series.actuals, p.same_period_last_year(), obs.cumulative)
            ly_year = _find(series.actuals, Period(p.year - 1, "year"))
            if ly and ly_year and ly_year.value > 0:
                share = ly.value / ly_year.value
                ref = T_y * share
                return (ref, "same_period_last_year",
                        Message("去年同期占全年 %(share)s，按此折算 %(year)s 年目标 %(label)s 为 %(reference)s",
                                share=pct(share), reference=fmt(ref), **said))
        if obs.cumulative:
            ref = T_y * m / 12
            return (ref, "pro_rata",
                    Message("按 %(year)s 年目标 %(label)s%(unit)s 的 %(months)s/12 折算为 %(reference)s",
                            unit=u, months=m, reference=fmt(ref), **said))
        ref = T_y * span / 12
        return (ref, "pro_rata_point",
                Message("单期值，按 %(year)s 年目标 %(label)s 的 %(months)s/12 折算为 %(reference)s",
                        months=span, reference=fmt(ref), **said))
    if series.measure in ("ratio", "rate") and not path.cumulative:
        return T_y, "annual_rate", Message("比重、增速类指标不按季折算，对照 %(year)s 年目标 %(label)s", **said)
    # stocks and five-year cumulative changes: the path from last year-end to this year's target
    prev = _find(series.actuals, Period(p.year - 1, "year"))
    prev_v = prev.value if prev else path.at(p.year - 1)
    if prev_v is None:
        return T_y, "annual_target", Message("%(year)s 年目标 %(label)s", **said)
    ref = prev_v + (T_y - prev_v) * m / 12
    src = Message("上年末实际") if prev else Message("上年末规划路径值")
    return (ref, "year_end_path",
            Message("%(source)s %(previous)s 至 %(year)s 年目标 %(label)s 按 %(months)s/12 进度应达 %(reference)s",
                    source=src, previous=fmt(prev_v), months=m, reference=fmt(ref), **said))


def _annualise(obs: Observation, reference: float | None, T_y: float | None, measure: str) -> float | None:
    if measure not in ("flow", "intensity") or reference in (None, 0) or T_y is None:
        return None
    return obs.value * T_y / reference


def _qualitative(out: dict[str, Any], obs: Observation, tp: TargetPoint | None) -> dict[str, Any]:
    text = tp.text if tp else Message("定性目标")
    out["target_text"] = text
    said = {"text": text, "period": str(obs.period), "source": obs.source or Message("未注明")}
    if obs.value >= 1:
        out["status"] = "green"
        out["reason"] = Message("绿灯：定性目标“%(text)s”，%(period)s 已确认完成（来源：%(source)s）", **said)
    else:
        out["status"] = "red"
        out["reason"] = Message("红灯：定性目标“%(text)s”，%(period)s 确认未完成（来源：%(source)s）", **said)
    out["checks"] = {"qualitative": {"ratio": None, "light": out["status"]}}
    return out
