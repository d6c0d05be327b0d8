"""The city demo (issue 10): `qunlian demo --city` puts 平湖 and the invented 秀水县（演示） in one
嘉兴-level installation; a city analyst compares them, a county user of either sees only their own."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner
from web_helpers import PASSWORD, login, make_client

from qunlian.accounts.service import create_demo_users
from qunlian.cli import app
from qunlian.demo.counties import PINGHU, XIUSHUI
from qunlian.demo.load import load_demo
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.per_mu.models import MuniResult, MuniRun
from qunlian.platform.db import make_engine, session_factory, transaction
from qunlian.regions.models import Region
from qunlian.regions.service import root_code

runner = CliRunner()


@dataclass
class City:
    engine: Engine
    url: str


@pytest.fixture(scope="module")
def city(store_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    """The city demo at scale 0.1, made by the CLI exactly as a user runs it; logins get a known password."""
    from demo_store import _fresh_engine

    tmp = tmp_path_factory.mktemp("city")
    fresh, drop = _fresh_engine(tmp)  # SQLite here, a schema of its own on PostgreSQL
    url = fresh.url.render_as_string(hide_password=False)
    fresh.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QUNLIAN_DATABASE_URL", url)
        mp.setenv("QUNLIAN_DATA_DIR", str(tmp / "data"))
        mp.delenv("QUNLIAN_ROOT_REGION", raising=False)
        out = runner.invoke(app, ["demo", "--city", "--scale", "0.1"])
        assert out.exit_code == 0, out.output
        assert "秀水县（演示）" in out.output and "demo-analyst-xiushui" in out.output, out.output
        engine = make_engine(url)
        with transaction(engine) as s:
            create_demo_users(s, password=PASSWORD, counties=(PINGHU.region, XIUSHUI.region))
        yield City(engine, url)
        engine.dispose()
    drop()


def _client(city: City, username: str):
    c = make_client(city.engine)
    assert login(c, username).status_code == 303
    return c


def _region_id(s, code: str) -> int:
    return s.scalar(select(Region.id).where(Region.code == code))


def test_both_counties_sit_under_jiaxing_each_with_its_own_method(city: City):
    with session_factory(city.engine)() as s:
        assert root_code(s) == "330400"
        xs = s.scalars(select(Region).where(Region.code == "demo-xiushui")).one()
        assert (xs.level, s.get(Region, xs.parent_id).code) == ("county", "330400")
        for county in (PINGHU, XIUSHUI):
            rid = _region_id(s, county.region)
            n = s.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.region_id == rid))
            assert n > 50, county
            methods = set(s.scalars(select(MuniRun.method_id).where(MuniRun.region_id == rid)))
            assert methods == {county.method}
        xs_usccs = s.scalars(select(Enterprise.uscc).where(Enterprise.region_id == xs.id)).all()
        assert all(u[2:8] == "330400" for u in xs_usccs)  # an invented county carries 嘉兴's division code
    listing = json.loads(runner.invoke(app, ["regions", "list", "--format", "json"],
                                       env={"QUNLIAN_DATABASE_URL": city.url}).output)
    assert {"code": "demo-xiushui", "parent": "330400", "level": "county"}.items() <= next(
        r for r in listing if r["code"] == "demo-xiushui").items()
    assert {r["code"] for r in listing if r["parent"] == "demo-xiushui"} == {
        "demo-yunxi", "demo-xiushui-edz", "demo-tongjing", "demo-nandang"}


def test_a_county_user_sees_only_their_own_county(city: City):
    with session_factory(city.engine)() as s:
        ph = s.scalar(select(Enterprise.uscc).where(Enterprise.region_id == _region_id(s, "330482")).limit(1))
        xs = s.scalar(select(Enterprise.uscc).where(Enterprise.region_id == _region_id(s, "demo-xiushui")).limit(1))
    c = _client(city, "demo-analyst-xiushui")
    assert c.get(f"/enterprises/{xs}").status_code == 200
    assert c.get(f"/enterprises/{ph}").status_code == 404
    assert c.get("/towns/danghu").status_code == 404
    towns = c.get("/towns").text
    assert "云溪街道" in towns and "当湖街道" not in towns
    p = _client(city, "demo-analyst-330482")
    assert p.get(f"/enterprises/{xs}").status_code == 404 and p.get(f"/enterprises/{ph}").status_code == 200
    city_user = _client(city, "demo-analyst")
    assert city_user.get(f"/enterprises/{xs}").status_code == 200 and city_user.get(f"/enterprises/{ph}").status_code == 200


def _row(html: str, code: str) -> str:
    m = re.search(rf'<tr data-region="{re.escape(code)}">(.*?)</tr>', html, re.S)
    assert m, code
    return m.group(1)


def test_a_city_analyst_compares_the_counties_with_the_stored_figures(city: City):
    c = _client(city, "demo-analyst")
    home = c.get("/").text
    assert 'href="/regions"' in home
    r = c.get("/regions")
    assert r.status_code == 200, r.text
    html = r.text
    assert 'data-testid="compare-chart"' in html and 'data-testid="mix-chart"' in html
    with session_factory(city.engine)() as s:
        year = s.scalar(select(func.max(EnterpriseYear.year)))
        for code in ("330482", "demo-xiushui"):
            total = s.scalar(select(func.sum(EnterpriseYear.output_wan)).join(Enterprise).where(
                Enterprise.region_id == _region_id(s, code), EnterpriseYear.year == year,
                EnterpriseYear.above_scale.is_(True)))
            row = _row(html, code)
            shown = re.search(r'data-col="output">([^<]+)<', row).group(1)
            assert float(shown.replace(",", "")) == pytest.approx(total / 1e4, abs=0.6), (code, shown)
            assert re.search(r'data-col="mix">\s*A \d+', row), row
    # 嘉善县: in the hierarchy, no firms in this store — listed apart, its drill-down answers
    assert 'data-region="330421"' not in html and 'data-region-empty="330421"' in html
    assert c.get("/regions/330421").status_code == 200
    # 002's nine clusters, each on its county; 平湖's 高档数控机床 also from firm data
    clusters = re.findall(r'<tr data-cluster="([a-z-]+)">', html)
    assert len(clusters) == 9 and "pinghu-cnc" in clusters
    cnc = re.search(r'<tr data-cluster="pinghu-cnc">(.*?)</tr>', html, re.S).group(1)
    assert "80" in cnc and re.search(r'data-col="from-firms">\s*2020:', cnc), cnc
    assert 'href="/regions/330482"' in cnc
    # drill-down: every link on it answers
    d = c.get("/regions/demo-xiushui")
    assert d.status_code == 200 and "云溪街道" in d.text and 'data-testid="region-chart"' in d.text
    for href in sorted(set(re.findall(r'href="(/(?:towns|muni/runs|chains|targets)/[^"]+)"', d.text))):
        assert c.get(href).status_code == 200, href


def test_a_county_analyst_compares_within_their_county_only(city: City):
    c = _client(city, "demo-analyst-xiushui")
    html = c.get("/regions").text
    assert 'data-region="demo-xiushui"' in html and 'data-region="330482"' not in html
    assert 'data-cluster=' not in html  # 002's clusters are on other counties
    assert c.get("/regions/330482").status_code == 404
    assert c.get("/regions/demo-xiushui").status_code == 200
    assert c.get("/regions/no-such-region").status_code == 404


@pytest.mark.parametrize("username", ["demo-town", "demo-chain", "demo-enterprise", "demo-department"])
def test_roles_without_the_comparison_see_no_link_and_get_403(city: City, username: str):
    c = _client(city, username)
    assert 'href="/regions"' not in c.get("/").text
    assert c.get("/regions").status_code == 403


def test_the_plain_demo_replaces_only_its_own_county(city: City, tmp_path: Path):
    with session_factory(city.engine)() as s:
        xs = _region_id(s, "demo-xiushui")
        before = set(s.scalars(select(Enterprise.uscc).where(Enterprise.region_id == xs)))
    load_demo(city.engine, seed=2024, scale=0.1, county=PINGHU)
    with session_factory(city.engine)() as s:
        after = set(s.scalars(select(Enterprise.uscc).where(Enterprise.region_id == xs)))
        assert root_code(s) == "330400"
        # the county's 亩均 results are linked again to the new firms with the same USCC
        ph_runs = select(MuniRun.id).where(MuniRun.region_id == _region_id(s, "330482"))
        unlinked = s.scalar(select(func.count()).select_from(MuniResult).where(
            MuniResult.run_id.in_(ph_runs), MuniResult.enterprise_id.is_(None)))
        assert unlinked == 0
    assert before == after and before


@pytest.mark.browser
def test_a_city_analyst_clicks_through_the_comparison_in_a_browser(city: City, browser):
    from browser_support import BROWSER_MARKS, DOC_IMAGES, Visit, serve

    for mark in BROWSER_MARKS:  # Chromium and the web assets present, as for every browser test
        if mark.name == "skipif" and mark.args[0]:
            pytest.skip(mark.kwargs["reason"])
    with serve(city.engine) as base:
        v = Visit(browser, base, "city-analyst")
        v.login("demo-analyst")
        page = v.go("/")
        page.click("nav.nav a[href='/regions']")
        page.wait_for_selector("[data-testid=compare-chart] canvas")
        page.wait_for_selector("[data-testid=clusters-chart] canvas")
        shown = page.locator("[data-testid=compare-table] tr[data-region]").evaluate_all(
            "rows => rows.map(r => r.dataset.region)")
        assert sorted(shown) == ["330482", "demo-xiushui"]
        path = v.shot("regions")
        if os.environ.get("QUNLIAN_UPDATE_DOC_IMAGES") == "1":
            DOC_IMAGES.mkdir(exist_ok=True)
            path.replace(DOC_IMAGES / "regions-compare.png")
        page.click("tr[data-region='demo-xiushui'] a")
        page.wait_for_selector("[data-testid=region-chart] canvas")
        assert page.get_by_test_id("region-name").inner_text() == "秀水县（演示）"
        page.click("[data-testid=region-towns] a >> nth=0")
        assert "/towns/demo-" in page.url
        v.close()


def test_chain_filters_offer_the_users_own_chains_and_take_a_bare_code(city: City):
    xs = _client(city, "demo-analyst-xiushui")
    page = xs.get("/enterprises").text
    assert 'value="demo-xiushui:pv-modules"' in page and "秀水县产业集群（演示） · 光伏组件" in page
    assert 'value="4q8l:' not in page  # another county's chains are not offered
    full = xs.get("/enterprises?chain=demo-xiushui:pv-modules").text
    bare = xs.get("/enterprises?chain=pv-modules").text  # unambiguous: the bare code is enough
    rows = re.findall(r'<tr data-uscc="(\w+)"', full)
    assert rows and rows == re.findall(r'<tr data-uscc="(\w+)"', bare)
    city_page = _client(city, "demo-analyst").get("/enterprises").text
    assert 'value="4q8l:nev"' in city_page and 'value="demo-xiushui:pv-modules"' in city_page
