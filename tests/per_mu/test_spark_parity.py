"""The same Ibis expression on DuckDB and on Spark gives the same results (DESIGN §6)."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark not installed (pip install qunlian[spark]; needs Java 17)")

from qunlian.per_mu.engine import evaluate  # noqa: E402
from qunlian.per_mu.presets import get_method  # noqa: E402

from .conftest import CASES, load_case  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_backend():
    import ibis
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("qunlian-muni-parity")
             .config("spark.sql.ansi.enabled", "true").config("spark.sql.shuffle.partitions", "4")
             .config("spark.ui.enabled", "false").getOrCreate())
    yield ibis.pyspark.connect(spark)
    spark.stop()


def _compare(a, b) -> None:
    ra = {r["uscc"]: r for r in a.results.to_pylist()}
    rb = {r["uscc"]: r for r in b.results.to_pylist()}
    assert ra.keys() == rb.keys()
    for k, x in ra.items():
        y = rb[k]
        for col, v in x.items():
            w = y[col]
            if isinstance(v, float) or isinstance(w, float):
                if v is None or w is None:
                    assert v is None and w is None, (k, col, v, w)
                else:
                    assert math.isclose(v, w, rel_tol=1e-9, abs_tol=1e-9), (k, col, v, w)
            else:
                assert v == w, (k, col, v, w)


def test_demo_county_parity(spark_backend) -> None:
    gen = pytest.importorskip("qunlian.demo.generator")
    t = gen.generate_enterprise_years(seed=11, scale=0.5, year=2023)
    for mid in ("demo-pinghu", "zj-wenling-2022"):
        m = get_method(mid)
        year = 2023 if mid == "demo-pinghu" else 2022
        tt = t if year == 2023 else t.set_column(t.column_names.index("year"), "year", pa.array([2022] * t.num_rows, pa.int64()))
        _compare(evaluate(tt, m, year), evaluate(tt, m, year, backend=spark_backend))


@pytest.mark.parametrize("name", ["previous-year-median-caps", "tenants-merge", "tenants-landowner-grade", "minmax-negative-list-exclusions"])
def test_golden_case_parity(spark_backend, name: str) -> None:
    case = load_case(CASES / f"{name}.yaml")
    _compare(evaluate(case["table"], case["method_obj"], case["year"]),
             evaluate(case["table"], case["method_obj"], case["year"], backend=spark_backend))
