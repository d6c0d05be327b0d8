"""Formula injection (issue 11 item 4): every export path, with every prefix that makes Excel or WPS read
text as a formula, writes the text as text — and keeps the stored value as typed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pytest
from io_helpers import code, write_xlsx
from openpyxl import load_workbook
from sqlalchemy import select, update
from typer.testing import CliRunner
from web_helpers import login, make_client, seed

from qunlian.enterprises.enterprise_years import export_enterprise_years, import_enterprise_years
from qunlian.enterprises.models import Enterprise
from qunlian.per_mu.inputs import export_gongshi, write_table
from qunlian.platform.db import session_factory, transaction
from qunlian.platform.tabular import read_table
from qunlian.platform.tabular_out import FORMULA_PREFIXES, csv_text

EVIL = {p: f'{p}HYPERLINK("http://evil.example","click")' for p in FORMULA_PREFIXES}
IDS = ["eq", "plus", "minus", "at", "tab", "cr"]


def _xlsx_cells(data: bytes | Path) -> list[tuple[object, str]]:
    wb = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [(c.value, c.data_type) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _only_text(cells: list[tuple[object, str]], evil: str) -> None:
    evil = evil.replace("\r", "\n")  # xlsx keeps line feeds only (XML turns a bare CR into LF)
    hits = [t for v, t in cells if v == evil]
    assert hits and set(hits) == {"s"}, cells  # present exactly as typed, and a string cell, never a formula


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES, ids=IDS)
def test_enterprise_years_export_csv_and_xlsx(region, tmp_path: Path, prefix: str):
    evil = EVIL[prefix]
    rows = [["统一社会信用代码", "企业名称", "年度", "镇街道", "用地面积（亩）", "税收（万元）"],
            [code(1), "甲公司", 2023, "当湖街道", 12.5, -3.5]]  # a negative number stays a number
    import_enterprise_years(region, write_xlsx(tmp_path / "src.xlsx", rows))
    with transaction(region) as s:
        s.execute(update(Enterprise).values(name=evil))
    export_enterprise_years(region, 2023, tmp_path / "e.xlsx")
    _only_text(_xlsx_cells(tmp_path / "e.xlsx"), evil)
    assert (-3.5, "n") in _xlsx_cells(tmp_path / "e.xlsx")
    export_enterprise_years(region, 2023, tmp_path / "e.csv")
    with (tmp_path / "e.csv").open(encoding="utf-8-sig", newline="") as f:
        cells = list(csv.reader(f))
    assert cells[1][1] == "'" + evil  # marked as text for Excel and WPS
    assert "-3.5" in cells[1]  # numbers are not marked
    # the reader takes the mark off again: the exported file reads back to the stored value
    back = read_table(tmp_path / "e.csv").rows
    assert back[1][1][1] == evil  # (row number, cells) of the first data row
    with session_factory(region)() as s:
        assert s.scalar(select(Enterprise.name)) == evil  # the store keeps the value as typed


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES, ids=IDS)
def test_enterprise_list_xlsx_from_the_page(engine, prefix: str):
    store = seed(engine)
    evil = EVIL[prefix]
    with transaction(engine) as s:
        s.execute(update(Enterprise).where(Enterprise.uscc == store.uscc["e1"]).values(name=evil))
    c = make_client(engine)
    assert login(c, store.users["admin"]).status_code == 303
    r = c.get("/enterprises.xlsx")
    assert r.status_code == 200
    _only_text(_xlsx_cells(r.content), evil)


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES, ids=IDS)
def test_per_mu_gongshi_and_result_files(tmp_path: Path, prefix: str):
    evil = EVIL[prefix]
    results = pa.table({"uscc": ["91330482MA0000001X"], "name": [evil], "town": ["当湖街道"], "part": ["above"],
                        "total_score": [-1.5], "grade": ["D"], "rank": [1], "excluded_reason": [None]})
    export_gongshi(results, "测试方法", 2023, tmp_path / "g.xlsx", {"above": "规上工业企业"})
    _only_text(_xlsx_cells(tmp_path / "g.xlsx"), evil)
    write_table(results, tmp_path / "r.xlsx")
    _only_text(_xlsx_cells(tmp_path / "r.xlsx"), evil)
    write_table(results, tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1][1] == "'" + evil and "-1.5" in rows[1]


def test_csv_to_stdout_marks_text_and_keeps_numbers():
    out = csv_text(["name", "value"], [["=1+1", -2], ["+x", None], ["plain", 3]], bom=False)
    assert out.splitlines() == ["name,value", "'=1+1,-2", "'+x,", "plain,3"]


def test_targets_csv_output_goes_through_the_writer(cli_env, engine):
    with transaction(engine) as s:
        from qunlian.targets.service import load_reference_data

        load_reference_data(s, actor="test")
    out = CliRunner().invoke(__import__("qunlian.cli", fromlist=["app"]).app,
                             ["targets", "status", "--plan", "pinghu-mfg-14th", "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output)))
    assert len(rows) > 5 and all(not c.startswith(FORMULA_PREFIXES) for r in rows for c in r if c[:1] != "'")
