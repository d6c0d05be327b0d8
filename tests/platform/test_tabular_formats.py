"""The tabular reader on what clerks' programs write: UTF-16 text, broken quotes, formulas, hidden sheets,
merged cells, and sheets that would cost too much work. Every file is built here, byte by byte where needed."""

from __future__ import annotations

import random
import string
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from io_helpers import no_parsing  # noqa: F401 (a fixture)

from qunlian.core.errors import ValidationFailed
from qunlian.platform import tabular as readers
from qunlian.platform.tabular import read_table

REFUSED = "文件未被接受，未写入任何数据"
QUOTE_FIX = "检查该行的英文双引号是否成对；在 Excel/WPS 中打开后另存为 CSV"
FORMULA_FIX = "在 Excel 或 WPS 中打开文件，确认公式已计算后保存；或把这些单元格复制后“选择性粘贴为数值”"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def refused(path: Path, **kw) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        read_table(path, **kw)
    exc = info.value
    assert exc.summary == REFUSED and exc.problems
    for p in exc.problems:
        assert p.file == path.name and p.message and p.fix
    return exc




def save(wb: openpyxl.Workbook, path: Path) -> Path:
    wb.save(path)
    return path


def patch_part(path: Path, member: str, change: Callable[[bytes], bytes]) -> Path:
    """Rewrite one zip member of a saved workbook (what a program other than openpyxl would have written)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    new = change(parts[member])
    assert new != parts[member], "the patch changed nothing"
    parts[member] = new
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def cells(table) -> list[list]:
    return [c for _, c in table.rows]


# --------------------------------------------------------------------------- UTF-16 CSV

ROWS = [["统一社会信用代码", "企业名称", "年度"], ["91330482MA2XXXXX0A", "平湖一号机械有限公司", "2023"],
        ["91330482MA2XXXXX1B", "𠮷野家（平湖）餐饮有限公司", "2023"]]


def text_of(rows: list[list[str]], sep: str) -> str:
    return "".join(sep.join(r) + "\r\n" for r in rows)


@pytest.mark.parametrize("sep", ["\t", ","])
@pytest.mark.parametrize(("codec", "bom"), [
    ("utf-16-le", "\ufeff"),  # Excel "Unicode 文本"
    ("utf-16-be", "\ufeff"),
    ("utf-16-le", ""),  # no BOM: found by where the NUL bytes are
    ("utf-16-be", ""),
])
def test_utf16_csv_is_read_and_noted(tmp_path, codec, bom, sep):
    f = tmp_path / "unicode.csv"
    f.write_bytes((bom + text_of(ROWS, sep)).encode(codec))
    t = read_table(f)
    assert cells(t) == ROWS
    assert [n for n, _ in t.rows] == [1, 2, 3]
    assert any("UTF-16" in n for n in t.notes)


def test_utf16_without_bom_and_mostly_chinese(tmp_path):
    rows = [["企业名称"], ["一二三机械有限公司"], ["当湖街道一号企业"], ["钟埭街道二号企业"]]  # 一 is U+4E00: a NUL byte
    f = tmp_path / "名单.csv"
    f.write_bytes(text_of(rows, ",").encode("utf-16-le"))
    t = read_table(f)
    assert cells(t) == rows and any("UTF-16" in n for n in t.notes)


def test_utf8_and_gb18030_are_not_taken_for_utf16(tmp_path):
    f = tmp_path / "u8.csv"
    f.write_bytes(text_of(ROWS[:2], ",").encode("utf-8"))
    assert read_table(f).notes == []
    g = tmp_path / "gbk.csv"
    g.write_bytes(text_of(ROWS[:2], ",").encode("gb18030"))
    t = read_table(g)
    assert cells(t) == ROWS[:2] and any("GB18030" in n for n in t.notes)


@pytest.mark.parametrize("content", [
    b"\x01\x00\x02\x00\x03\x00\x04\x00" * 64,  # 16-bit numbers: NULs where UTF-16 has them, but no text
    bytes(range(256)) * 8,
    b"\xff\xfea\x00,\x00\x00\x00",  # a BOM, then U+0000
])
def test_binary_is_still_refused(tmp_path, content):
    f = tmp_path / "x.csv"
    f.write_bytes(content)
    assert "二进制" in refused(f).problems[0].message or "编码" in refused(f).problems[0].message


def test_utf16_bom_with_broken_content_is_refused(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"\xff\xfea\x00,\x00" + b"\x00\xd8" + b",\x00")  # a lone high surrogate
    assert "UTF-16" in refused(f).problems[0].message


# --------------------------------------------------------------------------- quotes


def write(tmp_path: Path, name: str, text: str) -> Path:
    f = tmp_path / name
    f.write_bytes(text.encode("utf-8"))
    return f


def test_unterminated_quote_is_refused_with_row_and_column(tmp_path):
    f = write(tmp_path, "企业.csv", '企业名称,税收\n甲公司,1\n"abc,1\n乙公司,2\n')
    exc = refused(f)
    assert len(exc.problems) == 1
    p = exc.problems[0]
    assert (p.row, p.column, p.sheet) == (3, "A", "企业")
    assert p.value == '"abc,1' and "引号" in p.message
    assert p.fix == QUOTE_FIX


def test_unterminated_quote_in_a_later_column_at_the_end_of_the_file(tmp_path):
    p = refused(write(tmp_path, "a.csv", 'a,b,c\n1,2,"open')).problems[0]
    assert (p.row, p.column, p.value) == (2, "C", '"open')


def test_unterminated_quote_after_a_cell_with_line_breaks_names_the_row_and_the_text_line(tmp_path):
    f = write(tmp_path, "a.csv", 'name,note\n"x","line 1\nline 2"\nc,"open\nd,e\n')
    p = refused(f).problems[0]
    assert (p.row, p.column) == (3, "B")  # the third row as a spreadsheet shows it ...
    assert "第 4 行" in p.message  # ... on the fourth line of the text


def test_unterminated_quote_in_a_big_file(tmp_path):
    body = "".join(f"企业{i},{i}\n" for i in range(20_000))  # past the csv module's 128 KiB field limit
    p = refused(write(tmp_path, "a.csv", 'name,n\n"平湖,1\n' + body)).problems[0]
    assert (p.row, p.column) == (2, "A") and p.value.startswith('"平湖')


def test_text_after_a_closing_quote_is_refused(tmp_path):
    p = refused(write(tmp_path, "a.csv", 'name,n\n"平湖"机械,1\n')).problems[0]
    assert (p.row, p.column, p.value) == (2, "A", '"平湖"机械,1')
    assert p.fix.startswith(QUOTE_FIX)


def test_quoted_cells_with_delimiters_line_breaks_and_quotes_still_work(tmp_path):
    f = write(tmp_path, "a.csv", 'name,note,n\n"平湖,当湖","第一行\r\n第二行",1\n"他说""好""",,2\n')
    t = read_table(f)
    assert t.rows == [(1, ["name", "note", "n"]), (2, ["平湖,当湖", "第一行\r\n第二行", "1"]),
                      (3, ['他说"好"', "", "2"])]
    tabs = write(tmp_path, "b.csv", 'name\tn\n"a\tb"\t1\n')
    assert read_table(tabs).rows[1] == (2, ["a\tb", "1"])


