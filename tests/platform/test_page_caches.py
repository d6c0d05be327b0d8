"""The 驾驶舱, enterprise list, profile, chain and plan pages keep their figures between views
(qunlian.platform.cache): a write must show at once, and one scope's figures never reach another.

The store is the demo county at scale 0.1 with plans, actuals, a 亩均 run and one user per role
(demo_store: a copy of the session's demo county), on SQLite or on PostgreSQL when QUNLIAN_TEST_DATABASE_URL
points at one. Every test first views a page (filling the cache), writes through the capability's own
API, and views again. Expected figures are read from the store, never written into the test.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from demo_store import CLUSTERS, MFG14, DemoStore, demo_store, client_for
from web_helpers import csrf_of

from qunlian.core.uscc import make_uscc
from qunlian.platform.db import session_factory, transaction
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.regions.models import Town


@pytest.fixture(scope="module")
def demo(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStore]:
    store, drop = demo_store(tmp_path_factory, "page-caches")
    yield store
    drop()


def kpi(html: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">([^<]*)<', html).group(1)


def total(html: str) -> int:
    return int(re.search(r"共 ([\d,]+) 家企业", html).group(1).replace(",", ""))


def count(demo: DemoStore, stmt) -> int:
    with session_factory(demo.engine)() as s:
        return s.scalar(stmt) or 0


def import_rows(demo: DemoStore, tmp_path: Path, rows: list[list]) -> None:
    from qunlian.enterprises.enterprise_years import import_enterprise_years

    path = tmp_path / "firms.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([["uscc", "name", "year", "town", "industry_code", "output_wan", "tax_wan", "land_mu"],
                                 *rows])
    import_enterprise_years(demo.engine, path, actor="test")


# --------------------------------------------------------------------------- scopes


def test_scopes_never_share_cached_figures(demo):
    """Views by the analyst fill the caches first; the town user's pages still count only its town."""
    analyst, town = client_for(demo, "analyst1"), client_for(demo, "town1")
    all_firms = count(demo, select(func.count()).select_from(Enterprise))
    town_id = count(demo, select(Town.id).where(Town.code == demo.town_code))
    town_firms = count(demo, select(func.count()).select_from(Enterprise).where(Enterprise.town_id == town_id))
    assert 0 < town_firms < all_firms
    for _ in range(2):  # the second round is served from the caches
        assert kpi(analyst.get("/").text, "kpi-enterprises") == str(all_firms)
        assert kpi(town.get("/").text, "kpi-enterprises") == str(town_firms)
        assert total(analyst.get("/enterprises").text) == all_firms
        assert total(town.get("/enterprises").text) == town_firms
        a_tree, t_tree = analyst.get("/chains/4q8l").text, town.get("/chains/4q8l").text
        root = r'<tr data-node="4q8l".*?data-col="firms">(\d+)<'
        assert int(re.search(root, t_tree, re.S).group(1)) < int(re.search(root, a_tree, re.S).group(1))
    # a firm of another town: the analyst's cached profile is never served to the town user
    with session_factory(demo.engine)() as s:
        other = s.scalar(select(Enterprise.uscc).where(Enterprise.town_id != town_id).order_by(Enterprise.uscc).limit(1))
    assert analyst.get(f"/enterprises/{other}").status_code == 200
    assert town.get(f"/enterprises/{other}").status_code == 404
    assert town.get(f"/enterprises/{other}/muni-levers").status_code == 404
    api = town.get("/api/enterprises?page_size=500")  # no token: the API wants its own login
    assert api.status_code == 401


# --------------------------------------------------------------------------- writes show at once


def test_import_shows_at_once_on_home_list_and_profile(demo, tmp_path):
    analyst = client_for(demo, "analyst1")
    before_home, before_list = analyst.get("/").text, analyst.get("/enterprises?q=缓存").text
    firms = int(kpi(before_home, "kpi-enterprises"))
    assert total(before_list) == 0
    with session_factory(demo.engine)() as s:
        year = s.scalar(select(func.max(EnterpriseYear.year)))
    town_year = rf'<tr data-year="{year}"><td>{year}</td><td class="num">(\d+)<'
    town_firms = int(re.search(town_year, analyst.get(f"/towns/{demo.town_code}").text).group(1))
    new = make_uscc("330482", "QC000001")
    import_rows(demo, tmp_path, [[new, "平湖缓存测试有限公司", year, demo.town_code, "3976", 1234.5, 67.8, 12.0]])
    assert kpi(analyst.get("/").text, "kpi-enterprises") == str(firms + 1)
    assert int(re.search(town_year, analyst.get(f"/towns/{demo.town_code}").text).group(1)) == town_firms + 1
    assert total(analyst.get("/enterprises?q=缓存").text) == 1
    profile = analyst.get(f"/enterprises/{new}").text
    assert 'data-figure="tax_wan"' in profile and "67.80" in profile
    # a correction of the same firm-year (an update in place) shows too
    import_rows(demo, tmp_path, [[new, "平湖缓存测试有限公司", year, demo.town_code, "3976", 1234.5, 99.25, 12.0]])
    assert "99.25" in analyst.get(f"/enterprises/{new}").text
    row = re.search(rf'<tr data-uscc="{new}">.*?</tr>', analyst.get("/enterprises?q=缓存").text, re.S).group(0)
    assert 'data-col="tax_wan">99.25<' in row


