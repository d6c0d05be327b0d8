"""Runs in the store (SQLite by default, PostgreSQL when QUNLIAN_TEST_DATABASE_URL says so):
immutable runs, adjustments, warnings, the 整治 ledger against 003 附件3 rows 12–14, export, CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.compute as pc
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from qunlian.per_mu.runs import (
    adjust,
    evaluate_store,
    ledger_summary,
    load_evaluation,
    record_remediation,
    run_results,
    run_warnings,
    update_ledger,
)
from qunlian.per_mu.simulate import levers
from qunlian.core.errors import QunlianError
from qunlian.platform.db import session_factory, transaction
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseEvent, EnterpriseYear
from qunlian.regions.models import Town
from qunlian.targets.models import Indicator, Plan, Target
from qunlian.per_mu.models import MuniResult, MuniRun

from .conftest import make_synthetic


def _fill(engine, years=(2022, 2023)) -> None:
    t = make_synthetic(240, years=years)
    with transaction(engine) as s:
        towns = {}
        for i, name in enumerate(sorted(set(t.column("town").to_pylist()))):
            towns[name] = Town(code=f"t{i}", name=name, kind="镇")
            s.add(towns[name])
        ents: dict[str, Enterprise] = {}
        for r in t.to_pylist():
            e = ents.get(r["uscc"])
            if e is None:
                e = Enterprise(uscc=r["uscc"], name=r["name"], town=towns[r["town"]], industry_code=r["industry_code"])
                ents[r["uscc"]] = e
                s.add(e)
            e.years.append(EnterpriseYear(year=r["year"], above_scale=r["above_scale"], land_mu=r["land_mu"], tax_wan=r["tax_wan"],
                                          value_added_wan=r["value_added_wan"], energy_tce=r["energy_tce"],
                                          electricity_wan_kwh=r["electricity_wan_kwh"], emission_eq_t=r["emission_eq_t"],
                                          employees=r["employees"], rd_wan=r["rd_wan"], main_revenue_wan=r["main_revenue_wan"],
                                          tenants=r["tenants"]))
        s.flush()
        first = ents[t.column("uscc")[0].as_py()]
        s.add(EnterpriseEvent(enterprise_id=first.id, occurred_on=dt.date(2023, 5, 1), kind="safety_accident"))
        plan = Plan(code="p003", title="003", level="county", region="平湖市", start_year=2024, end_year=2027, source="003 附件3")
        s.add(plan)
        for seq, name, unit, vals in ((12, "高耗低效整治企业数", "家", 20), (13, "高耗低效整治腾出用地面积", "亩", 150),
                                      (14, "高耗低效整治腾出能耗空间", "万吨标准煤", 0.015)):
            ind = Indicator(code=f"r{seq}", seq=seq, table="附件3", name=name, unit=unit)
            plan.indicators.append(ind)
            ind.targets.append(Target(year=2027, town=towns["当湖街道"], kind="cumulative", value=vals, text=str(vals)))


def test_run_is_stored_immutable_and_adjustable(engine) -> None:
    _fill(engine)
    r22 = evaluate_store(engine, "demo-pinghu", 2022, actor="alice")
    r23 = evaluate_store(engine, "demo-pinghu", 2023, actor="alice")
    assert (r23.method_id, r23.method_version, r23.year, r23.created_by) == ("demo-pinghu", "2024-demo", 2023, "alice")
    assert len(r23.data_sha256) == 64 and len(r23.method_sha256) == 64 and r23.method_snapshot["id"] == "demo-pinghu"
    assert r23.firms == 240
    # the same data gives the same fingerprint
    again = evaluate_store(engine, "demo-pinghu", 2023, actor="bob")
    assert again.data_sha256 == r23.data_sha256
    with session_factory(engine)() as s:
        res = run_results(s, r23.id)
        assert res.num_rows == 240
        # the negative-list event in 2023 is read from the store
        assert True in res.column("negative_hit").to_pylist()
        row = next(r for r in res.to_pylist() if r["part"] == "above" and r["grade"] == "C" and not r["negative_hit"])
        before = s.scalars(select(MuniResult).where(MuniResult.run_id == r23.id, MuniResult.uscc == row["uscc"])).one()
        snapshot = (before.total_score, before.grade)
    with transaction(engine) as s:
        a = adjust(s, r23.id, row["uscc"], points=200, reason="重大技改投产", actor="carol")
        assert a.grade_before == "C" and a.grade_after == "A"
        b = adjust(s, r23.id, row["uscc"], grade="B", reason="调档：核实后", actor="carol")
        assert b.grade_before == "A" and b.grade_after == "B"
        with pytest.raises(QunlianError):
            adjust(s, r23.id, row["uscc"], points=1, reason=" ", actor="carol")
        for bad in (float("nan"), float("inf"), float("-inf")):  # nan stored no score and made the firm D
            with pytest.raises(QunlianError, match="有限"):
                adjust(s, r23.id, row["uscc"], points=bad, reason="核实", actor="carol")
    with session_factory(engine)() as s:
        after = s.scalars(select(MuniResult).where(MuniResult.run_id == r23.id, MuniResult.uscc == row["uscc"])).one()
        assert (after.total_score, after.grade) == snapshot  # the result row never changes
        fin = next(r for r in run_results(s, r23.id).to_pylist() if r["uscc"] == row["uscc"])
        assert (fin["initial_grade"], fin["final_grade"]) == ("C", "B")
        assert fin["final_score"] == pytest.approx(snapshot[0] + 200)
        ev = load_evaluation(s, r23.id)
        firm = next(r for r in ev.results.to_pylist() if r["part"] == "above" and r["grade"] == "D")
        assert any(lv.reachable for lv in levers(ev, firm["uscc"]))
        ws = run_warnings(s, r23.id)
        assert {"remediation"} <= {w.kind for w in ws}
        assert s.scalar(select(func.count()).select_from(MuniRun)) == 3


def test_ledger_against_targets(engine) -> None:
    _fill(engine)
    run = evaluate_store(engine, "demo-pinghu", 2023)
    with transaction(engine) as s:
        n = update_ledger(s, run.id, "alice")
        assert n > 0
        assert update_ledger(s, run.id, "alice") == 0  # once per firm and year
    with transaction(engine) as s:
        summary = {d["town"]: d for d in ledger_summary(s, 2023)}
        town = next(t for t, d in summary.items() if d["listed"])
        uscc = next(r.uscc for r in s.scalars(select(MuniRun).where(MuniRun.id == run.id)).one().results
                    if r.town == town and r.grade == "D")
        record_remediation(s, uscc, 2023, actor="alice", status="done", land_freed_mu=12.5, energy_freed_tce=150)
    with session_factory(engine)() as s:
        summary = {d["town"]: d for d in ledger_summary(s, 2023)}
        assert summary[town]["done"] == 1 and summary[town]["land_freed_mu"] == 12.5
        assert summary[town]["energy_freed_10k_tce"] == pytest.approx(0.015)
        assert summary["当湖街道"]["target_firms"] == 20 and summary["当湖街道"]["target_land_mu"] == 150
        assert summary["当湖街道"]["target_energy_10k_tce"] == 0.015


def test_cli_store_mode(engine, cli_env, tmp_path: Path) -> None:
    from qunlian.cli import app

    _fill(engine)
    runner = CliRunner()
    out = runner.invoke(app, ["muni", "evaluate", "--method", "demo-pinghu", "--year", "2023", "--by", "alice"])
    assert out.exit_code == 0, out.output
    assert "评价 #1" in out.output
    assert runner.invoke(app, ["muni", "runs"]).exit_code == 0
    xlsx = tmp_path / "gongshi.xlsx"
    out = runner.invoke(app, ["muni", "export", "--run", "1", "--output", str(xlsx)])
    assert out.exit_code == 0, out.output
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    assert "规上工业企业" in wb.sheetnames and "未参评企业" in wb.sheetnames
    ws = wb["规上工业企业"]
    assert ws.cell(2, 1).value == "序号" and ws.cell(3, 1).value == 1
    with session_factory(engine)() as s:
        res = run_results(s, 1)
    uscc = res.filter(pc.equal(res.column("grade"), "D")).column("uscc")[0].as_py()
    out = runner.invoke(app, ["muni", "adjust", "--run", "1", "--uscc", uscc, "--points", "5", "--reason", "复核", "--by", "bob"])
    assert out.exit_code == 0, out.output
    for cmd in (["muni", "simulate", "--run", "1", "--uscc", uscc, "--set", "tax_wan=1000"],
                ["muni", "warnings", "--run", "1", "--ledger"], ["muni", "ledger"], ["muni", "aggregates", "--run", "1"]):
        out = runner.invoke(app, cmd)
        assert out.exit_code == 0, (cmd, out.output)
    out = runner.invoke(app, ["muni", "evaluate", "--method", "zj-huangyan-2022", "--year", "2023"])
    assert out.exit_code == 2 and "2022" in out.output


def test_cli_aggregates_by_chain_uses_the_store_links(engine, cli_env) -> None:
    """`muni aggregates --by chain` counts each firm under the chain of the node it is linked to (a
    segment counts under its chain), a firm in two chains in both, and --system keeps one system."""
    from qunlian.per_mu.chains import chain_pairs
    from qunlian.cli import app

    _fill(engine)
    with transaction(engine) as s:
        root = ChainNode(system="4q8l", code="4q8l", level="system", name="四群八链")
        nev = ChainNode(system="4q8l", code="nev", level="chain", name="新能源汽车", parent=root)
        battery = ChainNode(system="4q8l", code="battery", level="segment", name="动力电池", parent=nev)
        optical = ChainNode(system="4q8l", code="optical", level="chain", name="光电通信", parent=root)
        digital = ChainNode(system="1212", code="digital", level="chain", name="数字产业")
        s.add_all([root, nev, battery, optical, digital])
        s.flush()
        firms = list(s.scalars(select(Enterprise).order_by(Enterprise.uscc)))
        links = {battery: firms[0:5], nev: firms[5:8], optical: firms[7:12], digital: firms[0:3]}
        for node, ents in links.items():
            s.add_all(EnterpriseChainNode(enterprise_id=e.id, node_id=node.id) for e in ents)
        first8 = {e.uscc for e in firms[0:8]}
    runner = CliRunner()
    assert runner.invoke(app, ["muni", "evaluate", "--method", "demo-pinghu", "--year", "2023"]).exit_code == 0
    out = runner.invoke(app, ["muni", "aggregates", "--run", "1", "--by", "chain", "--system", "4q8l"])
    assert out.exit_code == 0, out.output
    lines = {line.split("  ")[0]: line for line in out.output.splitlines()}
    assert set(lines) == {"group=4q8l · 新能源汽车", "group=4q8l · 光电通信"}
    with session_factory(engine)() as s:
        results = run_results(s, 1)
        pairs = chain_pairs(s, results.column("uscc").to_pylist(), "4q8l").to_pylist()
        evaluated_2023 = set(results.column("uscc").to_pylist())
    nev_firms = {p["uscc"] for p in pairs if p["chain"] == "4q8l · 新能源汽车"}
    assert nev_firms == first8 & evaluated_2023  # segment links count under their chain
    assert f"firms={len(nev_firms)}" in lines["group=4q8l · 新能源汽车"]
    both = runner.invoke(app, ["muni", "aggregates", "--run", "1", "--by", "chain"])
    assert "group=1212 · 数字产业" in both.output
    none = runner.invoke(app, ["muni", "aggregates", "--run", "1", "--by", "chain", "--system", "nope"])
    assert none.exit_code == 2 and "产业链" in none.output
