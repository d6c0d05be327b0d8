"""Evaluation runs in the store: immutable runs, manual adjustments, warnings, the 整治 ledger.

A run keeps the method as evaluated (id, version, sha256, the whole preset), the sha256 of the
input rows it read, who ran it and when, and one result row per firm. Results are never updated:
adjustments (初评 → 加减分 → 调档后) are rows of their own, applied on reading.
"""

from __future__ import annotations


import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, func, insert, or_, select
from sqlalchemy.orm import Session

from qunlian.per_mu.fields import POINTS
from qunlian.platform.numbers import parse_number
from qunlian.per_mu.engine import CARRIED, Evaluation, EvaluationError, evaluate
from qunlian.per_mu.outputs import Warning, remediation_reasons, warnings
from qunlian.per_mu.presets import get_method
from qunlian.per_mu.schema import Method
from qunlian.platform.db import audit, transaction
from qunlian.enterprises.models import Enterprise, EnterpriseEvent, EnterpriseYear
from qunlian.regions.models import Park, Town
from qunlian.targets.models import Indicator, Target
from qunlian.per_mu.models import MuniAdjustment, MuniRemediation, MuniResult, MuniRun

IND_KEYS = ("value", "benchmark", "points", "status")


# --------------------------------------------------------------------------- fingerprints


