"""The foundation as a user meets it: init, demo, export, and the 2020 calibration figures.

The seven figures are computed from the exported CSV (what a user would hand to a spreadsheet),
not from the generator's internals, and compared with 平湖 "十四五" plan 表1 (seed 000) 2020 column.
"""

import csv
import json

import pytest
from typer.testing import CliRunner

from qunlian.cli import app

# Seed 000 (平湖市制造业高质量发展"十四五"规划): 表1 2020 column and 一、(一) 1.
PUBLISHED_2020 = {
    "above_scale_firms": 741,  # 2020 年规模以上企业数达到 741 家
    "output_yi": 1217.8,  # 规模以上工业总产值 … 1217.8 亿元
    "value_added_yi": 257.7,  # 规模以上工业增加值总量达到 257.7 亿元
    "tax_per_mu": 25.1,  # 表1 #4 规模以上工业亩均税收 25.1 万元/亩
    "va_per_mu": 102.9,  # 表1 #5 规模以上工业亩均增加值 102.9 万元/亩
    "labour_productivity": 19.48,  # 表1 #3 规模以上工业全员劳动生产率 19.48 万元/人
    "rd_ratio_pct": 1.52,  # 表1 #9 R&D 经费支出占营业收入比重 1.52 %
}


def _num(v: str) -> float:
    return float(v) if v not in ("", None) else 0.0


def _figures(rows: list[dict]) -> dict[str, float]:
    above = [r for r in rows if r["above_scale"].strip().lower() in ("true", "1", "是", "yes", "y")]
    s = lambda col: sum(_num(r[col]) for r in above)  # noqa: E731
    return {
        "above_scale_firms": len(above),
        "output_yi": s("output_wan") / 1e4,
        "value_added_yi": s("value_added_wan") / 1e4,
        "tax_per_mu": s("tax_wan") / s("land_mu"),
        "va_per_mu": s("value_added_wan") / s("land_mu"),
        "labour_productivity": s("value_added_wan") / s("employees"),
        "rd_ratio_pct": 100 * s("rd_wan") / s("main_revenue_wan"),
    }


@pytest.mark.slow
def test_init_demo_export_reproduces_the_2020_column(cli_env, tmp_path):
    runner = CliRunner()
    for args in (["init"], ["demo", "--seed", "2024"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    logins = _printed_logins(result.output)
    assert set(logins) == {"admin", "analyst", "department", "town", "chain", "enterprise"}

    out = tmp_path / "2020.csv"
    result = runner.invoke(app, ["export", "enterprise-years", "--year", "2020", "--output", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for col in ("uscc", "name", "year", "town", "industry_code", "above_scale", "land_mu", "tax_wan",
                "value_added_wan", "output_wan", "employees", "rd_wan", "main_revenue_wan"):
        assert col in rows[0], col
    assert {r["year"] for r in rows} == {"2020"}

    got = _figures(rows)
    for key, published in PUBLISHED_2020.items():
        assert got[key] == pytest.approx(published, rel=0.02), (key, got[key], published)

    # The plans are in the same store, so `plans show` answers next to the firms.
    shown = runner.invoke(app, ["plans", "show", "pinghu-mfg-14th", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert len(json.loads(shown.output)["indicators"]) == 13

    # The demo also lets the other capabilities show themselves: plan actuals and 亩均 runs.
    status = runner.invoke(app, ["targets", "status", "--plan", "pinghu-mfg-14th", "--as-of", "2024", "--format", "json"])
    assert status.exit_code == 0, status.output
    rows = json.loads(status.output)
    assert len(rows) == 13
    assert {r["status"] for r in rows} <= {"green", "amber", "red", "grey"}
    judged = [r for r in rows if r["status"] != "grey"]
    assert len(judged) >= 10 and all(r["reason"] for r in judged)
    runs = runner.invoke(app, ["muni", "runs"])
    assert runs.exit_code == 0 and runs.output.count("demo-pinghu") == 5, runs.output

    # The printed logins work: a newcomer can sign in with what `qunlian demo` showed.
    from fastapi.testclient import TestClient

    from qunlian.app import create_app

    with TestClient(create_app()) as client:
        for role, (username, password) in logins.items():
            token = client.post("/api/token", json={"username": username, "password": password})
            assert token.status_code == 200, (role, token.text)
        wrong = client.post("/api/token", json={"username": logins["admin"][0], "password": "not-it"})
        assert wrong.status_code == 401


def _printed_logins(output: str) -> dict[str, tuple[str, str]]:
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == f"demo-{parts[0]}":
            found[parts[0]] = (parts[1], parts[2])
    return found
