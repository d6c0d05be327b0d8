"""The region hierarchy and each county's towns as data: strict files, validation, loading, lookups.

``regions/data/zhejiang.yaml`` lists province → city → counties and city-level zones; each county's
towns and parks come in a file of their own (``pinghu.yaml``) that names its region. An installation
is configured for one root region: ``QUNLIAN_ROOT_REGION`` if set, else the root stored by
``qunlian init --root`` / ``qunlian demo --city``, else the hierarchy file's ``root`` (平湖市).
Loading is idempotent: rows are found by their code and updated in place.
"""

from __future__ import annotations

import functools

import os
from collections.abc import Iterable
from importlib import resources
from importlib.abc import Traversable
from typing import Literal

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.core.messages import N_, Message
from qunlian.platform import rules
from qunlian.platform.db import audit
from qunlian.platform.models import Setting
from qunlian.regions.models import Park, Region, Town

HIERARCHY_FILE = "zhejiang.yaml"
TOWN_FILES = ("pinghu.yaml",)
ROOT_SETTING = "root_region"
FORMAT_DOC = "docs/regions.md"
_SLUG = r"^[a-z0-9][a-z0-9-]*$"
_DIVISION = r"^\d{6}$"


class RegionDataError(rules.RulesError):
    """A region or town file is wrong: names the file, the key path and what to fix."""

    kind = N_("地区数据")


# --------------------------------------------------------------------------- schemas


class RegionSpec(rules.Strict):
    code: str = Field(pattern=rf"{_DIVISION}|{_SLUG}")  # division code where the region has one
    name: str
    level: Literal["province", "city", "county", "zone"]
    parent: str | None = None  # the parent's code; only the top region has none
    aliases: list[str] = Field(default_factory=list)
    seq: int = 0
    source: str = ""

    @property
    def division_code(self) -> str | None:
        return self.code if self.code.isdigit() else None


# a level may sit under these levels (a zone beside counties under a city, or under a county)
_PARENT_LEVELS = {"province": (), "city": ("province",), "county": ("city",), "zone": ("city", "county")}


class HierarchyFile(rules.Cited):
    root: str  # the default root region of an installation
    regions: list[RegionSpec]

    @model_validator(mode="after")
    def _tree(self) -> HierarchyFile:
        _no_dupes("regions.code", [r.code for r in self.regions])
        by_code = {r.code: r for r in self.regions}
        for i, r in enumerate(self.regions):
            if r.parent is None:
                if r.level != "province" and i:
                    raise ValueError(f"regions.{i} ({r.code}): only the top region may have no parent")
                continue
            parent = by_code.get(r.parent)
            if parent is None:
                raise ValueError(f"regions.{i} ({r.code}): unknown parent {r.parent!r}")
            if parent.level not in _PARENT_LEVELS[r.level]:
                raise ValueError(f"regions.{i} ({r.code}): a {r.level} cannot sit under a {parent.level}")
        if self.root not in by_code:
            raise ValueError(f"root {self.root!r} is not among the regions")
        return self


class TownSpec(rules.Strict):
    code: str = Field(pattern=_SLUG)
    name: str
    kind: Literal["街道", "镇", "开发区"]
    division_code: str | None = None
    aliases: list[str] = Field(default_factory=list)
    seq: int
    source: str = ""


class ParkSpec(rules.Strict):
    code: str = Field(pattern=_SLUG)
    name: str
    kind: Literal["开发区", "专业园", "小微园", "园区外"]
    town: str | None = None  # town code, only where a seed says so
    source: str = ""


class SeededFile(rules.Cited):
    """A region data file whose every source names its seed file or says in a note where it comes from."""

    @field_validator("sources")
    @classmethod
    def _seeded(cls, sources: list[rules.Source]) -> list[rules.Source]:
        unseeded = [src.title for src in sources if not src.seed and not src.note]
        if unseeded:
            raise ValueError(f"every source needs seed (the file under shared/seeds) or a note: {', '.join(unseeded)}")
        return sources


