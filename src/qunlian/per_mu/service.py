"""The 亩均 capability's public service: runs and results as a principal may see them.

Other capabilities (the 驾驶舱, the enterprise list and profile) and this capability's routes read
亩均 figures through these functions; the rows are chosen with the enterprises scope filter before
any figure is computed, so nothing here returns a firm outside the caller's scope.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from qunlian.enterprises.models import Enterprise
from qunlian.enterprises.service import enterprise_filter
from qunlian.per_mu.models import MuniAdjustment, MuniResult, MuniRun
from qunlian.per_mu.outputs import Warning
from qunlian.per_mu.runs import (
    evaluate_store,
    final_of,
    latest_adjustments,
    ledger_summary,
    latest_run_ids,
    list_runs,
    run_visible,
    run_results,
    run_warnings,
    update_ledger,
)
from qunlian.platform.permissions import Principal
from qunlian.regions.models import Town

__all__ = [  # besides the functions below, what other capabilities may call
    "evaluate_store", "final_of", "latest_adjustments", "ledger_summary", "latest_run_ids", "list_runs", "run_results", "run_visible", "update_ledger",
]


def scope_ids(session: Session, user: Principal) -> set[int] | None:
    """Ids of the enterprises the user may see; None = every firm (a city-wide role)."""
    if user.city_wide:
        return None
    return set(session.scalars(select(Enterprise.id).where(enterprise_filter(user))))


def scoped_results(session: Session, user: Principal, run_id: int) -> pa.Table:
    """A run's results (adjustments applied) restricted to the user's firms."""
    table = run_results(session, run_id)
    ids = scope_ids(session, user)
    if ids is None or "enterprise_id" not in table.column_names:
        return table if ids is None else table.slice(0, 0)
    mask = pc.fill_null(pc.is_in(table.column("enterprise_id"), value_set=pa.array(sorted(ids), pa.int64())), False)
    return table.filter(mask)


def scoped_warnings(session: Session, run_id: int, visible: set[str]) -> list[Warning]:
    """The run's warnings about the given (already scoped) firms."""
    return [w for w in run_warnings(session, run_id) if w.uscc in visible]


def scoped_ledger(session: Session, user: Principal, year: int, region_id: int | None = None) -> list[dict[str, Any]] | None:
    """The 整治 ledger per town of the run's county (``region_id``; default the user's region): every
    town for city-wide roles, a town user's own town, none for the others (the ledger counts every
    firm of a town, so a chain's or a grant's view would leak)."""
    from qunlian.regions.models import Region

    rid = region_id or user.region_id
    if rid is not None and user.region_ids is not None and rid not in user.region_ids:
        return None
    region = session.get(Region, rid) if rid else None
    code = region.code if region is not None else None
    if user.city_wide:
        return ledger_summary(session, year, code)
    if user.role == "town" and user.town_id:
        town = session.scalar(select(Town.name).where(Town.id == user.town_id))
        return [d for d in ledger_summary(session, year, code) if d["town"] == town]
    return None


def method_title(run: MuniRun) -> str:
    """The name of the method a run used (its snapshot's title), for people; the id for machines."""
    return (run.method_snapshot or {}).get("title") or run.method_id


def firm_history(session: Session, uscc: str) -> list[dict[str, Any]]:
    """One firm's results in every run, oldest first, initial and final (调档后) side by side. The
    caller has checked that the user may see the firm."""
    out = []
    for res, run in session.execute(
        select(MuniResult, MuniRun).join(MuniRun, MuniRun.id == MuniResult.run_id)
        .where(MuniResult.uscc == uscc).order_by(MuniRun.year, MuniRun.id)
    ):
        a = latest_adjustments(session, run.id).get(uscc)
        final_score, final_grade = final_of(res, a)
        out.append({"run_id": run.id, "year": run.year, "method_id": run.method_id,
                    "method_title": method_title(run), "part": res.part,
                    "initial_score": res.total_score, "initial_grade": res.grade,
                    "final_score": final_score, "final_grade": final_grade,
                    "rank": res.rank, "group_size": res.group_size, "excluded_reason": res.excluded_reason,
                    "adjustment_reason": a.reason if a else None})
    return out


def class_mix_in_scope(session: Session, user: Any) -> dict[str, Any] | None:
    """The class mix (A/B/C/D …) after adjustment (调档后) of the latest run of each county in the
    user's region, counting only firms the user may see; None when there is no run. Per run two
    narrow queries: the initial classes, then the latest adjustment of each adjusted firm."""
    run_ids = latest_run_ids(session, getattr(user, "region_ids", None))
    if not run_ids:
        return None
    runs = [session.get(MuniRun, i) for i in run_ids]
    visible = select(Enterprise.id).where(enterprise_filter(user))
    counts: dict[str, int] = defaultdict(int)
    for run in runs:
        # the three columns final_of reads, not whole results (their JSON columns cost most of the time)
        rows = session.execute(
            select(MuniResult.uscc, MuniResult.total_score, MuniResult.grade)
            .where(MuniResult.run_id == run.id, MuniResult.enterprise_id.in_(visible))
        ).all()
        adjusted = latest_adjustments(session, run.id)
        for res in rows:
            _score, final = final_of(res, adjusted.get(res.uscc))
            if final:
                counts[final] += 1
    newest = max(runs, key=lambda r: r.id)
    return {"run_id": newest.id, "year": newest.year, "method": "、".join(sorted({method_title(r) for r in runs})),
            "grades": dict(sorted(counts.items())), "evaluated": sum(counts.values())}


def final_grade_usccs(session: Session, year: int | None, grade: str) -> Select:
    """SELECT of the USCCs whose final class (the ``final_of`` rule: the latest adjustment's, else the
    initial class) is ``grade`` in the newest run of ``year`` of each county (no run that year → no rows)."""
    run_ids = latest_run_ids(session, year=year) if year is not None else []
    if not run_ids:
        return select(MuniResult.uscc).where(false())
    latest = (select(func.max(MuniAdjustment.id)).where(MuniAdjustment.run_id.in_(run_ids))
              .group_by(MuniAdjustment.run_id, MuniAdjustment.uscc))
    adj = select(MuniAdjustment.run_id, MuniAdjustment.uscc, MuniAdjustment.grade_after).where(
        MuniAdjustment.id.in_(latest)).subquery()
    return (
        select(MuniResult.uscc)
        .outerjoin(adj, (adj.c.uscc == MuniResult.uscc) & (adj.c.run_id == MuniResult.run_id))
        .where(MuniResult.run_id.in_(run_ids), func.coalesce(adj.c.grade_after, MuniResult.grade) == grade)
    )
