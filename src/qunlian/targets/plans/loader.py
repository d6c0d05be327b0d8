"""Load the seeds' plan data (plans, targets, tasks, key projects) and industry systems.

The YAML files under qunlian/targets/plans/data and qunlian/chains/data are package data, read
through ``qunlian.platform.rules`` (strict YAML, strict schemas); the regions and their towns are
the regions capability's (``qunlian.regions.service.load_regions``), loaded first. Every plan and
system names its region, which must exist in the hierarchy. Loading is idempotent: every row is
found by its stable key (plan code, indicator code, system+code, task/project seq) and updated in
place, so running `qunlian init` twice leaves one copy. The data notes on the plans (data/notes,
``qunlian.targets.plans.notes``) are checked against the plan files on every load.
"""

from __future__ import annotations

import csv
import functools
from importlib import resources
from importlib.abc import Traversable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.core.errors import Problem
from qunlian.core.messages import N_, Message
from qunlian.platform import rules
from qunlian.targets.plans.schema import (
    ClusterSpec,
    IndicatorSpec,
    NodeSpec,
    PlanFile,
    SystemFile,
    TargetSpec,
    parse_target_text,
)
from qunlian.platform.db import audit
from qunlian.chains.models import ChainNode
from qunlian.regions.models import Region, Town
from qunlian.regions.service import descendant_ids, find_region, load_regions
from qunlian.targets.models import Indicator, Plan, PlanTask, Project, Target

M = TypeVar("M", bound=BaseModel)

SYSTEM_FILES = ("system-4q8l.yaml", "system-1212.yaml")


FORMAT_DOC = "docs/plans.md"


class PlanDataError(rules.RulesError):
    """A shipped or user-supplied data file is wrong: names the file, the key path and the reason."""


# --------------------------------------------------------------------------- files


def _plans_dir() -> Traversable:
    return resources.files("qunlian.targets.plans") / "data"


def _systems_dir() -> Traversable:
    return resources.files("qunlian.chains") / "data"