def method_sha256(method: Method) -> str:
    return hashlib.sha256(json.dumps(method.model_dump(mode="json"), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def data_sha256(table: pa.Table) -> str:
    """A fingerprint of the input rows: the same rows in any order give the same hash."""
    cols = sorted(table.column_names)
    t = table.select(cols)
    keys = [(c, "ascending") for c in ("uscc", "year") if c in cols]
    if keys:
        t = t.sort_by(keys)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


# --------------------------------------------------------------------------- reading the store


def store_table(session: Session, years: list[int], region_ids: frozenset[int] | None = None,
                unplaced: bool = True) -> pa.Table:
    """Canonical enterprise-year columns for ``years`` from the store (the firms of ``region_ids``, or
    all), with negative-list events."""
    q = (
        select(Enterprise, EnterpriseYear, Town.name, Park.name)
        .join(EnterpriseYear, EnterpriseYear.enterprise_id == Enterprise.id)
        .outerjoin(Town, Town.id == Enterprise.town_id)
        .outerjoin(Park, Park.id == Enterprise.park_id)
        .where(EnterpriseYear.year.in_(years))
    )
    if region_ids is not None:
        placed = Enterprise.region_id.in_(sorted(region_ids))
        q = q.where(or_(placed, Enterprise.region_id.is_(None)) if unplaced else placed)
    events: dict[tuple[int, int], list[str]] = {}
    for ev in session.scalars(select(EnterpriseEvent)):
        events.setdefault((ev.enterprise_id, ev.occurred_on.year), []).append(ev.kind)
    text = ("landowner_uscc", "exemption")
    numeric = [c.name for c in EnterpriseYear.__table__.columns
               if c.name not in ("id", "enterprise_id", "year", "import_batch_id", "above_scale", *text)]
    rows: dict[str, list[Any]] = {k: [] for k in ["enterprise_id", "uscc", "name", "year", "town", "park", "industry_code", "above_scale",
                                                    "founded_year", "negative_events", *text, *numeric]}
    for ent, ey, town, park in session.execute(q):
        rows["enterprise_id"].append(ent.id)
        rows["uscc"].append(ent.uscc)
        rows["name"].append(ent.name)
        rows["year"].append(ey.year)
        rows["town"].append(town)
        rows["park"].append(park)
        rows["industry_code"].append(ent.industry_code)
        rows["above_scale"].append(ey.above_scale)
        rows["founded_year"].append(ent.established_on.year if ent.established_on else None)
        ev = events.get((ent.id, ey.year))
        rows["negative_events"].append(";".join(sorted(set(ev))) if ev else None)
        for c in text:
            rows[c].append(getattr(ey, c))
        for c in numeric:
            v = getattr(ey, c)
            rows[c].append(None if v is None else float(v))
    types = {"enterprise_id": pa.int64(), "year": pa.int64(), "founded_year": pa.int64(), "above_scale": pa.bool_()}
    return pa.table({k: pa.array(v, type=types.get(k, pa.float64() if k in numeric else pa.string())) for k, v in rows.items()})


# --------------------------------------------------------------------------- runs


def save_run(session: Session, ev: Evaluation, *, data_source: str, data_hash: str, data_rows: int, actor: str,
             note: str = "", enterprise_ids: dict[str, int] | None = None, region_id: int | None = None) -> MuniRun:
    m = ev.method
    res = ev.results
    evaluated = int(pc.sum(pc.is_null(res.column("excluded_reason")).cast(pa.int64())).as_py() or 0) if res.num_rows else 0
    run = MuniRun(
        method_id=m.id, method_family=m.method, method_version=m.version, method_sha256=method_sha256(m),
        method_snapshot=m.model_dump(mode="json"), year=ev.year, data_source=data_source[:300], data_sha256=data_hash,
        data_rows=data_rows, firms=res.num_rows, evaluated=evaluated, backend=ev.backend, created_by=actor, note=note,
        region_id=region_id,
    )
    session.add(run)
    session.flush()
    codes = m.indicator_codes
    ids = enterprise_ids or {}
    batch = []
    for r in res.to_pylist():
        notes = [n for n in (r.get("cap_note"), r.get("tenant_note")) if n]
        if r.get("deduction"):
            notes.append(f"出租土地扣分 {r['deduction']:g}（承租企业 {int(r.get('tenants') or 0)} 家）")
        batch.append({
            "run_id": run.id, "uscc": r["uscc"], "enterprise_id": ids.get(r["uscc"]), "name": r.get("name"),
            "town": r.get("town"), "park": r.get("park"), "industry_code": r.get("industry_code"), "part": r.get("part"),
            "total_score": r.get("total_score"), "score_before_deduction": r.get("score_before_deduction"),
            "deduction": r.get("deduction"), "rank": r.get("rank"), "group_size": r.get("group_size"),
            "grade_by_score": r.get("grade_by_score"), "grade": r.get("grade"), "excluded_reason": r.get("excluded_reason"),
            "notes": notes,
            "indicators": {c: {k: r.get(f"{c}__{k}") for k in IND_KEYS} for c in codes if r.get(f"{c}__status") is not None
                           or r.get(f"{c}__points") is not None},
            "inputs": {**{c: r.get(c) for c in CARRIED}, "above_scale": r.get("above_scale"),
                       "landowner_uscc": r.get("landowner_uscc"), "negative_hit": r.get("negative_hit"),
                       "tenant_note": r.get("tenant_note"), "cap_note": r.get("cap_note")},
        })
    for i in range(0, len(batch), 2000):
        session.execute(insert(MuniResult), batch[i : i + 2000])
    audit(session, actor, "muni.evaluate", "muni_run", run.id, method=m.id, version=m.version, year=ev.year,
          data_sha256=data_hash, firms=res.num_rows)
    return run


def evaluate_store(engine: Engine, method_ref: str, year: int, actor: str = "cli", note: str = "",
                   region: str | None = None) -> MuniRun:
    """Evaluate one county's enterprise-years of ``year`` (and ``year − 1``) and save the run.

    region: the county (code, name or alias); default the installation's root region, which must then
    be a county: a 亩均 method is one county's, so a city or province is evaluated county by county.
    """
    from qunlian.regions.service import RegionDataError, region_scope

    method = get_method(method_ref, year)
    with transaction(engine) as s:
        try:
            scope = region_scope(s, region)
        except RegionDataError as exc:
            raise EvaluationError(exc.problems[0].message) from None
        county = scope.region
        if county is not None and county.level not in ("county", "zone"):
            raise EvaluationError(f"{county.name}不是县（市、区）：亩均评价按县（市、区）分别进行，请用 --region 指定县（市、区）")
        table = store_table(s, [year - 1, year], scope.ids, scope.unplaced)
        if not pc.any(pc.equal(table.column("year"), year)).as_py() if table.num_rows else True:
            raise EvaluationError(f"库中没有 {year} 年的企业数据：请先导入（qunlian import）")
        ids = {u: i for u, i, y in zip(table.column("uscc").to_pylist(), table.column("enterprise_id").to_pylist(),
                                        table.column("year").to_pylist()) if y == year}
        ev = evaluate(table, method, year, source="store")
        return save_run(s, ev, data_source="store", data_hash=data_sha256(table.drop_columns(["enterprise_id"])),
                        data_rows=table.num_rows, actor=actor, note=note, enterprise_ids=ids,
                        region_id=county.id if county is not None else None)


def get_run(session: Session, run_id: int) -> MuniRun:
    run = session.get(MuniRun, run_id)
    if run is None:
        raise EvaluationError(f"没有编号为 {run_id} 的评价结果")
    return run


def run_method(run: MuniRun) -> Method:
    return Method.model_validate_json(json.dumps(run.method_snapshot))


_RESULTS_LOCK = threading.Lock()

# A run's results never change after it is saved; only adjustments are added. So the results of a
# run can be kept in memory, keyed by the database, the run and its newest adjustment: pages that
# show one firm (profile, simulator) then need not re-read the whole run on every request.
_RESULTS_CACHE: OrderedDict[tuple[str, int, str, int], pa.Table] = OrderedDict()
RESULTS_CACHE_RUNS = 8


def final_of(result: MuniResult, adjustment: MuniAdjustment | None) -> tuple[float | None, str | None]:
    """The final (调档后) score and class of a result: the latest manual adjustment's, else the initial
    (初评) ones. The one statement of this rule in Python; ``final_grade_usccs`` states it in SQL."""
    if adjustment is None:
        return result.total_score, result.grade
    return adjustment.score_after, adjustment.grade_after


def run_results(session: Session, run_id: int) -> pa.Table:
    """The stored results in the engine's result shape, with the adjustments applied as
    ``initial_score/initial_grade`` (初评), ``adjustment`` (加减分) and ``final_score/final_grade`` (调档后)."""
    run = get_run(session, run_id)
    newest_adjustment = session.scalar(select(func.max(MuniAdjustment.id)).where(MuniAdjustment.run_id == run_id)) or 0
    key = (str(session.get_bind().url), run.id, f"{run.data_sha256}@{run.created_at}", newest_adjustment)
    # one reader at a time: twenty requests arriving together for a cold run wait for one read
    # instead of each reading the whole run
    with _RESULTS_LOCK:
        if key in _RESULTS_CACHE:
            _RESULTS_CACHE.move_to_end(key)
            return _RESULTS_CACHE[key]
        table = _read_run_results(session, run)
        _RESULTS_CACHE[key] = table
        while len(_RESULTS_CACHE) > RESULTS_CACHE_RUNS:
            _RESULTS_CACHE.popitem(last=False)
    return table


def result_row(session: Session, run_id: int, uscc: str) -> dict[str, Any]:
    """One firm's stored result in a run, in the shape of a ``run_results`` row (``Evaluation.row``),
    read alone: a firm's page must not read the whole run (500,000 rows in a province)."""
    table = _read_run_results(session, get_run(session, run_id), uscc=uscc)
    if not table.num_rows:
        raise EvaluationError(f"{uscc} 不在本次评价中")
    return table.slice(0, 1).to_pylist()[0]


def _read_run_results(session: Session, run: MuniRun, uscc: str | None = None) -> pa.Table:
    run_id = run.id
    method = run_method(run)
    codes = method.indicator_codes
    adj = latest_adjustments(session, run_id)
    out: dict[str, list[Any]] = {}

    def put(k: str, v: Any) -> None:
        out.setdefault(k, []).append(v)

    query = select(MuniResult).where(MuniResult.run_id == run_id)
    if uscc is not None:
        query = query.where(MuniResult.uscc == uscc)
    rows = session.scalars(query.order_by(MuniResult.id)).all()
    for r in rows:
        inp = r.inputs or {}
        for k in ("uscc", "name", "town", "park", "industry_code", "part", "total_score", "score_before_deduction",
                  "deduction", "rank", "group_size", "grade_by_score", "grade", "excluded_reason"):
            put(k, getattr(r, k))
        put("year", run.year)
        put("enterprise_id", r.enterprise_id)
        for k in ("above_scale", "landowner_uscc", "negative_hit", "tenant_note", "cap_note"):
            put(k, inp.get(k))
        for c in CARRIED:
            put(c, inp.get(c))
        for c in codes:
            d = (r.indicators or {}).get(c, {})
            for k in IND_KEYS:
                put(f"{c}__{k}", d.get(k))
        a = adj.get(r.uscc)
        put("initial_score", r.total_score)
        put("initial_grade", r.grade)
        put("adjustment", a.score_after - r.total_score if a and a.score_after is not None and r.total_score is not None else None)
        final_score, final_grade = final_of(r, a)
        put("final_score", final_score)
        put("final_grade", final_grade)
        put("adjustment_reason", a.reason if a else None)
    if not rows:
        return pa.table({"uscc": pa.array([], pa.string())})
    types = {"year": pa.int64(), "rank": pa.int64(), "group_size": pa.int64(), "enterprise_id": pa.int64(),
             "above_scale": pa.bool_(), "negative_hit": pa.bool_()}
    for c in codes:
        for k in ("value", "benchmark", "points"):
            types[f"{c}__{k}"] = pa.float64()
    for k in ("total_score", "score_before_deduction", "deduction", "initial_score", "adjustment", "final_score", *CARRIED):
        types[k] = pa.float64()
    return pa.table({k: pa.array(v, type=types.get(k, pa.string())) for k, v in out.items()})


def load_evaluation(session: Session, run_id: int) -> Evaluation:
    run = get_run(session, run_id)
    return Evaluation(method=run_method(run), year=run.year, results=run_results(session, run_id), backend=run.backend)


def _scope(session: Session, region: str | None) -> Any:
    from qunlian.regions.service import RegionDataError, region_scope

    try:
        return region_scope(session, region)
    except RegionDataError as exc:
        raise EvaluationError(exc.problems[0].message) from None


def _runs_in(scope: Any) -> Any:
    """WHERE clause on MuniRun: runs of the scope's counties (runs with no region: the root's)."""
    if scope.ids is None:
        return MuniRun.id.is_not(None)
    placed = MuniRun.region_id.in_(sorted(scope.ids))
    return or_(placed, MuniRun.region_id.is_(None)) if scope.unplaced else placed


def list_runs(session: Session, year: int | None = None, region: str | None = None,
              within: frozenset[int] | None = None) -> list[MuniRun]:
    """Stored runs, newest first, of the region's counties (default the root region: all); ``within``:
    only runs of these regions (a principal's ``region_ids``; None: no further limit)."""
    q = select(MuniRun).where(_runs_in(_scope(session, region))).order_by(MuniRun.id.desc())
    if within is not None:
        q = q.where(MuniRun.region_id.in_(sorted(within)))
    if year is not None:
        q = q.where(MuniRun.year == year)
    return list(session.scalars(q))


def run_visible(run: MuniRun, within: frozenset[int] | None) -> bool:
    """Whether a run evaluated a county inside ``within`` (a principal's region_ids; None: every run)."""
    return within is None or run.region_id in within


def latest_run_ids(session: Session, within: frozenset[int] | None = None, year: int | None = None) -> list[int]:
    """The newest run of each county (of ``year`` if given): a city's view adds its counties' latest runs."""
    q = select(func.max(MuniRun.id)).group_by(MuniRun.region_id)
    if within is not None:
        q = q.where(MuniRun.region_id.in_(sorted(within)))
    if year is not None:
        q = q.where(MuniRun.year == year)
    return sorted(session.scalars(q))


def get_run_in(session: Session, run_id: int, region: str | None) -> MuniRun:
    """A run, refused when it evaluated a county outside ``region`` (the CLI's --region)."""
    run = get_run(session, run_id)
    scope = _scope(session, region)
    if session.scalar(select(MuniRun.id).where(MuniRun.id == run_id, _runs_in(scope))) is None:
        where = scope.region.name if scope.region is not None else "?"
        raise EvaluationError(f"评价 #{run_id} 不是{where}范围内的评价：用 --region 指定该评价所属的县（市、区）")
    return run


# --------------------------------------------------------------------------- manual adjustment


def latest_adjustments(session: Session, run_id: int) -> dict[str, MuniAdjustment]:
    out: dict[str, MuniAdjustment] = {}
    for a in session.scalars(select(MuniAdjustment).where(MuniAdjustment.run_id == run_id).order_by(MuniAdjustment.id)):
        out[a.uscc] = a
    return out


def adjust(session: Session, run_id: int, uscc: str, *, reason: str, actor: str, points: float | None = None,
           grade: str | None = None) -> MuniAdjustment:
    """加减分 and/or 调档 for one firm of a run. Points move the score; with cut-offs by score the
    class follows the new score; ``grade`` sets the class outright. Reason and user are required."""
    if not reason or not reason.strip():
        raise EvaluationError("调整必须写明理由")
    if points is None and grade is None:
        raise EvaluationError("请给出加减分（points）或调整后的等级（grade）")
    if points is not None:  # nan would store no score and class the firm D: the one check of typed numbers
        points = parse_number(points, POINTS)
    run = get_run(session, run_id)
    method = run_method(run)
    res = session.scalars(select(MuniResult).where(MuniResult.run_id == run_id, MuniResult.uscc == uscc)).first()
    if res is None:
        raise EvaluationError(f"评价 {run_id} 中没有企业 {uscc}")
    if res.part is None or res.total_score is None:
        raise EvaluationError(f"企业 {uscc} 未参加评价（{res.excluded_reason}），不能调整")
    part = method.part(res.part)
    prev = latest_adjustments(session, run_id).get(uscc)
    score0 = prev.score_after if prev else res.total_score
    grade0 = prev.grade_after if prev else res.grade
    score1 = score0 + (points or 0.0)
    grade1 = grade0
    if grade is not None:
        if part.grades is None or grade not in part.grades.names:
            raise EvaluationError(f"等级 {grade!r} 不是 {part.name} 的等级（{part.grades.names if part.grades else '无分档'}）")
        grade1 = grade
    elif points and part.grades is not None and part.grades.by == "score":
        grade1 = part.grades.cutoffs[-1].grade
        for c in part.grades.cutoffs[:-1]:
            if score1 >= c.min_score:  # type: ignore[operator]
                grade1 = c.grade
                break
        cap = method.negative_list.cap_grade if method.negative_list else None
        if (res.inputs or {}).get("negative_hit") and cap in part.grades.names and part.grades.names.index(grade1) < part.grades.names.index(cap):
            grade1 = cap
    a = MuniAdjustment(run_id=run_id, uscc=uscc, points=points, grade_override=grade, score_before=score0, grade_before=grade0,
                       score_after=score1, grade_after=grade1, reason=reason.strip(), created_by=actor)
    session.add(a)
    audit(session, actor, "muni.adjust", "muni_run", run_id, uscc=uscc, points=points, grade=grade, reason=reason,
          grade_before=grade0, grade_after=grade1)
    session.flush()
    return a


# --------------------------------------------------------------------------- warnings and the 整治 ledger


def previous_run(session: Session, run: MuniRun) -> MuniRun | None:
    same_county = MuniRun.region_id.is_(None) if run.region_id is None else MuniRun.region_id == run.region_id
    q = (select(MuniRun).where(MuniRun.method_family == run.method_family, MuniRun.year == run.year - 1, same_county)
         .order_by(MuniRun.id.desc()))
    return session.scalars(q).first()


def run_warnings(session: Session, run_id: int, margin: float | None = None) -> list[Warning]:
    run = get_run(session, run_id)
    cur = run_results(session, run_id)
    prev = previous_run(session, run)
    prev_tbl = run_results(session, prev.id) if prev else None
    return warnings(cur, run_method(run), prev_tbl, margin, grade_column="final_grade", previous_grade_column="final_grade")


def update_ledger(session: Session, run_id: int, actor: str) -> int:
    """Put the run's D-class and 高耗低效 firms on the 整治 ledger (once per firm and year)."""
    run = get_run(session, run_id)
    method = run_method(run)
    have = {(e.uscc, e.year) for e in session.scalars(select(MuniRemediation).where(MuniRemediation.year == run.year))}
    n = 0
    for r in run_results(session, run_id).to_pylist():
        if r.get("tenant_note"):
            continue
        reasons = remediation_reasons(r, method, grade_column="final_grade")
        if not reasons or (r["uscc"], run.year) in have:
            continue
        session.add(MuniRemediation(uscc=r["uscc"], enterprise_id=r.get("enterprise_id"), name=r.get("name"), town=r.get("town"),
                                    year=run.year, run_id=run_id, reasons=reasons, land_mu=r.get("land_mu"),
                                    energy_tce=r.get("energy_tce"), updated_by=actor))
        n += 1
    audit(session, actor, "muni.ledger", "muni_run", run_id, added=n)
    session.flush()
    return n


def record_remediation(session: Session, uscc: str, year: int, *, actor: str, status: str | None = None,
                       land_freed_mu: float | None = None, energy_freed_tce: float | None = None, note: str | None = None) -> MuniRemediation:
    e = session.scalars(select(MuniRemediation).where(MuniRemediation.uscc == uscc, MuniRemediation.year == year)).first()
    if e is None:
        raise EvaluationError(f"整治台账中没有 {year} 年的企业 {uscc}")
    if status is not None:
        if status not in ("listed", "in_progress", "done", "removed"):
            raise EvaluationError("状态只能是 listed / in_progress / done / removed")
        e.status = status
    for name, v in (("land_freed_mu", land_freed_mu), ("energy_freed_tce", energy_freed_tce)):
        if v is not None:
            if v < 0:
                raise EvaluationError(f"{name} 不能为负")
            setattr(e, name, v)
    if note is not None:
        e.note = note
    e.updated_by, e.updated_at = actor, dt.datetime.now(dt.timezone.utc)
    audit(session, actor, "muni.remediation", "muni_remediation", e.id, uscc=uscc, status=e.status,
          land_freed_mu=e.land_freed_mu, energy_freed_tce=e.energy_freed_tce)
    return e


# 003 附件3 rows 12–14: 高耗低效整治企业数(家), 腾出用地面积(亩), 腾出能耗空间(万吨标准煤)
LEDGER_TARGETS = {"家": "firms", "亩": "land_mu", "万吨标准煤": "energy_10k_tce"}


def ledger_summary(session: Session, year: int | None = None, region: str | None = None) -> list[dict[str, Any]]:
    """Per town: firms on the ledger and done, land freed (亩), energy freed (万吨标准煤), against the
    town targets of 003 附件3 rows 12–14 where the plan data is loaded. Only the ledger of the
    region's counties (default the root region)."""
    scope = _scope(session, region)
    q = select(MuniRemediation).where(MuniRemediation.status != "removed")
    if scope.ids is not None:
        q = q.where(or_(MuniRemediation.run_id.is_(None), MuniRemediation.run_id.in_(select(MuniRun.id).where(_runs_in(scope)))))
    if year is not None:
        q = q.where(MuniRemediation.year == year)
    rows: dict[str | None, dict[str, Any]] = {}
    for e in session.scalars(q):
        d = rows.setdefault(e.town, {"town": e.town, "listed": 0, "done": 0, "land_freed_mu": 0.0, "energy_freed_10k_tce": 0.0})
        d["listed"] += 1
        d["done"] += e.status == "done"
        d["land_freed_mu"] += e.land_freed_mu or 0.0
        d["energy_freed_10k_tce"] += (e.energy_freed_tce or 0.0) / 1e4
    targets = _ledger_targets(session, scope.ids)
    for town, t in targets.items():
        d = rows.setdefault(town, {"town": town, "listed": 0, "done": 0, "land_freed_mu": 0.0, "energy_freed_10k_tce": 0.0})
        d.update({f"target_{k}": v for k, v in t.items()})
    for d in rows.values():  # a town without a plan target (another county's, say) shows "—"
        for key in LEDGER_TARGETS.values():
            d.setdefault(f"target_{key}", None)
    return sorted(rows.values(), key=lambda d: (d["town"] is None, d["town"] or ""))


def _ledger_targets(session: Session, region_ids: frozenset[int] | None = None) -> dict[str, dict[str, float]]:
    """The plans' town targets for the ledger, for the towns of the given regions (None: all)."""
    inds = session.scalars(select(Indicator).where(Indicator.name.like("%高耗低效%"))).all()
    out: dict[str, dict[str, float]] = {}
    for ind in inds:
        key = LEDGER_TARGETS.get(ind.unit)
        if key is None:
            continue
        latest: dict[str, tuple[int, float]] = {}
        q = select(Target, Town.name).join(Town, Town.id == Target.town_id).where(Target.indicator_id == ind.id)
        if region_ids is not None:
            q = q.where(Town.region_id.in_(sorted(region_ids)))
        for t, town in session.execute(q):
            if t.value is not None and (town not in latest or t.year > latest[town][0]):
                latest[town] = (t.year, t.value)
        for town, (_, v) in latest.items():
            out.setdefault(town, {})[key] = v
    return out


# --------------------------------------------------------------------------- 亩均 simulator context

_CONTEXTS: OrderedDict[tuple[str, int], tuple[Any, dict[str, Any]]] = OrderedDict()
_CONTEXTS_LOCK = threading.Lock()
CONTEXT_RUNS = 8


def muni_evaluation(session: Session, run_id: int) -> Any:
    """``runs.load_evaluation`` with the simulator's context (benchmarks, group min/max, class
    boundaries) kept per run. The context is a pass over every firm of the run (~30 ms for the demo
    county); it depends only on the run's results table, which ``runs.run_results`` keeps as one
    object until the run changes (a new adjustment gives a new table), so it is reused while that
    very object is current. The context is read-only for its users (simulate, levers)."""
    from qunlian.per_mu.runs import load_evaluation

    ev = load_evaluation(session, run_id)
    key = (str(session.get_bind().url), run_id)
    with _CONTEXTS_LOCK:
        entry = _CONTEXTS.get(key)
    if entry is not None and entry[0] is ev.results:
        ev.__dict__["context"] = entry[1]  # Evaluation.context is a functools.cached_property
        return ev
    context = ev.context
    with _CONTEXTS_LOCK:
        _CONTEXTS[key] = (ev.results, context)
        _CONTEXTS.move_to_end(key)
        while len(_CONTEXTS) > CONTEXT_RUNS:
            _CONTEXTS.popitem(last=False)
    return ev
