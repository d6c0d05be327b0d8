"""The engine on awkward data: zero land, zero energy, no employees, negative tax, NaN — never a crash,
never an infinity or NaN; simulator, measures, aggregates and warnings on an evaluation."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from qunlian.per_mu.engine import EvaluationError, compile_sql, evaluate
from qunlian.per_mu.outputs import aggregates, measures, warnings
from qunlian.per_mu.simulate import levers, simulate
from qunlian.core.errors import ValidationFailed
from qunlian.per_mu.presets import get_method

from .conftest import assert_clean, make_synthetic


@pytest.mark.parametrize("method_id", ["zj-huangyan-2022", "zj-wenling-2022", "demo-pinghu"])
def test_awkward_data_never_gives_nan_or_inf(method_id: str) -> None:
    t = make_synthetic(400, 2022)
    # add explicit NaN and infinity in the input: treated as missing
    tax = t.column("tax_wan").to_pylist()
    tax[0], tax[1] = float("nan"), float("inf")
    t = t.set_column(t.column_names.index("tax_wan"), "tax_wan", pa.array(tax))
    ev = evaluate(t, get_method(method_id), 2022)
    assert ev.results.num_rows == 400
    assert_clean(ev.results)
    evaluated = ev.results.filter(pc.is_null(ev.results.column("excluded_reason")))
    assert evaluated.column("total_score").null_count == 0
    # every firm is either scored or excluded with a reason
    for r in ev.results.to_pylist():
        assert (r["total_score"] is None) == (r["excluded_reason"] is not None)


def test_zero_and_missing_inputs_follow_the_preset_rules() -> None:
    m = get_method("demo-pinghu")
    t = make_synthetic(300, 2023)
    rows = t.to_pylist()
    rows[0].update(above_scale=True, land_mu=20.0, energy_tce=0.0, employees=0, tax_wan=-3.0)
    t = pa.Table.from_pylist(rows, schema=t.schema)
    r = evaluate(t, m, 2023).row(rows[0]["uscc"])
    assert r["va_per_tce__status"] == "zero_denominator" and r["va_per_tce__points"] == 40  # max_points rule
    assert r["tax_per_mu__status"] == "negative" and r["tax_per_mu__points"] == 0  # negative → 0 points
    assert r["va_per_employee__status"] == "zero_denominator" and r["va_per_employee__points"] == 0


def test_method_year_and_input_checks() -> None:
    t = make_synthetic(20, 2022)
    with pytest.raises(EvaluationError):
        evaluate(t, get_method("zj-huangyan-2022"), 2021)
    with pytest.raises(ValidationFailed):
        evaluate(t.drop_columns(["uscc"]), get_method("zj-huangyan-2022"), 2022)


def test_sql_compiles_for_duckdb_and_mentions_no_udf() -> None:
    sql = compile_sql(get_method("demo-pinghu"), 2023)
    assert "enterprise_years" in sql and "NULLIF" in sql.upper()


def test_simulator_and_levers() -> None:
    m = get_method("demo-pinghu")
    ev = evaluate(make_synthetic(600, 2023), m, 2023)
    rows = [r for r in ev.results.to_pylist() if r["part"] == "above" and r["grade"] in ("C", "D") and not r["excluded_reason"]
            and not r["negative_hit"]]
    firm = rows[0]
    same = simulate(ev, firm["uscc"], {})
    assert same.score == pytest.approx(firm["total_score"]) and same.grade == firm["grade"]
    more = simulate(ev, firm["uscc"], {"tax_wan": (firm["tax_wan"] or 0) * 3 + 100})
    assert more.score >= firm["total_score"]
    out = {lv.lever: lv for lv in levers(ev, firm["uscc"])}
    assert set(out) == {"tax", "value_added", "land", "energy", "emissions", "rd"}
    target = out["tax"].target_grade
    assert target == m.part("above").grades.names[m.part("above").grades.names.index(firm["grade_by_score"]) - 1]
    for lv in out.values():
        if lv.reachable:
            sim = simulate(ev, firm["uscc"], {lv.column: lv.needed})
            names = m.part("above").grades.names
            assert names.index(sim.grade) <= names.index(target), lv
            assert math.isfinite(lv.needed)


def test_measures_aggregates_warnings() -> None:
    m = get_method("demo-pinghu")
    prev = evaluate(make_synthetic(500, 2022, seed=3), m, 2022).results
    cur = evaluate(make_synthetic(500, 2023, seed=4), m, 2023).results
    ms = measures(cur, m)
    d_power = [x for x in ms if x.code == "differential_power_price_d"]
    assert d_power and all(x.grade == "D" for x in d_power)
    for x in d_power:
        assert x.placeholder and (x.amount_wan is None or x.amount_wan == pytest.approx(0.1 * x.quantity))
    assert any(x.code == "fiscal_reward" and x.amount_wan is None for x in ms)
    agg = aggregates(cur, m, "town")
    assert agg.num_rows == 8 and "firms_A" in agg.column_names and "land_mu_D" in agg.column_names
    total = sum(agg.column("firms").to_pylist())
    assert total == sum(1 for r in cur.to_pylist() if not r["tenant_note"])
    assert sum(sum(agg.column(f"firms_{g}").to_pylist()) for g in "ABCD") == sum(
        1 for r in cur.to_pylist() if r["grade"] and not r["tenant_note"])
    chains = pa.table({"uscc": cur.column("uscc").to_pylist()[:50], "chain": ["新能源"] * 50})
    assert aggregates(cur, m, "chain", chains=chains).num_rows == 1
    ws = warnings(cur, m, prev)
    kinds = {w.kind for w in ws}
    assert {"grade_fell", "near_boundary", "remediation"} <= kinds
    for w in ws:
        if w.kind == "remediation":
            assert w.grade == "D" or "high_energy_low_efficiency" in w.data["reasons"]
