"""`qunlian targets …` through a fresh Typer app with the targets sub-app registered."""

import csv
import io
import json

import pytest
import typer
from typer.testing import CliRunner

from qunlian.targets.cli import register

CLUSTERS = "pinghu-clusters-2023-2027"


@pytest.fixture
def run(cli_env, loaded):
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # keep `targets` a sub-command
        pass

    register(app)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, ["targets", *args])

    return invoke


def test_status_json_table_csv(run):
    r = run("actual", "seed")
    assert r.exit_code == 0, r.output
    r = run("status", "--plan", CLUSTERS, "--as-of", "2023Q1", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert isinstance(rows, list) and len(rows) == 17 + 15  # 附件1 17 indicators + 附件3 15
    for row in rows:
        assert {"indicator", "unit", "period", "actual", "target", "milestone", "completion", "projected",
                "status", "reason"} <= set(row)
    tax = next(x for x in rows if x["code"] == "tax-per-mu")
    assert tax["completion"] == pytest.approx(1.3943, abs=1e-4) and tax["status"] == "green"
    r = run("status", "--plan", CLUSTERS, "--as-of", "2023Q1", "--format", "csv")
    data = list(csv.DictReader(io.StringIO(r.stdout)))
    assert data[0].keys() >= {"indicator", "status", "reason"} and len(data) == len(rows)
    r = run("status", "--plan", CLUSTERS, "--format", "table")
    assert r.exit_code == 0 and "规上工业亩均税收" in r.stdout and "绿 " in r.stdout


def test_reconcile_json(run):
    r = run("reconcile", "--plan", CLUSTERS, "--year", "2023", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = {x["indicator"]: x for x in json.loads(r.stdout)}
    assert rows["制造业投资"]["verdict"] == "equal" and rows["制造业投资"]["towns_total"] == pytest.approx(118)
    assert rows["规上工业亩均税收"]["verdict"] == "not_aggregable" and rows["规上工业亩均税收"]["towns_total"] is None
    assert all({"indicator", "unit", "city_target", "towns_total", "verdict"} <= set(x) for x in rows.values())


def test_actual_add_import_and_refusals(run, tmp_path):
    r = run("actual", "add", "--plan", CLUSTERS, "--indicator", "tax-per-mu", "--period", "2023Q2",
            "--value", "180000", "--unit", "元/亩", "--cumulative", "--source", "税务局季报", "--by", "王五")
    assert r.exit_code == 0, r.output
    assert "第 1 版" in r.stdout
    r = run("actual", "add", "--plan", CLUSTERS, "--indicator", "tax-per-mu", "--period", "2030",
            "--value", "1", "--source", "x")
    assert r.exit_code == 2 and "不在规划期内" in r.output and "未写入任何数据" in r.output
    f = tmp_path / "a.csv"
    f.write_text("indicator,period,value,town,source\nt23-mfg-investment,2023,40,经开区,发改局\n"
                 "t23-mfg-investment,2023,5,火星镇,发改局\n", encoding="utf-8")
    r = run("actual", "import", "--plan", CLUSTERS, str(f))
    assert r.exit_code == 2 and "第 3 行" in r.output and "未知镇街道" in r.output
    r = run("actual", "history", "--plan", CLUSTERS, "--indicator", "t23-mfg-investment", "--format", "json")
    assert json.loads(r.stdout) == []  # the good first row was not stored either
    r = run("task", "list", "--plan", CLUSTERS, "--as-of", "2024Q1", "--format", "json")
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 62
    r = run("task", "progress", "--plan", CLUSTERS, "--task", "1", "--period", "2024Q1", "--note", "完成低效用地 300 亩",
            "--evidence", "台账.xlsx")
    assert r.exit_code == 0, r.output
    r = run("task", "close", "--plan", CLUSTERS, "--task", "1", "--note", "完成 2000 亩", "--by", "自然资源局")
    assert r.exit_code == 0 and "已销号" in r.stdout
    r = run("status", "--plan", "no-such-plan", "--format", "json")
    assert r.exit_code == 2 and "未知规划" in r.output
