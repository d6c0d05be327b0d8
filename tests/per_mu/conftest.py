from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from per_mu_cases import CASES, assert_clean, firms_table, load_case  # noqa: F401  (the tests import them from here)

@pytest.fixture
def synthetic():
    return make_synthetic


def make_synthetic(n: int = 300, year: int = 2022, seed: int = 7, years: tuple[int, ...] | None = None) -> pa.Table:
    """A small random county: 规上/规下, towns, some missing, zero and negative figures."""
    import random

    rnd = random.Random(seed)
    towns = ["当湖街道", "钟埭街道", "曹桥街道", "新埭镇", "新仓镇", "独山港镇", "乍浦镇", "广陈镇"]
    rows: dict[str, list[Any]] = {k: [] for k in ["uscc", "name", "year", "town", "industry_code", "above_scale", "land_mu", "tax_wan",
                                                   "value_added_wan", "energy_tce", "electricity_wan_kwh", "emission_eq_t", "employees",
                                                   "rd_wan", "main_revenue_wan", "tenants", "negative_events"]}
    for y in years or (year,):
        for i in range(n):
            r = random.Random(seed * 100003 + i * 7 + y)
            big = r.random() < 0.4
            land = r.choice([0.0, 2.0, 4.0]) if r.random() < 0.05 else round(r.uniform(3, 120 if big else 20), 1)
            va = r.lognormvariate(7.5 if big else 5.5, 0.8) * (1 + (y - year) * 0.03)
            rows["uscc"].append(f"9133048{i:011d}")
            rows["name"].append(f"示例企业{i}")
            rows["year"].append(y)
            rows["town"].append(towns[i % 8])
            rows["industry_code"].append(r.choice(["3311", "3922", "2927", "3670", "1713"]))
            rows["above_scale"].append(big)
            rows["land_mu"].append(land)
            rows["tax_wan"].append(-r.uniform(0, 20) if r.random() < 0.02 else va * r.uniform(0.05, 0.3))
            rows["value_added_wan"].append(None if r.random() < 0.02 else va)
            rows["energy_tce"].append(0.0 if r.random() < 0.03 else va / r.uniform(0.3, 6))
            rows["electricity_wan_kwh"].append(0.0 if r.random() < 0.03 else va / r.uniform(0.5, 8))
            rows["emission_eq_t"].append(None if r.random() < 0.3 else va / r.uniform(1000, 9000))
            rows["employees"].append(0 if r.random() < 0.02 else int(va / r.uniform(10, 30)) + 1)
            rows["rd_wan"].append(va * r.uniform(0, 0.08))
            rows["main_revenue_wan"].append(va * r.uniform(3, 5))
            rows["tenants"].append(r.choice([0, 0, 0, 1, 2, 3]))
            rows["negative_events"].append("safety_accident" if r.random() < 0.02 else None)
    return pa.table({k: pa.array(v) for k, v in rows.items()})
