"""The demo county's invented firms: a pure, vectorised generator (numpy + pyarrow, no I/O but the
calibration file).

`generate(seed, scale)` returns a `DemoData` with three Arrow tables: `enterprises` (one row per
firm), `enterprise_years` (DESIGN §5 canonical columns, one row per firm and year it exists) and
`events` (negative-list events). `generate_enterprise_years(seed, scale, year)` returns one year
alone, for benchmarks at millions of firms.

How the figures are made (calibration.yaml holds every number used here):

1. Firm counts per sector and town; 2020 规上 output per firm from a stratified Pareto draw
   (heavy tail) times a town size factor, fitted per sector so that sector totals match and every
   规上 firm stays between the 规上 floor and a cap; two giants above 50 亿元.
2. Per-firm ratios drawn around sector central values (value-added rate, tax per value added,
   亩均增加值 level by town, productivity, energy, emission, R&D with many zeros, margin with
   loss-makers, debt ratio, export share ...).
3. Base-year calibration: one multiplier per figure (value added, land, tax, employees, R&D,
   profit) computed on the 2020 规上 firms so that the published 2020 aggregates hold exactly
   (up to rounding) under the missing-value rule of `aggregates`. The multipliers then apply to
   every firm and year.
4. Later years: nominal growth (macro rate + sector premium + firm drift + noise), drifting
   ratios, land expansions, new small firms and large projects, exits, crossings over the 规上
   line (main-business revenue ≥ 2000 万元), missing values drawn per year.

Deterministic: every random stream is seeded from (seed, year, purpose), so one year can be made
without the others and `generate(...).enterprise_years` for year Y equals
`generate_enterprise_years(seed, scale, Y)`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import model_validator

from qunlian.core.uscc import ALPHABET, ORG_ALPHABET, WEIGHTS
from qunlian.demo.names import FOREIGN_INVESTORS, FORTUNE500_INVESTOR, HMT_INVESTORS, AffinePermutation, build_names
from qunlian.platform.rules import Dated, Strict, load

ABOVE_SCALE_MAIN_REVENUE_WAN = 2000.0  # 规模以上工业企业: 主营业务收入 ≥ 2000 万元 since 2011 (REFERENCE §2)
TCE_PER_WAN_KWH = 1.229  # electricity, 当量值: 0.1229 kgce per kWh
DEMO_SOURCE = "qunlian demo（虚构示例数据 invented demo data）"

# --------------------------------------------------------------------------- calibration file


class Figure(Strict):
    value: float
    unit: str
    text: str


class Targets(Strict):
    source: str
    year: int
    figures: dict[str, Figure]
    secondary: dict[str, Figure]
    shape: dict[str, float]


class TownSpec(Strict):
    name: str
    tax_per_mu: float
    va_per_mu: float
    above: float
    below: float
    size: float


class ParkSpec(Strict):
    name: str
    town: str
    kind: str
    share: float


class TownProfile(Strict):
    source: str
    city_figures: dict[str, float]
    towns: list[TownSpec]
    parks: list[ParkSpec]


class SectorSpec(Strict):
    name: str
    chain: str | None
    codes: dict[str, float]
    words: list[str]
    above: float
    below: float
    above_output_yi: float
    va_rate: float
    tax_va: float
    yva: float
    productivity: float
    energy: float
    elec_share: float
    emission: float
    rd_prob: float
    rd_int: float
    margin: float
    turnover: float
    export: float
    foreign: float
    growth: float
    risk: float
    towns: dict[str, float]


class GiantSpec(Strict):
    sector: str
    town: str
    output_yi: float
    land_mu: float
    ownership: str


class Dynamics(Strict):
    macro_growth: dict[int, float]
    growth_sigma_above: float
    growth_sigma_below: float
    trend_sigma: float
    va_rate_drift: float
    energy_drift: float
    emission_drift: float
    rd_drift: float
    employment_elasticity: float
    land_expansion_prob: float
    entry_rate_small: float
    entry_rate_projects: float
    exit_rate_below: float
    exit_rate_above: float
    event_rate: float


class RentingOut(Strict):
    share_above: float
    share_below: float
    land_share: tuple[float, float]
    tenants_max: int


class NameStyle(Strict):
    """How invented names start: place prefixes (with weights) and the infix of foreign-owned firms."""

    prefixes: list[str] = ["平湖", "平湖市", "浙江", "嘉兴"]
    weights: list[float] = [0.45, 0.20, 0.25, 0.10]
    foreign_infixes: list[str] = ["（平湖）", "（浙江）", "（嘉兴）", "（中国）"]

    @model_validator(mode="after")
    def _weights(self) -> NameStyle:
        if len(self.weights) != len(self.prefixes) or abs(sum(self.weights) - 1.0) > 1e-9:
            raise ValueError("names.weights: one weight per prefix, adding up to 1")
        return self


class Calibration(Dated):
    """The shared header (id, version, effective data years = the years generated, sources), then the numbers."""

    division_code: str
    names: NameStyle = NameStyle()
    base_year: int
    targets: Targets
    town_profile: TownProfile
    sectors: dict[str, SectorSpec]
    giants: list[GiantSpec]
    size_cap_yi: float
    dynamics: Dynamics
    missing: dict[str, dict[str, float]]
    renting_out: RentingOut

    @model_validator(mode="after")
    def _years(self) -> Calibration:
        first, last = self.base_year, max(self.dynamics.macro_growth, default=self.base_year)
        if self.effective.from_year != first or self.effective.to_year != last:
            raise ValueError(f"effective must be {{from_year: {first}, to_year: {last}}}: base_year to the last "
                             "year of dynamics.macro_growth (the years the demo county is generated for)")
        return self

    @property
    def years(self) -> list[int]:
        return [self.base_year, *sorted(self.dynamics.macro_growth)]


#: The shipped calibration files: 平湖's shape (the default demo county) and the second, smaller
#: invented county of the city demo.
CALIBRATIONS = ("calibration.yaml", "calibration-xiushui.yaml")


@functools.cache
def load_calibration(name: str = CALIBRATIONS[0]) -> Calibration:
    """A shipped calibration file, validated (unknown keys are errors)."""
    if name not in CALIBRATIONS:
        raise ValueError(f"unknown calibration {name!r}; shipped: {', '.join(CALIBRATIONS)}")
    return load(Calibration, resources.files("qunlian.demo") / name, name=f"demo/{name}")


# The seven base-year figures, in display order: key, label, unit.
CALIBRATION_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("above_scale_firms", "规上企业数 above-scale firms", "家"),
    ("output_wan", "规上工业总产值 output", "万元"),
    ("value_added_wan", "规上工业增加值 value added", "万元"),
    ("tax_per_mu", "亩均税收 tax per mu", "万元/亩"),
    ("va_per_mu", "亩均增加值 value added per mu", "万元/亩"),
    ("labour_productivity", "全员劳动生产率 labour productivity", "万元/人"),
    ("rd_ratio", "R&D 经费占主营业务收入比重 R&D / main revenue", "%"),
)
EXTENSIVE = {"above_scale_firms", "output_wan", "value_added_wan", "profit_wan"}


# --------------------------------------------------------------------------- output tables

ENTERPRISE_YEAR_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("name", pa.string()),
        ("year", pa.int16()),
        ("town", pa.string()),
        ("park", pa.string()),
        ("industry_code", pa.string()),
        ("above_scale", pa.bool_()),
        ("land_mu", pa.float64()),
        ("rented_out_mu", pa.float64()),
        ("tenants", pa.int32()),
        ("tax_wan", pa.float64()),
        ("value_added_wan", pa.float64()),
        ("revenue_wan", pa.float64()),
        ("main_revenue_wan", pa.float64()),
        ("output_wan", pa.float64()),
        ("energy_tce", pa.float64()),
        ("electricity_wan_kwh", pa.float64()),
        ("emission_eq_t", pa.float64()),
        ("employees", pa.int32()),
        ("rd_wan", pa.float64()),
        ("profit_wan", pa.float64()),
        ("assets_wan", pa.float64()),
        ("liabilities_wan", pa.float64()),
        ("export_wan", pa.float64()),
        ("high_tech_revenue_wan", pa.float64()),
        ("invention_patents", pa.int32()),
    ]
)
#: DESIGN §5 canonical enterprise-year columns, in order.
CANONICAL_COLUMNS: tuple[str, ...] = tuple(ENTERPRISE_YEAR_SCHEMA.names)

ENTERPRISE_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("name", pa.string()),
        ("town", pa.string()),
        ("park", pa.string()),
        ("industry_code", pa.string()),
        ("sector", pa.string()),
        ("ownership", pa.string()),
        ("foreign_investor", pa.string()),
        ("fortune500_investor", pa.bool_()),
        ("established_on", pa.date32()),
        ("listed", pa.bool_()),
        ("flags", pa.list_(pa.string())),
        ("entry_year", pa.int16()),
        ("exit_year", pa.int16()),
    ]
)

EVENT_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("occurred_on", pa.date32()),
        ("kind", pa.string()),
        ("description", pa.string()),
        ("source", pa.string()),
    ]
)
EVENT_KINDS = {
    "safety_accident": "（示例）发生一般生产安全事故，已责令停产整改并列入负面清单",
    "environmental_violation": "（示例）超标排放被生态环境部门立案处罚，列入负面清单",
}


@dataclass(frozen=True)
class DemoData:
    """The invented firms of the demo county (Arrow tables; amounts in 万元, land in 亩)."""

    enterprises: pa.Table
    enterprise_years: pa.Table
    events: pa.Table
    seed: int
    scale: float
    years: tuple[int, ...]
    calibration_id: str = field(default="")

    def year(self, year: int) -> pa.Table:
        return self.enterprise_years.filter(pc.equal(self.enterprise_years["year"], year))


# --------------------------------------------------------------------------- random streams

_S_STATIC, _S_SIZE, _S_RATIOS, _S_NAMES, _S_USCC, _S_GROWTH, _S_NOISE, _S_MISSING, _S_EVENTS, _S_LAND = range(10)


def _rng(seed: int, year: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, year, stream])))


def _lognormal(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    """Mean-one lognormal factors."""
    return np.exp(rng.normal(-0.5 * sigma * sigma, sigma, n))


def _apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts proportional to weights that sum to total (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = w / w.sum() * total
    counts = np.floor(exact).astype(np.int64)
    rest = total - counts.sum()
    if rest > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:rest]] += 1
    return counts


def _fit_total(x: np.ndarray, floor: float, cap: float, total: float) -> np.ndarray:
    """Affine rescale of the excess over floor, clipped to [floor, cap], so that the sum is total."""
    n = len(x)
    if n == 0:
        return x
    if total <= floor * n:
        return np.full(n, total / n)
    if total >= cap * n:
        return np.full(n, total / n)
    excess = np.maximum(x - floor, 0.0)
    if excess.max() <= 0:
        return np.full(n, total / n)

    def f(k: float) -> float:
        return float(np.clip(floor + k * excess, floor, cap).sum())

    lo, hi = 0.0, 1.0
    for _ in range(200):
        if f(hi) >= total:
            break
        hi *= 2.0
    else:  # cannot reach the total within the cap
        return np.full(n, total / n)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if f(mid) < total:
            lo = mid
        else:
            hi = mid
    out = np.clip(floor + hi * excess, floor, cap)
    return out * (total / out.sum())


# --------------------------------------------------------------------------- USCC


def _usccs(rng: np.random.Generator, n: int, division: str) -> pa.Array:
    """n distinct valid codes 91<division><8-char body><GB 11714 check><GB 32100 check>."""
    base = len(ALPHABET)
    keys = AffinePermutation(base**8, rng)(np.arange(n, dtype=np.int64))
    digits = np.empty((n, 8), dtype=np.int64)
    k = keys.copy()
    for j in range(7, -1, -1):
        digits[:, j] = k % base
        k //= base
    alpha = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    org_value = np.array([ORG_ALPHABET.index(c) for c in ALPHABET], dtype=np.int64)
    org_sum = (org_value[digits] * np.array([3, 7, 9, 10, 5, 8, 4, 2])).sum(axis=1)
    c = 11 - org_sum % 11
    org_char = np.where(c == 10, ord("X"), np.where(c == 11, ord("0"), ord("0") + c % 10)).astype(np.uint8)
    head = ("91" + division).encode()
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :8] = np.frombuffer(head, dtype=np.uint8)
    chars[:, 8:16] = alpha[digits]
    chars[:, 16] = org_char
    value_of = np.zeros(256, dtype=np.int64)
    value_of[alpha] = np.arange(base)
    total = (value_of[chars[:, :17]] * np.array(WEIGHTS)).sum(axis=1)
    chars[:, 17] = alpha[(base - total % base) % base]
    offsets = np.arange(0, 18 * n + 1, 18, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.reshape(-1))).cast(pa.string())


# --------------------------------------------------------------------------- the panel


class _Panel:
    """Static attributes of every firm (existing and future entrants) and per-year figures."""

    def __init__(self, cal: Calibration, seed: int, scale: float) -> None:
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.cal, self.seed, self.scale = cal, int(seed), float(scale)
        self.base_year = cal.base_year
        self.years = cal.years
        t = cal.targets
        self.sector_keys = list(cal.sectors)
        self.sectors = [cal.sectors[k] for k in self.sector_keys]
        self.town_names = [tw.name for tw in cal.town_profile.towns]
        n_sec = len(self.sectors)
        rng = _rng(seed, 0, _S_STATIC)

        n_above = max(1, round(t.figures["above_scale_firms"].value * scale))
        n_below = round(t.shape["below_scale_firms"] * scale)
        giants = [g for g in cal.giants for _ in range(round(scale))]
        sec_above = _apportion(np.array([s.above for s in self.sectors]), n_above)
        sec_below = _apportion(np.array([s.below for s in self.sectors]), n_below)
        giant_sector = np.array([self.sector_keys.index(g.sector) for g in giants], dtype=np.int64)
        # entrants, year by year
        d = cal.dynamics
        later = self.years[1:]
        n_small = [round(d.entry_rate_small * n_below) for _ in later]
        n_proj = [round(d.entry_rate_projects * n_above) for _ in later]

        # kind: 0 giant, 1 base-year 规上, 2 base-year 规下, 3 small entrant, 4 large project
        kind = np.concatenate(
            [
                np.zeros(len(giants), np.int8),
                np.ones(n_above - len(giants), np.int8),
                np.full(n_below, 2, np.int8),
                np.full(sum(n_small), 3, np.int8),
                np.full(sum(n_proj), 4, np.int8),
            ]
        )
        n = len(kind)
        self.n = n
        self.kind = kind
        entry = np.full(n, self.base_year, np.int16)
        pos = len(giants) + n_above - len(giants) + n_below
        for y, k in zip(later, n_small, strict=True):
            entry[pos : pos + k] = y
            pos += k
        for y, k in zip(later, n_proj, strict=True):
            entry[pos : pos + k] = y
            pos += k
        self.entry = entry

        # sectors
        sector = np.empty(n, np.int64)
        sector[: len(giants)] = giant_sector
        above_counts = sec_above.copy()
        for s in giant_sector:  # giants are part of their sector's count
            above_counts[s] = max(0, above_counts[s] - 1)
        i0 = len(giants)
        sector[i0 : i0 + above_counts.sum()] = np.repeat(np.arange(n_sec), above_counts)
        i0 += above_counts.sum()
        # if giants exceeded a sector count, fill from the largest sectors
        short = (n_above - len(giants)) - above_counts.sum()
        if short > 0:
            sector[i0 : i0 + short] = np.argmax(sec_above)
            i0 += short
        sector[i0 : i0 + n_below] = np.repeat(np.arange(n_sec), sec_below)
        i0 += n_below
        below_w = np.array([s.below for s in self.sectors], float)
        sector[i0 : i0 + sum(n_small)] = rng.choice(n_sec, size=sum(n_small), p=below_w / below_w.sum())
        i0 += sum(n_small)
        proj_w = np.array([s.above_output_yi if s.growth >= 0.04 else 0.0 for s in self.sectors])
        sector[i0:] = rng.choice(n_sec, size=sum(n_proj), p=proj_w / proj_w.sum())
        self.sector = sector
        self.small = (kind == 2) | (kind == 3)

        # towns (sector affinity × town weight), parks, industry codes
        town = np.empty(n, np.int64)
        tw_above = np.array([tw.above for tw in cal.town_profile.towns])
        tw_below = np.array([tw.below for tw in cal.town_profile.towns])
        for s_idx, spec in enumerate(self.sectors):
            aff = np.array([spec.towns.get(name, 1.0) for name in self.town_names])
            for small_flag, base_w in ((False, tw_above), (True, tw_below)):
                m = (sector == s_idx) & (self.small == small_flag) & (kind != 0)
                if m.any():
                    p = base_w * aff
                    town[m] = rng.choice(len(p), size=int(m.sum()), p=p / p.sum())
        for gi, g in enumerate(giants):
            town[gi] = self.town_names.index(g.town)
        self.town = town
        self.park_names = [p.name for p in cal.town_profile.parks]
        park = np.full(n, -1, np.int64)
        u = rng.random(n)
        for t_idx, name in enumerate(self.town_names):
            acc = 0.0
            for p_idx, p in enumerate(cal.town_profile.parks):
                if p.town != name:
                    continue
                m = (town == t_idx) & (u >= acc) & (u < acc + p.share)
                park[m] = p_idx
                acc += p.share
        self.park = park
        code = np.empty(n, dtype=object)
        for s_idx, spec in enumerate(self.sectors):
            m = sector == s_idx
            codes = list(spec.codes)
            w = np.array([spec.codes[c] for c in codes], float)
            code[m] = np.array(codes, dtype=object)[rng.choice(len(codes), size=int(m.sum()), p=w / w.sum())]
        self.industry_code = code

        self._sizes(giants)
        self._ratios()
        self._identity()
        self._cum_log_growth: dict[int, np.ndarray] = {}
        self._cum_land: dict[int, np.ndarray] = {}
        self._constants: dict[str, float] | None = None

    # ------------------------------------------------------------------ sizes

    def _sizes(self, giants: list[Any]) -> None:
        cal, n, scale = self.cal, self.n, self.scale
        rng = _rng(self.seed, 0, _S_SIZE)
        towns = cal.town_profile.towns
        size_factor = np.array([tw.size for tw in towns])[self.town]
        floor, cap = 2100.0, cal.size_cap_yi * 1e4
        out = np.zeros(n)
        # giants
        for gi, g in enumerate(giants):
            out[gi] = g.output_yi * 1e4
        # base-year 规上: stratified Pareto per sector, fitted to the sector totals
        total = cal.targets.figures["output_wan"].value * scale
        w = np.array([s.above_output_yi for s in self.sectors])
        sector_total = w / w.sum() * total
        alpha = 1.15
        for s_idx in range(len(self.sectors)):
            m = np.flatnonzero((self.kind == 1) & (self.sector == s_idx))
            g_out = out[(self.kind == 0) & (self.sector == s_idx)].sum()
            if len(m) == 0:
                continue
            k = len(m)
            u = (rng.permutation(k) + rng.random(k)) / k
            u = np.minimum(u, 1 - 0.5 / k)
            x = floor * (1 + ((1 - u) ** (-1 / alpha) - 1) * size_factor[m])
            out[m] = _fit_total(x, floor, cap, max(sector_total[s_idx] - g_out, floor * k * 1.05))
        # rescale all base-year 规上 (not giants) once more so the grand total is exact
        m = self.kind == 1
        g_total = out[self.kind == 0].sum()
        out[m] = _fit_total(out[m], floor, cap, total - g_total)
        # base-year 规下 and small entrants: lognormal main revenue, below the 规上 line
        small = self.small
        out[small] = np.exp(rng.normal(np.log(420), 0.95, int(small.sum()))) * np.sqrt(size_factor[small])
        out[self.kind == 3] *= 0.7
        # large projects: 1–6 亿元 in their first year
        proj = self.kind == 4
        out[proj] = rng.uniform(1e4, 6e4, int(proj.sum()))
        self.rev_ratio = rng.uniform(0.97, 1.08, n)
        self.main_share = np.minimum(1.0, rng.uniform(0.88, 1.02, n))
        main = out * self.rev_ratio * self.main_share
        # base-year 规上 must be above the line, 规下 below it (no noise in the base year)
        above = (self.kind == 0) | (self.kind == 1)
        lift = above & (main < ABOVE_SCALE_MAIN_REVENUE_WAN * 1.01)
        self.main_share[lift] = 1.0
        self.rev_ratio[lift] = np.maximum(self.rev_ratio[lift], ABOVE_SCALE_MAIN_REVENUE_WAN * 1.01 / out[lift])
        cut = small & (main >= ABOVE_SCALE_MAIN_REVENUE_WAN * 0.99)
        out[cut] = ABOVE_SCALE_MAIN_REVENUE_WAN * rng.uniform(0.55, 0.99, int(cut.sum())) / (
            self.rev_ratio[cut] * self.main_share[cut]
        )
        out[small] = np.maximum(out[small], 25.0)
        self.base_output = out
        self.giant_land = np.array([g.land_mu for g in giants])
        self.n_giants = len(giants)
        self.giant_ownership = [g.ownership for g in giants]

    # ------------------------------------------------------------------ ratios

    def _ratios(self) -> None:
        n, rng, sec = self.n, _rng(self.seed, 0, _S_RATIOS), self.sector
        S = self.sectors

        def col(name: str) -> np.ndarray:
            return np.array([getattr(s, name) for s in S], float)[sec]

        towns = self.cal.town_profile.towns
        city = self.cal.town_profile.city_figures
        town_yva = np.array([tw.va_per_mu / city["va_per_mu"] for tw in towns])[self.town]
        town_tax = np.array([(tw.tax_per_mu / city["tax_per_mu"]) / (tw.va_per_mu / city["va_per_mu"]) for tw in towns])[
            self.town
        ]
        small = self.small
        size_rel = self.base_output / np.median(self.base_output[~small]) if (~small).any() else np.ones(n)

        self.va_rate = np.clip(col("va_rate") * _lognormal(rng, 0.25, n), 0.05, 0.6)
        self.tax_va = np.clip(col("tax_va") * town_tax * _lognormal(rng, 0.35, n) * np.where(small, 1.0, 1.0), 0.01, 0.8)
        self.yva = col("yva") * town_yva * _lognormal(rng, 0.5, n) * np.where(small, 0.85, 1.0) * np.clip(size_rel, 0.05, 50) ** 0.08
        self.productivity = (
            col("productivity") * _lognormal(rng, 0.35, n) * np.clip(size_rel, 0.02, 50) ** 0.12 * np.where(small, 0.6, 1.0)
        )
        self.energy = col("energy") * _lognormal(rng, 0.5, n) * np.where(small, 2.5, 1.0)
        self.elec_share = np.clip(col("elec_share") * _lognormal(rng, 0.15, n), 0.05, 1.0)
        self.emission = col("emission") * 1e-4 * _lognormal(rng, 0.6, n)
        rd_prob = np.where(small, col("rd_prob") * 0.35, col("rd_prob"))
        rd_prob[self.kind == 0] = 1.0
        self.has_rd = rng.random(n) < rd_prob
        self.rd_int = np.where(self.has_rd, np.clip(col("rd_int") * _lognormal(rng, 0.6, n), 0.001, 0.15), 0.0)
        self.margin = col("margin") + rng.normal(0, 0.05, n) + np.where(small, rng.normal(0, 0.03, n), 0.0)
        self.turnover = col("turnover") * _lognormal(rng, 0.3, n)
        self.debt = rng.beta(4.5, 4.5, n) * 0.95 + 0.03
        distressed = rng.random(n) < 0.03
        self.debt[distressed] = rng.uniform(0.85, 1.25, int(distressed.sum()))
        self.trend = rng.normal(0, self.cal.dynamics.trend_sigma, n)
        self.patent_factor = _lognormal(rng, 0.8, n)
        # ownership: bigger firms are more often foreign-owned (001: 25 % of 规上 firms, ~50 % of output)
        shape = self.cal.targets.shape
        above = ~small
        p = col("foreign") * np.clip(size_rel, 0.01, 100) ** shape["foreign_size_elasticity"]
        lo, hi = 0.0, 10.0
        for _ in range(50):
            c = 0.5 * (lo + hi)
            if np.clip(c * p[above], 0, 0.95).mean() < shape["foreign_firm_share"]:
                lo = c
            else:
                hi = c
        p_foreign = np.where(above, np.clip(hi * p, 0, 0.95), col("foreign") * 0.25)
        self.foreign = rng.random(n) < p_foreign
        for gi, own in enumerate(self.giant_ownership):
            self.foreign[gi] = own == "foreign"
        self.hmt = self.foreign & (rng.random(n) < 0.25)
        self.export_share = np.clip(
            col("export") * np.where(self.foreign, 1.6, 0.8) * _lognormal(rng, 0.5, n), 0.0, 0.95
        ) * np.where(~self.foreign & (rng.random(n) < 0.3), 0.0, 1.0)
        chain = np.array([s.chain is not None for s in S])[sec]
        p_ht = np.where(chain, 0.55, 0.15) * self.has_rd * np.where(small, 0.25, 1.0)
        self.high_tech = rng.random(n) < p_ht
        self.ht_share = rng.uniform(0.6, 0.95, n)
        # land: renters have none of their own; some owners rent part of theirs out
        miss_a, miss_b = self.cal.missing["above"], self.cal.missing["below"]
        p_renter = np.where(small, miss_b["no_own_land"], miss_a["no_own_land"])
        p_renter[self.kind == 0] = 0.0
        p_renter[self.kind == 4] = 0.0
        self.renter = rng.random(n) < p_renter
        ro = self.cal.renting_out
        self.rents_out = ~self.renter & (rng.random(n) < np.where(small, ro.share_below, ro.share_above))
        self.rent_share = rng.uniform(*ro.land_share, n)
        self.tenants = np.minimum(1 + rng.poisson(1.0, n), ro.tenants_max)
        # persistent missing emission data for half the missing share
        self.no_emission = rng.random(n) < 0.5 * np.where(small, miss_b["emission_eq_t"], miss_a["emission_eq_t"])
        # raw land from base value added and the firm's 亩均增加值 level
        base_va = self.base_output * self.va_rate
        land = base_va / (self.yva * 100.0)
        self.land_raw = np.where(small, np.clip(land, 1.0, 80.0), np.clip(land, 3.0, 1500.0))
        # small firms hold at least 1 mu after calibration, a few (6 %) less
        self.min_land = np.where(rng.random(n) < 0.06, rng.uniform(0.4, 1.0, n), 1.0)
        self.land_raw[: self.n_giants] = self.giant_land
        self.emp_raw = np.maximum(base_va / self.productivity, np.where(small, 2.0, 8.0))

    # ------------------------------------------------------------------ identity

    def _identity(self) -> None:
        n, rng = self.n, _rng(self.seed, 0, _S_NAMES)
        out = self.base_output
        big = ~self.small
        # listed: a few large domestic firms
        rank = np.argsort(np.argsort(-np.where(big, out, 0)))
        self.listed = big & ~self.foreign & (rank < max(1, round(0.06 * big.sum()))) & (rng.random(n) < 0.5)
        self.listed[: self.n_giants] = ~self.foreign[: self.n_giants]
        # Fortune Global 500 investors among the larger foreign firms
        self.fortune500 = self.foreign & big & (rank < 0.25 * big.sum()) & (rng.random(n) < 0.18)
        self.fortune500[: self.n_giants] = self.foreign[: self.n_giants]
        self.names = build_names(rng, [s.words for s in self.sectors], self.sector, self.foreign, self.listed, self.cal.names)
        self.uscc = _usccs(_rng(self.seed, 0, _S_USCC), n, self.cal.division_code)
        inv = np.full(n, None, dtype=object)
        f_only = self.foreign & ~self.hmt
        inv[f_only] = np.array(FOREIGN_INVESTORS, dtype=object)[rng.integers(0, len(FOREIGN_INVESTORS), int(f_only.sum()))]
        inv[self.hmt] = np.array(HMT_INVESTORS, dtype=object)[rng.integers(0, len(HMT_INVESTORS), int(self.hmt.sum()))]
        inv[self.fortune500] = FORTUNE500_INVESTOR
        self.foreign_investor = inv
        own = np.full(n, "private", dtype=object)
        u = rng.random(n)
        own[u < 0.06] = "joint"
        own[u < 0.03] = "collective"
        own[u < 0.02] = "state"
        own[self.foreign] = "foreign"
        own[self.hmt] = "hmt"
        self.ownership = own
        # established: existing firms 1–35 years before 2020, bigger ones older; entrants in their year
        age = np.clip(rng.gamma(2.2, 4.5, n) * np.clip(out / 3000, 0.3, 5) ** 0.2, 0.6, 38)
        base_day = dt.date(self.base_year, 6, 30).toordinal()
        days = (base_day - age * 365.25).astype(np.int64)
        new = self.entry > self.base_year
        jan1 = np.array([dt.date(y, 1, 1).toordinal() for y in range(self.base_year, self.years[-1] + 1)], np.int64)
        days[new] = jan1[self.entry[new] - self.base_year] + rng.integers(0, 365, int(new.sum()))
        self.established_ord = days
        # exits: a yearly hazard, doubled for loss-makers; giants and projects stay
        d = self.cal.dynamics
        hazard = np.where(self.small, d.exit_rate_below, d.exit_rate_above) * np.where(self.margin < 0, 2.0, 1.0)
        hazard[(self.kind == 0) | (self.kind == 4)] = 0.0
        exit_year = np.full(n, 0, np.int16)
        for y in self.years[1:]:
            hit = (exit_year == 0) & (self.entry < y) & (rng.random(n) < hazard)
            exit_year[hit] = y
        self.exit_year = exit_year  # 0: still active; else the first year without figures

    # ------------------------------------------------------------------ per year

    def present(self, year: int) -> np.ndarray:
        return (self.entry <= year) & ((self.exit_year == 0) | (self.exit_year > year))

    def cum_log_growth(self, year: int) -> np.ndarray:
        if year <= self.base_year:
            return np.zeros(self.n)
        if year in self._cum_log_growth:
            return self._cum_log_growth[year]
        prev = self.cum_log_growth(year - 1)
        d = self.cal.dynamics
        rng = _rng(self.seed, year, _S_GROWTH)
        premium = np.array([s.growth for s in self.sectors])[self.sector]
        sigma = np.where(self.small, d.growth_sigma_below, d.growth_sigma_above)
        g = np.log1p(d.macro_growth[year] + premium) + self.trend + rng.normal(0, 1, self.n) * sigma - 0.5 * sigma**2
        # a new firm's first year is its base; projects ramp up fast in their second and third years
        ramp = np.where((self.kind == 4) & (year - self.entry <= 2), np.log(1.3), 0.0)
        cum = prev + np.where(self.entry < year, g + ramp, 0.0)
        self._cum_log_growth[year] = cum
        return cum

    def land_factor(self, year: int) -> np.ndarray:
        if year <= self.base_year:
            return np.ones(self.n)
        if year in self._cum_land:
            return self._cum_land[year]
        prev = self.land_factor(year - 1)
        rng = _rng(self.seed, year, _S_LAND)
        growing = self.cum_log_growth(year) - self.cum_log_growth(year - 1) > 0.05
        p = self.cal.dynamics.land_expansion_prob * np.where(growing, 2.0, 0.5)
        expand = (rng.random(self.n) < p) & (self.entry < year)
        f = np.where(expand, rng.uniform(1.1, 1.5, self.n), 1.0)
        # projects build out their sites in their first years
        f = np.where((self.kind == 4) & (year - self.entry <= 2) & (self.entry < year), 1.3, f)
        cur = prev * f
        self._cum_land[year] = cur
        return cur

    def raw(self, year: int, k: dict[str, float] | None = None) -> dict[str, np.ndarray]:
        """All figures of all firms for one year (NaN = missing); k: calibration multipliers."""
        k = k or {}
        n, d = self.n, self.cal.dynamics
        dy = year - self.base_year
        noise = _rng(self.seed, year, _S_NOISE).normal(0, 1, (10, n))
        noise[:, self.entry >= year] = 0.0  # a firm's first year carries no yearly noise
        growth = np.exp(self.cum_log_growth(year))
        output = self.base_output * growth
        revenue = output * self.rev_ratio * np.exp(0.02 * noise[0])
        main = revenue * self.main_share
        va = output * self.va_rate * (1 + d.va_rate_drift) ** dy * np.exp(0.04 * noise[1]) * k.get("va", 1.0)
        margin = self.margin + 0.025 * noise[2]
        profit = revenue * margin * k.get("profit", 1.0)
        tax = va * self.tax_va * np.exp(0.10 * noise[3]) * np.where(margin < 0, 0.7, 1.0) * k.get("tax", 1.0)
        land = self.land_raw * self.land_factor(year)
        if "land" in k:
            ng = np.arange(n) >= self.n_giants
            land = np.where(ng, land * k["land"], land)
            land = np.where(self.small, np.maximum(land, self.min_land), land)
        emp = self.emp_raw * growth ** d.employment_elasticity * np.exp(0.03 * noise[4]) * k.get("employees", 1.0)
        rd = main * self.rd_int * (1 + d.rd_drift) ** dy * np.exp(0.12 * noise[5]) * k.get("rd", 1.0)
        energy = va * self.energy * (1 + d.energy_drift) ** dy * np.exp(0.06 * noise[6])
        electricity = energy * self.elec_share / TCE_PER_WAN_KWH
        emission = va * self.emission * (1 + d.emission_drift) ** dy * np.exp(0.08 * noise[7])
        assets = revenue / self.turnover * np.exp(0.05 * noise[8])
        liabilities = assets * np.clip(self.debt + 0.03 * noise[9], 0.02, 1.5)
        export = revenue * self.export_share
        high_tech = np.where(self.high_tech, revenue * self.ht_share, 0.0)
        patents = np.floor(rd / 150.0 * self.patent_factor)
        rented = np.where(self.rents_out, land * self.rent_share, 0.0)
        tenants = np.where(self.rents_out, self.tenants, 0)
        land = np.where(self.renter, np.nan, land)
        rented = np.where(self.renter, np.nan, rented)
        tenants = np.where(self.renter, -1, tenants)
        cols = {
            "output_wan": output,
            "revenue_wan": revenue,
            "main_revenue_wan": main,
            "value_added_wan": va,
            "tax_wan": tax,
            "land_mu": land,
            "rented_out_mu": rented,
            "employees": emp,
            "rd_wan": rd,
            "energy_tce": energy,
            "electricity_wan_kwh": electricity,
            "emission_eq_t": emission,
            "profit_wan": profit,
            "assets_wan": assets,
            "liabilities_wan": liabilities,
            "export_wan": export,
            "high_tech_revenue_wan": high_tech,
            "invention_patents": patents,
        }
        # missing values, drawn per year
        rng = _rng(self.seed, year, _S_MISSING)
        above_line = main >= ABOVE_SCALE_MAIN_REVENUE_WAN
        miss_a, miss_b = self.cal.missing["above"], self.cal.missing["below"]
        for col_name in set(miss_a) | set(miss_b):
            if col_name == "no_own_land":
                continue
            p = np.where(above_line, miss_a.get(col_name, 0.0), miss_b.get(col_name, 0.0))
            if col_name == "emission_eq_t":
                p = p * 0.5
            m = rng.random(n) < p
            if col_name == "emission_eq_t":
                m |= self.no_emission
            if col_name == "assets_wan":
                cols["liabilities_wan"] = np.where(m, np.nan, cols["liabilities_wan"])
            cols[col_name] = np.where(m, np.nan, cols[col_name])
        cols["tenants"] = tenants
        cols["_above"] = above_line
        return cols

    def constants(self) -> dict[str, float]:
        """Calibration multipliers computed on the base year's 规上 firms (see module docstring)."""
        if self._constants is not None:
            return self._constants
        f = self.cal.targets.figures
        sec = self.cal.targets.secondary
        s = self.scale
        y0 = self.base_year
        k: dict[str, float] = {}
        r = self.raw(y0)  # every figure is linear in its multiplier: one pass is enough
        sel = r["_above"] & self.present(y0)
        va = r["value_added_wan"]
        k["va"] = f["value_added_wan"].value * s / np.nansum(va[sel])
        va = va * k["va"]
        giants = np.zeros(self.n, bool)
        giants[: self.n_giants] = True
        land = r["land_mu"]
        has_land = sel & ~np.isnan(land) & ~np.isnan(va)
        need = va[has_land].sum() / f["va_per_mu"].value - land[has_land & giants].sum()
        k["land"] = need / land[has_land & ~giants].sum()
        land = np.where(giants, land, land * k["land"])
        tax = r["tax_wan"] * k["va"]
        pair = sel & ~np.isnan(land) & ~np.isnan(tax)
        k["tax"] = f["tax_per_mu"].value * land[pair].sum() / tax[pair].sum()
        pair = sel & ~np.isnan(r["employees"]) & ~np.isnan(va)
        k["employees"] = va[pair].sum() / (f["labour_productivity"].value * r["employees"][pair].sum())
        pair = sel & ~np.isnan(r["rd_wan"]) & ~np.isnan(r["main_revenue_wan"])
        k["rd"] = f["rd_ratio"].value * r["main_revenue_wan"][pair].sum() / r["rd_wan"][pair].sum()
        pair = sel & ~np.isnan(r["profit_wan"])
        k["profit"] = sec["profit_wan"].value * s / r["profit_wan"][pair].sum()
        self._constants = k
        return k

    def table(self, year: int) -> pa.Table:
        """The enterprise-year table of one year: firms present that year, canonical columns."""
        if year not in self.years:
            raise ValueError(f"year {year} outside the demo years {self.years[0]}–{self.years[-1]}")
        r = self.raw(year, self.constants())
        idx = np.flatnonzero(self.present(year))
        take = pa.array(idx)
        cols: dict[str, pa.Array] = {
            "uscc": self.uscc.take(take),
            "name": self.names.take(take),
            "year": pa.array(np.full(len(idx), year, np.int16)),
            "town": pa.array(np.array(self.town_names, dtype=object)[self.town[idx]], pa.string()),
            "park": _park_array(self.park_names, self.park[idx]),
            "industry_code": pa.array(self.industry_code[idx], pa.string()),
            "above_scale": pa.array(r["_above"][idx]),
        }
        decimals = {"land_mu": 2, "rented_out_mu": 2, "energy_tce": 2, "electricity_wan_kwh": 2, "emission_eq_t": 4}
        for name in CANONICAL_COLUMNS:
            if name in cols:
                continue
            v = r[name][idx]
            typ = ENTERPRISE_YEAR_SCHEMA.field(name).type
            if pa.types.is_integer(typ):
                mask = np.isnan(v) if v.dtype.kind == "f" else v < 0
                vi = np.where(mask, 0, np.rint(np.nan_to_num(v)) if v.dtype.kind == "f" else v).astype(np.int64)
                if name == "employees":
                    vi = np.maximum(vi, 1)
                cols[name] = pa.array(vi, typ, mask=mask)
            else:
                mask = np.isnan(v)
                cols[name] = pa.array(np.round(np.nan_to_num(v), decimals.get(name, 1)), typ, mask=mask)
        return pa.table(cols, schema=ENTERPRISE_YEAR_SCHEMA)

    def enterprises(self) -> pa.Table:
        flag_names = ["high_tech", "new_entrant", "major_project", "rents_out_land", "no_own_land", "exited"]
        matrix = np.column_stack(
            [self.high_tech, self.kind == 3, self.kind == 4, self.rents_out, self.renter, self.exit_year > 0]
        )
        rows, cols = np.nonzero(matrix)  # row-major order
        offsets = np.concatenate([[0], np.cumsum(matrix.sum(axis=1))]).astype(np.int32)
        values = pa.array(np.array(flag_names, dtype=object)[cols], pa.string())
        flags = pa.ListArray.from_arrays(pa.array(offsets), values)
        del rows
        return pa.table(
            {
                "uscc": self.uscc,
                "name": self.names,
                "town": pa.array(np.array(self.town_names, dtype=object)[self.town], pa.string()),
                "park": _park_array(self.park_names, self.park),
                "industry_code": pa.array(self.industry_code, pa.string()),
                "sector": pa.array(np.array(self.sector_keys, dtype=object)[self.sector], pa.string()),
                "ownership": pa.array(self.ownership, pa.string()),
                "foreign_investor": pa.array(self.foreign_investor, pa.string()),
                "fortune500_investor": pa.array(self.fortune500),
                "established_on": pa.array(self.established_ord - dt.date(1970, 1, 1).toordinal(), pa.int32()).cast(
                    pa.date32()
                ),
                "listed": pa.array(self.listed),
                "flags": flags,
                "entry_year": pa.array(self.entry, pa.int16()),
                "exit_year": pa.array(self.exit_year, pa.int16(), mask=self.exit_year == 0),
            },
            schema=ENTERPRISE_SCHEMA,
        )

    def events(self, years: Iterable[int]) -> pa.Table:
        S = self.sectors
        risk = np.array([s.risk for s in S])[self.sector]
        rows: dict[str, list[Any]] = {k: [] for k in EVENT_SCHEMA.names}
        kinds = list(EVENT_KINDS)
        for y in years:
            rng = _rng(self.seed, y, _S_EVENTS)
            p = self.cal.dynamics.event_rate * risk * self.present(y)
            hit = np.flatnonzero(rng.random(self.n) < p)
            env_bias = np.array([s.emission for s in S])[self.sector[hit]] > 1.0
            kind_idx = (rng.random(len(hit)) < np.where(env_bias, 0.65, 0.35)).astype(int)
            day = rng.integers(0, 365, len(hit))
            for i, ki, dd in zip(hit, kind_idx, day, strict=True):
                rows["uscc"].append(self.uscc[int(i)].as_py())
                rows["occurred_on"].append(dt.date(y, 1, 1) + dt.timedelta(days=int(dd)))
                rows["kind"].append(kinds[ki])
                rows["description"].append(EVENT_KINDS[kinds[ki]])
                rows["source"].append(DEMO_SOURCE)
        return pa.table(rows, schema=EVENT_SCHEMA)