def test_new_chain_link_shows_at_once_on_the_chain_page(demo):
    analyst = client_for(demo, "analyst1")
    cell = r'<tr data-node="{code}".*?data-col="firms">(\d+)<'
    with session_factory(demo.engine)() as s:
        node = s.scalar(select(ChainNode).where(ChainNode.system == "4q8l", ChainNode.level == "chain")
                        .order_by(ChainNode.seq).limit(1))
        linked = select(EnterpriseChainNode.enterprise_id).where(EnterpriseChainNode.node_id == node.id)
        firm = s.scalar(select(Enterprise.id).where(Enterprise.id.not_in(linked)).order_by(Enterprise.id).limit(1))
        code = node.code
    before = int(re.search(cell.format(code=code), analyst.get("/chains/4q8l").text, re.S).group(1))
    with transaction(demo.engine) as s:
        s.add(EnterpriseChainNode(enterprise_id=firm, node_id=node.id, source="manual"))
    after = int(re.search(cell.format(code=code), analyst.get("/chains/4q8l").text, re.S).group(1))
    assert after == before + 1


def test_muni_adjustment_shows_at_once_on_home_and_profile(demo):
    from qunlian.per_mu.runs import adjust, list_runs, run_results

    analyst = client_for(demo, "analyst1")
    with session_factory(demo.engine)() as s:
        run = list_runs(s)[0]
        rows = run_results(s, run.id).to_pylist()
    firm = sorted(r["uscc"] for r in rows if r["final_grade"] == "D" and not r.get("tenant_note"))[0]
    mix = r'data-grade="{g}"><strong>(\d+)</strong>'
    home = analyst.get("/").text
    a0, d0 = (int(re.search(mix.format(g=g), home).group(1)) for g in ("A", "D"))
    assert 'data-col="final_grade"><span class="grade grade-D">' in analyst.get(f"/enterprises/{firm}").text
    run_page, regions = analyst.get(f"/muni/runs/{run.id}").text, analyst.get(f"/regions?year={run.year}").text
    run_a0 = int(kpi(run_page, "kpi-grade-A").replace(",", ""))
    region_mix = r'<tr data-region="330482".*?data-col="mix">([^<]*)<'
    county_a0 = int(re.search(r"A (\d+)", re.search(region_mix, regions, re.S).group(1)).group(1))
    with transaction(demo.engine) as s:
        adjust(s, run.id, firm, reason="复核后调档（测试）", actor="test", grade="A")
    home = analyst.get("/").text
    assert int(re.search(mix.format(g="A"), home).group(1)) == a0 + 1
    assert int(re.search(mix.format(g="D"), home).group(1)) == d0 - 1
    # the run page's kept summary and the county comparison follow too
    assert int(kpi(analyst.get(f"/muni/runs/{run.id}").text, "kpi-grade-A").replace(",", "")) == run_a0 + 1
    regions = analyst.get(f"/regions?year={run.year}").text
    assert int(re.search(r"A (\d+)", re.search(region_mix, regions, re.S).group(1)).group(1)) == county_a0 + 1
    assert 'data-col="final_grade"><span class="grade grade-A">' in analyst.get(f"/enterprises/{firm}").text
    grade_a = analyst.get(f"/enterprises?grade=A&year={run.year}&q={firm}").text
    assert total(grade_a) == 1


def test_new_actual_shows_at_once_on_home_and_plan_page(demo):
    from qunlian.targets.service import add_actual
    from qunlian.targets.service import latest_period, plan_status

    analyst = client_for(demo, "analyst1")
    with session_factory(demo.engine)() as s:
        period = latest_period(s, MFG14)
        row = next(r for r in plan_status(s, MFG14, as_of=period) if r["table"] == "表1" and r["actual"] is not None
                   and r["period"] == period)
    cell = rf'<tr data-indicator="{row["code"]}".*?data-col="actual">([^<]*)<'
    assert re.search(cell, analyst.get(f"/targets/{MFG14}").text, re.S)
    analyst.get("/")
    new = round(row["actual"] * 1.5 + 1, 2)
    with transaction(demo.engine) as s:
        add_actual(s, MFG14, row["code"], period, new, entered_by="test", source="缓存测试")
    want = f"{new:,.2f}"
    assert re.search(cell, analyst.get(f"/targets/{MFG14}").text, re.S).group(1) == want
    home = analyst.get("/").text.split(f'data-plan="{MFG14}"')[1]
    assert re.search(cell, home, re.S).group(1) == want


