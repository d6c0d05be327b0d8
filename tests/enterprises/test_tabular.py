"""Safe reading: refusals come as one clear problem, before any parsing; the store stays unchanged."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from io_helpers import HEADER, good_rows, write_csv, write_xlsx

from qunlian.core.errors import ValidationFailed
from qunlian.platform import tabular as readers
from qunlian.enterprises.enterprise_years import import_enterprise_years
from qunlian.platform.tabular import read_table

TAX_YUAN = {"tax_wan": "元"}


def refused(path: Path, **kw) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        read_table(path, **kw)
    exc = info.value
    assert len(exc.problems) == 1
    p = exc.problems[0]
    assert p.file == path.name
    assert p.message and p.fix
    return exc


@pytest.fixture
def no_parsing(monkeypatch):
    """Fail loudly if anything reaches openpyxl: refusals must come from the checks before parsing."""

    def boom(*a, **k):
        raise AssertionError("openpyxl was called on a file that should have been refused")

    monkeypatch.setattr(openpyxl, "load_workbook", boom)


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path, region, counts, no_parsing, monkeypatch):
    big = tmp_path / "大文件.xlsx"
    with big.open("wb") as f:  # sparse: 51 MB on paper, nothing on disk
        f.truncate(51 * 1024 * 1024)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("a refused file must not be read"))
    before = counts()
    exc = refused(big)
    assert "文件过大" in exc.problems[0].message and "50 MB" in exc.problems[0].message
    assert "QUNLIAN_MAX_UPLOAD_MB" in exc.problems[0].fix
    with pytest.raises(ValidationFailed):
        import_enterprise_years(region, big, units=TAX_YUAN)
    assert counts() == before


def test_size_limit_follows_the_environment(tmp_path, monkeypatch):
    f = write_csv(tmp_path / "a.csv", [HEADER, *good_rows(2)])
    assert read_table(f).rows
    monkeypatch.setenv("QUNLIAN_MAX_UPLOAD_MB", "0.0001")  # about 100 bytes
    exc = refused(f)
    assert "文件过大" in exc.problems[0].message


def test_just_under_the_limit_is_read(tmp_path, monkeypatch):
    f = write_csv(tmp_path / "a.csv", [HEADER, *good_rows(2)])
    monkeypatch.setenv("QUNLIAN_MAX_UPLOAD_MB", str(os.path.getsize(f) / 1048576))
    assert len(read_table(f).rows) == 3


@pytest.mark.parametrize(("name", "content"), [
    ("report.pdf", b"%PDF-1.4 ..."),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100),
    ("noext", b"a,b\n1,2\n"),
])
def test_unsupported_extensions(tmp_path, name, content, no_parsing):
    f = tmp_path / name
    f.write_bytes(content)
    exc = refused(f)
    assert "不支持的文件类型" in exc.problems[0].message
    assert ".xlsx" in exc.problems[0].fix


def test_old_xls_gets_told_to_save_as_xlsx(tmp_path):
    f = tmp_path / "old.xls"
    f.write_bytes(b"\xd0\xcf\x11\xe0")
    assert "另存为 .xlsx" in refused(f).problems[0].fix


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n" + b"\0" * 200,  # a picture renamed .xlsx
    "统一社会信用代码,年度\n".encode(),  # a CSV renamed .xlsx
    b"",  # an empty file
])
def test_xlsx_that_is_not_a_zip(tmp_path, content, region, counts, no_parsing):
    f = tmp_path / "数据.xlsx"
    f.write_bytes(content)
    before = counts()
    exc = refused(f)
    assert "不是有效的 Excel 工作簿" in exc.problems[0].message
    with pytest.raises(ValidationFailed):
        import_enterprise_years(region, f)
    assert counts() == before


def test_zip_without_a_workbook(tmp_path, no_parsing):
    f = tmp_path / "数据.xlsx"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("readme.txt", "hello")
    assert "xl/workbook.xml" in refused(f).problems[0].message


def test_zip_bomb_by_ratio_is_refused_from_the_directory(tmp_path, region, counts, no_parsing):
    f = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (16 * 1024 * 1024))  # 16 MB of zeros → ~16 KB
    assert f.stat().st_size < 100_000
    before = counts()
    exc = refused(f)
    assert "压缩比异常" in exc.problems[0].message and "zip bomb" in exc.problems[0].message
    with pytest.raises(ValidationFailed):
        import_enterprise_years(region, f)
    assert counts() == before


def test_zip_bomb_by_total_size(tmp_path, monkeypatch, no_parsing):
    monkeypatch.setattr(readers, "MAX_UNZIPPED_BYTES", 1024 * 1024)
    f = tmp_path / "big.xlsx"
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", os.urandom(2 * 1024 * 1024))
    assert "解压后" in refused(f).problems[0].message


def test_zip_with_too_many_entries(tmp_path, no_parsing):
    f = tmp_path / "many.xlsx"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(readers.MAX_ZIP_ENTRIES + 1):
            z.writestr(f"xl/p{i}.xml", "")
    assert "部件" in refused(f).problems[0].message


def test_empty_sheet(tmp_path, region, counts):
    f = write_xlsx(tmp_path / "空表.xlsx", [], sheet="Sheet1")
    before = counts()
    exc = refused(f)
    p = exc.problems[0]
    assert "空" in p.message and p.sheet == "Sheet1"
    assert "第 1 行" in p.fix
    with pytest.raises(ValidationFailed):
        import_enterprise_years(region, f)
    assert counts() == before


def test_empty_csv(tmp_path):
    f = tmp_path / "空.csv"
    f.write_bytes("\ufeff\n\n".encode())
    assert "空" in refused(f).problems[0].message


def test_csv_utf8_bom_and_gb18030_fallback(tmp_path):
    rows = [HEADER, *good_rows(2)]
    t = read_table(write_csv(tmp_path / "utf8.csv", rows))
    assert t.rows[0][1][0] == "统一社会信用代码" and not t.notes
    g = read_table(write_csv(tmp_path / "gbk.csv", rows, encoding="gb18030"))
    assert g.rows[0][1][0] == "统一社会信用代码"
    assert g.rows[1][1][1] == "平湖测试企业0有限公司"
    assert any("GB18030" in n for n in g.notes)
    assert g.sheet == "gbk"


def test_binary_renamed_csv_is_refused(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"a,b\n\x00\x01\x02")
    assert refused(f).problems


def test_named_sheet_and_missing_sheet(tmp_path):
    f = tmp_path / "two.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表为 2023 年数据"])
    ws = wb.create_sheet("数据")
    ws.append(HEADER)
    wb.save(f)
    assert read_table(f).sheet == "说明"
    assert read_table(f, sheet="数据").rows[0][1][0] == "统一社会信用代码"
    exc = refused(f, sheet="Sheet9")
    assert exc.problems[0].sheet == "Sheet9"
    assert "说明" in exc.problems[0].fix and "数据" in exc.problems[0].fix


def test_row_numbers_are_what_the_user_sees(tmp_path):
    f = write_xlsx(tmp_path / "gap.xlsx", [["2023 年企业数据"], [], HEADER, [], good_rows(1)[0]])
    t = read_table(f)
    assert [n for n, _ in t.rows] == [1, 3, 5]


def test_display_name_for_temporary_uploads(tmp_path):
    f = write_csv(tmp_path / "tmp8x7a.csv", [HEADER])
    t = read_table(f, filename="2023年税收.csv")
    assert (t.file, t.sheet) == ("2023年税收.csv", "2023年税收")
    empty = tmp_path / "tmpq1.csv"
    empty.write_text("")
    with pytest.raises(ValidationFailed) as info:
        read_table(empty, filename="用电.csv")
    assert (info.value.problems[0].file, info.value.problems[0].sheet) == ("用电.csv", "用电")
