"""Entering actuals: one at a time or from a file, validated all-or-nothing, with revision history.

A correction never overwrites: the old row is marked superseded and stays, the new row carries the
next revision number, who entered it and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunlian.platform.numbers import NumberField, NumberInvalid, parse_number
from qunlian.targets.lookup import (
    convert_to_unit,
    find_indicators,
    get_plan,
    indicators_of,
    lookup_town,
    plan_towns,
    plan_years,
)
from qunlian.platform.tabular import header_text, read_table
from qunlian.core.errors import Problem, ValidationFailed
from qunlian.core.messages import N_, Joined, Message
from qunlian.core.periods import Period, PeriodError
from qunlian.core.units import UnitError
from qunlian.platform.db import audit
from qunlian.regions.models import Town
from qunlian.targets.models import Actual, Indicator, Plan, Target

COLUMNS = {
    "indicator": ("indicator", "指标", "指标名称", "指标代码"),
    "period": ("period", "期间", "时期", "报告期"),
    "value": ("value", "数值", "实际值", "值"),
    "unit": ("unit", "单位"),
    "town": ("town", "镇街道", "镇(街道)", "镇（街道）", "地区"),
    "cumulative": ("cumulative", "累计", "是否累计"),
    "source": ("source", "来源", "数据来源"),
}
_TRUE = {"1", "true", "yes", "y", "是", "累计", "t"}
_FALSE = {"", "0", "false", "no", "n", "否", "当期", "f"}

#: an actual value as typed (a form, the CLI, a file cell): the indicator's unit narrows it
VALUE = NumberField(N_("数值"), plausible_range=False)


@dataclass
class ActualInput:
    indicator: str
    period: str
    value: Any
    unit: str | None = None
    town: str | None = None
    cumulative: Any = False
    source: str | None = None
    row: int | None = None  # spreadsheet row, for messages


@dataclass
class _Checked:
    indicator: Indicator
    period: Period
    value: float
    town: Town | None
    cumulative: bool
    source: str
    original: str


def _validate(session: Session, plan: Plan, item: ActualInput, file: str | None,
              default_source: str) -> tuple[_Checked | None, list[Problem]]:
    probs: list[Problem] = []

    def bad(message: str, fix: str, column: str, value: Any = None) -> None:
        probs.append(Problem(message, fix, file=file, row=item.row, column=column, value=value))

    inds = find_indicators(session, plan, str(item.indicator or "").strip())
    ind = None
    if not inds:
        bad(Message("规划 %(plan)s 中没有这个指标", plan=plan.code),
            N_("填写指标代码或规划中印的指标名称（qunlian targets status 可列出）"),
            "indicator", item.indicator)
    elif len(inds) > 1:
        # the same name in a plan's main table and in its town decomposition (003 附件1 / 附件3):
        # a town figure goes to the decomposed one, a city figure to the main one
        decomposed = {i.id for i in inds if session.scalar(
            select(Target.id).where(Target.indicator_id == i.id, Target.town_id.is_not(None)).limit(1))}
        want_town = item.town not in (None, "", "全市")
        narrowed = [i for i in inds if (i.id in decomposed) == want_town]
        if len(narrowed) == 1:
            ind = narrowed[0]
        else:
            bad(N_("指标名称对应多个指标"), Message("改填指标代码：%(codes)s", codes=Joined("、", [i.code for i in inds])),
                "indicator", item.indicator)
    else:
        ind = inds[0]

    period = None
    try:
        period = Period.parse(item.period)
    except PeriodError as exc:
        bad(str(exc), N_("写成 2023、2023Q1 或 2023-03"), "period", item.period)
    if period is not None:
        lo, hi = plan_years(plan, indicators_of(session, plan))
        if not lo <= period.year <= hi:
            bad(Message("期间 %(period)s 不在规划期内（%(lo)s—%(hi)s）", period=str(period), lo=lo, hi=hi),
                Message("填写 %(lo)s 至 %(hi)s 年之间的期间", lo=lo, hi=hi), "period", item.period)

    value = None
    try:  # the one check of typed numbers: finite, a plain number (its unit is checked below)
        value = parse_number(item.value, VALUE)
    except NumberInvalid as exc:
        bad(exc.message, exc.fix, "value", item.value)

    if ind is not None and value is not None and item.unit not in (None, ""):
        try:
            value = convert_to_unit(value, str(item.unit), ind.unit)
        except UnitError as exc:
            bad(Message("单位与指标单位 %(unit)s 不同且不能换算：%(why)s", unit=ind.unit, why=str(exc)),
                Message("按 %(unit)s 填写", unit=ind.unit), "unit", item.unit)

    if ind is not None and value is not None:
        try:  # within the plausible range of the indicator's unit
            parse_number(value, NumberField(VALUE.label, unit=ind.unit))
        except NumberInvalid as exc:
            bad(exc.message, exc.fix, "value", item.value)

    town = None
    if item.town not in (None, "", "全市"):
        town = lookup_town(session, str(item.town))
        in_plan = {t.id for t in plan_towns(session, plan)}
        if town is None:
            bad(N_("未知镇街道"), N_("填写镇街道名称，如 当湖街道"), "town", item.town)
        elif town.id not in in_plan:
            bad(Message("规划 %(plan)s 的目标未分解到 %(town)s", plan=plan.code, town=town.name),
                Message("该规划只接受全市数值；镇街道数值请录入有分解目标的规划") if not in_plan
                else Message("可用：%(towns)s", towns=Joined("、", [t.name for t in plan_towns(session, plan)])),
                "town", item.town)
            town = None

    cum = item.cumulative
    if isinstance(cum, str):
        c = cum.strip().lower()
        if c in _TRUE:
            cum = True
        elif c in _FALSE:
            cum = False
        else:
            bad("累计标志无法识别", "填 是/否", "cumulative", item.cumulative)
            cum = False
    if probs or ind is None or period is None or value is None:
        return None, probs
    source = (item.source or default_source or "").strip()
    if not source:
        bad("缺少数据来源", "填写来源，如 市统计局月报", "source")
        return None, probs
    return _Checked(ind, period, value, town, bool(cum) and period.kind != "year", source, str(item.value)), probs


def _store(session: Session, c: _Checked, entered_by: str, is_estimate: bool) -> tuple[Actual, str]:
    """Insert as a new revision; returns (row, 'added' | 'revised' | 'unchanged')."""
    same = select(Actual).where(
        Actual.indicator_id == c.indicator.id, Actual.period == str(c.period),
        Actual.town_id.is_(None) if c.town is None else Actual.town_id == c.town.id,
        Actual.cumulative == c.cumulative)
    current = session.scalar(same.where(Actual.superseded.is_(False)))
    if current is not None and current.value == c.value and current.source == c.source \
            and current.is_estimate == is_estimate:
        return current, "unchanged"
    last_rev = session.scalar(select(func.max(Actual.revision)).where(
        Actual.indicator_id == c.indicator.id, Actual.period == str(c.period),
        Actual.town_id.is_(None) if c.town is None else Actual.town_id == c.town.id,
        Actual.cumulative == c.cumulative)) or 0
    if current is not None:
        current.superseded = True
    row = Actual(indicator_id=c.indicator.id, town_id=c.town.id if c.town else None, period=str(c.period),
                 cumulative=c.cumulative, value=c.value, source=c.source, is_estimate=is_estimate,
                 revision=last_rev + 1, superseded=False, entered_by=entered_by)
    session.add(row)
    session.flush()
    return row, "revised" if current is not None else "added"


def add_actuals(session: Session, plan_code: str, items: list[ActualInput], entered_by: str,
                source: str = "", is_estimate: bool = False, file: str | None = None) -> dict[str, Any]:
    """Validate every item first; store all of them or none (raises ValidationFailed)."""
    plan = get_plan(session, plan_code)
    checked: list[_Checked] = []
    problems: list[Problem] = []
    seen: dict[tuple, int | None] = {}
    for it in items:
        c, probs = _validate(session, plan, it, file, source)
        problems += probs
        if c is not None:
            key = (c.indicator.id, str(c.period), c.town.id if c.town else None, c.cumulative)
            if key in seen:
                problems.append(Problem(N_("同一指标、期间、镇街道重复出现"), Message("删去重复行（另见第 %(row)s 行）", row=seen[key]),
                                        file=file, row=it.row, column="indicator", value=it.indicator))
            seen[key] = it.row
            checked.append(c)
    if problems:
        raise ValidationFailed(problems, summary="实际值未通过校验，未写入任何数据")
    counts = {"added": 0, "revised": 0, "unchanged": 0}
    rows = []
    # everything was validated above; a database error below propagates and the caller's
    # transaction rolls the whole batch back
    for c in checked:
        row, what = _store(session, c, entered_by, is_estimate)
        counts[what] += 1
        rows.append(row)
    audit(session, entered_by, "targets.actuals", "plan", plan.code, file=file, **counts)
    return {"plan": plan.code, **counts, "ids": [r.id for r in rows]}


def add_actual(session: Session, plan_code: str, indicator: str, period: str, value: float,
               entered_by: str, unit: str | None = None, town: str | None = None, cumulative: bool = False,
               source: str = "", is_estimate: bool = False) -> Actual:
    """Enter one actual (a correction becomes a new revision). Raises ValidationFailed with reasons."""
    res = add_actuals(session, plan_code, [ActualInput(indicator, period, value, unit, town, cumulative, source)],
                      entered_by=entered_by, source=source, is_estimate=is_estimate)
    return session.get(Actual, res["ids"][0])  # type: ignore[return-value]


def read_actuals_file(path: str | Path) -> list[ActualInput]:
    """Read a CSV (UTF-8 with or without BOM, GBK/GB18030) or XLSX (also as saved by WPS) of actuals,
    through the platform's one reader (size and zip-bomb limits); Chinese headers accepted, title rows
    above the header skipped."""
    p = Path(path)
    table = read_table(p, formats=(".xlsx", ".xlsm", ".csv"))
    if not table.rows:
        raise ValidationFailed([Problem(N_("文件为空"), N_("第一行写表头：指标,期间,数值,单位,镇街道,累计,来源"), file=p.name)])
    known = {n.lower() for names in COLUMNS.values() for n in names}
    header_row, cells = table.header(lambda h: h.lower() in known)
    header = [header_text(h) for h in cells]
    colmap: dict[str, int] = {}
    problems = []
    for i, h in enumerate(header):
        for key, names in COLUMNS.items():
            if h.lower() in [n.lower() for n in names]:
                colmap[key] = i
    for need in ("indicator", "period", "value"):
        if need not in colmap:
            problems.append(Problem(Message("缺少列 %(column)s（%(key)s）", column=COLUMNS[need][1], key=need),
                                    N_("在表头加上该列"), file=p.name, row=header_row))
    if problems:
        raise ValidationFailed(problems, summary=N_("实际值文件未通过校验，未写入任何数据"))
    out = []
    for n, r in table.data_rows(header_row):
        r = ["" if v is None else v for v in r]
        if not any(str(x).strip() for x in r):
            continue

        def get(k: str) -> Any:
            i = colmap.get(k)
            return r[i] if i is not None and i < len(r) else None

        out.append(ActualInput(indicator=str(get("indicator") or ""), period=str(get("period") or ""),
                               value=get("value"), unit=(str(get("unit")).strip() or None) if get("unit") else None,
                               town=(str(get("town")).strip() or None) if get("town") else None,
                               cumulative=get("cumulative") if get("cumulative") is not None else False,
                               source=(str(get("source")).strip() or None) if get("source") else None, row=n))
    return out


def import_actuals(session: Session, plan_code: str, path: str | Path, entered_by: str,
                   source: str = "", is_estimate: bool = False) -> dict[str, Any]:
    items = read_actuals_file(path)
    return add_actuals(session, plan_code, items, entered_by=entered_by, source=source,
                       is_estimate=is_estimate, file=Path(path).name)


def actual_history(session: Session, plan_code: str, indicator: str, period: str | None = None,
                   town: str | None = None) -> list[dict[str, Any]]:
    """Every revision of an indicator's actuals, newest first, superseded ones included."""
    plan = get_plan(session, plan_code)
    inds = find_indicators(session, plan, indicator)
    if len(inds) != 1:
        from qunlian.targets.lookup import TargetsError

        raise TargetsError(f"指标 {indicator!r} 在规划 {plan_code} 中{'不存在' if not inds else '不唯一'}")
    q = select(Actual).where(Actual.indicator_id == inds[0].id)
    if period:
        q = q.where(Actual.period == str(Period.parse(period)))
    if town:
        t = lookup_town(session, town)
        q = q.where(Actual.town_id == (t.id if t else -1))
    rows = session.scalars(q.order_by(Actual.period, Actual.town_id, Actual.revision.desc())).all()
    towns = {t.id: t.name for t in session.scalars(select(Town))}
    return [{"id": a.id, "indicator": inds[0].name, "code": inds[0].code, "period": a.period,
             "town": towns.get(a.town_id) if a.town_id else None, "cumulative": a.cumulative, "value": a.value,
             "unit": inds[0].unit, "source": a.source, "is_estimate": a.is_estimate, "revision": a.revision,
             "superseded": a.superseded, "entered_by": a.entered_by,
             "entered_at": a.entered_at.isoformat() if a.entered_at else None} for a in rows]
