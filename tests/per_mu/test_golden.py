"""Golden cases (tests/cases/muni/*.yaml): inputs → expected outputs computed by hand from the method."""

from __future__ import annotations

from pathlib import Path

import pytest

from qunlian.per_mu.engine import evaluate
from qunlian.per_mu.simulate import score_one

from .conftest import CASES, assert_clean, load_case

CASE_FILES = sorted(CASES.glob("*.yaml"))


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_golden_case(path: Path) -> None:
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


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_simulator_scores_like_the_engine(path: Path) -> None:
    """The simulator's one-firm scorer gives every evaluated firm the engine's score."""
    case = load_case(path)
    ev = evaluate(case["table"], case["method_obj"], case["year"])
    for r in ev.results.to_pylist():
        if r["excluded_reason"] or r["tenant_note"] or r["part"] is None:
            continue
        out = score_one(r, ev.method.part(r["part"]), ev.context[r["part"]])
        assert out["total_score"] == pytest.approx(r["total_score"], abs=1e-9), r["uscc"]