def _park_array(names: list[str], idx: np.ndarray) -> pa.Array:
    lookup = np.array([*names, None], dtype=object)
    return pa.array(lookup[np.where(idx < 0, len(names), idx)], pa.string())


# --------------------------------------------------------------------------- public API


def _years(years: Iterable[int], cal: Calibration) -> tuple[int, ...]:
    ys = tuple(sorted(set(int(y) for y in years)))
    bad = [y for y in ys if y not in cal.years]
    if bad:
        raise ValueError(f"demo years are {cal.years[0]}–{cal.years[-1]}; not {bad}")
    return ys


def generate(
    seed: int = 2024, scale: float = 1.0, years: Iterable[int] = range(2020, 2026), calibration: str = CALIBRATIONS[0]
) -> DemoData:
    """Invent a demo county's firms: for 平湖's shape about 741·scale 规上 and 3,000·scale 规下 firms in 2020."""
    cal = load_calibration(calibration)
    ys = _years(years, cal)
    panel = _Panel(cal, seed, scale)
    tables = [panel.table(y) for y in ys]
    ey = pa.concat_tables(tables) if tables else ENTERPRISE_YEAR_SCHEMA.empty_table()
    return DemoData(
        enterprises=panel.enterprises(),
        enterprise_years=ey,
        events=panel.events(ys),
        seed=int(seed),
        scale=float(scale),
        years=ys,
        calibration_id=f"{cal.id} v{cal.version}",
    )