def list_plan_files() -> list[Traversable]:
    """The shipped plan files (one per plan; the file name is the plan code)."""
    return sorted((p for p in _plans_dir().iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def plan_codes() -> list[str]:
    return [p.name.removesuffix(".yaml") for p in list_plan_files()]


def parse_file(model: type[M], name: str, text: str) -> M:
    """Validate one YAML text against its schema; errors name the file, key path (``a.0.b``), line and reason."""
    return rules.parse(model, text, name, error=PlanDataError, paths="dotted", doc=FORMAT_DOC)


def _read(model: type[M], path: Traversable) -> M:
    return parse_file(model, path.name, path.read_text(encoding="utf-8"))


def read_plan_file(code: str) -> PlanFile:
    path = _plans_dir() / f"{code}.yaml"
    if not path.is_file():
        raise PlanDataError.one(Message("没有规划 %(code)s", code=repr(code)),
                                fix=Message("可用的规划：%(codes)s", codes=", ".join(plan_codes())))
    plan = _read(PlanFile, path)
    if plan.code != code:
        raise PlanDataError.one(Message("%(code)s 与文件名不同", code=repr(plan.code)), file=path.name, key="code",
                                fix=f"把 code 改为 {code}，或把文件改名为 {plan.code}.yaml")
    return plan


def read_system_files() -> list[SystemFile]:
    out = []
    for name in SYSTEM_FILES:
        sf = _read(SystemFile, _systems_dir() / name)
        _check_industry_codes(name, sf.root, "root")
        out.append(sf)
    return out


@functools.cache
def gbt4754_classes() -> dict[str, str]:
    """GB/T 4754-2017 小类 (4-digit class) codes → names, from the packaged reference table."""
    path = resources.files("qunlian.core.reference_data") / "gbt4754-2017.csv"
    with path.open(encoding="utf-8") as f:
        return {r["class"]: r["name"] for r in csv.DictReader(f) if r["class"]}


def _check_industry_codes(name: str, node: NodeSpec, where: str) -> None:
    """Every industry code of the tree is a GB/T 4754-2017 class; all wrong codes are named at once."""
    known = gbt4754_classes()
    problems: list[Problem] = []

    def walk(n: NodeSpec, at: str) -> None:
        for i, code in enumerate(n.industry_codes):
            if code not in known:
                problems.append(Problem(Message("%(code)s 不是 GB/T 4754-2017 小类代码", code=repr(code)),
                                        fix="填写 4 位小类代码（见 shared/reference/gbt4754-2017.csv）", file=name,
                                        column=f"{at}.industry_codes.{i}"))
        for i, child in enumerate(n.children):
            walk(child, f"{at}.children.{i}")

    walk(node, where)
    if problems:
        raise PlanDataError.of(name, problems)


# --------------------------------------------------------------------------- region and systems


def _region_of(session: Session, name: str, file: str) -> Region:
    """The region a plan or system file names; refused when the hierarchy does not hold it."""
    region = find_region(session, name)
    if region is None:
        raise PlanDataError.one(Message("地区 %(name)s 不在地区层级中", name=repr(name)), file=file, key="region",
                                fix=N_("写 regions/data/zhejiang.yaml 中某个地区的名称、别名或代码"))
    return region


def _upsert_node(
    session: Session,
    existing: dict[tuple[str, str], ChainNode],
    system: str,
    spec: NodeSpec,
    parent: ChainNode | None,
    seq: int,
    region_id: int,
) -> int:
    row = existing.get((system, spec.code))
    if row is None:
        row = ChainNode(system=system, code=spec.code)
        session.add(row)
        existing[(system, spec.code)] = row
    row.parent, row.region_id = parent, region_id
    row.level, row.name, row.kind, row.seq = spec.level, spec.name, spec.kind, seq
    row.industry_codes = list(spec.industry_codes)
    row.attributes = dict(spec.attributes)
    row.source = spec.source
    n = 1
    for i, child in enumerate(spec.children, 1):
        n += _upsert_node(session, existing, system, child, row, i, region_id)
    return n


def _existing_nodes(session: Session) -> dict[tuple[str, str], ChainNode]:
    return {(n.system, n.code): n for n in session.scalars(select(ChainNode))}


def load_systems(session: Session) -> dict[str, int]:
    """The shipped chain systems (4q8l, 1212); returns the node count per system."""
    counts = {}
    for name, sf in zip(SYSTEM_FILES, read_system_files(), strict=True):
        counts.update(load_system(session, sf, name))
    return counts


def read_system_text(text: str, name: str) -> SystemFile:
    """A chain system file from text (e.g. the demo city's), validated like the shipped ones."""
    sf = parse_file(SystemFile, name, text)
    _check_industry_codes(name, sf.root, "root")
    return sf


def load_system(session: Session, sf: SystemFile, name: str) -> dict[str, int]:
    """Upsert one chain system on its region (which must be in the hierarchy)."""
    region = _region_of(session, sf.region, name)
    n = _upsert_node(session, _existing_nodes(session), sf.system, sf.root, None, 0, region.id)
    session.flush()
    return {sf.system: n}


# --------------------------------------------------------------------------- plans


def _town_index(session: Session, region: Region) -> dict[str, Town]:
    """The towns a plan of this region decomposes to (names and aliases): those within the region."""
    index: dict[str, Town] = {}
    for t in session.scalars(select(Town).where(Town.region_id.in_(descendant_ids(session, region.id)))):
        index[t.name] = t
        for a in t.aliases or []:
            index[a] = t
    return index


def _sync_targets(session: Session, ind: Indicator, wanted: dict[tuple[int, int | None], TargetSpec]) -> None:
    have = {(t.year, t.town_id): t for t in ind.targets}
    for key, spec in wanted.items():
        row = have.pop(key, None)
        if row is None:
            row = Target(year=key[0], town_id=key[1])
            ind.targets.append(row)
        row.kind, row.value, row.text = spec.kind, spec.value, spec.text
    for row in have.values():  # targets no longer in the file
        ind.targets.remove(row)


def _cluster_indicator(c: ClusterSpec) -> dict[str, Any]:
    years = sorted(c.value_added)
    base, later = years[0], years[1:]
    return {
        "code": f"va-{c.code}",
        "seq": c.seq,
        "table": "附件",
        "category": c.tier,
        "name": f"{c.county}{c.industry}集群增加值",
        "unit": "亿元",
        "aggregation": "sum",
        "baseline": {"year": base, "text": c.value_added[base]},
        "targets": {y: c.value_added[y] for y in later},
        "notes": "2023、2025 年为预测值（附件表头“（预测）”）。",
    }


def _upsert_plan(session: Session, spec: PlanFile, region: Region) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.code == spec.code))
    if plan is None:
        plan = Plan(code=spec.code)
        session.add(plan)
    plan.title, plan.issuer, plan.doc_number, plan.issued_on = spec.title, spec.issuer, spec.doc_number, spec.issued_on
    plan.level, plan.region, plan.start_year, plan.end_year = spec.level, spec.region, spec.start_year, spec.end_year
    plan.region_id = region.id
    plan.source, plan.notes = spec.cite(), spec.notes
    session.flush()
    return plan


