"""Store look-ups shared by the targets services: plans, indicators, towns, unit conversion."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.targets.concepts import concept_of, infer_measure, normalise_name
from qunlian.core.errors import QunlianError
from qunlian.core.units import UnitError, parse_unit
from qunlian.regions.models import Town
from qunlian.targets.models import Indicator, Plan, Target


class TargetsError(QunlianError):
    pass


def get_plan(session: Session, plan_code: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.code == plan_code))
    if plan is None:
        known = "、".join(session.scalars(select(Plan.code).order_by(Plan.code))) or "（库中尚无规划，先运行 qunlian init）"
        raise TargetsError(f"未知规划 {plan_code!r}；可用：{known}")
    return plan


def indicators_of(session: Session, plan: Plan) -> list[Indicator]:
    return list(session.scalars(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.id)))


def measure_of(ind: Indicator) -> str:
    return infer_measure(ind.name, ind.unit, ind.code)


def concept_key(ind: Indicator) -> str | None:
    hit = concept_of(ind.name, ind.code)
    return hit[0].key if hit else None


def find_indicators(session: Session, plan: Plan, ref: str) -> list[Indicator]:
    """Indicators of a plan named by code, printed name (normalised) or concept key."""
    inds = indicators_of(session, plan)
    exact = [i for i in inds if i.code == ref]
    if exact:
        return exact
    n = normalise_name(ref)
    by_name = [i for i in inds if normalise_name(i.name) == n]
    if by_name:
        return by_name
    return [i for i in inds if concept_key(i) == ref]


def plan_towns(session: Session, plan: Plan) -> list[Town]:
    """Towns the plan's targets are decomposed to (003 附件3: the 8 towns), in printed order."""
    ids = select(Target.town_id).join(Indicator).where(Indicator.plan_id == plan.id, Target.town_id.is_not(None))
    return list(session.scalars(select(Town).where(Town.id.in_(ids)).order_by(Town.seq, Town.id)))


def lookup_town(session: Session, ref: str) -> Town | None:
    ref = ref.strip()
    town = session.scalar(select(Town).where((Town.code == ref) | (Town.name == ref)))
    if town:
        return town
    for t in session.scalars(select(Town)):
        if ref in (t.aliases or []):
            return t
    return None


def plan_years(plan: Plan, indicators: list[Indicator] | None = None) -> tuple[int, int]:
    """Years an actual of this plan may carry: from the baseline (or the year before the plan) to its end."""
    lo = plan.start_year - 1
    for i in indicators or []:
        if i.baseline_year is not None:
            lo = min(lo, i.baseline_year)
    return lo, plan.end_year


def _split(unit: str) -> tuple[str, str | None]:
    u = unit.strip().replace("／", "/")
    if "/" in u:
        a, b = u.split("/", 1)
        return a.strip(), b.strip()
    return u, None


def convert_to_unit(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a value into an indicator's unit; compound units ("元/亩" → "万元/亩") part by part.

    Raises UnitError when the units differ and cannot be converted.
    """
    f, t = from_unit.strip(), to_unit.strip()
    if f == t or (f in ("%", "％") and t in ("%", "％")):
        return value
    fn, fd = _split(f)
    tn, td = _split(t)
    if (fd is None) != (td is None):
        raise UnitError(f"单位 {from_unit} 不能换算为 {to_unit}")

    def factor(a: str, b: str) -> float:
        if a == b:
            return 1.0
        ua, ub = parse_unit(a), parse_unit(b)
        if ua.dimension != ub.dimension:
            raise UnitError(f"单位 {from_unit} 不能换算为 {to_unit}（{ua.symbol} 与 {ub.symbol} 量纲不同）")
        return ua.factor / ub.factor

    try:
        num = factor(fn, tn)
        den = factor(fd, td) if fd is not None and td is not None else 1.0
    except UnitError as exc:
        raise UnitError(str(exc) if "不能换算" in str(exc) else f"单位 {from_unit} 不能换算为 {to_unit}：{exc}") \
            from None
    return value * num / den