def generate_enterprise_years(seed: int, scale: float, year: int, calibration: str = CALIBRATIONS[0]) -> pa.Table:
    """One year of the demo county, canonical columns (for benchmarks at millions of firms)."""
    cal = load_calibration(calibration)
    _years([year], cal)
    return _Panel(cal, seed, scale).table(int(year))


def _np(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(zero_copy_only=False), dtype=float)


def aggregates(enterprise_years: pa.Table, year: int = 2020, town: str | None = None) -> dict[str, float]:
    """The seven calibration figures of one year over 规上 firms (above_scale true).

    Missing values: every ratio is Σ numerator ÷ Σ denominator over the firms that report both
    (pairwise-complete), so a firm without land still counts in output and value added but not in
    亩均税收; sums skip missing values. Ratios with no reporting firm are NaN.
    """
    t = enterprise_years.filter(pc.and_(pc.equal(enterprise_years["year"], year), pc.fill_null(enterprise_years["above_scale"], False)))
    if town is not None:
        t = t.filter(pc.equal(t["town"], town))
    out = _np(t, "output_wan")
    va = _np(t, "value_added_wan")
    tax = _np(t, "tax_wan")
    land = _np(t, "land_mu")
    emp = _np(t, "employees")
    rd = _np(t, "rd_wan")
    main = _np(t, "main_revenue_wan")

    def ratio(num: np.ndarray, den: np.ndarray) -> float:
        ok = ~np.isnan(num) & ~np.isnan(den) & (den > 0) if len(num) else np.zeros(0, bool)
        d = den[ok].sum()
        return float(num[ok].sum() / d) if d > 0 else float("nan")

    return {
        "above_scale_firms": float(t.num_rows),
        "output_wan": float(np.nansum(out)),
        "value_added_wan": float(np.nansum(va)),
        "tax_per_mu": ratio(tax, land),
        "va_per_mu": ratio(va, land),
        "labour_productivity": ratio(va, emp),
        "rd_ratio": ratio(rd, main),
    }


def calibration_report(
    enterprise_years: pa.Table, scale: float = 1.0, calibration: str = CALIBRATIONS[0]
) -> list[dict[str, Any]]:
    """Target vs generated for the seven base-year figures (extensive targets × scale)."""
    cal = load_calibration(calibration)
    got = aggregates(enterprise_years, cal.targets.year)
    rows = []
    for key, label, unit in CALIBRATION_FIGURES:
        target = cal.targets.figures[key].value * (scale if key in EXTENSIVE else 1.0)
        value = got[key]
        rows.append(
            {
                "key": key,
                "label": label,
                "unit": unit,
                "target": target,
                "value": value,
                "rel_diff": (value - target) / target if target else float("nan"),
            }
        )
    return rows