def load_plan(session: Session, code: str) -> Plan:
    """Load (or update in place) one shipped plan: its indicators, targets, tasks and projects."""
    spec = read_plan_file(code)
    name = f"{code}.yaml"
    if not session.scalar(select(Region.id).limit(1)):
        load_regions(session)
    region = _region_of(session, spec.region, name)
    if region.level != spec.level:
        raise PlanDataError.one(Message("层级 %(level)s 与地区 %(region)s 的层级 %(actual)s 不符", level=spec.level,
                                        region=region.name, actual=region.level), file=name, key="level",
                                fix=N_("level 写地区层级中该地区的层级"))
    towns = _town_index(session, region)
    plan = _upsert_plan(session, spec, region)

    ind_specs = list(spec.indicators)
    for c in spec.clusters:
        try:
            ind_specs.append(IndicatorSpec.model_validate(_cluster_indicator(c)))
        except ValidationError as exc:
            raise PlanDataError.one(exc.errors()[0]["msg"], file=name, key=f"clusters.{c.seq}") from exc

    existing = {i.code: i for i in plan.indicators}
    for k, ispec in enumerate(ind_specs):
        ind = existing.get(ispec.code)
        if ind is None:
            ind = Indicator(code=ispec.code)
            plan.indicators.append(ind)
        ind.seq, ind.table, ind.category, ind.name, ind.unit = (
            ispec.seq,
            ispec.table,
            ispec.category,
            ispec.name,
            ispec.unit,
        )
        ind.nature, ind.direction, ind.aggregation, ind.weight_by = (
            ispec.nature,
            ispec.direction,
            ispec.aggregation,
            ispec.weight_by,
        )
        ind.responsible_units = list(ispec.responsible_units)
        b = ispec.baseline
        ind.baseline_year, ind.baseline_value, ind.baseline_text = (
            (b.year, b.value, b.text) if b else (None, None, None)
        )
        ind.notes = ispec.notes
        wanted: dict[tuple[int, int | None], TargetSpec] = {(y, None): t for y, t in ispec.targets.items()}
        for year, cells in ispec.town_targets.items():
            for town_name, t in cells.items():
                town = towns.get(town_name)
                if town is None:
                    raise PlanDataError.one(
                        N_("未知的镇(街道)"), file=name, key=f"indicators.{k}.town_targets.{year}.{town_name}",
                        fix=Message("镇(街道)名按 %(region)s 的镇(街道)名称或别名写（regions/data）", region=region.name),
                    )
                if t is not None:  # "-": no target for this town
                    wanted[(year, town.id)] = t
        _sync_targets(session, ind, wanted)
    session.flush()

    tasks = {t.seq: t for t in plan.tasks}
    for ts in spec.tasks:
        row = tasks.get(ts.seq)
        if row is None:
            row = PlanTask(seq=ts.seq)
            plan.tasks.append(row)
        row.section, row.heading, row.content = ts.section, ts.heading, ts.content
        row.lead_unit, row.co_units, row.due_year = ts.lead_unit, list(ts.co_units), ts.due_year

    if spec.projects:
        if not session.scalar(select(ChainNode.id).where(ChainNode.system == "1212").limit(1)):
            load_systems(session)  # projects link to their "1212" industry
        nodes = {n.code: n for n in session.scalars(select(ChainNode).where(ChainNode.system == "1212"))}
        projects = {p.seq: p for p in session.scalars(select(Project).where(Project.plan_id == plan.id))}
        for ps in spec.projects:
            row = projects.get(ps.seq)
            if row is None:
                row = Project(plan_id=plan.id, seq=ps.seq)
                session.add(row)
            row.industry, row.name, row.investor = ps.industry, ps.name, ps.investor
            row.total_investment_yi, row.total_investment_text = ps.total_investment_yi, ps.total_investment_text
            node = nodes.get(ps.chain_node) if ps.chain_node else None
            row.chain_node_id = node.id if node else None
            row.source = f"{plan.source}；附件第 {ps.seq} 行"

    if spec.clusters:
        _load_cluster_nodes(session, spec, region.id)
    session.flush()
    return plan


