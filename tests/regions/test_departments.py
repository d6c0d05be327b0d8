"""Departments and people of a region (issue 10 item 3): the shipped registry loads and covers every
unit the shipped plans name, a missing one is reported, lookups fall back to the ancestors, bad files
are refused with reasons, and people are added and listed from the command line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from qunlian.cli import app
from qunlian.platform.db import session_factory, transaction
from qunlian.platform.models import AuditLog
from qunlian.regions.models import Department, Region
from qunlian.regions.service import (
    DEPARTMENT_FILES,
    RegionDataError,
    find_department,
    find_region,
    list_departments,
    load_all_departments,
    load_departments,
    load_hierarchy,
    load_regions,
    parse_department_file,
    read_department_file,
    unresolved_units,
)
from qunlian.targets.plans.loader import load_reference_data

GOOD = """
region: 平湖市
sources:
  - {title: test departments, note: invented for the tests}
departments:
  - {code: aaa, name: 市甲局, aliases: [甲局], seq: 1}
  - {code: bbb, name: 市乙局, seq: 2}
"""


def _pinghu(s) -> Region:
    return find_region(s, "330482")


# --------------------------------------------------------------------------- the shipped file


def test_the_shipped_file_loads_with_the_plans_names():
    spec = read_department_file()
    assert DEPARTMENT_FILES == ("departments-pinghu.yaml",)
    assert spec.region == "平湖市" and spec.sources[0].seed == "003_86af085e02e72586.txt"
    by = {d.name: d for d in spec.departments}
    assert by["市经信局"].code == "jxj" and by["市经信局"].full_name == "平湖市经济和信息化局"
    assert {"市科技局", "市市场监管局", "市发改局", "市工业强市领导小组办公室"} <= set(by)
    assert "各镇(街道)" in {x.name for x in spec.non_departments}


def test_every_unit_the_shipped_plans_name_resolves(engine: Engine):
    with transaction(engine) as s:
        load_reference_data(s)
        assert s.scalar(select(func.count()).select_from(Department)) == len(read_department_file().departments)
        assert unresolved_units(s) == []
        pinghu = _pinghu(s)
        # code, name, full name; blanks and full-width brackets as the seed's extraction prints them
        assert find_department(s, pinghu.id, "jxj").name == "市经信局"
        assert find_department(s, pinghu.id, "平湖市科学技术局").code == "kjj"
        assert find_department(s, pinghu.id, "市工业强市领导 小组办公室").code == "gyqsb"
        assert find_department(s, pinghu.id, "市委组织部（人才办）").code == "wzzb"
        assert find_department(s, pinghu.id, "市不存在局") is None


def test_a_unit_missing_from_the_registry_is_reported(engine: Engine):
    with transaction(engine) as s:
        load_reference_data(s)
        pinghu = _pinghu(s)
        s.delete(s.scalar(select(Department).where(Department.region_id == pinghu.id, Department.code == "sfj")))
        s.flush()
        assert unresolved_units(s) == [
            {"plan": "pinghu-clusters-2023-2027", "where": "tasks.37.co_units", "unit": "市司法局"}]


def test_a_department_of_an_ancestor_is_found_from_the_county(engine: Engine):
    with transaction(engine) as s:
        load_regions(s)
        city, pinghu = find_region(s, "330400"), _pinghu(s)
        s.add(Department(region_id=city.id, code="jx-fgw", name="市发改委", full_name="嘉兴市发展和改革委员会"))
        s.add(Department(region_id=city.id, code="jx-jxj", name="市经信局", full_name="嘉兴市经济和信息化局"))
        s.flush()
        found = find_department(s, pinghu.id, "嘉兴市发展和改革委员会")
        assert found is not None and found.region_id == city.id and found.code == "jx-fgw"
        assert find_department(s, pinghu.id, "市发改委").code == "jx-fgw"
        # the county's own department comes first; the city's from the city
        assert find_department(s, pinghu.id, "市经信局").region_id == pinghu.id
        assert find_department(s, city.id, "市经信局").region_id == city.id
        # never downwards: the city does not see the county's departments
        assert find_department(s, city.id, "市科技局") is None


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(("text", "reason"), [
    (GOOD.replace("code: bbb", "code: aaa"), "duplicate departments.code: aaa"),
    (GOOD.replace("name: 市乙局", "name: 市乙局, aliases: [甲局]"), "duplicate departments.name/full_name/aliases"),
    (GOOD.replace("name: 市乙局", "name: 市乙局, full_name: 市甲局"), "市甲局"),
    (GOOD.replace("code: bbb", "code: B B"), "departments.1.code"),
    (GOOD + "non_departments:\n  - {name: 市乙局, reason: r}\n", "duplicate departments.name"),
    (GOOD.replace("seq: 2}", "seq: 2, colour: red}"), "colour"),
])
def test_a_bad_department_file_is_refused_with_the_reason(text: str, reason: str):
    with pytest.raises(RegionDataError) as err:
        parse_department_file(text, "bad.yaml")
    assert reason in str(err.value) and "bad.yaml" in str(err.value)


def test_departments_of_a_region_that_does_not_exist_are_refused(engine: Engine):
    with transaction(engine) as s:
        load_hierarchy(s)
        spec = parse_department_file(GOOD.replace("region: 平湖市", "region: 不存在县"), "x.yaml")
        with pytest.raises(RegionDataError) as err:
            load_departments(s, spec, "x.yaml")
        text = str(err.value)
        assert "不存在县" in text and "x.yaml" in text and "region" in text and "zhejiang.yaml" in text


def test_loading_twice_changes_nothing(engine: Engine):
    with transaction(engine) as s:
        load_hierarchy(s)
        first = load_all_departments(s)
        before = list_departments(s)
        ids = sorted(s.scalars(select(Department.id)))
    with transaction(engine) as s:
        assert load_all_departments(s) == first
        assert load_regions(s)["departments"] == first
        assert list_departments(s) == before and sorted(s.scalars(select(Department.id))) == ids
        # a file that renames a department updates the same row
        spec = parse_department_file(GOOD, "t.yaml")
        load_departments(s, spec, "t.yaml")
        load_departments(s, parse_department_file(GOOD.replace("市乙局", "市丙局"), "t.yaml"), "t.yaml")
        rows = s.scalars(select(Department).where(Department.code == "bbb")).all()
        assert [d.name for d in rows] == ["市丙局"]


# --------------------------------------------------------------------------- the commands


def test_add_person_then_list_people_shows_the_department(cli_env):
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    out = runner.invoke(app, ["regions", "add-person", "--region", "330482", "--name", "张三", "--title", "副局长",
                              "--department", "市经信局", "--phone", "0573-12345678"])
    assert out.exit_code == 0, out.output
    assert "张三" in out.output
    out = runner.invoke(app, ["regions", "add-person", "--name", "李四", "--department", "kjj"])  # the root region
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["regions", "people", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [(r["name"], r["title"], r["department"], r["region_code"], r["phone"]) for r in rows] == [
        ("张三", "副局长", "市经信局", "330482", "0573-12345678"), ("李四", "", "市科技局", "330482", None)]
    # the city lists its counties' people; another county lists none
    assert len(json.loads(runner.invoke(app, ["regions", "people", "--region", "330400", "--format", "json"]).output)) == 2
    assert json.loads(runner.invoke(app, ["regions", "people", "--region", "330421", "--format", "json"]).output) == []
    table = runner.invoke(app, ["regions", "people"])
    assert table.exit_code == 0 and "张三" in table.output and "市经信局" in table.output
    from qunlian.platform.db import make_engine

    with session_factory(make_engine())() as s:
        actions = s.scalars(select(AuditLog).where(AuditLog.action == "regions.add_person")).all()
        assert [(a.entity, a.entity_id) for a in actions] == [("people", str(rows[0]["id"])), ("people", str(rows[1]["id"]))]


def test_an_unknown_department_or_region_is_refused(cli_env):
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    out = runner.invoke(app, ["regions", "add-person", "--name", "王五", "--department", "市不存在局"])
    assert out.exit_code != 0 and "市不存在局" in out.output and "qunlian regions departments" in out.output
    out = runner.invoke(app, ["regions", "add-person", "--region", "不存在县", "--name", "王五"])
    assert out.exit_code == 2 and "不存在县" in out.output
    for command in ("departments", "people"):
        out = runner.invoke(app, ["regions", command, "--region", "不存在县"])
        assert out.exit_code == 2 and "不存在县" in out.output
    assert json.loads(runner.invoke(app, ["regions", "people", "--format", "json"]).output) == []


def test_regions_departments_lists_the_region_and_below(cli_env):
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    out = runner.invoke(app, ["regions", "departments", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert all(set(r) == {"code", "name", "full_name", "region_code", "region_name", "aliases"} for r in rows)
    assert rows[0] == {"code": "jxj", "name": "市经信局", "full_name": "平湖市经济和信息化局", "region_code": "330482",
                       "region_name": "平湖市", "aliases": []}
    assert len(json.loads(runner.invoke(app, ["regions", "departments", "--region", "330000",
                                              "--format", "json"]).output)) == len(rows)
    assert json.loads(runner.invoke(app, ["regions", "departments", "--region", "330421", "--format", "json"]).output) == []
    table = runner.invoke(app, ["regions", "departments"])
    assert table.exit_code == 0 and "平湖市经济和信息化局" in table.output
    assert runner.invoke(app, ["regions", "departments", "--format", "xml"]).exit_code == 2


def test_a_department_user_names_a_registered_department(engine: Engine, cli_env):
    runner = CliRunner()
    with transaction(engine) as s:
        load_reference_data(s, actor="test")
    ok = runner.invoke(app, ["users", "add", "--username", "kj1", "--password", "correct-horse-9", "--role",
                             "department", "--department", "kjj"])
    assert ok.exit_code == 0, ok.output
    with session_factory(engine)() as s:
        from qunlian.accounts.models import User

        assert s.scalar(select(User.department).where(User.username == "kj1")) == "市科技局"  # stored as printed
    bad = runner.invoke(app, ["users", "add", "--username", "kj2", "--password", "correct-horse-9", "--role",
                              "department", "--department", "市不存在局"])
    assert bad.exit_code != 0 and "市不存在局" in bad.output and "市经信局" in bad.output, bad.output