def test_task_due_year_and_closure_show_at_once_on_home(demo):
    from qunlian.targets.service import close_task
    from qunlian.targets.models import Plan, PlanTask

    analyst = client_for(demo, "analyst1")
    before = int(kpi(analyst.get("/").text, "overdue-count"))
    with transaction(demo.engine) as s:  # a task whose due year has passed (rows updated in place)
        task = s.scalar(select(PlanTask).join(Plan).where(Plan.code == CLUSTERS, PlanTask.status != "closed")
                        .order_by(PlanTask.seq.desc()).limit(1))
        task.due_year, seq = 2020, task.seq
    assert int(kpi(analyst.get("/").text, "overdue-count")) == before + 1
    status = rf'data-seq="{seq}" data-status="(\w+)"'
    assert re.search(status, analyst.get(f"/tasks?plan={CLUSTERS}").text).group(1) != "closed"
    with transaction(demo.engine) as s:
        close_task(s, CLUSTERS, seq, closed_by="test", note="已完成（缓存测试）")
    assert int(kpi(analyst.get("/").text, "overdue-count")) == before
    assert re.search(status, analyst.get(f"/tasks?plan={CLUSTERS}").text).group(1) == "closed"  # the kept ledger too


def test_levers_load_on_demand(demo):
    """The profile no longer computes the levers; the partial does, with the profile's scope."""
    from qunlian.per_mu.runs import list_runs, run_results

    town = client_for(demo, "town1")
    with session_factory(demo.engine)() as s:
        run = list_runs(s)[0]
        town_name = s.scalar(select(Town.name).where(Town.code == demo.town_code))
        rows = run_results(s, run.id).to_pylist()
    firm = sorted(r["uscc"] for r in rows if r["town"] == town_name and r["final_grade"] in ("B", "C", "D")
                  and not r.get("tenant_note"))[0]
    page = town.get(f"/enterprises/{firm}").text
    assert 'data-testid="muni-levers-slot"' in page and 'data-lever="tax"' not in page
    part = town.get(f"/enterprises/{firm}/muni-levers", headers={"HX-Request": "true"})
    assert part.status_code == 200 and 'data-lever="tax"' in part.text and "<html" not in part.text
    token = csrf_of(page)
    sim = town.post(f"/muni/simulate/{firm}", data={"csrf_token": token, "run": run.id, "tax_wan": "1"})
    assert sim.status_code == 200 and 'data-testid="sim-score"' in sim.text


def test_logins_keep_the_fingerprint_writes_change_it(demo, tmp_path):
    """A login writes an audit line but changes no figure: the caches stay; an audited write does not."""
    from qunlian.overview.dashboard import _HOME
    from qunlian.platform.db import audit

    def fp():
        with session_factory(demo.engine)() as s:
            return _HOME.fingerprint(s)

    before = fp()
    client_for(demo, "town1")  # auth.login
    assert fp() == before
    with transaction(demo.engine) as s:
        audit(s, "test", "reference.load", entity="plans")  # e.g. plans reloaded in place
    assert fp() != before


def test_new_town_actual_shows_at_once_on_the_towns_page(demo):
    """The towns page keeps its tables per plan, period and indicator; a town's new actual shows."""
    from qunlian.targets.service import add_actual, decomposed_indicators

    analyst = client_for(demo, "analyst1")
    page = analyst.get(f"/targets/{CLUSTERS}/towns").text
    period = re.search(r'name="period".*?<option value="([^"]+)" selected', page, re.S).group(1)
    with session_factory(demo.engine)() as s:
        ind = decomposed_indicators(s, CLUSTERS)[0]
        town = s.scalar(select(Town).where(Town.code == demo.town_code))
    cell = rf'<tr data-indicator="{ind["code"]}">.*?<td class="num" data-town="{town.code}">([^<]*)<'
    assert re.search(cell, page, re.S)
    before = re.search(cell, page, re.S).group(1)
    value = 87.65  # within every unit's plausible range (% included)
    with transaction(demo.engine) as s:
        add_actual(s, CLUSTERS, ind["code"], period, value, entered_by="test", town=town.name, source="缓存测试")
    after = re.search(cell, analyst.get(f"/targets/{CLUSTERS}/towns?period={period}").text, re.S).group(1)
    assert after != before and after.startswith("87.65")