def test_quote_problem_uses_the_display_name(tmp_path):
    f = write(tmp_path, "tmp123.csv", 'a\n"x\n')
    with pytest.raises(ValidationFailed) as info:
        read_table(f, filename="上报.csv")
    p = info.value.problems[0]
    assert (p.file, p.sheet, p.row) == ("上报.csv", "上报", 2)


# --------------------------------------------------------------------------- formulas


def formula_book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["名称", "甲", "乙", "丙"])
    ws.append(["A 公司", 3])
    ws["C2"] = "=1+1"
    ws.append(["B 公司", 4])
    ws["D3"] = "=SUM(5,5)"
    return save(wb, path)  # openpyxl saves formulas without results, like any program that never calculates


def test_formulas_without_saved_results_are_refused_one_problem_each(tmp_path, no_parsing):
    exc = refused(formula_book(tmp_path / "f.xlsx"))
    assert [(p.sheet, p.row, p.column, p.value) for p in exc.problems] == [
        ("数据", 2, "C", "=1+1"), ("数据", 3, "D", "=SUM(5,5)")]
    assert {p.fix for p in exc.problems} == {FORMULA_FIX}


def test_formulas_with_saved_results_are_read_as_the_results(tmp_path):
    f = patch_part(formula_book(tmp_path / "f.xlsx"), "xl/worksheets/sheet1.xml",
                   lambda x: x.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
                   .replace(b"<f>SUM(5,5)</f><v />", b"<f>SUM(5,5)</f><v>10</v>"))
    t = read_table(f)
    assert cells(t) == [["名称", "甲", "乙", "丙"], ["A 公司", 3, 2], ["B 公司", 4, None, 10]]
    assert "2 个单元格是公式，已按文件中保存的计算结果读取" in t.notes


