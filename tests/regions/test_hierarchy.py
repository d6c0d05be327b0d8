"""The region hierarchy (issue 10): the shipped data, bad input refused with reasons, two counties in
one store kept apart (import, scope, web and API), and a single-county store upgraded in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from io_helpers import write_csv
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from qunlian.accounts.models import User
from qunlian.accounts.service import add_user, load_principal
from qunlian.cli import app
from qunlian.core.errors import ValidationFailed
from qunlian.core.uscc import make_uscc
from qunlian.enterprises.enterprise_years import import_enterprise_years
from qunlian.enterprises.models import Enterprise
from qunlian.enterprises.service import enterprise_filter, get_enterprise
from qunlian.platform.db import alembic_config, session_factory, transaction
from qunlian.regions.models import Region, Town
from qunlian.regions.service import (
    RegionDataError,
    find_region,
    load_hierarchy,
    load_towns,
    parse_hierarchy,
    parse_town_file,
    read_hierarchy,
    read_town_file,
    region_listing,
)
from qunlian.targets.plans.loader import PlanDataError, load_plan, load_reference_data, plan_as_dict
from qunlian.targets.plans.schema import PlanFile
from web_helpers import PASSWORD, login, make_client

# an invented second county's towns for the tests (嘉善县 is real: its code is used, its towns are not)
JIASHAN_TOWNS = """
region: 嘉善县
sources:
  - {title: test towns, note: invented for the tests}
towns:
  - {code: t-jiashan-a, name: 甲镇, kind: 镇, seq: 1}
  - {code: t-jiashan-b, name: 当湖街道, kind: 街道, seq: 2}  # the same name as a 平湖 town: allowed per county
