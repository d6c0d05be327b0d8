"""How large an indicator's actual value can plausibly be, per unit (a dated preset with a source):
the check that refuses -1e308 or a figure typed in the wrong unit before it is stored."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field

from qunlian.core.messages import N_
from qunlian.platform.rules import Dated, RulesError, Strict, load

PRESET = Path(__file__).parent / "presets" / "plausible-2026.yaml"


class Bounds(Strict):
    min: float
    max: float


class Plausible(Dated):
    units: dict[str, Bounds] = Field(default_factory=dict)
    default: Bounds

    def bounds(self, unit: str | None) -> Bounds:
        return self.units.get((unit or "").strip(), self.default)


class PlausiblePresetError(RulesError):
    kind = N_("规则文件")


@functools.cache
def plausible(path: str | None = None) -> Plausible:
    return load(Plausible, Path(path) if path else PRESET, error=PlausiblePresetError, doc="docs/targets.md")