def _load_cluster_nodes(session: Session, spec: PlanFile, region_id: int) -> None:
    system = spec.cluster_system or spec.code
    existing = _existing_nodes(session)
    root = NodeSpec(
        code=system,
        name=spec.title,
        level="system",
        source=spec.cite(),
        children=[
            NodeSpec(
                code=c.code,
                name=f"{c.county}{c.industry}",
                level="cluster",
                kind=c.tier,
                source=f"{spec.cite()}；第 {c.seq} 行",
                attributes={
                    "county": c.county,
                    "industry": c.industry,
                    "tier": c.tier,
                    "value_added_yi": {str(y): float(v) for y, v in c.value_added.items()},
                    "leading_firms": c.leading_firms,
                    "institutes": c.institutes,
                    "funds": c.funds,
                    "funds_text": c.funds_text,
                    "indicator": f"{spec.code}/va-{c.code}",
                    **({"notes": c.notes} if c.notes else {}),
                },
            )
            for c in spec.clusters
        ],
    )
    _upsert_node(session, existing, system, root, None, 0, region_id)


def load_reference_data(session: Session, actor: str = "system") -> str:
    """Load towns, parks, industry systems and every shipped plan; return a short summary.

    Idempotent: a second run updates the same rows in place. The caller owns the transaction.
    """
    region = load_regions(session)
    systems = load_systems(session)
    plans = [load_plan(session, code) for code in plan_codes()]
    # the notes module reads the plan files through this one: imported here, not at the top
    from qunlian.targets.plans.notes import check_shipped_notes

    n_notes = check_shipped_notes()  # a note on an item the plans do not hold stops the load
    session.flush()
    n_ind = sum(len(p.indicators) for p in plans)
    n_tgt = sum(len(i.targets) for p in plans for i in p.indicators)
    n_task = sum(len(p.tasks) for p in plans)
    n_proj = sum(len(session.scalars(select(Project.id).where(Project.plan_id == p.id)).all()) for p in plans)
    systems_text = ", ".join(f"{k} {v}" for k, v in systems.items())
    detail = {
        "regions": region["regions"],
        "towns": region["towns"],
        "parks": region["parks"],
        "systems": systems,
        "plans": [p.code for p in plans],
        "indicators": n_ind,
        "targets": n_tgt,
        "tasks": n_task,
        "projects": n_proj,
        "data_notes": n_notes,
    }
    audit(session, actor, "reference.load", entity="plans", **detail)
    return Message(
        "已载入规划数据：%(plans)s 个规划（%(codes)s），%(indicators)s 项指标，%(targets)s 个目标，%(tasks)s 项任务，"
        "%(projects)s 个重点项目；%(towns)s 个镇(街道)，%(parks)s 个园区；产业体系：%(systems)s 个节点",
        plans=len(plans), codes=", ".join(p.code for p in plans), indicators=n_ind, targets=n_tgt, tasks=n_task,
        projects=n_proj, towns=region["towns"], parks=region["parks"], systems=systems_text,
    )


