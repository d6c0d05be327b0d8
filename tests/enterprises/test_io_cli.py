"""`qunlian import enterprise-years` and `qunlian export enterprise-years`."""

from __future__ import annotations

import re

from io_helpers import HEADER, code, good_rows, write_csv, write_xlsx
from typer.testing import CliRunner

from qunlian.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_import_export_round_trip(tmp_path, cli_env, region, counts):
    f = write_xlsx(tmp_path / "税务.xlsx", [HEADER, *good_rows(3)])
    r = run("import", "enterprise-years", str(f), "--unit", "tax_wan=元", "--source", "税务局")
    assert r.exit_code == 0, r.output
    assert "已导入 3 行" in r.output and re.search(r"batch_id=\d+", r.output)
    assert "tax_wan=元" in r.output
    assert counts()["enterprise_years"] == 3
    out = tmp_path / "out.csv"
    r = run("export", "enterprise-years", "--year", "2023", "--output", str(out))
    assert r.exit_code == 0, r.output
    assert "3 行" in r.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 4 and lines[0].startswith("uscc,name,year,town")
    assert ",120.0," in lines[1]


def test_check_only_writes_nothing(tmp_path, cli_env, region, counts):
    f = write_xlsx(tmp_path / "a.xlsx", [HEADER, *good_rows(2)])
    before = counts()
    r = run("import", "enterprise-years", str(f), "--unit", "tax_wan=元", "--check")
    assert r.exit_code == 0, r.output
    assert "校验通过" in r.output and counts() == before


def test_failure_prints_every_problem_and_stores_nothing(tmp_path, cli_env, region, counts):
    rows = [HEADER, *good_rows(4)]
    rows[2][3] = "新埭镇"
    rows[4][8] = "很多"
    f = write_xlsx(tmp_path / "bad.xlsx", rows)
    before = counts()
    r = run("import", "enterprise-years", str(f), "--unit", "tax_wan=元")
    assert r.exit_code == 1
    assert counts() == before
    lines = [ln for ln in r.output.splitlines() if ln.startswith("文件 ")]
    assert len(lines) == 2
    assert lines[0].startswith("文件 bad.xlsx，工作表 企业数据，第 3 行，列 所属镇街：")
    assert lines[1].startswith("文件 bad.xlsx，工作表 企业数据，第 5 行，列 从业人员：")
    assert all("修改方法：" in ln for ln in lines)
    assert "未写入任何数据" in r.output


def test_refused_file(tmp_path, cli_env, region):
    f = tmp_path / "x.pdf"
    f.write_bytes(b"%PDF")
    r = run("import", "enterprise-years", str(f))
    assert r.exit_code == 1 and "不支持的文件类型" in r.output


def test_bad_unit_option(tmp_path, cli_env, region):
    f = write_csv(tmp_path / "a.csv", [HEADER, *good_rows(1)])
    r = run("import", "enterprise-years", str(f), "--unit", "tax_wan")
    assert r.exit_code == 2 and "列=单位" in r.output


def test_store_not_initialised(tmp_path, cli_env):
    f = write_csv(tmp_path / "a.csv", [HEADER, [code(1), "甲", 2023]])
    r = run("import", "enterprise-years", str(f))
    assert r.exit_code == 2 and "qunlian init" in r.output
    r = run("export", "enterprise-years", "--year", "2023", "--output", str(tmp_path / "o.csv"))
    assert r.exit_code == 2 and "qunlian init" in r.output


def test_export_bad_suffix(tmp_path, cli_env, region):
    r = run("export", "enterprise-years", "--year", "2023", "--output", str(tmp_path / "o.json"))
    assert r.exit_code == 2 and ".xlsx" in r.output


def test_user_guide_lists_every_column():
    from pathlib import Path

    from qunlian.enterprises.columns import COLUMNS

    guide = (Path(__file__).parents[2] / "docs" / "import.md").read_text(encoding="utf-8")
    missing = [c.name for c in COLUMNS if f"| `{c.name}` | {c.label} |" not in guide]
    assert missing == []
