"""The status-light rule preset (targets/presets/*.yaml): strict schema, loaded by ``qunlian.platform.rules``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from qunlian.core.messages import N_
from qunlian.platform.rules import Dated, RulesError, StrictValues, load

PRESET_DIR = Path(__file__).parent / "presets"
DEFAULT_PRESET = "status-lights-2024.yaml"
FORMAT_DOC = "docs/targets.md"


class Check(StrictValues):
    enabled: bool = True
    green_at_least: float
    amber_at_least: float

    @model_validator(mode="after")
    def _order(self) -> Check:
        if self.amber_at_least > self.green_at_least:
            raise ValueError("amber_at_least must not exceed green_at_least")
        return self

    def light(self, ratio: float) -> str:
        if ratio >= self.green_at_least - 1e-12:
            return "green"
        if ratio >= self.amber_at_least - 1e-12:
            return "amber"
        return "red"


class Checks(StrictValues):
    completion: Check
    schedule: Check
    projection: Check


class Projection(StrictValues):
    headline: dict[Literal["flow", "intensity", "ratio", "rate", "stock"], Literal["linear", "compound"]]
    min_points: int = Field(2, ge=2)


class QuarterlyReference(StrictValues):
    prefer_same_period_last_year: bool = True


class Reconciliation(StrictValues):
    relative_tolerance: float = Field(1e-9, ge=0)


class StatusRules(Dated):
    """The shared header (id, version, effective plan years, sources) and the light rules."""

    model_config = ConfigDict(strict=True, frozen=True)

    title: str
    rationale: str
    checks: Checks
    combine: Literal["worst"] = "worst"
    projection: Projection
    quarterly_reference: QuarterlyReference = QuarterlyReference()
    reconciliation: Reconciliation = Reconciliation()


class PresetError(RulesError):
    """A status-light preset was refused: file, key path, line and fix of every problem."""

    kind = N_("规则文件")


def load_status_rules(path: str | Path | None = None) -> StatusRules:
    """Load a status-light preset (default: the shipped one)."""
    p = Path(path) if path else PRESET_DIR / DEFAULT_PRESET
    return _load(str(p))


@lru_cache(maxsize=8)
def _load(path: str) -> StatusRules:
    return load(StatusRules, Path(path), error=PresetError, doc=FORMAT_DOC)