def test_one_missing_result_refuses_the_file_even_when_others_are_saved(tmp_path):
    f = patch_part(formula_book(tmp_path / "f.xlsx"), "xl/worksheets/sheet1.xml",
                   lambda x: x.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>"))
    exc = refused(f)
    assert [(p.row, p.column, p.value) for p in exc.problems] == [(3, "D", "=SUM(5,5)")]


def test_many_formulas_without_results_are_listed_up_to_a_cap(tmp_path, no_parsing):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["n", "double"])
    for i in range(2, 2 + readers.MAX_LISTED_FORMULAS + 10):
        ws.append([i, f"=A{i}*2"])
    exc = refused(save(wb, tmp_path / "many.xlsx"))
    assert len(exc.problems) == readers.MAX_LISTED_FORMULAS + 1
    assert exc.problems[0].value == "=A2*2" and exc.problems[0].column == "B"
    last = exc.problems[-1]
    assert "另有 10 个" in last.message and last.row is None and last.fix == FORMULA_FIX


def test_shared_formulas_and_excel_text_results(tmp_path):
    """Excel writes a formula copied down as one shared formula; an empty text result as t="str" <v></v>."""
    def excel_style(xml: bytes) -> bytes:
        return xml.replace(
            b'<row r="2"><c r="A2" t="n"><v>1</v></c></row>',
            b'<row r="2"><c r="A2" t="n"><v>1</v></c><c r="B2"><f t="shared" ref="B2:B3" si="0">A2*2</f></c>'
            b'<c r="C2" t="str"><f>IF(A2&gt;5,"big","")</f><v></v></c></row>').replace(
            b'<row r="3"><c r="A3" t="n"><v>2</v></c></row>',
            b'<row r="3"><c r="A3" t="n"><v>2</v></c><c r="B3"><f t="shared" si="0"/></c></row>')

    wb = openpyxl.Workbook()
    wb.active.append(["n"])
    wb.active.append([1])
    wb.active.append([2])
    f = patch_part(save(wb, tmp_path / "shared.xlsx"), "xl/worksheets/sheet1.xml", excel_style)
    exc = refused(f)
    assert [(p.row, p.column, p.value) for p in exc.problems] == [(2, "B", "=A2*2"), (3, "B", "=A2*2")]


def test_formulas_on_another_sheet_do_not_matter(tmp_path):
    f = formula_book(tmp_path / "two.xlsx")
    wb = openpyxl.load_workbook(f)
    wb.create_sheet("汇总", 0).append(["企业", 1])
    save(wb, f)
    assert read_table(f).rows == [(1, ["企业", 1])]
    assert len(refused(f, sheet="数据").problems) == 2


# --------------------------------------------------------------------------- hidden sheets


def hidden_book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参数"
    ws.append(["内部参数"])
    ws["B1"] = "=1+1"  # no result: would refuse the file if this sheet were read
    ws.sheet_state = "hidden"
    secret = wb.create_sheet("代码表")
    secret.append(["代码"])
    secret.sheet_state = "veryHidden"
    wb.create_sheet("企业数据").append(["统一社会信用代码", "企业名称"])
    wb.create_sheet("备注").append(["备注"])
    return save(wb, path)


def test_the_first_visible_sheet_is_read_and_hidden_ones_are_noted(tmp_path):
    f = hidden_book(tmp_path / "h.xlsx")
    t = read_table(f)
    assert t.sheet == "企业数据" and t.rows == [(1, ["统一社会信用代码", "企业名称"])]
    assert "已跳过隐藏的工作表：参数、代码表" in t.notes


