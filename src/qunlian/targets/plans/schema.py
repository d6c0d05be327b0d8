"""Strict schemas of the shipped plan and industry-system YAML files (regions and towns: qunlian.regions.hierarchy).

Every model forbids unknown keys (DESIGN §4, ``qunlian.platform.rules.Strict``): a misspelt key is an
error, never silently ignored. Every file cites its seed documents (``sources``, the shared ``Source``).
Targets are written in the YAML as the text printed in the seed (">50", "[20]", "完成上级下达任务");
`parse_target_text` turns that text into (kind, value) by a small fixed set of rules, and an explicit
`{text, kind, value}` form overrides them where the text needs a human reading.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from qunlian.platform.rules import Cited, Id, Source, Strict, StrictValues, Text

TARGET_KINDS = ("value", "lower_bound", "cumulative", "qualitative")
TargetKind = Literal["value", "lower_bound", "cumulative", "qualitative"]

# A number as printed. The YAML carries "19.48" where the seed's text extraction shows "19. 48".
_NUM = r"\d+(?:\.\d+)?"
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^\[({_NUM})\](?:以上)?$"), "cumulative"),  # "[20]", "[16]以上": five-year cumulative
    (re.compile(rf"^>\s*({_NUM})%?$"), "lower_bound"),  # ">50"
    (re.compile(rf"^({_NUM})%?以上$"), "lower_bound"),  # "50%以上"
    (re.compile(rf"^({_NUM})(?:左右)?$"), "value"),  # "29", "33.3左右"
]
NO_TARGET = "-"  # printed in 003 附件3 where a town has no target: nothing is stored


class TargetTextError(ValueError):
    pass


def parse_target_text(text: str) -> tuple[str, float | None]:
    """(kind, value) of a printed target. Text without any digit is a qualitative target."""
    t = text.strip()
    for pattern, kind in _RULES:
        m = pattern.match(t)
        if m:
            return kind, float(m.group(1))
    if not re.search(r"\d", t):
        return "qualitative", None
    raise TargetTextError(f"无法解析目标文字 {text!r} / cannot read target text; write it as {{text, kind, value}}")


def numbers_in(text: str) -> list[float]:
    return [float(x) for x in re.findall(_NUM, text)]


def _seeded(sources: list[Source]) -> list[Source]:
    """Plan, region and system data is read from the seeds: every source names its seed file."""
    unseeded = [src.title for src in sources if not src.seed]
    if unseeded:
        raise ValueError(f"every source needs seed (the file under shared/seeds): {', '.join(unseeded)}")
    return sources


def cite(sources: list[Source]) -> str:
    """The sources of a file as one line (what a plan's and a cluster node's ``source`` column stores)."""
    return "；".join(src.cite() for src in sources)


def _require_text(v: Any) -> Any:
    if not isinstance(v, str):  # YAML reads 29 as a number; the printed text must stay text ("1.50" ≠ 1.5)
        raise ValueError(f'write the printed text as a quoted string, e.g. "{v}" (YAML read {v!r} as a number)')
    return v


class TargetSpec(Strict):
    text: str
    kind: TargetKind | None = None
    value: float | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _printed_text(cls, v: Any) -> Any:
        return _require_text(v)

    @model_validator(mode="after")
    def _consistent(self) -> TargetSpec:
        if self.kind is None:
            self.kind, parsed = parse_target_text(self.text)
            if self.value is None:
                self.value = parsed
        if self.kind == "qualitative":
            if self.value is not None:
                raise ValueError("qualitative target carries no value")
        else:
            if self.value is None:
                raise ValueError(f"a {self.kind} target needs a value")
            if self.value not in numbers_in(self.text):
                raise ValueError(f"value {self.value} does not appear in the printed text {self.text!r}")
        return self


def _as_target(v: Any) -> Any:
    # a bare number is turned into {"text": number} so that the error below names the year
    return v if isinstance(v, dict) or v is None else {"text": v}


class BaselineSpec(Strict):
    year: int
    text: str
    value: float | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _printed_text(cls, v: Any) -> Any:
        return _require_text(v)

    @model_validator(mode="after")
    def _value(self) -> BaselineSpec:
        nums = numbers_in(self.text)
        if self.value is None:
            if len(nums) != 1:
                raise ValueError(f"baseline text {self.text!r} needs an explicit value")
            self.value = nums[0]
        elif self.value not in nums:
            raise ValueError(f"value {self.value} does not appear in the printed text {self.text!r}")
        return self


class IndicatorSpec(Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    seq: int
    table: str = "main"
    category: str = ""
    name: str
    unit: str = ""
    nature: Literal["预期性", "约束性"] | None = None
    direction: Literal["higher", "lower"] = "higher"
    aggregation: Literal["sum", "weighted_mean", "not_aggregable"] = "not_aggregable"
    weight_by: str | None = None
    responsible_units: list[str] = Field(default_factory=list)
    baseline: BaselineSpec | None = None
    targets: dict[int, TargetSpec] = Field(default_factory=dict)  # city-wide, by year
    # by year, then town name as printed; "-" = no target for that town (stored as nothing)
    town_targets: dict[int, dict[str, TargetSpec | None]] = Field(default_factory=dict)
    notes: str = ""

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, v: Any) -> Any:
        return {k: _as_target(x) for k, x in v.items()} if isinstance(v, dict) else v

    @field_validator("town_targets", mode="before")
    @classmethod
    def _town_targets(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out: dict[Any, Any] = {}
        for year, towns in v.items():
            if isinstance(towns, dict):
                towns = {t: (None if x == NO_TARGET else _as_target(x)) for t, x in towns.items()}
            out[year] = towns
        return out


class TaskSpec(Strict):
    seq: int
    section: str
    heading: str
    content: str
    lead_unit: str
    co_units: list[str] = Field(default_factory=list)
    due_year: int | None = None


class ProjectSpec(Strict):
    seq: int
    industry: str  # as printed in the 产业名称 column
    name: str
    investor: str = ""
    total_investment_yi: float | None = None  # 亿元
    total_investment_text: str | None = None  # raw text of the seed, extraction damage included
    chain_node: str | None = None  # code of the node in the "1212" system


class ClusterSpec(Strict):
    """One row of 002 附件 (嘉兴市先进制造业集群规划情况表)."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    seq: int
    county: str  # 地区
    industry: str  # 产业
    tier: Literal["全球", "全国", "长三角"]  # 层级
    value_added: dict[int, str]  # 增加值（亿元）: 2021, 2023（预测）, 2025（预测）, printed text
    leading_firms: list[str] = Field(default_factory=list)
    institutes: list[str] = Field(default_factory=list)
    funds: list[str] = Field(default_factory=list)
    funds_text: str = ""  # the 基金 cell as printed
    notes: str = ""


