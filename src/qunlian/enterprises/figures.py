"""Small pure aggregates for the overview, town and chain pages.

Per-mu figures (万元/亩) divide by land in 亩 and are computed only over firms that report land:
a firm without land would otherwise inflate a town's 亩均.
"""


from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def per_mu(value: float | None, land_mu: float | None) -> float | None:
    """value / land in 万元/亩, or None when either is missing or the land is not positive."""
    if value is None or land_mu is None or land_mu <= 0:
        return None
    return value / land_mu


# --------------------------------------------------------------------------- enterprise counts


def scale_counts(rows: Iterable[tuple[int, bool | None, int]]) -> list[dict[str, int]]:
    """(year, above_scale, count) rows → one dict per year, newest first: above, below, unknown, total."""
    years: dict[int, dict[str, int]] = {}
    for year, above, count in rows:
        d = years.setdefault(year, {"year": year, "above": 0, "below": 0, "unknown": 0, "total": 0})
        d["above" if above is True else "below" if above is False else "unknown"] += count
        d["total"] += count
    return [years[y] for y in sorted(years, reverse=True)]


# --------------------------------------------------------------------------- town aggregates


@dataclass
class YearAggregate:
    year: int
    firms: int = 0
    above_scale: int = 0
    land_mu: float = 0.0
    output_wan: float = 0.0
    tax_wan: float = 0.0
    # sums over firms with land > 0 only, for the per-mu ratios
    _land_base: float = 0.0
    _output_on_land: float = 0.0
    _tax_on_land: float = 0.0

    @property
    def output_per_mu(self) -> float | None:
        return per_mu(self._output_on_land, self._land_base)

    @property
    def tax_per_mu(self) -> float | None:
        return per_mu(self._tax_on_land, self._land_base)


def aggregate_years(rows: Iterable[Mapping[str, Any]]) -> list[YearAggregate]:
    """Per-firm-year rows (year, above_scale, land_mu, output_wan, tax_wan) → totals per year, newest first."""
    out: dict[int, YearAggregate] = {}
    for r in rows:
        a = out.setdefault(r["year"], YearAggregate(year=r["year"]))
        a.firms += 1
        a.above_scale += 1 if r.get("above_scale") else 0
        land, output, tax = r.get("land_mu"), r.get("output_wan"), r.get("tax_wan")
        a.land_mu += land or 0.0
        a.output_wan += output or 0.0
        a.tax_wan += tax or 0.0
        if land is not None and land > 0:
            a._land_base += land
            a._output_on_land += output or 0.0
            a._tax_on_land += tax or 0.0
    return [out[y] for y in sorted(out, reverse=True)]


# --------------------------------------------------------------------------- chain trees


