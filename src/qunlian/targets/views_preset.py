"""The installation's presentation choices for plans (a dated preset with a source, not code):
which plans the 驾驶舱 leads with and which indicator a plan's town map opens on."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field

from qunlian.core.messages import N_
from qunlian.platform.rules import Dated, RulesError, Strict, load

PRESET = Path(__file__).parent / "presets" / "views-2024.yaml"


class KeyPlan(Strict):
    plan: str  # plan code
    table: str  # the plan's table whose indicators the 驾驶舱 shows, e.g. "附件1"


class TargetsViews(Dated):
    key_plans: tuple[KeyPlan, ...] = ()
    town_map_default: dict[str, str] = Field(default_factory=dict)  # plan code → indicator code

    @property
    def key_plan_pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple((k.plan, k.table) for k in self.key_plans)


class ViewsPresetError(RulesError):
    """The targets-views preset was refused: file, key path, line and fix of every problem."""

    kind = N_("规则文件")


@functools.cache
def targets_views(path: str | None = None) -> TargetsViews:
    return load(TargetsViews, Path(path) if path else PRESET, error=ViewsPresetError, doc="docs/targets.md")
