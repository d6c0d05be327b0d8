"""`qunlian muni evaluate --method ID --input FILE --output FILE` on csv, xlsx and parquet."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from qunlian.cli import app

from .conftest import CASES, load_case

runner = CliRunner()


def _write(table: pa.Table, path: Path) -> None:
    if path.suffix == ".csv":
        pcsv.write_csv(table, path)
    elif path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(table.column_names)
        for r in table.to_pylist():
            ws.append([r[c] for c in table.column_names])
        wb.save(path)


@pytest.mark.parametrize("fmt_in,fmt_out", [(".csv", ".csv"), (".xlsx", ".parquet"), (".parquet", ".xlsx")])
def test_standalone_golden(tmp_path: Path, fmt_in: str, fmt_out: str, cli_env) -> None:
    case = load_case(CASES / "huangyan-2022.yaml")
    src, dst = tmp_path / f"in{fmt_in}", tmp_path / f"out{fmt_out}"
    _write(case["table"], src)
    out = runner.invoke(app, ["muni", "evaluate", "--method", "zj-huangyan-2022", "--input", str(src), "--output", str(dst)])
    assert out.exit_code == 0, out.output
    if fmt_out == ".csv":
        res = pcsv.read_csv(dst)
    elif fmt_out == ".parquet":
        res = pq.read_table(dst)
    else:
        from openpyxl import load_workbook

        ws = load_workbook(dst).active
        rows = list(ws.iter_rows(values_only=True))
        res = pa.Table.from_pylist([dict(zip(rows[0], r)) for r in rows[1:]])
    assert res.column_names[:6] == ["uscc", "year", "method", "total_score", "grade", "rank"]
    assert "tax_per_mu_points" in res.column_names and "va_per_emission_status" in res.column_names
    got = {r["uscc"]: r for r in res.to_pylist()}
    for exp in case["expect"]:
        assert got[exp["uscc"]]["total_score"] == pytest.approx(exp["total_score"], abs=1e-5)
        assert got[exp["uscc"]]["method"] == "zj-huangyan-2022"


def test_chinese_headers_with_units(tmp_path: Path, cli_env) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "统一社会信用代码,年度,是否规上,用地面积（亩）,税收（元）,用电量（万千瓦时）\n"
        "B1,2022,否,5,600000,255.1\n", encoding="utf-8")
    dst = tmp_path / "out.csv"
    out = runner.invoke(app, ["muni", "evaluate", "-m", "zj-huangyan", "-i", str(src), "-o", str(dst)])
    assert out.exit_code == 0, out.output
    row = pcsv.read_csv(dst).to_pylist()[0]
    assert row["total_score"] == pytest.approx(101.754877, abs=1e-5)  # 60 万元 after converting 元


def test_bad_input_names_file_and_column(tmp_path: Path, cli_env) -> None:
    src = tmp_path / "in.csv"
    src.write_text("uscc,year,land_mu,tax_wan\nA,2022,abc,5\n", encoding="utf-8")
    out = runner.invoke(app, ["muni", "evaluate", "-m", "zj-huangyan-2022", "-i", str(src), "-o", str(tmp_path / "o.csv")])
    assert out.exit_code == 2
    assert "in.csv" in out.output and "land_mu" in out.output and "第 2 行" in out.output
    src.write_text("name,tax_wan\nA,5\n", encoding="utf-8")
    out = runner.invoke(app, ["muni", "evaluate", "-m", "zj-huangyan-2022", "-i", str(src), "-o", str(tmp_path / "o.csv")])
    assert out.exit_code == 2 and "uscc" in out.output


def test_check_and_methods_commands(tmp_path: Path, cli_env) -> None:
    out = runner.invoke(app, ["muni", "methods"])
    assert out.exit_code == 0 and "zj-huangyan-2022" in out.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nfoo: 1\n", encoding="utf-8")
    out = runner.invoke(app, ["muni", "check", str(bad)])
    assert out.exit_code == 2 and "bad.yaml" in out.output and "foo" in out.output
    out = runner.invoke(app, ["muni", "sql", "-m", "zj-huangyan-2022", "-y", "2022"])
    assert out.exit_code == 0 and "SELECT" in out.output
