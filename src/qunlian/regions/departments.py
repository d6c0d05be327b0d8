"""Departments and people of a region: the units that plans name (市经信局, 市科技局 …) as a registry,
and the people that later capabilities point to (a chain's 链长, a project's leader in charge).

``regions/data/departments-pinghu.yaml`` lists one region's departments with the names the plans print;
``non_departments`` names units that are places, not departments (各镇(街道)). A name is looked up by
code, name, full name or alias, in the region first and then in its ancestors (a county's plan may name
a department of its city). Lookups ignore blanks and read full-width brackets as ASCII ones, so a name
that a text extraction wrapped ("市工业强市领导 小组办公室") still resolves. Loading is idempotent:
departments are found by (region, code) and updated in place.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.core.messages import N_, Message
from qunlian.platform import rules
from qunlian.regions.hierarchy import (
    _SLUG,
    FORMAT_DOC,
    RegionDataError,
    SeededFile,
    _data,
    _no_dupes,
    ancestors,
    find_region,
)
from qunlian.regions.models import Department, Person, Region

DEPARTMENT_FILES = ("departments-pinghu.yaml",)


# --------------------------------------------------------------------------- schemas


class DepartmentSpec(rules.Strict):
    code: str = Field(pattern=_SLUG)  # stable within the region, e.g. "jxj"
    name: rules.Text  # as the plans print it, e.g. "市经信局"
    full_name: str = ""  # only where the official name is certain
    aliases: list[str] = Field(default_factory=list)  # other names the seeds use for the same unit
    seq: int
    source: str = ""

    def names(self) -> set[str]:
        """Every name this department answers to (normalised), its code aside."""
        return {normalise(n) for n in (self.name, self.full_name, *self.aliases) if normalise(n)}


class NonDepartmentSpec(rules.Strict):
    """A unit the plans name that is not a department (the towns, a zone's 管委会): known, not listed."""

    name: rules.Text
    reason: rules.Text


class DepartmentFile(SeededFile):
    region: str  # the region the departments belong to: its name, an alias or its code
    departments: list[DepartmentSpec]
    non_departments: list[NonDepartmentSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> DepartmentFile:
        _no_dupes("departments.code", [d.code for d in self.departments])
        # a name, full name or alias answers to one department only (or is one non-department)
        _no_dupes("departments.name/full_name/aliases and non_departments.name",
                  [n for d in self.departments for n in sorted(d.names())]
                  + [normalise(x.name) for x in self.non_departments])
        return self


def normalise(name: str) -> str:
    """A unit's name as lookups compare it: no blanks, full-width brackets as ASCII ones."""
    return re.sub(r"\s+", "", name or "").replace("（", "(").replace("）", ")")


# --------------------------------------------------------------------------- files


def parse_department_file(text: str, name: str) -> DepartmentFile:
    return rules.parse(DepartmentFile, text, name, error=RegionDataError, paths="dotted", doc=FORMAT_DOC)


def read_department_file(name: str = DEPARTMENT_FILES[0]) -> DepartmentFile:
    return parse_department_file((_data() / name).read_text(encoding="utf-8"), name)


@functools.cache
def _shipped_non_departments() -> tuple[tuple[str, str, str], ...]:
    """(region key, normalised name, reason) of every shipped file's non_departments."""
    return tuple((spec.region, normalise(x.name), x.reason)
                 for spec in (read_department_file(n) for n in DEPARTMENT_FILES) for x in spec.non_departments)


# --------------------------------------------------------------------------- loading


def load_departments(session: Session, spec: DepartmentFile, name: str) -> int:
    """Upsert one region's departments by (region, code); the file's region must exist (load the
    hierarchy first). Departments no longer in the file stay: people may point to them."""
    region = find_region(session, spec.region)
    if region is None:
        raise RegionDataError.one(Message("地区 %(name)s 不在地区层级中", name=repr(spec.region)), file=name,
                                  key="region", fix=N_("写 zhejiang.yaml 中某个地区的名称、别名或代码"))
    have = {d.code: d for d in session.scalars(select(Department).where(Department.region_id == region.id))}
    cite = "；".join(src.cite() for src in spec.sources)
    for d in spec.departments:
        row = have.get(d.code) or Department(code=d.code, region_id=region.id)
        row.name, row.full_name, row.aliases, row.seq = d.name, d.full_name, list(d.aliases), d.seq
        row.source = f"{cite}；{d.source}" if d.source else cite
        if row.id is None:
            session.add(row)
            have[d.code] = row
    session.flush()
    return len(spec.departments)


def load_all_departments(session: Session) -> int:
    """Every shipped department file (what `qunlian init` loads, after the towns)."""
    return sum(load_departments(session, read_department_file(name), name) for name in DEPARTMENT_FILES)


# --------------------------------------------------------------------------- lookups


class _Registry:
    """The regions and departments of a store, read once, for many lookups."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.departments: dict[int, list[Department]] = {}
        for d in session.scalars(select(Department).order_by(Department.seq, Department.id)):
            self.departments.setdefault(d.region_id, []).append(d)
        self._chains: dict[int | None, list[Region]] = {}
        self._non: dict[int, dict[str, str]] | None = None

    def chain(self, region_id: int | None) -> list[Region]:
        if region_id not in self._chains:
            self._chains[region_id] = ancestors(self.session, region_id) if region_id is not None else []
        return self._chains[region_id]

    def find(self, region_id: int | None, name: str) -> Department | None:
        key = normalise(name)
        if not key:
            return None
        for region in self.chain(region_id):
            for d in self.departments.get(region.id, ()):
                if key == d.code or key in {normalise(n) for n in (d.name, d.full_name, *(d.aliases or [])) if n}:
                    return d
        return None

    def non_department(self, region_id: int | None, name: str) -> str | None:
        """The reason a name is known as a non-department in the region or an ancestor, else None."""
        if self._non is None:
            self._non = {}
            for key, unit, reason in _shipped_non_departments():
                region = find_region(self.session, key)
                if region is not None:
                    self._non.setdefault(region.id, {})[unit] = reason
        key = normalise(name)
        for region in self.chain(region_id):
            if key in self._non.get(region.id, {}):
                return self._non[region.id][key]
        return None


def find_department(session: Session, region_id: int, name: str) -> Department | None:
    """A department by its code, name, full name or alias: in the region first, then its ancestors."""
    return _Registry(session).find(region_id, name)


def unresolved_units(session: Session) -> list[dict[str, str]]:
    """Every unit named by a loaded plan (indicators' responsible units, tasks' lead and co-units) that
    is neither a department of the plan's region (or an ancestor) nor a listed non-department.
    Each: plan (its code), where (the key path in the plan) and unit (as the plan writes it)."""
    from qunlian.targets.models import Indicator, Plan, PlanTask

    registry = _Registry(session)
    out: list[dict[str, str]] = []

    def check(plan: Plan, where: str, units: Iterable[Any]) -> None:
        for unit in units:
            if not isinstance(unit, str) or not unit.strip():
                continue
            if registry.find(plan.region_id, unit) is None and registry.non_department(plan.region_id, unit) is None:
                out.append({"plan": plan.code, "where": where, "unit": unit})

    for plan in session.scalars(select(Plan).order_by(Plan.id)):
        for ind in session.scalars(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.seq, Indicator.id)):
            check(plan, f"indicators.{ind.code}.responsible_units", ind.responsible_units or [])
        for task in session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.seq)):
            check(plan, f"tasks.{task.seq}.lead_unit", [task.lead_unit])
            check(plan, f"tasks.{task.seq}.co_units", task.co_units or [])
    return out


# --------------------------------------------------------------------------- people


def add_person(session: Session, region_key: str, name: str, title: str = "", department: str | None = None,
               phone: str | None = None, notes: str = "") -> Person:
    """A person of a region; ``department`` (code, name, full name or alias) is looked up in the region
    and then its ancestors. An unknown region or department is refused with the fix."""
    region = find_region(session, region_key or "")
    if region is None:
        raise RegionDataError.one(Message("没有地区 %(region)s", region=repr(region_key)), key="region",
                                  fix=N_("用 `qunlian regions list` 查看地区代码；未初始化的库先运行 qunlian init"))
    name = (name or "").strip()
    if not name:
        raise RegionDataError.one(N_("人员姓名不能为空"), key="name", fix=N_("用 --name 写人员的姓名"))
    dept = None
    if department is not None and department.strip():
        dept = find_department(session, region.id, department)
        if dept is None:
            raise RegionDataError.one(
                Message("地区 %(region)s 及其上级地区没有部门 %(name)s", region=region.name, name=repr(department)),
                key="department",
                fix=N_("用 `qunlian regions departments` 查看部门的代码和名称；新部门先写进部门文件"))
    person = Person(region_id=region.id, name=name, title=(title or "").strip(), department_id=dept.id if dept else None,
                    phone=(phone or "").strip() or None, notes=notes or "")
    session.add(person)
    session.flush()
    return person


# --------------------------------------------------------------------------- listings


def _regions(session: Session) -> dict[int, Region]:
    return {r.id: r for r in session.scalars(select(Region))}


def list_departments(session: Session, region_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Departments (of the given regions; None: all), by region then seq. Keys: code, name, full_name,
    region_code, region_name, aliases."""
    regions = _regions(session)
    q = select(Department)
    if region_ids is not None:
        q = q.where(Department.region_id.in_(sorted(region_ids)))
    rows = sorted(session.scalars(q), key=lambda d: (regions[d.region_id].seq, d.region_id, d.seq, d.id))
    return [{"code": d.code, "name": d.name, "full_name": d.full_name, "region_code": regions[d.region_id].code,
             "region_name": regions[d.region_id].name, "aliases": list(d.aliases or [])} for d in rows]


def list_people(session: Session, region_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """People (of the given regions; None: all), in the order they were added. Keys: id, name, title,
    department (its name, or null), region_code, phone."""
    regions = _regions(session)
    q = select(Person).order_by(Person.id)
    if region_ids is not None:
        q = q.where(Person.region_id.in_(sorted(region_ids)))
    return [{"id": p.id, "name": p.name, "title": p.title, "department": p.department.name if p.department else None,
             "region_code": regions[p.region_id].code, "phone": p.phone} for p in session.scalars(q)]
