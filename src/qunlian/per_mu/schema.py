"""Strict schema of 亩均论英雄 evaluation methods (DESIGN §4, REFERENCE §1).

A method is data: a dated YAML preset with an id, a version, the data years it applies to, and the
sources it comes from. Every key is checked; an unknown or misplaced key, a weight that is not a
number, overlapping class cut-offs … are errors, never ignored (``qunlian.platform.rules.StrictValues``:
``extra="forbid"``, ``strict=True``). The header (id, version, effective, sources) is the shared ``Dated``.

Vocabulary (see docs/muni.md for a worked example):

- ``parts``: separate sub-methods, e.g. 规上 and 规下, chosen per firm by a selector on
  ``above_scale`` and land. A firm belongs to the first part whose selector matches; a firm that
  matches none is outside the evaluation, with the reason.
- an indicator's value is ``numerator ÷ denominator × scale``; its points are
  ``value ÷ benchmark × weight`` (``scoring: ratio``) or
  ``weight × (base + span × (value − min) ÷ (max − min)) ÷ 100`` (``scoring: minmax``).
- a benchmark is fixed or derived from the peer group (the same part) of the current or previous
  year: mean or median of the firms' values, or the aggregate ratio Σ numerator ÷ Σ denominator,
  times a factor.
- data rules say what happens to a missing value, a zero denominator and a negative value; every
  method states them, so that no firm ever gets an infinite or undefined score.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from qunlian.platform.rules import Dated, StrictValues

# Numeric canonical enterprise-year columns (DESIGN §5) an indicator may divide.
NumericColumn = Literal[
    "land_mu",
    "rented_out_mu",
    "tax_wan",
    "value_added_wan",
    "revenue_wan",
    "main_revenue_wan",
    "output_wan",
    "energy_tce",
    "electricity_wan_kwh",
    "emission_eq_t",
    "employees",
    "rd_wan",
    "profit_wan",
    "assets_wan",
    "liabilities_wan",
    "export_wan",
    "high_tech_revenue_wan",
    "invention_patents",
]

MissingRule = Literal["zero_points", "group_mean_points", "exclude"]
ZeroDenominatorRule = Literal["missing", "zero_points", "max_points", "exclude"]
NegativeRule = Literal["allow", "zero_points", "exclude"]

CODE_PATTERN = r"^[a-z][a-z0-9_]*$"


class Derived(StrictValues):
    """A benchmark computed from the peer group (the firms of the same part)."""

    stat: Literal["mean", "median", "aggregate"]  # aggregate = Σ numerator ÷ Σ denominator
    year: Literal["current", "previous"]
    factor: float = Field(default=1.0, gt=0)


class Benchmark(StrictValues):
    fixed: float | None = Field(default=None, gt=0)
    derived: Derived | None = None

    @model_validator(mode="after")
    def _one(self) -> Benchmark:
        if (self.fixed is None) == (self.derived is None):
            raise ValueError("give exactly one of fixed or derived")
        return self


class MinMax(StrictValues):
    """旌德-style min–max scoring: weight × (base + span × (x − min)/(max − min)) / 100."""

    base: float = 20.0
    span: float = 80.0


class DataRules(StrictValues):
    """What a missing value, a zero denominator and a negative value lead to.

    missing:          zero_points | group_mean_points (the part's average points of that indicator,
                      e.g. 黄岩 for emissions) | exclude (the firm is not graded, with the reason)
    zero_denominator: missing (treated as missing) | zero_points | max_points (needs max_points) | exclude
    negative_value:   allow (negative points) | zero_points | exclude
    """

    missing: MissingRule
    zero_denominator: ZeroDenominatorRule
    negative_value: NegativeRule


class Indicator(StrictValues):
    code: str = Field(pattern=CODE_PATTERN)
    name: str
    unit: str
    numerator: NumericColumn
    denominator: NumericColumn
    scale: float = Field(default=1.0, gt=0)
    weight: float = Field(gt=0)
    benchmark: Benchmark | None = None  # required for ratio scoring
    scoring: Literal["ratio", "minmax"] = "ratio"
    minmax: MinMax | None = None
    min_points: float | None = None  # floor of the points
    max_points: float | None = None  # cap of the points
    missing: MissingRule | None = None  # overrides the part's data_rules
    zero_denominator: ZeroDenominatorRule | None = None
    negative_value: NegativeRule | None = None
    example: bool = False  # True: weight/benchmark are example values, not from the cited source
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if self.scoring == "ratio" and self.benchmark is None:
            raise ValueError("ratio scoring needs a benchmark")
        if self.scoring == "minmax" and self.benchmark is not None:
            raise ValueError("minmax scoring uses the group's min and max, not a benchmark")
        if self.scoring == "ratio" and self.minmax is not None:
            raise ValueError("minmax: only with scoring: minmax")
        if self.min_points is not None and self.max_points is not None and self.min_points > self.max_points:
            raise ValueError(f"min_points {self.min_points} is above max_points {self.max_points}")
        if self.zero_denominator == "max_points" and self.max_points is None:
            raise ValueError("zero_denominator: max_points needs max_points")
        return self


class Selector(StrictValues):
    """Which firms a part evaluates. Empty fields match every firm."""

    above_scale: bool | None = None
    min_land_mu: float | None = Field(default=None, ge=0)  # inclusive
    max_land_mu: float | None = Field(default=None, ge=0)  # exclusive

    @model_validator(mode="after")
    def _range(self) -> Selector:
        if self.min_land_mu is not None and self.max_land_mu is not None and self.max_land_mu <= self.min_land_mu:
            raise ValueError("max_land_mu must be above min_land_mu")
        return self


class TenantDeduction(StrictValues):
    """Points taken off for renting land out (温岭 2022): per tenant count of the landowner."""

    first_tenant: float = Field(ge=0)
    each_further_tenant: float = Field(ge=0)


class Cutoff(StrictValues):
    grade: str = Field(min_length=1, max_length=8)
    min_score: float | None = None  # by: score — score ≥ min_score; the last cut-off has none
    top_share: float | None = Field(default=None, gt=0, le=1)  # by: rank_share — rank ÷ n ≤ top_share


class Grades(StrictValues):
    """Class cut-offs, best class first."""

    by: Literal["score", "rank_share"]
    cutoffs: list[Cutoff] = Field(min_length=2)

    @model_validator(mode="after")
    def _no_overlap(self) -> Grades:
        names = [c.grade for c in self.cutoffs]
        if len(set(names)) != len(names):
            raise ValueError(f"grade names repeat: {names}")
        if self.by == "score":
            if any(c.top_share is not None for c in self.cutoffs):
                raise ValueError("top_share is for by: rank_share")
            *upper, last = self.cutoffs
            if last.min_score is not None:
                raise ValueError(f"the last cut-off ({last.grade}) takes every lower score: leave min_score out")
            mins = [c.min_score for c in upper]
            if any(m is None for m in mins):
                raise ValueError("every cut-off but the last needs min_score")
            for a, b in zip(upper, upper[1:]):
                if not b.min_score < a.min_score:  # type: ignore[operator]
                    raise ValueError(
                        f"cut-offs overlap: {b.grade} min_score {b.min_score} is not below {a.grade} min_score {a.min_score}"
                    )
        else:
            if any(c.min_score is not None for c in self.cutoffs):
                raise ValueError("min_score is for by: score")
            shares = [c.top_share for c in self.cutoffs]
            if any(s is None for s in shares):
                raise ValueError("every cut-off needs top_share")
            for a, b in zip(self.cutoffs, self.cutoffs[1:]):
                if not b.top_share > a.top_share:  # type: ignore[operator]
                    raise ValueError(
                        f"cut-offs overlap: {b.grade} top_share {b.top_share} is not above {a.grade} top_share {a.top_share}"
                    )
            if shares[-1] != 1.0:
                raise ValueError(f"the last cut-off ({self.cutoffs[-1].grade}) must have top_share 1.0")
        return self

    @property
    def names(self) -> list[str]:
        return [c.grade for c in self.cutoffs]


class Part(StrictValues):
    """One sub-method, e.g. 规上 or 规下 ≥ 3 亩."""

    id: str = Field(pattern=CODE_PATTERN)
    name: str
    select: Selector
    data_rules: DataRules
    indicators: list[Indicator] = Field(min_length=1)
    deductions: TenantDeduction | None = None
    grades: Grades | None = None  # None: the source states no classes; score and rank only

    @field_validator("indicators")
    @classmethod
    def _unique_codes(cls, v: list[Indicator]) -> list[Indicator]:
        codes = [i.code for i in v]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"indicator codes repeat: {dup}")
        return v

    def rule(self, ind: Indicator, which: str) -> str:
        own = getattr(ind, which)
        return own if own is not None else getattr(self.data_rules, which)


class Exclusion(StrictValues):
    """A reason a firm may be left out (江山 2023 draft: new firms, firms under construction, relocations).

    The firm is excluded when its ``exemption`` column equals ``code``, or, with
    ``founded_within_years``, when ``year − founded_year < founded_within_years``.
    """

    code: str = Field(pattern=CODE_PATTERN)
    reason: str
    founded_within_years: int | None = Field(default=None, ge=1)


class Scope(StrictValues):
    exclusions: list[Exclusion] = Field(default_factory=list)


class Tenants(StrictValues):
    """How firms renting on another firm's land (column ``landowner_uscc``) are treated.

    separate:         evaluated on their own figures
    merge:            figures added to the landowner's; tenants share its result (遂昌 2022)
    landowner_grade:  not scored; they take the landowner's grade (江山 2023 draft)
    """

    mode: Literal["separate", "merge", "landowner_grade"]


class NegativeList(StrictValues):
    """Events in the year (column ``negative_events``, kinds separated by ';') that cap the class (昌乐)."""

    kinds: list[str] = Field(min_length=1)
    cap_grade: str


class Measure(StrictValues):
    """A differentiated policy for some classes (REFERENCE §1). Amount per year = rate × basis column.

    The rate's unit must make the product 万元: e.g. 元/千瓦时 × 万千瓦时 = 万元.
    ``rate: null`` lists the measure without pricing it.
    """

    code: str = Field(pattern=CODE_PATTERN)
    name: str
    kind: Literal["incentive", "restriction"]
    grades: list[str] = Field(min_length=1)
    basis: NumericColumn | None = None
    rate: float | None = None
    rate_unit: str | None = None
    placeholder: bool = False  # True: an example amount, not a published one
    note: str | None = None

    @model_validator(mode="after")
    def _priced(self) -> Measure:
        if self.rate is not None and (self.basis is None or not self.rate_unit):
            raise ValueError("a priced measure needs basis and rate_unit")
        return self


class HighEnergyLowEfficiency(StrictValues):
    """高耗低效: energy use at or above a floor and value added per tce below a ceiling."""

    min_energy_tce: float = Field(ge=0)
    max_value_added_per_tce: float = Field(gt=0)


class Remediation(StrictValues):
    """Who enters the 整治 ledger."""

    grades: list[str] = Field(default_factory=list)
    high_energy_low_efficiency: HighEnergyLowEfficiency | None = None


class Warnings(StrictValues):
    margin_points: float = Field(ge=0)  # within this many points above a class boundary


class Method(Dated):
    """A method version: the shared header (id, version, effective data years, sources) and the rules.

    id: preset id, e.g. zj-huangyan-2022; version: a string ("2022"); effective: the data years it
    applies to; sources: at least one (``qunlian.platform.rules.Source``).
    """

    model_config = ConfigDict(strict=True, frozen=True)

    method: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")  # method family, e.g. zj-huangyan
    title: str
    region: str
    scope: Scope = Field(default_factory=Scope)
    tenants: Tenants
    parts: list[Part] = Field(min_length=1)
    negative_list: NegativeList | None = None
    measures: list[Measure] = Field(default_factory=list)
    remediation: Remediation | None = None
    warnings: Warnings | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _cross(self) -> Method:
        ids = [p.id for p in self.parts]
        if len(set(ids)) != len(ids):
            raise ValueError(f"part ids repeat: {ids}")
        codes = [e.code for e in self.scope.exclusions]
        if len(set(codes)) != len(codes):
            raise ValueError(f"exclusion codes repeat: {codes}")
        all_grades = {g for p in self.parts if p.grades for g in p.grades.names}
        if self.negative_list and self.negative_list.cap_grade not in all_grades:
            raise ValueError(f"negative_list.cap_grade {self.negative_list.cap_grade!r} is not a grade of any part")
        for m in self.measures:
            unknown = [g for g in m.grades if g not in all_grades]
            if unknown:
                raise ValueError(f"measure {m.code}: grades {unknown} are not grades of any part")
        if self.remediation:
            unknown = [g for g in self.remediation.grades if g not in all_grades]
            if unknown:
                raise ValueError(f"remediation.grades {unknown} are not grades of any part")
        # the same code in two parts must mean the same figure (one output column)
        seen: dict[str, tuple[str, str, float]] = {}
        for p in self.parts:
            for i in p.indicators:
                sig = (i.numerator, i.denominator, i.scale)
                if seen.setdefault(i.code, sig) != sig:
                    raise ValueError(f"indicator {i.code} is defined with different formulas in two parts")
        return self

    @property
    def indicator_codes(self) -> list[str]:
        out: list[str] = []
        for p in self.parts:
            for i in p.indicators:
                if i.code not in out:
                    out.append(i.code)
        return out

    def indicator(self, code: str) -> Indicator:
        for p in self.parts:
            for i in p.indicators:
                if i.code == code:
                    return i
        raise KeyError(code)

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)

    @property
    def input_columns(self) -> list[str]:
        cols: list[str] = []
        for p in self.parts:
            for i in p.indicators:
                for c in (i.numerator, i.denominator):
                    if c not in cols:
                        cols.append(c)
        for m in self.measures:
            if m.basis and m.basis not in cols:
                cols.append(m.basis)
        return cols
