"""Safe reading: refusals come as one clear problem, before any parsing; the store stays unchanged."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from io_helpers import HEADER, good_rows, no_parsing, write_csv, write_xlsx  # noqa: F401 (no_parsing: a fixture)

from qunlian.core.errors import ValidationFailed
from qunlian.platform import tabular as readers
from qunlian.platform.i18n import translate
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
    message = exc.problems[0].message
    assert "压缩比异常" in message and "zip bomb" in translate(message, "en")
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


# --------------------------------------------------------------------------- encodings, WPS, parquet


def test_csv_gb18030_beyond_gbk_and_plain_gbk(tmp_path):
    rare = ["统一社会信用代码", "企业名称"], ["X", "𠮷野家（平湖）餐饮有限公司"]  # 𠮷 is in GB18030, not in GBK
    t = read_table(write_csv(tmp_path / "rare.csv", rare, encoding="gb18030"))
    assert t.rows[1][1][1] == "𠮷野家（平湖）餐饮有限公司" and any("GB18030" in n for n in t.notes)
    g = read_table(write_csv(tmp_path / "gbk.csv", [HEADER, *good_rows(1)], encoding="gbk"))
    assert g.rows[0][1] == HEADER


def test_undecodable_csv_is_refused(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_bytes(b"a,b\n\x81\x20\xff\xfe,1\n")  # neither UTF-8 nor GB18030
    assert "编码" in refused(f).problems[0].message


CELL = st.text(st.characters(categories=("L", "N", "Zs"), exclude_characters="\ufeff"), max_size=12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=1, max_size=5), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_encodings_read_back_exactly(tmp_path_factory, rows, encoding):
    rows = [r for r in rows if any(c.strip() for c in r)]
    assume(rows)
    data = io.StringIO()
    csv.writer(data).writerows(rows)
    raw = data.getvalue().encode(encoding)
    if encoding == "gb18030":
        try:
            raw.decode("utf-8")
            assume(False)  # bytes that are also valid UTF-8 are read as UTF-8, by design
        except UnicodeDecodeError:
            pass
    f = tmp_path_factory.mktemp("enc") / "t.csv"
    f.write_bytes(raw)
    t = read_table(f)
    assert [cells for _, cells in t.rows] == rows


def _wps_xlsx(path: Path, rows: list[tuple[int | None, list]]) -> Path:
    """A workbook as WPS writes it: inline strings, no sharedStrings or styles part, a wrong dimension,
    cells without references, an absolute relationship target. Row number None: a row without r."""
    from xml.sax.saxutils import escape

    ns = "http://schemas.openxmlformats.org/"
    body = []
    for n, cells in rows:
        cs = "".join("<c/>" if v is None else (f'<c t="n"><v>{v}</v></c>' if isinstance(v, int | float)
                                              else f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>') for v in cells)
        body.append(f'<row r="{n}">{cs}</row>' if n is not None else f"<row>{cs}</row>")
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{ns}package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{ns}spreadsheetml/2006/main" xmlns:r="{ns}officeDocument/2006/relationships">'
        '<sheets><sheet name="企业数据" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{ns}officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{ns}spreadsheetml/2006/main"><dimension ref="A1"/>'
        f'<sheetData>{"".join(body)}</sheetData></worksheet>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in parts.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml)
    return path


def test_a_wps_style_workbook_is_read(tmp_path, region):
    rows = good_rows(2)
    f = _wps_xlsx(tmp_path / "wps.xlsx", [(1, ["2023 年企业数据（WPS 导出）"]), (3, HEADER), (4, rows[0]), (6, rows[1])])
    with zipfile.ZipFile(f) as z:
        assert "xl/sharedStrings.xml" not in z.namelist() and "xl/styles.xml" not in z.namelist()
    t = read_table(f)
    assert t.sheet == "企业数据" and [n for n, _ in t.rows] == [1, 3, 4, 6]
    assert t.rows[1][1] == HEADER and t.rows[2][1] == rows[0]
    header_row, cells = t.header(lambda h: h in HEADER)
    assert header_row == 3 and cells == HEADER
    result = import_enterprise_years(region, f, units=TAX_YUAN)
    assert result.rows == 2 and result.sheet == "企业数据"
    plain = read_table(_wps_xlsx(tmp_path / "norefs.xlsx", [(None, ["a", "b"]), (None, [1, 2])]))
    assert plain.rows == [(1, ["a", "b"]), (2, [1, 2])]


def test_to_arrow_skips_title_rows_and_keeps_row_numbers(tmp_path):
    f = write_xlsx(tmp_path / "t.xlsx", [["2023 年"], HEADER[:3] + [None, "备注"], ["X", "甲", 2023], [], ["Y", "乙", "2023年", None, "x"]])
    sheet = read_table(f).to_arrow(lambda h: h in HEADER)
    assert sheet.header_row == 2 and sheet.rows == [3, 5]
    assert sheet.table.column_names == [*HEADER[:3], "备注"]
    assert sheet.table.column("年度").to_pylist() == ["2023", "2023年"]  # mixed kinds: as text
    assert sheet.table.column("备注").to_pylist() == [None, "x"]


def test_parquet_keeps_its_types_and_is_read_only_where_allowed(tmp_path):
    f = tmp_path / "ey.parquet"
    towns = pa.array(["当湖街道", "当湖街道", None]).dictionary_encode()
    pq.write_table(pa.table({"uscc": ["A", "B", "C"], "year": [2023, 2023, 2023], "tax_wan": [1.5, None, 2.0],
                             "town": towns}), f)
    refused(f)  # uploads take .xlsx and .csv only
    t = read_table(f, formats=readers.ALL_FORMATS, filename="企业.parquet")
    assert (t.file, t.sheet) == ("企业.parquet", "企业")
    assert t.arrow.schema.field("year").type == pa.int64() and t.arrow.schema.field("town").type == pa.string()
    assert t.rows[0] == (1, ["uscc", "year", "tax_wan", "town"]) and t.rows[2] == (3, ["B", 2023, None, "当湖街道"])
    sheet = t.to_arrow()
    assert sheet.rows == [2, 3, 4] and sheet.table.column("tax_wan").to_pylist() == [1.5, None, 2.0]
    assert len(t.sha256) == 64 and t.size == f.stat().st_size


def test_a_file_renamed_parquet_is_refused(tmp_path):
    f = tmp_path / "x.parquet"
    f.write_text("uscc,year\nA,2023\n", encoding="utf-8")
    assert "parquet" in refused(f, formats=readers.ALL_FORMATS).problems[0].message


def test_parquet_bomb_by_dictionary_is_refused_before_decoding(tmp_path, monkeypatch):
    f = tmp_path / "bomb.parquet"
    long = "x" * 100_000
    names = pa.DictionaryArray.from_arrays(pa.array([0] * 2_000, pa.int32()), pa.array([long]))
    pq.write_table(pa.table({"name": names}), f)  # 200 MB once decoded
    assert f.stat().st_size < 1_000_000
    monkeypatch.setattr(readers, "MAX_UNZIPPED_BYTES", 64 * 1024 * 1024)
    p = refused(f, formats=readers.ALL_FORMATS).problems[0]
    assert "疑似压缩炸弹" in p.message and "解码后" in p.message and translate(p.message, "en") == "zip bomb suspected"


def test_parquet_with_too_many_cells_is_refused_from_the_footer(tmp_path, monkeypatch):
    f = tmp_path / "big.parquet"
    pq.write_table(pa.table({"a": list(range(1000)), "b": list(range(1000))}), f)
    monkeypatch.setattr(readers, "MAX_PARQUET_CELLS", 1999)
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: pytest.fail("the footer alone must refuse it"))
    assert "单元格" in refused(f, formats=readers.ALL_FORMATS).problems[0].message