def test_a_hidden_sheet_can_still_be_named(tmp_path):
    f = hidden_book(tmp_path / "h.xlsx")
    assert read_table(f, sheet="代码表").rows == [(1, ["代码"])]
    assert refused(f, sheet="参数").problems[0].value == "=1+1"  # the named sheet is checked, not the first visible


def test_no_note_without_hidden_sheets(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    wb.create_sheet("x", 0).append(["b"])
    assert read_table(save(wb, tmp_path / "v.xlsx")).notes == []


# --------------------------------------------------------------------------- merged cells


def merged_book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append(["2023 年企业名单"])  # a title merged over the table's width
    ws.append(["所属镇街", "企业名称", "税收"])
    ws.append(["当湖街道", "甲", 1])
    ws.append([None, "乙", 2])
    ws.append([None, "丙", 3])
    ws.append([None, "丁", 4])
    ws.append(["钟埭街道", "戊", 5])
    ws.append([None, "己", 6])
    ws.append(["新埭镇"])  # merged over rows 9–10; row 10 has nothing else
    ws.merge_cells("A1:Z1")  # wider than the table: filled only as far as data goes (column C)
    ws.merge_cells("A3:A6")
    ws.merge_cells("A7:A8")
    ws.merge_cells("A9:A10")
    return save(wb, path)


def test_merged_cells_are_filled_with_the_top_left_value(tmp_path):
    t = read_table(merged_book(tmp_path / "m.xlsx"))
    assert t.rows == [
        (1, ["2023 年企业名单"] * 3),
        (2, ["所属镇街", "企业名称", "税收"]),
        (3, ["当湖街道", "甲", 1]), (4, ["当湖街道", "乙", 2]), (5, ["当湖街道", "丙", 3]), (6, ["当湖街道", "丁", 4]),
        (7, ["钟埭街道", "戊", 5]), (8, ["钟埭街道", "己", 6]),
        (9, ["新埭镇"]),  # row 10 was blank but for the merge: it stays out
    ]
    assert "已按合并单元格的值填充 3 个合并区域" in t.notes  # A9:A10 had no other cell with data
    arrow = t.to_arrow(lambda h: h in ("所属镇街", "企业名称", "税收"))
    assert arrow.table.column("所属镇街").to_pylist()[:6] == ["当湖街道"] * 4 + ["钟埭街道"] * 2


def test_too_many_merged_ranges_are_refused(tmp_path, monkeypatch, no_parsing):
    monkeypatch.setattr(readers, "MAX_MERGED_RANGES", 3)
    p = refused(merged_book(tmp_path / "m.xlsx")).problems[0]
    assert "4 个合并单元格区域" in p.message and "取消合并" in p.fix and p.sheet == "企业"


def test_no_merge_note_without_merged_cells(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["a", None, "b"])
    t = read_table(save(wb, tmp_path / "plain.xlsx"))
    assert t.rows == [(1, ["a", None, "b"])] and t.notes == []


# --------------------------------------------------------------------------- bounded work


def grid_csv(tmp_path: Path, rows: int, cols: int) -> Path:
    return write(tmp_path, "grid.csv", "".join(",".join(f"r{r}c{c}" for c in range(cols)) + "\n" for r in range(rows)))


def grid_xlsx(tmp_path: Path, rows: int, cols: int) -> Path:
    wb = openpyxl.Workbook()
    for r in range(rows):
        wb.active.append([f"r{r}c{c}" for c in range(cols)])
    return save(wb, tmp_path / "grid.xlsx")


def test_limits_follow_the_environment(monkeypatch):
    assert (readers.max_import_rows(), readers.max_import_cells()) == (1_000_000, 5_000_000)
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_ROWS", "2000")
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_CELLS", "1_000_000")
    assert (readers.max_import_rows(), readers.max_import_cells()) == (2000, 1_000_000)
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_ROWS", "many")
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_CELLS", "0")
    assert (readers.max_import_rows(), readers.max_import_cells()) == (1_000_000, 5_000_000)


def test_csv_row_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_ROWS", "5")
    assert len(read_table(grid_csv(tmp_path, 5, 2)).rows) == 5
    p = refused(grid_csv(tmp_path, 6, 2)).problems[0]
    assert p.row == 6 and "5 行" in p.message and "QUNLIAN_MAX_IMPORT_ROWS" in p.fix


def test_csv_cell_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_CELLS", "12")
    assert len(read_table(grid_csv(tmp_path, 4, 3)).rows) == 4
    p = refused(grid_csv(tmp_path, 5, 3)).problems[0]
    assert p.row == 5 and "12 个单元格" in p.message and "拆成" in p.fix and "QUNLIAN_MAX_IMPORT_CELLS" in p.fix


def test_xlsx_cells_are_counted_before_openpyxl(tmp_path, monkeypatch, no_parsing):
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_CELLS", "11")
    p = refused(grid_xlsx(tmp_path, 4, 3)).problems[0]
    assert "12 个单元格" in p.message and "11" in p.message and p.sheet == "Sheet"


def test_xlsx_cell_count_at_the_limit_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_CELLS", "12")
    assert len(read_table(grid_xlsx(tmp_path, 4, 3)).rows) == 4


def test_xlsx_limits_hold_while_rows_are_read(tmp_path, monkeypatch):
    """The backstop: a sheet whose XML the scan under-counts is still stopped while openpyxl reads it."""
    f = grid_xlsx(tmp_path, 4, 3)
    monkeypatch.setattr(readers, "_check_sheet_part", lambda *a, **k: readers._SheetScan())
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_ROWS", "3")
    assert refused(f).problems[0].row == 4
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_ROWS", "10")
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_CELLS", "8")
    p = refused(f).problems[0]
    assert p.row == 3 and "8 个单元格" in p.message


def shared_strings_bomb(path: Path, n: int) -> Path:
    """A valid workbook whose shared-strings part holds n one-letter strings (random, so that it
    compresses like text, far below the 200:1 ratio the zip check refuses)."""
    rng = random.Random(7)
    items = "".join(f"<si><t>{rng.choice(string.ascii_letters)}</t></si>" for _ in range(n))
    sst = f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{NS}" count="{n}" uniqueCount="{n}">{items}</sst>'
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    save(wb, path)
    patch_part(path, "[Content_Types].xml", lambda x: x.replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", sst)
    return path


def test_shared_strings_bomb_is_refused_before_openpyxl(tmp_path, monkeypatch, no_parsing):
    f = shared_strings_bomb(tmp_path / "bomb.xlsx", 300_000)
    readers.check_xlsx_container(f)  # the zip directory alone does not give it away
    with zipfile.ZipFile(f) as z:
        info = z.getinfo("xl/sharedStrings.xml")
        assert info.file_size > 5_000_000 and info.file_size < 50 * info.compress_size
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_CELLS", "100000")
    exc = refused(f)
    assert len(exc.problems) == 1
    p = exc.problems[0]
    assert "300000 个共享字符串" in p.message and "100000" in p.message and "拆成" in p.fix


def test_a_few_shared_strings_are_fine(tmp_path, monkeypatch):
    monkeypatch.setenv("QUNLIAN_MAX_IMPORT_CELLS", "1000")
    assert read_table(shared_strings_bomb(tmp_path / "ok.xlsx", 1000)).rows == [(1, ["a"])]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64, 1 << 20])
def test_the_tag_count_is_exact_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(readers, "SCAN_CHUNK", chunk)
    sheet = (f'<x:worksheet xmlns:x="{NS}"><x:cols><x:col min="1" max="2"/></x:cols><x:sheetData>'
             '<x:row r="1"><x:c r="A1" t="n"><x:v>1</x:v></x:c><x:c r="B1"/><x:c><x:f>A1</x:f></x:c></x:row>'
             '<x:row r="2"><x:c r="A2" t="n"><x:v>2</x:v></x:c></x:row></x:sheetData>'
             '<x:mergeCells count="1"><x:mergeCell ref="A1:A2"/></x:mergeCells></x:worksheet>')
    f = tmp_path / "p.zip"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("s.xml", sheet)
    with zipfile.ZipFile(f) as z:
        counts, merges = readers._scan_part(z, "s.xml", (b"c", b"f", b"mergeCell"), section=b"mergeCells")
    assert counts == {b"c": 4, b"f": 1, b"mergeCell": 1}
    assert merges.startswith(b"<x:mergeCells") and b'ref="A1:A2"' in merges