class TownFile(SeededFile):
    region: str  # the county (or zone) the towns belong to: its name, an alias or its code
    towns: list[TownSpec]
    parks: list[ParkSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _refs(self) -> TownFile:
        _no_dupes("towns.code", [t.code for t in self.towns])
        _no_dupes("towns.name/aliases", [t.name for t in self.towns] + [a for t in self.towns for a in t.aliases])
        _no_dupes("parks.code", [p.code for p in self.parks])
        _no_dupes("parks.name", [p.name for p in self.parks])
        codes = {t.code for t in self.towns}
        for p in self.parks:
            if p.town is not None and p.town not in codes:
                raise ValueError(f"park {p.code}: unknown town code {p.town!r}")
        return self


def _no_dupes(what: str, items: list[object]) -> None:
    seen: set[object] = set()
    dupes = sorted({str(x) for x in items if x in seen or seen.add(x)})  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate {what}: {', '.join(dupes)}")


# --------------------------------------------------------------------------- files


def _data() -> Traversable:
    return resources.files("qunlian.regions") / "data"


def parse_hierarchy(text: str, name: str = HIERARCHY_FILE) -> HierarchyFile:
    return rules.parse(HierarchyFile, text, name, error=RegionDataError, paths="dotted", doc=FORMAT_DOC)


def read_hierarchy() -> HierarchyFile:
    return parse_hierarchy((_data() / HIERARCHY_FILE).read_text(encoding="utf-8"))


def parse_town_file(text: str, name: str) -> TownFile:
    return rules.parse(TownFile, text, name, error=RegionDataError, paths="dotted", doc=FORMAT_DOC)


def read_town_file(name: str = TOWN_FILES[0]) -> TownFile:
    return parse_town_file((_data() / name).read_text(encoding="utf-8"), name)


# --------------------------------------------------------------------------- loading


def load_hierarchy(session: Session, spec: HierarchyFile | None = None, extra: Iterable[RegionSpec] = ()) -> int:
    """Upsert the regions of the hierarchy file (and ``extra`` ones, e.g. the invented demo county)."""
    spec = spec or read_hierarchy()
    have = {r.code: r for r in session.scalars(select(Region))}
    specs = [*spec.regions, *extra]
    for r in specs:
        row = have.get(r.code) or Region(code=r.code)
        if r.parent is not None and r.parent not in have:
            raise RegionDataError.one(Message("上级地区 %(code)s 不存在", code=repr(r.parent)), key=r.code,
                                      fix=N_("先载入上级地区，或改正 parent"))
        row.name, row.level, row.division_code = r.name, r.level, r.division_code
        row.aliases, row.seq, row.source = list(r.aliases), r.seq, r.source
        row.parent_id = have[r.parent].id if r.parent else None
        if row.id is None:
            session.add(row)
            have[r.code] = row
        session.flush()
    return len(specs)


def load_towns(session: Session, spec: TownFile, name: str) -> dict[str, int]:
    """Upsert one region's towns and parks; the file's region must exist (load the hierarchy first)."""
    region = find_region(session, spec.region)
    if region is None:
        raise RegionDataError.one(Message("地区 %(name)s 不在地区层级中", name=repr(spec.region)), file=name,
                                  key="region", fix=N_("写 zhejiang.yaml 中某个地区的名称、别名或代码"))
    towns = {t.code: t for t in session.scalars(select(Town))}
    for t in spec.towns:
        row = towns.get(t.code) or Town(code=t.code)
        if row.region_id not in (None, region.id):
            raise RegionDataError.one(Message("镇(街道)代码 %(code)s 已属于另一个地区", code=repr(t.code)), file=name,
                                      key=f"towns.{t.seq}.code", fix=N_("每个镇(街道)代码在整个安装中唯一：换一个代码"))
        row.name, row.kind, row.division_code, row.aliases, row.seq = t.name, t.kind, t.division_code, list(t.aliases), t.seq
        row.region_id = region.id
        if row.id is None:
            session.add(row)
            towns[t.code] = row
    session.flush()
    parks = {p.code: p for p in session.scalars(select(Park))}
    for p in spec.parks:
        row = parks.get(p.code) or Park(code=p.code)
        row.name, row.kind = p.name, p.kind
        row.town_id = towns[p.town].id if p.town else None
        if row.id is None:
            session.add(row)
    session.flush()
    return {"towns": len(spec.towns), "parks": len(spec.parks)}


def load_regions(session: Session) -> dict[str, int]:
    """The hierarchy, every shipped county's towns and its departments (what `qunlian init` loads)."""
    # imported here: departments.py imports this module
    from qunlian.regions.departments import load_all_departments

    n = load_hierarchy(session)
    counts = {"regions": n, "towns": 0, "parks": 0}
    for name in TOWN_FILES:
        got = load_towns(session, read_town_file(name), name)
        counts["towns"] += got["towns"]
        counts["parks"] += got["parks"]
    counts["departments"] = load_all_departments(session)
    return counts


# --------------------------------------------------------------------------- lookups


def find_region(session: Session, key: str) -> Region | None:
    """A region by its code, division code, name or alias (names as the seeds print them)."""
    key = key.strip()
    for r in session.scalars(select(Region).order_by(Region.seq, Region.id)):
        if key in (r.code, r.division_code, r.name) or key in (r.aliases or []):
            return r
    return None


def root_code(session: Session) -> str:
    """The installation's root region code: the environment, else the stored setting, else the file's."""
    env = os.environ.get("QUNLIAN_ROOT_REGION", "").strip()
    if env:
        return env
    stored = session.get(Setting, ROOT_SETTING)
    return stored.value if stored is not None else _packaged_root()


@functools.cache
def _packaged_root() -> str:
    """The root of the packaged hierarchy file (parsed once: every page's scope asks for it)."""
    return read_hierarchy().root


def set_root(session: Session, key: str, actor: str = "cli") -> Region:
    """Make the region named by ``key`` the installation's root (audited: it changes what every city-wide
    user sees)."""
    region = find_region(session, key)
    if region is None:
        raise RegionDataError.one(Message("地区 %(name)s 不在地区层级中", name=repr(key)), key="root",
                                  fix=N_("用 `qunlian regions list` 查看可用的地区代码"))
    row = session.get(Setting, ROOT_SETTING) or Setting(key=ROOT_SETTING)
    before = row.value
    row.value = region.code
    session.add(row)
    session.flush()
    audit(session, actor, "regions.set_root", "settings", ROOT_SETTING, region=region.code, before=before)
    return region


def root_region(session: Session) -> Region | None:
    """The root region row (None before `qunlian init` has loaded the hierarchy)."""
    return find_region(session, root_code(session))


def descendants(session: Session, region_id: int) -> set[int]:
    """The region and every region below it (ids)."""
    children: dict[int | None, list[int]] = {}
    for rid, parent in session.execute(select(Region.id, Region.parent_id)):
        children.setdefault(parent, []).append(rid)
    out, todo = set(), [region_id]
    while todo:
        rid = todo.pop()
        if rid not in out:
            out.add(rid)
            todo.extend(children.get(rid, ()))
    return out


def ancestors(session: Session, region_id: int) -> list[Region]:
    """The region and its ancestors, from the region up to the top."""
    by_id = {r.id: r for r in session.scalars(select(Region))}
    out = []
    r = by_id.get(region_id)
    while r is not None and r not in out:
        out.append(r)
        r = by_id.get(r.parent_id) if r.parent_id else None
    return out

