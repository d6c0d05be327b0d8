"""`qunlian plans list` and `qunlian plans show` against the test store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qunlian.cli import app

runner = CliRunner()


def _init() -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output


def test_show_json_has_the_contracted_shape(cli_env):
    _init()
    result = runner.invoke(app, ["plans", "show", "pinghu-clusters-2023-2027", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == "pinghu-clusters-2023-2027"
    assert data["period"] == {"start_year": 2023, "end_year": 2027}
    assert "003_86af085e02e72586.txt" in data["source"] and data["title"].startswith(
        "平湖市先进制造业集群培育工程实施方案"
    )
    inds = data["indicators"]
    assert [(i["table"], i["seq"]) for i in inds] == [("附件1", n) for n in range(1, 18)] + [
        ("附件3", n) for n in range(1, 16)
    ]
    for i in inds:
        assert {"code", "seq", "table", "category", "name", "unit", "nature", "responsible_units",
                "baseline", "targets", "town_targets"} <= set(i)  # fmt: skip
        assert set(i["baseline"]) == {"year", "value", "text"}
    first = inds[0]
    assert first["targets"]["2023"] == {"kind": "lower_bound", "value": 50.0, "text": "50%以上"}
    investment = next(i for i in inds if i["table"] == "附件3" and i["seq"] == 2)
    assert investment["targets"] == {"2023": {"kind": "value", "value": 118.0, "text": "118"}}
    assert list(investment["town_targets"]) == [
        "当湖街道",
        "经开区",
        "曹桥街道",
        "新埭镇",
        "新仓镇",
        "独山港区",
        "广陈镇",
        "林埭镇",
    ]
    assert investment["town_targets"]["广陈镇"] == {"2023": {"kind": "value", "value": 1.55, "text": "1.55"}}
    digital = next(i for i in inds if i["table"] == "附件3" and i["seq"] == 9)
    assert "当湖街道" not in digital["town_targets"]
    assert len(data["tasks"]) == 62 and data["tasks"][58]["lead_unit"] == "市委组织部(人才办)"


def test_show_json_baseline_and_projects(cli_env):
    _init()
    data = json.loads(runner.invoke(app, ["plans", "show", "pinghu-mfg-14th", "--format", "json"]).output)
    labour = next(i for i in data["indicators"] if i["seq"] == 3)
    assert labour["baseline"] == {"year": 2020, "value": 19.48, "text": "19.48"}
    assert labour["targets"] == {"2023": {"kind": "value", "value": 29.0, "text": "29"},
                                 "2025": {"kind": "value", "value": 30.0, "text": "30"}}  # fmt: skip
    assert next(i for i in data["indicators"] if i["seq"] == 11)["targets"]["2025"]["kind"] == "cumulative"
    assert len(data["projects"]) == 55


def test_show_table_and_list(cli_env):
    _init()
    listed = runner.invoke(app, ["plans", "list"])
    assert listed.exit_code == 0, listed.output
    for code in ("pinghu-mfg-14th", "pinghu-clusters-2023-2027", "zhejiang-amb-14th", "jiaxing-clusters-2022"):
        assert code in listed.output
    shown = runner.invoke(app, ["plans", "show", "pinghu-clusters-2023-2027"])
    assert shown.exit_code == 0, shown.output
    assert "待嘉兴市发改委确定后另行下达" in shown.output and "独山港区" in shown.output
    as_json = json.loads(runner.invoke(app, ["plans", "list", "--format", "json"]).output)
    assert {r["id"]: r["tasks"] for r in as_json}["pinghu-clusters-2023-2027"] == 62


def test_unknown_id_lists_the_known_ones(cli_env):
    _init()
    result = runner.invoke(app, ["plans", "show", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output and "pinghu-mfg-14th" in result.output and "zhejiang-amb-14th" in result.output


def test_uninitialised_store_says_run_init(cli_env):
    for args in (["plans", "list"], ["plans", "show", "pinghu-mfg-14th"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert "qunlian init" in result.output