"""

HEADER = ["统一社会信用代码", "企业名称", "年度", "所属镇街", "是否规上", "用地面积（亩）", "税收（万元）"]


def _pinghu(i: int) -> str:
    return make_uscc("330482", f"{i:08d}")


def _jiashan(i: int) -> str:
    return make_uscc("330421", f"{i:08d}")


@pytest.fixture
def two_counties(engine: Engine, tmp_path: Path) -> Engine:
    """平湖 (its shipped towns) and 嘉善 (two invented towns), each with two firms imported into it."""
    with transaction(engine) as s:
        load_hierarchy(s)
        load_towns(s, read_town_file(), "pinghu.yaml")
        load_towns(s, parse_town_file(JIASHAN_TOWNS, "jiashan.yaml"), "jiashan.yaml")
    ping = write_csv(tmp_path / "ping.csv", [HEADER, [_pinghu(1), "平湖甲测试有限公司", 2023, "当湖街道", "是", 10, 100],
                                             [_pinghu(2), "平湖乙测试有限公司", 2023, "新埭镇", "否", 5, 20]])
    jia = write_csv(tmp_path / "jia.csv", [HEADER, [_jiashan(1), "嘉善甲测试有限公司", 2023, "甲镇", "是", 8, 90],
                                           [_jiashan(2), "嘉善乙测试有限公司", 2023, "当湖街道", "是", 4, 30]])
    import_enterprise_years(engine, ping)  # the root region (平湖) by default
    import_enterprise_years(engine, jia, region="330421")
    return engine


def _user(engine: Engine, username: str, role: str, **scope) -> int:
    with transaction(engine) as s:
        return add_user(s, username=username, password=PASSWORD, role=role, **scope).id


# --------------------------------------------------------------------------- the data


def test_the_shipped_hierarchy_has_the_three_levels_and_both_zones():
    h = read_hierarchy()
    by = {r.code: r for r in h.regions}
    assert by["330000"].level == "province" and by["330400"].parent == "330000"
    assert by["330482"].name == "平湖市" and by["330482"].parent == "330400" and h.root == "330482"
    assert {by["jiaxing-etdz"].level, by["jiaxing-port"].level} == {"zone"}
    assert by["jiaxing-port"].parent == "330400" and by["jiaxing-port"].division_code is None


@pytest.mark.parametrize(("text", "reason"), [
    ("- {code: '330400', name: 嘉兴市, level: city, parent: '339999'}", "unknown parent '339999'"),
    ("- {code: '330400', name: 嘉兴市, level: city, parent: '330000'}\n"
     "  - {code: '330400', name: 又一个, level: city, parent: '330000'}", "duplicate regions.code"),
    ("- {code: '330482', name: 平湖市, level: county, parent: '330000'}", "a county cannot sit under a province"),
])
def test_a_bad_hierarchy_is_refused_with_the_reason(text: str, reason: str):
    body = ("root: '330000'\nsources: [{title: t, note: n}]\nregions:\n"
            "  - {code: '330000', name: 浙江省, level: province}\n  " + text + "\n")
    with pytest.raises(RegionDataError) as err:
        parse_hierarchy(body, "bad.yaml")
    assert reason in str(err.value) and "bad.yaml" in str(err.value)


def test_a_root_that_is_not_listed_is_refused():
    with pytest.raises(RegionDataError, match="root '330482' is not among the regions"):
        parse_hierarchy("root: '330482'\nsources: [{title: t, note: n}]\nregions:\n"
                        "  - {code: '330000', name: 浙江省, level: province}\n", "bad.yaml")


def test_towns_of_a_region_that_does_not_exist_are_refused(engine: Engine):
    with transaction(engine) as s:
        load_hierarchy(s)
        spec = parse_town_file(JIASHAN_TOWNS.replace("region: 嘉善县", "region: 不存在县"), "x.yaml")
        with pytest.raises(RegionDataError, match="不存在县"):
            load_towns(s, spec, "x.yaml")


def test_a_plan_attached_to_a_region_that_does_not_exist_is_refused(engine: Engine, monkeypatch):
    from qunlian.targets.plans import loader

    real = loader.read_plan_file("pinghu-mfg-14th")
    fake = PlanFile.model_validate({**real.model_dump(), "region": "不存在市"})
    monkeypatch.setattr(loader, "read_plan_file", lambda code: fake)
    with transaction(engine) as s:
        load_hierarchy(s)
        load_towns(s, read_town_file(), "pinghu.yaml")
        with pytest.raises(PlanDataError, match="不存在市"):
            load_plan(s, "pinghu-mfg-14th")


def test_plans_sit_on_their_regions_and_show_the_region_code(engine: Engine):
    with transaction(engine) as s:
        load_reference_data(s)
        from qunlian.targets.models import Plan

        codes = {p.code: s.get(Region, p.region_id).code for p in s.scalars(select(Plan))}
        assert codes == {"pinghu-mfg-14th": "330482", "pinghu-clusters-2023-2027": "330482",
                         "jiaxing-clusters-2022": "330400", "zhejiang-amb-14th": "330000"}
        plan = s.scalar(select(Plan).where(Plan.code == "jiaxing-clusters-2022"))
        assert plan_as_dict(s, plan, with_items=False)["region_code"] == "330400"
        # towns are under 平湖, chain systems on their regions
        assert {s.get(Region, t.region_id).code for t in s.scalars(select(Town))} == {"330482"}


def test_regions_list_json_is_the_contract(cli_env):
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    out = runner.invoke(app, ["regions", "list", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert all({"code", "name", "level", "parent"} <= set(r) for r in rows)
    by = {r["code"]: r for r in rows}
    assert by["330000"]["parent"] is None and by["330400"]["parent"] == "330000"
    assert by["330482"] == {**by["330482"], "level": "county", "parent": "330400", "name": "平湖市"}
    assert by["danghu"]["level"] == "town" and by["danghu"]["parent"] == "330482"
    assert by["jingkai"]["level"] == "zone" and by["jiaxing-port"]["level"] == "zone"
    assert {r["level"] for r in rows} == {"province", "city", "county", "town", "zone"}
    # parents come before their children
    seen: set[str] = set()
    for r in rows:
        assert r["parent"] is None or r["parent"] in seen
        seen.add(r["code"])


# --------------------------------------------------------------------------- two counties in one store


def test_each_firm_belongs_to_its_towns_county(two_counties: Engine):
    with session_factory(two_counties)() as s:
        region = {e.uscc: s.get(Region, e.region_id).code for e in s.scalars(select(Enterprise))}
        assert region == {_pinghu(1): "330482", _pinghu(2): "330482", _jiashan(1): "330421", _jiashan(2): "330421"}
        # "当湖街道" exists in both counties; the import's region decided which one
        t = s.get(Town, s.scalar(select(Enterprise.town_id).where(Enterprise.uscc == _jiashan(2))))
        assert t.code == "t-jiashan-b"
        listing = {r["code"]: r for r in region_listing(s)}
        assert listing["t-jiashan-b"]["parent"] == "330421"


def test_a_town_of_another_county_is_refused_naming_the_county(two_counties: Engine, tmp_path: Path):
    bad = write_csv(tmp_path / "bad.csv", [HEADER, [_pinghu(7), "平湖丙测试有限公司", 2023, "新埭镇", "是", 3, 9]])
    with pytest.raises(ValidationFailed) as err:
        import_enterprise_years(two_counties, bad, region="嘉善县")
    (p,) = err.value.problems
    assert (p.row, p.column, p.value) == (2, "所属镇街", "新埭镇") and "平湖市" in p.message and "嘉善县" in p.message


def test_a_firm_of_another_county_is_refused_not_moved(two_counties: Engine, tmp_path: Path):
    again = write_csv(tmp_path / "again.csv", [HEADER, [_pinghu(1), "平湖甲测试有限公司", 2024, "甲镇", "是", 10, 1]])
    with pytest.raises(ValidationFailed, match="企业已登记在平湖市"):
        import_enterprise_years(two_counties, again, region="330421")
    with session_factory(two_counties)() as s:
        assert s.get(Region, s.scalar(select(Enterprise.region_id).where(Enterprise.uscc == _pinghu(1)))).code == "330482"


def test_a_uscc_registered_elsewhere_is_a_note_not_a_refusal(two_counties: Engine, tmp_path: Path):
    moved = write_csv(tmp_path / "moved.csv", [HEADER, [_jiashan(9), "迁入测试有限公司", 2023, "林埭镇", "是", 6, 12]])
    result = import_enterprise_years(two_counties, moved)
    assert result.enterprises_created == 1
    assert any("登记地代码" in n and _jiashan(9) in n for n in result.notes)


def test_an_unknown_region_is_refused(two_counties: Engine, tmp_path: Path):
    f = write_csv(tmp_path / "x.csv", [HEADER, [_pinghu(8), "平湖丁测试有限公司", 2023, "新埭镇", "是", 3, 9]])
    with pytest.raises(ValidationFailed, match="没有地区 '339999'"):
        import_enterprise_years(two_counties, f, region="339999")


def test_a_new_firm_without_a_town_in_a_city_import_is_refused(two_counties: Engine, tmp_path: Path):
    f = write_csv(tmp_path / "x.csv", [HEADER, [_pinghu(8), "平湖丁测试有限公司", 2023, "", "是", 3, 9]])
    with pytest.raises(ValidationFailed, match="无法确定它属于嘉兴市的哪个县"):
        import_enterprise_years(two_counties, f, region="330400")


def test_scopes_follow_the_region(two_counties: Engine):
    ids = {
        "city": _user(two_counties, "city1", "analyst", region="330400"),
        "jiashan": _user(two_counties, "jiashan1", "analyst", region="330421"),
        "pinghu": _user(two_counties, "pinghu1", "analyst", region="平湖市"),
        "root": _user(two_counties, "root1", "analyst"),
        "town": _user(two_counties, "town1", "town", town="t-jiashan-a"),
        "dept": _user(two_counties, "dept1", "department", department="县经信局", region="330421"),
    }
    with transaction(two_counties) as s:
        from qunlian.accounts.grants import grant_access

        grant_access(s, username="dept1", scope="all", reason="测试：全部企业", actor="test")
    expected = {
        "city": {_pinghu(1), _pinghu(2), _jiashan(1), _jiashan(2)},
        "root": {_pinghu(1), _pinghu(2), _jiashan(1), _jiashan(2)},
        "jiashan": {_jiashan(1), _jiashan(2)},
        "pinghu": {_pinghu(1), _pinghu(2)},
        "town": {_jiashan(1)},
        "dept": {_jiashan(1), _jiashan(2)},  # "all firms" of its own region
    }
    with session_factory(two_counties)() as s:
        for key, uid in ids.items():
            p = load_principal(s, uid)
            assert set(s.scalars(select(Enterprise.uscc).where(enterprise_filter(p)))) == expected[key], key
        jiashan = load_principal(s, ids["jiashan"])
        assert get_enterprise(s, jiashan, _pinghu(1)) is None
        # a town user's region is its town's county
        assert s.get(User, ids["town"]).region_id == find_region(s, "330421").id


def test_a_county_user_gets_404_for_another_countys_firm_and_town(two_counties: Engine):
    _user(two_counties, "jiashan1", "analyst", region="330421")
    _user(two_counties, "city1", "analyst", region="330400")
    client = make_client(two_counties)
    assert login(client, "jiashan1").status_code == 303
    assert client.get(f"/enterprises/{_jiashan(1)}").status_code == 200
    assert client.get(f"/enterprises/{_pinghu(1)}").status_code == 404
    assert client.get("/towns/xindai").status_code == 404
    assert client.get("/towns/t-jiashan-a").status_code == 200
    towns = client.get("/towns").text
    assert "甲镇" in towns and "新埭镇" not in towns
    listed = client.get("/enterprises").text
    assert "嘉善甲测试有限公司" in listed and "平湖甲测试有限公司" not in listed

    city = make_client(two_counties)
    assert login(city, "city1").status_code == 303
    assert city.get(f"/enterprises/{_pinghu(1)}").status_code == 200
    assert city.get(f"/enterprises/{_jiashan(1)}").status_code == 200


def test_the_api_hides_another_countys_firm(two_counties: Engine):
    _user(two_counties, "jiashan1", "analyst", region="330421")
    client = make_client(two_counties)
    token = client.post("/api/token", json={"username": "jiashan1", "password": PASSWORD}).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/enterprises/{_jiashan(1)}", headers=h).status_code == 200
    assert client.get(f"/api/enterprises/{_pinghu(1)}", headers=h).status_code == 404


def test_per_mu_runs_are_per_county(two_counties: Engine):
    from qunlian.per_mu.engine import EvaluationError
    from qunlian.per_mu.service import evaluate_store

    with pytest.raises(EvaluationError, match="不是县"):
        evaluate_store(two_counties, "demo-pinghu", 2023, region="330400")
    run = evaluate_store(two_counties, "demo-pinghu", 2023, region="330421")
    with session_factory(two_counties)() as s:
        assert run.region_id == find_region(s, "330421").id and run.firms == 2
    _user(two_counties, "pinghu1", "analyst", region="330482")
    client = make_client(two_counties)
    assert login(client, "pinghu1").status_code == 303
    assert client.get(f"/muni/runs/{run.id}").status_code == 404


# --------------------------------------------------------------------------- upgrade in place


def test_a_single_county_store_of_schema_0005_moves_under_pinghu(db_url: str):
    eng = sa.create_engine(db_url)
    command.upgrade(alembic_config(eng), "0005")
    with eng.begin() as c:
        c.execute(sa.text("INSERT INTO towns (code, name, kind, aliases, seq) VALUES ('danghu', '当湖街道', '街道', '[]', 1)"))
        town = c.scalar(sa.text("SELECT id FROM towns"))
        c.execute(sa.text("INSERT INTO enterprises (uscc, name, town_id, flags, is_demo, fortune500_investor, listed) "
                          "VALUES (:u, '升级测试有限公司', :t, '[]', false, false, false)"), {"u": _pinghu(1), "t": town})
        for code, region in (("pinghu-mfg-14th", "平湖市"), ("jiaxing-clusters-2022", "嘉兴市")):
            c.execute(sa.text("INSERT INTO plans (code, title, issuer, level, region, start_year, end_year, source, notes) "
                              "VALUES (:c, 't', 'i', 'county', :r, 2021, 2025, 's', '')"), {"c": code, "r": region})
        c.execute(sa.text("INSERT INTO chain_nodes (system, code, level, name, seq, industry_codes, attributes, source) "
                          "VALUES ('4q8l', '4q8l', 'system', '四群八链', 0, '[]', '{}', '')"))
    command.upgrade(alembic_config(eng), "head")
    with eng.connect() as c:
        regions = dict(c.execute(sa.text("SELECT id, code FROM regions")).all())
        assert sorted(regions.values()) == ["330000", "330400", "330482"]
        assert regions[c.scalar(sa.text("SELECT region_id FROM towns"))] == "330482"
        assert regions[c.scalar(sa.text("SELECT region_id FROM enterprises"))] == "330482"
        plans = dict(c.execute(sa.text("SELECT code, region_id FROM plans")).all())
        assert {k: regions[v] for k, v in plans.items()} == {"pinghu-mfg-14th": "330482", "jiaxing-clusters-2022": "330400"}
        assert regions[c.scalar(sa.text("SELECT region_id FROM chain_nodes"))] == "330482"
    # `qunlian init` then completes the hierarchy by the same codes: no duplicates, the town stays
    with transaction(eng) as s:
        load_reference_data(s)
        assert s.scalar(select(sa.func.count()).select_from(Region)) == len(read_hierarchy().regions)
        assert s.scalar(select(Town.code).where(Town.name == "当湖街道")) == "danghu"
    eng.dispose()
