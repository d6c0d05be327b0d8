"""Golden cases of the 亩均 engine (tests/cases/per_mu/*.yaml) and how to run them.

tests/conftest.py collects every tests/cases/<capability>/*.yaml file as tests (no test code per case);
GOLDEN below says which checks each case of this capability gets.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from qunlian.per_mu.presets import get_method, parse_method

CASES = Path(__file__).parents[1] / "cases" / "per_mu"


def load_case(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    m = case["method"]
    case["method_obj"] = get_method(m) if isinstance(m, str) else parse_method(m, str(path))
    case["table"] = firms_table(case["firms"])
    return case


def firms_table(firms: list[dict[str, Any]]) -> pa.Table:
    cols: dict[str, list[Any]] = {}
    for f in firms:
        for k in f:
            cols.setdefault(k, [])
    for f in firms:
        for k in cols:
            cols[k].append(f.get(k))
    types = {"uscc": pa.string(), "year": pa.int64(), "above_scale": pa.bool_(), "landowner_uscc": pa.string(),
             "exemption": pa.string(), "negative_events": pa.string(), "founded_year": pa.int64(), "tenants": pa.int64(),
             "town": pa.string(), "name": pa.string(), "park": pa.string(), "industry_code": pa.string()}
    return pa.table({k: pa.array(v, type=types.get(k, pa.float64())) for k, v in cols.items()})


def assert_clean(results: pa.Table) -> None:
    """No infinity and no NaN anywhere in the output."""
    for name in results.column_names:
        col = results.column(name)
        if pa.types.is_floating(col.type):
            for v in col.to_pylist():
                assert v is None or math.isfinite(v), f"{name} has {v}"



def check_engine(path: Path) -> None:
    """The engine gives the expected outputs, computed by hand from the method."""
    from qunlian.per_mu.engine import evaluate

    case = load_case(path)
    ev = evaluate(case["table"], case["method_obj"], case["year"])
    assert_clean(ev.results)
    rows = {r["uscc"]: r for r in ev.results.to_pylist()}
    tol = case.get("tolerance", 1e-5)
    for exp in case["expect"]:
        uscc = exp["uscc"]
        if exp.get("absent"):
            assert uscc not in rows
            continue
        got = rows[uscc]
        for key, want in exp.items():
            if key in ("uscc", "indicators"):
                continue
            if key.endswith("_contains"):
                field = key.removesuffix("_contains")
                assert got[field] is not None and want in got[field], f"{uscc}.{field}: {got[field]!r} lacks {want!r}"
            elif isinstance(want, (int, float)) and not isinstance(want, bool):
                assert got[key] == pytest.approx(want, abs=tol), f"{uscc}.{key}"
            else:
                assert got[key] == want, f"{uscc}.{key}: {got[key]!r} != {want!r}"
        for code, fields in (exp.get("indicators") or {}).items():
            for k, want in fields.items():
                v = got[f"{code}__{k}"]
                if isinstance(want, (int, float)):
                    assert v == pytest.approx(want, abs=tol), f"{uscc}.{code}.{k}"
                else:
                    assert v == want, f"{uscc}.{code}.{k}: {v!r} != {want!r}"


def check_simulator(path: Path) -> None:
    """The simulator's one-firm scorer gives every evaluated firm the engine's score."""
    from qunlian.per_mu.engine import evaluate
    from qunlian.per_mu.simulate import score_one

    case = load_case(path)
    ev = evaluate(case["table"], case["method_obj"], case["year"])
    for r in ev.results.to_pylist():
        if r["excluded_reason"] or r["tenant_note"] or r["part"] is None:
            continue
        out = score_one(r, ev.method.part(r["part"]), ev.context[r["part"]])
        assert out["total_score"] == pytest.approx(r["total_score"], abs=1e-9), r["uscc"]


GOLDEN = {"engine": check_engine, "simulator": check_simulator}
