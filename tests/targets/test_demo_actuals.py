"""Actuals derived from enterprise-year rows (a tiny hand-made county), and invented ones marked so."""

import pytest
from sqlalchemy import select

from qunlian.targets.demo_actuals import (
    DERIVED_SOURCE,
    INVENTED_SOURCE,
    derive_demo_actuals,
    load_demo_actuals,
)
from qunlian.targets.service import plan_status
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.regions.models import Town
from qunlian.targets.models import Actual

CLUSTERS = "pinghu-clusters-2023-2027"

FIRMS = {  # uscc-ish key: town, {year: (tax, va, land, employees, rd, main_revenue, output, energy)}, above_scale
    "E1": ("经开区", {2022: (450, 2500, 10, 100, 50, 1800, 7000, 1000), 2023: (500, 3000, 10, 100, 60, 2000, 8000, 1000)}),
    "E2": ("经开区", {2022: (280, 1000, 10, 50, 40, 2800, 4000, 800), 2023: (300, 1000, 10, 50, 40, 3000, 4000, 800)}),
    "E3": ("当湖街道", {2022: (90, 900, 10, 50, 20, 1000, 3000, 500), 2023: (100, 900, 10, 50, 20, 1000, 3000, 500)}),
}


@pytest.fixture
def county(session):
    towns = {t.name: t for t in session.scalars(select(Town))}
    for i, (key, (town, years)) in enumerate(FIRMS.items()):
        e = Enterprise(uscc=f"91330482MA000000{i}X"[:18], name=f"演示企业{key}", town_id=towns[town].id, is_demo=True)
        session.add(e)
        for y, (tax, va, land, emp, rd, rev, out, en) in years.items():
            e.years.append(EnterpriseYear(year=y, above_scale=True, tax_wan=tax, value_added_wan=va, land_mu=land,
                                          employees=emp, rd_wan=rd, main_revenue_wan=rev, output_wan=out,
                                          energy_tce=en))
    small = Enterprise(uscc="91330482MA0000009X", name="演示小企业", town_id=towns["当湖街道"].id, is_demo=True)
    small.years.append(EnterpriseYear(year=2023, above_scale=False, tax_wan=999, land_mu=1, value_added_wan=1))
    session.add(small)
    session.flush()
    return session


def _pick(rows, code, period, town=None):
    return next(r for r in rows if r["code"] == code and r["period"] == period and r["town"] == town)


def test_derived_values_match_hand_computation(county):
    rows = derive_demo_actuals(county, CLUSTERS)
    r = _pick(rows, "tax-per-mu", "2023")
    assert r["value"] == pytest.approx(900 / 30) and r["how"] == "derived"  # 规下 firm excluded
    assert r["source"] == DERIVED_SOURCE and r["is_estimate"] is True
    assert _pick(rows, "va-per-mu", "2023")["value"] == pytest.approx(4900 / 30)
    assert _pick(rows, "mfg-labour-productivity", "2023")["value"] == pytest.approx(4900 / 200)
    assert _pick(rows, "rd-intensity", "2023")["value"] == pytest.approx(100 * 120 / 6000)
    assert _pick(rows, "t23-tax-per-mu", "2023", "经开区")["value"] == pytest.approx(800 / 20)
    assert _pick(rows, "t23-tax-per-mu", "2023", "当湖街道")["value"] == pytest.approx(100 / 10)
    assert _pick(rows, "t23-va-growth", "2023")["value"] == pytest.approx(100 * (4900 / 4400 - 1))
    assert _pick(rows, "t23-va-growth", "2023", "经开区")["value"] == pytest.approx(100 * (4000 / 3500 - 1))
    # not derivable from firm data: invented, and said so
    inv = _pick(rows, "t23-mfg-investment", "2023", "经开区")
    assert inv["how"] == "invented" and inv["source"] == INVENTED_SOURCE and inv["is_estimate"] is True
    assert 0.85 * 41 <= inv["value"] <= 1.1 * 41
    assert _pick(rows, "cluster-output", "2023")["how"] == "invented"  # no chain membership in this county
    # qualitative targets ("完成嘉兴下达任务") are never computed
    assert not [r for r in rows if r["code"] in ("energy-intensity-cut", "co2-intensity-cut")]
    assert not derive_demo_actuals(county, CLUSTERS, invent=False) == rows
    assert all(r["how"] == "derived" for r in derive_demo_actuals(county, CLUSTERS, invent=False))


def test_load_is_idempotent_and_feeds_status(county):
    res = load_demo_actuals(county, CLUSTERS)
    assert res["added"] == res["derived"] + res["invented"] > 0
    again = load_demo_actuals(county, CLUSTERS)
    assert again["added"] == 0 and again["unchanged"] == res["added"]
    assert all(a.is_estimate for a in county.scalars(select(Actual)))
    r = {x["code"]: x for x in plan_status(county, CLUSTERS, as_of="2023")}["tax-per-mu"]
    assert r["actual"] == pytest.approx(30) and r["completion"] == pytest.approx(30 / 35, abs=1e-4)
    assert r["is_estimate"] is True and r["source"] == DERIVED_SOURCE
