"""The demo county generator: determinism, valid codes, calibration, realism, no real names."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from pydantic import ValidationError

from qunlian.core.uscc import check_uscc
from qunlian.demo.generator import (
    CANONICAL_COLUMNS,
    Calibration,
    aggregates,
    calibration_report,
    generate,
    generate_enterprise_years,
    load_calibration,
)
from qunlian.demo.names import FORBIDDEN_WORDS, REAL_NAMES, contains_real_name

GBT = Path(__file__).resolve().parents[2] / "src" / "qunlian" / "core" / "reference_data" / "gbt4754-2017.csv"
TOWNS = {"当湖街道", "经开区", "曹桥街道", "新埭镇", "新仓镇", "独山港区", "广陈镇", "林埭镇"}


@pytest.fixture(scope="module")
def county():
    return generate(seed=2024, scale=1.0)


def _col(t: pa.Table, name: str) -> np.ndarray:
    return np.asarray(t[name].to_numpy(zero_copy_only=False), dtype=float)


def test_same_seed_same_tables_other_seed_differs():
    a, b, c = generate(7, 0.3), generate(7, 0.3), generate(8, 0.3)
    assert a.enterprises.equals(b.enterprises)
    assert a.enterprise_years.equals(b.enterprise_years)
    assert a.events.equals(b.events)
    assert not a.enterprise_years.equals(c.enterprise_years)
    assert set(a.enterprises["uscc"].to_pylist()).isdisjoint(c.enterprises["uscc"].to_pylist())


def test_one_year_function_matches_the_panel(county):
    one = generate_enterprise_years(2024, 1.0, 2023)
    assert one.column_names == list(CANONICAL_COLUMNS)
    assert one.equals(county.year(2023))
    with pytest.raises(ValueError):
        generate_enterprise_years(2024, 1.0, 2019)


def test_usccs_valid_unique_in_pinghu(county):
    codes = county.enterprises["uscc"].to_pylist()
    assert len(codes) == len(set(codes))
    bad = [str(r) for r in map(check_uscc, codes) if not r.valid]
    assert not bad, bad[:5]
    assert all(c[2:8] == "330482" for c in codes)
    assert set(county.enterprise_years["uscc"].to_pylist()) <= set(codes)


@pytest.mark.parametrize("seed,scale", [(2024, 1.0), (11, 0.5), (99, 2.0)])
def test_2020_figures_within_2_percent(seed, scale, county):
    data = county if (seed, scale) == (2024, 1.0) else generate(seed, scale, years=[2020])
    for row in calibration_report(data.enterprise_years, scale):
        assert abs(row["rel_diff"]) < 0.02, row


def test_counts_and_skew(county):
    cal = load_calibration()
    t = county.year(2020)
    above = t.filter(t["above_scale"])
    assert above.num_rows == 741
    assert abs((t.num_rows - above.num_rows) - 3000) <= 60
    for y in county.years:
        n = pc.sum(county.year(y)["above_scale"]).as_py()
        assert 700 <= n <= 1000, (y, n)
    out = np.sort(_col(above, "output_wan"))[::-1]
    top = out[: round(0.05 * len(out))].sum() / out.sum()
    assert top > 0.40
    assert (out >= 50e4).sum() == cal.targets.secondary["firms_output_50yi_or_more"].value
    assert _col(above, "main_revenue_wan").min() >= 2000
    profit = _col(above, "profit_wan")
    assert abs(np.nansum(profit) - cal.targets.secondary["profit_wan"].value) / 793000 < 0.02


def test_no_real_company_names(county):
    names = county.enterprises["name"].to_pylist()
    assert len(names) == len(set(names)), "invented names are distinct"
    hits = [(n, contains_real_name(n)) for n in names if contains_real_name(n)]
    assert not hits, hits[:5]
    for real, word in REAL_NAMES.items():
        assert word in real or word == "森精机"
        assert real not in names
    assert all(not any(w in n for w in FORBIDDEN_WORDS) for n in names)
    investors = {i for i in county.enterprises["foreign_investor"].to_pylist() if i}
    assert investors and all("示例" in i for i in investors)


def test_realistic_shape(county):
    t = county.year(2020)
    above = t.filter(t["above_scale"])
    # loss-makers, R&D with many zeros, missing energy and emission values
    assert 0.05 < np.mean(_col(above, "profit_wan") < 0) < 0.30
    rd = _col(t, "rd_wan")
    assert 0.2 < np.mean(rd[~np.isnan(rd)] == 0) < 0.8
    for name in ("energy_tce", "electricity_wan_kwh", "emission_eq_t", "land_mu"):
        assert t[name].null_count > 0, name
    # value added about a fifth of output, plausible productivity and debt
    va, out = _col(above, "value_added_wan"), _col(above, "output_wan")
    assert 0.15 < np.median(va / out) < 0.30
    debt = _col(above, "liabilities_wan") / _col(above, "assets_wan")
    assert 0.35 < np.nanmedian(debt) < 0.65
    # firms renting out land, with tenants
    rented = _col(t, "rented_out_mu")
    assert (rented > 0).sum() > 20
    assert np.all(rented[rented > 0] <= _col(t, "land_mu")[rented > 0])
    assert pc.sum(t["tenants"]).as_py() > 0
    # small firms: small, mostly on at least about 1 mu
    below = t.filter(pc.invert(t["above_scale"]))
    assert _col(below, "main_revenue_wan").max() < 2000
    land = _col(below, "land_mu")
    assert np.mean(land[~np.isnan(land)] >= 0.99) > 0.85
    # towns, parks, industries
    assert set(t["town"].to_pylist()) == TOWNS
    with GBT.open(encoding="utf-8") as f:
        classes = {r["class"] for r in csv.DictReader(f) if r["level"] == "4"}
    codes = set(county.enterprises["industry_code"].to_pylist())
    assert codes <= classes
    assert all(13 <= int(c[:2]) <= 43 for c in codes)
    # foreign firms and Fortune 500 investors
    ent = county.enterprises
    assert pc.sum(ent["fortune500_investor"]).as_py() >= 5
    own = dict(zip(ent["uscc"].to_pylist(), ent["ownership"].to_pylist(), strict=True))
    foreign = np.array([own[u] in ("foreign", "hmt") for u in above["uscc"].to_pylist()])
    assert 0.15 < foreign.mean() < 0.35
    assert 0.35 < out[foreign].sum() / out.sum() < 0.65


def test_entry_exit_events_and_growth(county):
    ent = county.enterprises
    assert pc.sum(pc.greater(ent["entry_year"], 2020)).as_py() > 100
    assert ent["exit_year"].null_count < ent.num_rows
    ev = county.events
    assert 5 <= ev.num_rows <= 100
    assert set(ev["kind"].to_pylist()) == {"safety_accident", "environmental_violation"}
    a20, a25 = aggregates(county.enterprise_years, 2020), aggregates(county.enterprise_years, 2025)
    assert 1.2 < a25["output_wan"] / a20["output_wan"] < 2.2
    for key in ("tax_per_mu", "va_per_mu", "labour_productivity"):
        assert a25[key] > a20[key] * 1.1, key
    # some 2020 small firms have crossed the 规上 line by 2025
    t20, t25 = county.year(2020), county.year(2025)
    small20 = set(t20.filter(pc.invert(t20["above_scale"]))["uscc"].to_pylist())
    assert len(small20 & set(t25.filter(t25["above_scale"])["uscc"].to_pylist())) > 20


def test_towns_efficiency_shape(county):
    fig = {town: aggregates(county.enterprise_years, 2020, town) for town in TOWNS}
    heavy = min(fig["经开区"]["va_per_mu"], fig["独山港区"]["va_per_mu"])
    light = max(fig["当湖街道"]["va_per_mu"], fig["广陈镇"]["va_per_mu"])
    assert heavy > light * 2
    assert fig["经开区"]["output_wan"] > fig["当湖街道"]["output_wan"] * 3


def test_aggregates_skip_missing_pairwise():
    t = pa.table(
        {
            "year": pa.array([2020, 2020, 2020, 2020], pa.int16()),
            "above_scale": [True, True, True, False],
            "town": ["经开区"] * 4,
            "output_wan": [100.0, 200.0, 300.0, 50.0],
            "value_added_wan": [20.0, 40.0, 60.0, 10.0],
            "tax_wan": [5.0, None, 15.0, 1.0],
            "land_mu": [1.0, 2.0, None, 1.0],
            "employees": pa.array([2, None, 3, 1], pa.int32()),
            "rd_wan": [1.0, 2.0, None, 0.0],
            "main_revenue_wan": [100.0, 200.0, 300.0, 50.0],
        }
    )
    a = aggregates(t, 2020)
    assert a["above_scale_firms"] == 3 and a["output_wan"] == 600 and a["value_added_wan"] == 120
    assert a["tax_per_mu"] == pytest.approx(5.0)  # only the first firm has both
    assert a["va_per_mu"] == pytest.approx(60 / 3)
    assert a["labour_productivity"] == pytest.approx(80 / 5)
    assert a["rd_ratio"] == pytest.approx(3 / 300)


def test_calibration_file_is_strict_and_cited():
    cal = load_calibration()
    assert "000" in cal.targets.source and "表1" in cal.targets.source
    assert cal.targets.figures["output_wan"].value == 12178000
    raw = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "src" / "qunlian" / "demo" / "calibration.yaml").read_text(encoding="utf-8")
    )
    raw["targets"]["surprise"] = 1
    with pytest.raises(ValidationError):
        Calibration.model_validate(raw)