class PlanFile(Cited):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    issuer: str
    doc_number: str | None = None
    issued_on: dt.date | None = None
    level: Literal["province", "city", "county"]
    region: str
    start_year: int
    end_year: int
    # sources (Cited): the seed document the plan is read from
    notes: str = ""
    indicators: list[IndicatorSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    projects: list[ProjectSpec] = Field(default_factory=list)
    clusters: list[ClusterSpec] = Field(default_factory=list)  # 002: become indicators + chain nodes
    cluster_system: str | None = None  # ChainNode system the clusters are stored in

    _sources_seeded = field_validator("sources")(_seeded)

    def cite(self) -> str:
        return cite(self.sources)

    @model_validator(mode="after")
    def _unique(self) -> PlanFile:
        _no_dupes("indicators.code", [i.code for i in self.indicators] + [f"va-{c.code}" for c in self.clusters])
        _no_dupes("indicators.(table, seq)", [(i.table, i.seq) for i in self.indicators])
        _no_dupes("tasks.seq", [t.seq for t in self.tasks])
        _no_dupes("projects.seq", [p.seq for p in self.projects])
        if self.clusters and not self.cluster_system:
            raise ValueError("clusters need cluster_system")
        return self


class NodeSpec(Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    level: Literal["system", "cluster", "chain", "segment", "node"]
    kind: str | None = None
    industry_codes: list[Annotated[str, Field(pattern=r"^\d{4}$")]] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    source: str = ""
    children: list[NodeSpec] = Field(default_factory=list)

    def walk(self) -> list[NodeSpec]:
        out = [self]
        for c in self.children:
            out += c.walk()
        return out


class SystemFile(Cited):
    system: str
    region: str  # the region whose system this is (name, alias or code in the region hierarchy)
    mapping_note: str = ""  # what the seeds do not say and qunlian decided
    root: NodeSpec

    _sources_seeded = field_validator("sources")(_seeded)

    @field_validator("root")
    @classmethod
    def _shape(cls, root: NodeSpec) -> NodeSpec:
        if root.level != "system":
            raise ValueError("root.level must be 'system'")
        _no_dupes("node codes", [n.code for n in root.walk()])
        return root


# --------------------------------------------------------------------------- data notes (数据说明)

NOTE_KINDS = ("contradiction", "doubtful_reading")
NOTE_ITEM_KINDS = ("plan", "indicator", "task", "project", "town_cell")
SEED_FILE = r"^\d{3}_[0-9a-f]{16}\.txt$"  # a file name under shared/seeds


class NoteSource(StrictValues):
    """Where one reading of a note is printed: the seed file, the section or table, and its words.

    ``quote`` is the seed's text as extracted (damage included, "1. 52"); a run of blanks, tabs or
    line breaks in it is written as one space.
    """

    seed: str = Field(pattern=SEED_FILE)
    section: Text
    quote: Text


class PlanRef(Strict):
    kind: Literal["plan"]


class IndicatorRef(Strict):
    kind: Literal["indicator"]
    code: str  # the indicator code (for 002's clusters: va-<cluster code>)


class TaskRef(Strict):
    kind: Literal["task"]
    seq: int  # the task's 序号 (003 附件2)


class ProjectRef(Strict):
    kind: Literal["project"]
    seq: int  # the project's row in 000 附件


class TownCellRef(Strict):
    kind: Literal["town_cell"]
    indicator: str  # the indicator code
    town: str  # the town as the plan file prints it in town_targets


NoteItem = Annotated[PlanRef | IndicatorRef | TaskRef | ProjectRef | TownCellRef, Field(discriminator="kind")]


def item_key(item: PlanRef | IndicatorRef | TaskRef | ProjectRef | TownCellRef, plan: str) -> str:
    """The item's key as the loader names it: plan code, indicator code, task or project seq,
    ``indicator/town`` for a town cell."""
    if isinstance(item, IndicatorRef):
        return item.code
    if isinstance(item, TaskRef | ProjectRef):
        return str(item.seq)
    if isinstance(item, TownCellRef):
        return f"{item.indicator}/{item.town}"
    return plan


class NoteSpec(Strict):
    """One data note: a contradiction in the seeds or a doubtful reading of them, on one loaded item."""

    id: Id
    item: NoteItem
    kind: Literal["contradiction", "doubtful_reading"]
    text_zh: Text  # both readings, which one the platform loads and why
    text_en: Text
    sources: list[NoteSource] = Field(min_length=1)

    @model_validator(mode="after")
    def _both_sides(self) -> NoteSpec:
        if self.kind == "contradiction" and len(self.sources) < 2:
            raise ValueError("a contradiction cites both sides: at least two sources")
        return self


class NotesFile(Strict):
    """``plans/data/notes/<plan code>.yaml``: the data notes on one plan's items."""

    plan: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    notes: list[NoteSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> NotesFile:
        _no_dupes("notes.id", [n.id for n in self.notes])
        return self


def _no_dupes(what: str, items: list[Any]) -> None:
    seen: set[Any] = set()
    dupes = sorted({str(x) for x in items if x in seen or seen.add(x)})  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate {what}: {', '.join(dupes)}")
