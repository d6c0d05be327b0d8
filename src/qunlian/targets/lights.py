"""The status-light rule preset (rules/presets/targets/*.yaml): strict schema and loader."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qunlian.core.errors import QunlianError

PRESET_DIR = Path(__file__).parent / "presets"
DEFAULT_PRESET = "status-lights-2024.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(_Strict):
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


class Checks(_Strict):
    completion: Check
    schedule: Check
    projection: Check


class Projection(_Strict):
    headline: dict[Literal["flow", "intensity", "ratio", "rate", "stock"], Literal["linear", "compound"]]
    min_points: int = Field(2, ge=2)


class QuarterlyReference(_Strict):
    prefer_same_period_last_year: bool = True


class Reconciliation(_Strict):
    relative_tolerance: float = Field(1e-9, ge=0)


class StatusRules(_Strict):
    id: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    title: str
    source: str
    rationale: str
    checks: Checks
    combine: Literal["worst"] = "worst"
    projection: Projection
    quarterly_reference: QuarterlyReference = QuarterlyReference()
    reconciliation: Reconciliation = Reconciliation()

    def label(self) -> str:
        return f"{self.id}@{self.version}"


class PresetError(QunlianError):
    pass


def load_status_rules(path: str | Path | None = None) -> StatusRules:
    """Load a status-light preset (default: the shipped one)."""
    p = Path(path) if path else PRESET_DIR / DEFAULT_PRESET
    return _load(str(p))


@lru_cache(maxsize=8)
def _load(path: str) -> StatusRules:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PresetError(f"读不到规则文件 {path}：{exc}") from None
    try:
        return StatusRules.model_validate(data)
    except ValidationError as exc:
        raise PresetError(f"规则文件 {path} 不合格式：\n{exc}") from None