# --------------------------------------------------------------------------- views


def _target_dict(t: Target) -> dict[str, Any]:
    return {"kind": t.kind, "value": t.value, "text": t.text}


def plan_as_dict(session: Session, plan: Plan, with_items: bool = True) -> dict[str, Any]:
    """The plan as plain data (what `qunlian plans show --format json` prints)."""
    towns = {t.id: t for t in session.scalars(select(Town))}
    regions = dict(session.execute(select(Region.id, Region.code)).all())
    indicators = []
    # tables keep their own 序号, so order by table first (附件1 before 附件3)
    for ind in sorted(plan.indicators, key=lambda i: (i.table, i.seq)):
        city: dict[str, Any] = {}
        by_town: dict[str, dict[str, Any]] = {}
        for t in ind.targets:
            if t.town_id is None:
                city[str(t.year)] = _target_dict(t)
            else:
                by_town.setdefault(towns[t.town_id].name, {})[str(t.year)] = _target_dict(t)
        order = {t.name: t.seq for t in towns.values()}
        indicators.append(
            {
                "code": ind.code,
                "seq": ind.seq,
                "table": ind.table,
                "category": ind.category,
                "name": ind.name,
                "unit": ind.unit,
                "nature": ind.nature,
                "direction": ind.direction,
                "aggregation": ind.aggregation,
                "responsible_units": list(ind.responsible_units or []),
                "baseline": {"year": ind.baseline_year, "value": ind.baseline_value, "text": ind.baseline_text},
                "targets": city,
                "town_targets": {k: by_town[k] for k in sorted(by_town, key=lambda n: order.get(n, 0))},
                "notes": ind.notes,
            }
        )
    out: dict[str, Any] = {
        "id": plan.code,
        "title": plan.title,
        "issuer": plan.issuer,
        "doc_number": plan.doc_number,
        "issued_on": plan.issued_on.isoformat() if plan.issued_on else None,
        "level": plan.level,
        "region": plan.region,
        "region_code": regions.get(plan.region_id),
        "period": {"start_year": plan.start_year, "end_year": plan.end_year},
        "source": plan.source,
        "notes": plan.notes,
        "indicators": indicators,
    }
    if with_items:
        out["tasks"] = [
            {
                "seq": t.seq,
                "section": t.section,
                "heading": t.heading,
                "content": t.content,
                "lead_unit": t.lead_unit,
                "co_units": list(t.co_units or []),
                "status": t.status,
            }
            for t in plan.tasks
        ]
        projects = session.scalars(select(Project).where(Project.plan_id == plan.id).order_by(Project.seq))
        out["projects"] = [
            {
                "seq": p.seq,
                "industry": p.industry,
                "name": p.name,
                "investor": p.investor,
                "total_investment_yi": p.total_investment_yi,
                "total_investment_text": p.total_investment_text,
            }
            for p in projects
        ]
    return out


__all__ = [
    "PlanDataError",
    "gbt4754_classes",
    "list_plan_files",
    "load_plan",
    "load_reference_data",
    "load_system",
    "load_systems",
    "parse_file",
    "parse_target_text",
    "plan_as_dict",
    "plan_codes",
    "read_plan_file",
    "read_system_text",
]
