"""The one tabular reader: spreadsheets and tables (.xlsx, .csv, .parquet) into rows, safely.

Every importer and the engines' standalone modes read files through ``read_table``. It returns a
``Table``: the sheet's rows as raw cell values with the row numbers a user sees (for problems that
say where), plus, through ``Table.header`` and ``Table.to_arrow``, the header row and the columns
under it as Arrow arrays (a parquet file keeps its stored types). What the reader did beyond plain
reading (an encoding guessed, formulas, merged cells, hidden sheets) is said in ``Table.notes``.

- .csv: the encoding is tried in this order: UTF-8 with or without BOM; UTF-16 (Excel's "Unicode
  文本", LE or BE) when the file starts with its BOM or, without one, when NUL bytes sit where UTF-16
  puts them for ASCII characters; else GB18030 (a superset of GBK, what Excel/WPS write on a Chinese
  Windows). UTF-16 and GB18030 are noted. Comma or tab separated (whichever the first line has more
  of). Quotes are read strictly: a quoted cell may hold commas and line breaks (it stays one row, as
  in Excel), but a quote that never closes (which would swallow the rest of the file into one cell)
  or text after a closing quote is refused, naming the row (as a spreadsheet counts them; the text
  line too where it differs) and the column where the quoted cell begins.
- .xlsx (and .xlsm where the caller allows it): the named sheet, else the first *visible* one (hidden
  sheets before it are noted as skipped; a hidden sheet can still be named). Values, not formulas:
  a formula cell is read as the result the file saved (noted, with the count); a formula cell
  without a saved result (a file written by a program and never opened in Excel) refuses the file,
  one problem per such cell (the first MAX_LISTED_FORMULAS, then one for the rest) with its row,
  column letter and formula. A merged range (a town name merged down over its firms' rows, a header
  over two columns) gives every cell of the range the value of its top-left cell, within the rows
  and columns that have data (noted); more than MAX_MERGED_RANGES merged ranges refuse the sheet
  (filling some and not others would be worse than either). What WPS writes is
  read too (inline strings, no shared-strings part, no or wrong dimension, cells without references).
- .parquet: only where the caller allows it (``formats=ALL_FORMATS``; uploads take .xlsx and .csv).

Checks run before any parsing:
- the file size (default 50 MB, env QUNLIAN_MAX_UPLOAD_MB);
- the extension (``formats``; uploads: .xlsx, .csv only);
- for .xlsx: that it is a zip with a workbook inside, and, from the zip directory alone, the number
  of entries, the total uncompressed size and the compression ratio (a "zip bomb" is refused without
  inflating anything). Python's zipfile never inflates an entry beyond the size its directory
  declares, so the declared sizes bound the work that openpyxl can be made to do;
- for .xlsx, then, before openpyxl opens the file (it reads every shared string when it does): the
  sheet is found from xl/workbook.xml and its relationships, and the decompressed XML is streamed in
  chunks and its start tags counted, nothing parsed: the shared strings (``<si>``) and the chosen
  sheet's cells (``<c>``) may each number at most MAX_CELLS (default 5,000,000, env
  QUNLIAN_MAX_IMPORT_CELLS). A sheet of few bytes per cell passes the ratio check (7 million
  one-letter shared strings fit in a 2.2 MB file) but not this one. The same scan finds whether the
  sheet has formulas (only then is its XML parsed, streamed, for formula cells without a result) and
  its merged ranges;
- while rows are read (.xlsx and .csv): at most MAX_ROWS rows (default 1,000,000, env
  QUNLIAN_MAX_IMPORT_ROWS) and MAX_CELLS cells, whatever the scan counted;
- for .parquet: from the footer alone, the number of cells and the uncompressed size and ratio;
  after reading, dictionary-encoded columns are decoded only if their decoded size stays in bounds.

Every refusal is a ValidationFailed ("文件未被接受，未写入任何数据") whose Problems say where (file,
sheet, row, column as the user sees them), the value, what is wrong and how to fix it: one problem,
except for formula cells without results, listed each.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import os
import posixpath
import re
import xml.etree.ElementTree as ET
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qunlian.core.errors import Problem, ValidationFailed
from qunlian.core.messages import N_, Message
from qunlian.platform.tabular_out import unmark_csv_cell

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_MAX_UPLOAD_MB = 50.0
MAX_ZIP_ENTRIES = 2_000  # a workbook has a few dozen parts
MAX_UNZIPPED_BYTES = 1_024 * 1024 * 1024  # 1 GiB of XML is far beyond any county sheet
MAX_RATIO = 200  # sheet XML compresses 5–30×, even very repetitive sheets stay below 200×
RATIO_MIN_BYTES = 1024 * 1024  # small parts may compress extremely well; only large ones are judged
MAX_PARQUET_CELLS = 50_000_000  # rows × columns, bounds the decoded size; a county has tens of thousands of firms
SUPPORTED = (".xlsx", ".csv")  # uploads and the enterprise-years importer
ALL_FORMATS = (".xlsx", ".xlsm", ".csv", ".parquet")  # standalone engine modes (local files)
HEADER_SCAN_ROWS = 10  # a title row or two above the header is common in government sheets
MAX_ROWS = 1_000_000  # default; env QUNLIAN_MAX_IMPORT_ROWS (max_import_rows); a county has tens of thousands of firms
MAX_CELLS = 5_000_000  # default; env QUNLIAN_MAX_IMPORT_CELLS (max_import_cells); bounds the work of a preview
MAX_MERGED_RANGES = 100_000  # merged ranges filled in one sheet; more is a formatted report, refused
MAX_LISTED_FORMULAS = 50  # formula cells without a result listed one by one, the rest in one problem
SCAN_CHUNK = 1 << 20  # bytes of decompressed XML scanned at a time
REFUSED = N_("文件未被接受，未写入任何数据")
# what reading a damaged or odd zip member raises (CRC, inflate, encryption, unsupported method, XML)
_DAMAGED = (OSError, EOFError, ValueError, KeyError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
            zlib.error, ET.ParseError)

Row = tuple[int, list[Any]]


def header_text(raw: object) -> str:
    """A header cell as text: line breaks and runs of blanks become one blank (WPS wraps long headers)."""
    return " ".join(str(raw).split()) if raw is not None else ""


@dataclass
class Arrowed:
    """The columns under a table's header as Arrow, with the row number of each data row."""

    header_row: int
    table: pa.Table  # one column per non-blank header, named as printed (names may repeat)
    rows: list[int]  # row number (as a user sees it) of each row of ``table``


@dataclass
class Table:
    """A sheet as rows of raw cell values. Row numbers are as a user sees them (first row = 1).

    For a parquet file ``arrow`` holds the columns as stored; ``rows`` is then made from it on first
    use, with the column names as row 1.
    """

    file: str  # file name as shown to the user
    sheet: str  # sheet name; for CSV and parquet the file stem (what Excel shows on the tab)
    _rows: list[Row] | None  # (row number, cell values), blank rows dropped
    sha256: str
    size: int
    notes: list[str] = field(default_factory=list)
    arrow: pa.Table | None = None  # parquet: the stored columns

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:
            assert self.arrow is not None
            names: list[Any] = list(self.arrow.column_names)
            body = self.arrow.to_pylist()
            self._rows = [(1, names)] + [(i + 2, [r[n] for n in self.arrow.column_names])
                                         for i, r in enumerate(body)]
        return self._rows

    def problem(self, message: str, fix: str = "", **kw: Any) -> Problem:
        return Problem(message=message, fix=fix, file=self.file, sheet=self.sheet, **kw)

    def header(self, is_known: Callable[[str], bool] | None = None) -> Row:
        """The header row: among the first HEADER_SCAN_ROWS rows, the first naming at least two known
        columns (``is_known(header_text)``), else the first row. Title rows above it are skipped."""
        if self.arrow is not None:
            return 1, list(self.arrow.column_names)
        if is_known is not None:
            for n, cells in self.rows[:HEADER_SCAN_ROWS]:
                if sum(1 for c in cells if c is not None and is_known(header_text(c))) >= 2:
                    return n, cells
        return self.rows[0]

    def data_rows(self, header_row: int) -> list[Row]:
        """The rows under the header."""
        return [(n, cells) for n, cells in self.rows if n > header_row]

    def to_arrow(self, is_known: Callable[[str], bool] | None = None) -> Arrowed:
        """The columns under the header (``header(is_known)``) as Arrow.

        parquet: the stored columns and types. csv: strings. xlsx: each column's cells as Arrow
        infers them (numbers, dates …), as strings where a column mixes kinds. Blank headers dropped.
        """
        import pyarrow as pa

        if self.arrow is not None:
            return Arrowed(1, self.arrow, list(range(2, self.arrow.num_rows + 2)))
        header_row, cells = self.header(is_known)
        body = self.data_rows(header_row)
        names: list[str] = []
        arrays: list[pa.Array] = []
        for i, raw in enumerate(cells):
            name = header_text(raw)
            if not name:
                continue
            names.append(name)
            arrays.append(_column_array([row[i] if i < len(row) else None for _, row in body]))
        return Arrowed(header_row, pa.Table.from_arrays(arrays, names=names), [n for n, _ in body])


def _column_array(values: list[Any]) -> pa.Array:
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def max_upload_bytes() -> int:
    raw = os.environ.get("QUNLIAN_MAX_UPLOAD_MB", "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        mb = DEFAULT_MAX_UPLOAD_MB
    return int(mb * 1024 * 1024)


def _env_count(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip().replace("_", "").replace(",", "")
    try:
        n = int(float(raw)) if raw else default
    except (ValueError, OverflowError):
        return default
    return n if n > 0 else default


def max_import_rows() -> int:
    """The most rows a .xlsx sheet or .csv may have (default 1,000,000; env QUNLIAN_MAX_IMPORT_ROWS)."""
    return _env_count("QUNLIAN_MAX_IMPORT_ROWS", MAX_ROWS)


def max_import_cells() -> int:
    """The most cells a .xlsx sheet or .csv may have (default 5,000,000; env QUNLIAN_MAX_IMPORT_CELLS)."""
    return _env_count("QUNLIAN_MAX_IMPORT_CELLS", MAX_CELLS)


def _refuse(file: str, message: str, fix: str, sheet: str | None = None, **where: Any) -> ValidationFailed:
    return ValidationFailed([Problem(message=message, fix=fix, file=file, sheet=sheet, **where)], summary=REFUSED)


def _column_letter(n: int) -> str:
    """1 → A, 27 → AA: the column as a spreadsheet shows it."""
    letters = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _too_many_rows(file: str, sheet: str | None, limit: int) -> ValidationFailed:
    return _refuse(file, Message("文件超过 %(limit)s 行的上限", limit=limit),
                   Message("把数据拆成几个文件分批导入，每个文件不超过 %(limit)s 行；"
                           "管理员可用环境变量 QUNLIAN_MAX_IMPORT_ROWS 调整上限", limit=limit),
                   sheet=sheet, row=limit + 1)


def _too_many_cells(file: str, sheet: str | None, limit: int, row: int | None = None,
                    cells: int | None = None, strings: int | None = None) -> ValidationFailed:
    if strings is not None:
        message = Message("文件含 %(strings)s 个共享字符串（文字单元格），超过 %(limit)s 个单元格的上限",
                          strings=strings, limit=limit)
    elif cells is not None:
        message = Message("工作表有 %(cells)s 个单元格，超过 %(limit)s 个单元格的上限", cells=cells, limit=limit)
    else:
        message = Message("读到这一行时已超过 %(limit)s 个单元格的上限", limit=limit)
    return _refuse(file, message,
                   Message("把数据拆成几个文件分批导入（每个文件不超过 %(limit)s 个单元格），或删去无关的行、列和工作表；"
                           "管理员可用环境变量 QUNLIAN_MAX_IMPORT_CELLS 调整上限", limit=limit),
                   sheet=sheet, row=row)


def check_file(path: Path, *, max_bytes: int | None = None, formats: tuple[str, ...] = SUPPORTED) -> int:
    """Size and extension checks that need no parsing. Returns the size in bytes."""
    name = path.name
    if not path.exists():
        raise _refuse(name, "文件不存在", f"检查路径是否正确：{path}")
    if not path.is_file():
        raise _refuse(name, "不是普通文件", "请选择一个 .xlsx 或 .csv 文件")
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise _refuse(
            name,
            Message("文件过大：%(size)s MB，超过上限 %(limit)s MB", size=format(size / 1048576, ".1f"),
                    limit=format(limit / 1048576, ".0f")),
            "把数据拆成几个文件分批导入，或删去无关的工作表、图片和格式；"
            "管理员可用环境变量 QUNLIAN_MAX_UPLOAD_MB 调整上限",
        )
    ext = path.suffix.lower()
    if ext not in formats:
        accepted = "、".join(formats)
        hint = "用 Excel/WPS 另存为 .xlsx 格式（Excel 工作簿）" if ext in (".xls", ".xlsm", ".xlsb", ".et", ".ods") \
            else ("请上传 .xlsx（Excel 工作簿）或 .csv 文件" if formats == SUPPORTED else f"使用 {accepted} 文件")
        raise _refuse(name, Message("不支持的文件类型 %(ext)s", ext=ext or Message("（无扩展名）")), hint)
    return size


def check_xlsx_container(path: Path) -> None:
    """Refuse a .xlsx that is not a zip workbook or whose zip directory describes a bomb."""
    name = path.name
    resave = "用 Excel/WPS 打开后另存为 .xlsx 再上传"
    if not zipfile.is_zipfile(path):
        raise _refuse(name, N_("文件不是有效的 Excel 工作簿（.xlsx 应为 zip 格式）"),
                      f"确认选对了文件；若是旧版 .xls 或其他格式改名而来，请{resave}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse(name, f"Excel 文件已损坏，无法读取（{exc}）", resave) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _refuse(name, f"文件内部包含 {len(infos)} 个部件，超过上限 {MAX_ZIP_ENTRIES}，疑似恶意压缩包",
                      f"不是正常的 Excel 工作簿；请{resave}")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise _refuse(name, Message("文件解压后达 %(mb)s MB，超过上限 %(limit)s MB，疑似压缩炸弹",
                                    mb=format(total / 1048576, ".0f"), limit=MAX_UNZIPPED_BYTES // 1048576),
                      "把数据拆成几个文件分批导入；若文件来源不明，请勿打开")
    for i in infos:
        if i.file_size >= RATIO_MIN_BYTES and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise _refuse(name, Message("文件内部部件 %(part)s 压缩比异常（%(ratio)s:1），疑似压缩炸弹",
                                        part=i.filename, ratio=i.file_size // max(i.compress_size, 1)),
                          f"若文件来源可靠，请{resave}；若来源不明，请勿打开")
    if total >= RATIO_MIN_BYTES and total > MAX_RATIO * max(packed, 1):
        raise _refuse(name, Message("文件整体压缩比异常（%(ratio)s:1），疑似压缩炸弹", ratio=total // max(packed, 1)),
                      f"若文件来源可靠，请{resave}；若来源不明，请勿打开")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise _refuse(name, "压缩包里没有 Excel 工作簿（缺少 xl/workbook.xml），不是 .xlsx 文件",
                      f"确认选对了文件，或{resave}")


def check_parquet(path: Path) -> None:
    """Refuse a .parquet that is not one, or whose footer describes more than we would decode."""
    import pyarrow.parquet as pq

    name = path.name
    import pyarrow as pa

    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError, ValueError) as exc:  # ArrowInvalid for what is not parquet
        raise _refuse(name, Message("不是有效的 parquet 文件（%(error)s）", error=": ".join((type(exc).__name__, str(exc)))),
                      "确认选对了文件；或另存为 .csv（UTF-8）或 .xlsx") from None
    cells = meta.num_rows * max(meta.num_columns, 1)
    if cells > MAX_PARQUET_CELLS:
        raise _refuse(name, f"文件有 {meta.num_rows} 行 × {meta.num_columns} 列，超过上限 {MAX_PARQUET_CELLS} 个单元格",
                      "只保留需要的列，或把数据拆成几个文件")
    total = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    packed = path.stat().st_size
    if total > MAX_UNZIPPED_BYTES:
        raise _refuse(name, Message("文件解压后达 %(mb)s MB，超过上限 %(limit)s MB，疑似压缩炸弹",
                                    mb=format(total / 1048576, ".0f"), limit=MAX_UNZIPPED_BYTES // 1048576),
                      "把数据拆成几个文件；若文件来源不明，请勿打开")
    if total >= RATIO_MIN_BYTES and total > MAX_RATIO * max(packed, 1):
        raise _refuse(name, Message("文件整体压缩比异常（%(ratio)s:1），疑似压缩炸弹", ratio=total // max(packed, 1)),
                      "若文件来源可靠，请另存为 .csv 或 .xlsx；若来源不明，请勿打开")


def read_table(path: str | os.PathLike[str], *, sheet: str | None = None, max_bytes: int | None = None,
               filename: str | None = None, formats: tuple[str, ...] = SUPPORTED) -> Table:
    """Read the first (or the named) sheet of an .xlsx, or a .csv (or a .parquet), after the safety checks.

    filename: the name to show in messages when the path is a temporary copy (web uploads).
    formats: the extensions accepted (default: what uploads take, .xlsx and .csv; ``ALL_FORMATS`` adds
    .xlsm and .parquet for local files of the engines' standalone modes).
    """
    p = Path(path)
    one_sheet = p.suffix.lower() in (".csv", ".parquet")
    try:
        size = check_file(p, max_bytes=max_bytes, formats=formats)
        table = _read(p, size, sheet)
    except ValidationFailed as exc:
        if filename:
            shown = Path(filename).stem if one_sheet else None
            exc.problems = [replace(pr, file=filename, sheet=shown if shown and pr.sheet == p.stem else pr.sheet)
                            for pr in exc.problems]
        raise
    if filename:
        table.file = filename
        if one_sheet:
            table.sheet = Path(filename).stem
    return table


def _read(p: Path, size: int, sheet: str | None) -> Table:
    ext = p.suffix.lower()
    if ext == ".parquet":
        check_parquet(p)
        table = _read_parquet(p, size)
        if sheet and sheet != table.sheet:
            table.notes.append(f"parquet 文件只有一个表，已忽略工作表选项 {sheet!r}")
        if table.arrow is not None and table.arrow.num_columns:
            return table
        raise ValidationFailed([table.problem(N_("文件里没有任何列"), "每列一个字段，列名如 uscc、year、tax_wan")],
                               summary="文件未被接受，未写入任何数据")
    data = p.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if ext == ".csv":
        table = _read_csv(p, data, digest, size)
        if sheet and sheet != table.sheet:
            table.notes.append(f"CSV 文件只有一个表，已忽略工作表选项 {sheet!r}")
    else:
        check_xlsx_container(p)
        table = _read_xlsx(p, data, digest, size, sheet)
    if not table.rows:
        raise ValidationFailed([table.problem(N_("工作表是空的，没有表头和数据"),
                                              "第 1 行写列名（如 统一社会信用代码、年度、税收（万元）），"
                                              "从第 2 行起每行一家企业一年的数据")],
                               summary="文件未被接受，未写入任何数据")
    return table


UTF16_NOTE = N_("文件是 UTF-16 编码（Excel 的“Unicode 文本”），已按 UTF-16 读取")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")  # control characters no text file holds (tab, line breaks excepted)
_QUOTED = re.compile(r'"[^"]*+(?:""[^"]*+)*+"')  # a quoted CSV field, doubled quotes inside


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when NUL bytes sit where UTF-16 puts them in text with ASCII characters.

    Every CSV has ASCII delimiters, line breaks and digits; in UTF-16 each is its byte and a NUL, the
    NUL at odd offsets (LE) or even ones (BE). So: at least 1 in 20 characters of the sample is such a
    pair, nine in ten of those are printable ASCII, tab or a line break, and NULs on the other side
    are fewer (a CJK character rarely has a NUL byte: 一 is U+4E00).
    """
    if len(data) < 4 or len(data) % 2:
        return None
    sample = data[: 1 << 16]
    pairs = len(sample) // 2
    for order, chars, highs, others in (("utf-16-le", sample[0::2], sample[1::2], sample[0::2]),
                                        ("utf-16-be", sample[1::2], sample[0::2], sample[1::2])):
        ascii_ = [c for c, h in zip(chars, highs, strict=True) if h == 0]
        if len(ascii_) * 20 < pairs or others.count(0) >= len(ascii_):
            continue
        if sum(1 for c in ascii_ if 32 <= c < 127 or c in (9, 10, 13)) * 10 >= len(ascii_) * 9:
            return order
    return None


def _decode_csv(name: str, data: bytes) -> tuple[str, str | None]:
    """The text of a CSV and a note on its encoding: UTF-8 (BOM or not) → UTF-16 (BOM, or the NUL
    pattern) → GB18030."""
    binary = ("文件含有二进制内容，不是文本 CSV 文件", "请上传 .xlsx 或另存为 CSV UTF-8 后上传")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode 文本" (LE); never valid UTF-8
        try:
            text = data.decode("utf-16")  # the BOM says the byte order and is dropped
        except UnicodeDecodeError:
            raise _refuse(name, "文件开头标明是 UTF-16 编码，但内容不是有效的 UTF-16 文本",
                          "用 Excel/WPS 打开后另存为“CSV UTF-8（逗号分隔）”或 .xlsx") from None
        if "\x00" in text:
            raise _refuse(name, *binary)
        return text, UTF16_NOTE
    try:
        utf8: str | None = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and "\x00" not in utf8:
        return utf8, None
    order = _utf16_without_bom(data)
    if order:
        try:
            text = data.decode(order)
        except UnicodeDecodeError:
            pass
        else:
            if not _CONTROL.search(text):
                return text.removeprefix("\ufeff"), UTF16_NOTE
    if utf8 is not None:
        raise _refuse(name, *binary)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse(name, "无法识别文件的文字编码（既不是 UTF-8、UTF-16 也不是 GBK/GB18030）",
                      "用 Excel/WPS 打开后另存为“CSV UTF-8（逗号分隔）”或 .xlsx") from None
    if "\x00" in text:
        raise _refuse(name, *binary)
    return text, N_("文件不是 UTF-8 编码，已按 GB18030（GBK）读取")


def _malformed_field(text: str, start: int, delimiter: str) -> tuple[int, int, str] | None:
    """Walk the CSV record that begins at ``start``: (field index, offset, "open" | "after") of its first
    quoted field that never closes or has text after its closing quote; None when it has neither."""
    plain = re.compile(f"[^{re.escape(delimiter)}\r\n]*")
    i, col, n = start, 0, len(text)
    while True:
        if i < n and text[i] == '"':
            m = _QUOTED.match(text, i)
            if m is None:
                return col, i, "open"
            if m.end() < n and text[m.end()] not in (delimiter, "\r", "\n"):
                return col, i, "after"
            i = m.end()
        else:
            i = plain.match(text, i).end()
        if i >= n or text[i] in "\r\n":
            return None
        i += 1
        col += 1


def _csv_error(p: Path, text: str, start: int, row: int, line: int, delimiter: str, exc: csv.Error) -> ValidationFailed:
    fix = "检查该行的英文双引号是否成对；在 Excel/WPS 中打开后另存为 CSV"
    found = _malformed_field(text, start, delimiter)
    if found is None:
        return _refuse(p.name, Message("CSV 格式错误（%(error)s）", error=str(exc)), fix, sheet=p.stem, row=row)
    col, at, kind = found
    value = re.split(r"[\r\n]", text[at:at + 80], maxsplit=1)[0][:40]
    if kind == "open":
        message = (Message("英文双引号没有成对：这个单元格以引号开头，直到文件末尾都没有结束引号（文本文件第 %(line)s 行）",
                           line=line) if line != row else
                   N_("英文双引号没有成对：这个单元格以引号开头，直到文件末尾都没有结束引号"))
    else:
        message = N_("引号位置不对：用英文双引号括起的单元格，结束引号后面还有其他字符")
        fix += "；单元格里的引号要写成两个（\"\"）"
    return _refuse(p.name, message, fix, sheet=p.stem, row=row, column=_column_letter(col + 1), value=value)


def _read_csv(p: Path, data: bytes, digest: str, size: int) -> Table:
    text, note = _decode_csv(p.name, data)
    notes = [note] if note else []
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    max_rows, max_cells = max_import_rows(), max_import_cells()
    pos = 0  # offset in ``text`` of the next line the csv reader takes

    def lines():
        nonlocal pos
        for line in io.StringIO(text, newline=""):
            pos += len(line)
            yield line

    # strict: a quote that never closes is an error ("unexpected end of data"), not a cell swallowing
    # the rest of the file; so is text after a closing quote.
    reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    n = cells_seen = 0
    while True:
        start, line = pos, reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_error(p, text, start, n + 1, line, delimiter, exc) from None
        n += 1  # rows as a spreadsheet shows them: a quoted cell with line breaks stays in its row
        if n > max_rows:
            raise _too_many_rows(p.name, p.stem, max_rows)
        cells_seen += len(cells)
        if cells_seen > max_cells:
            raise _too_many_cells(p.name, p.stem, max_cells, row=n)
        if any(c.strip() for c in cells):
            rows.append((n, [unmark_csv_cell(c) for c in cells]))  # our exports mark formula-like text
    return Table(file=p.name, sheet=p.stem, _rows=rows, sha256=digest, size=size, notes=notes)


@dataclass(frozen=True)
class _SheetPart:
    """A sheet as xl/workbook.xml lists it, with the zip member holding its XML (None if not found)."""

    name: str
    state: str  # "visible", "hidden" or "veryHidden"
    part: str | None
    worksheet: bool  # False for a chartsheet (a chart on a tab of its own, no cells)


@dataclass
class _SheetScan:
    """What a byte scan of a worksheet part found, before any XML parsing."""

    cells: int = 0
    formulas: int = 0
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row1, col1, row2, col2)
    cached_formulas: int = 0


_MERGE_REF = re.compile(rb"""<(?:[A-Za-z_][\w.-]{0,31}:)?mergeCell\s[^>]*?\bref\s*=\s*["']"""
                        rb"""([A-Za-z]{1,3})([0-9]{1,7}):([A-Za-z]{1,3})([0-9]{1,7})["']""")
_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _workbook_parts(zf: zipfile.ZipFile) -> tuple[list[_SheetPart], list[str]]:
    """The sheets in workbook order and the shared-strings parts, from xl/workbook.xml, its relationships
    and [Content_Types].xml (small parts, streamed). ([], default parts) when they cannot be read: openpyxl
    then decides, and the checks fall back to the part openpyxl opens."""
    names = set(zf.namelist())
    default = ["xl/sharedStrings.xml"] if "xl/sharedStrings.xml" in names else []

    def resolve(target: str) -> str | None:
        t = target.replace("\\", "/")
        part = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
        return part if part in names else None

    rels: dict[str, tuple[str, str]] = {}
    strings: list[str | None] = list(default)
    sheets: list[_SheetPart] = []
    try:
        if "xl/_rels/workbook.xml.rels" in names:
            with zf.open("xl/_rels/workbook.xml.rels") as f:
                for _, el in ET.iterparse(f):
                    if _local(el.tag) == "Relationship" and el.get("Id"):
                        rels[el.get("Id", "")] = (el.get("Type") or "", el.get("Target") or "")
                        el.clear()
        if "[Content_Types].xml" in names:
            with zf.open("[Content_Types].xml") as f:
                for _, el in ET.iterparse(f):  # where openpyxl looks for the shared strings
                    if _local(el.tag) == "Override" and "sharedStrings" in (el.get("ContentType") or ""):
                        strings.append((el.get("PartName") or "").lstrip("/"))
        with zf.open("xl/workbook.xml") as f:
            for _, el in ET.iterparse(f):
                if _local(el.tag) == "sheet":
                    rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), "")
                    kind, target = rels.get(rid, ("", ""))
                    sheets.append(_SheetPart(el.get("name") or "", el.get("state") or "visible",
                                             resolve(target) if target else None, "chartsheet" not in kind))
                    el.clear()
    except _DAMAGED:  # a damaged part: openpyxl reports it when it opens the file
        return [], default
    strings += [resolve(t) for kind, t in rels.values() if kind.endswith("/sharedStrings") and t]
    return sheets, sorted({s for s in strings if s and s in names})


class _RootFound(Exception):
    pass


def _root_prefix(zf: zipfile.ZipFile, part: str) -> bytes:
    """The namespace prefix of a part's root element (b"x:" for ``<x:worksheet>``, b"" for none). expat
    finds the root past the prolog (declaration, comments, doctype) however long; parsing stops there."""
    parser = xml.parsers.expat.ParserCreate()

    def start(name: str, attrs: object) -> None:
        raise _RootFound(name)

    parser.StartElementHandler = start
    try:
        with zf.open(part) as f:
            while chunk := f.read(SCAN_CHUNK):
                parser.Parse(chunk, False)
    except _RootFound as root:
        name = str(root.args[0])
        return name.rpartition(":")[0].encode() + b":" if ":" in name else b""
    except xml.parsers.expat.ExpatError:
        pass
    return b""


def _scan_part(zf: zipfile.ZipFile, part: str, tags: tuple[bytes, ...],
               section: bytes | None = None) -> tuple[dict[bytes, int], bytes]:
    """Count the start tags ``<tag …>``, ``<tag>``, ``<tag/>`` of a zip member, streamed in chunks of
    decompressed XML (nothing parsed, nothing kept but the counts); also return the XML from the first
    ``<section`` on (the merged ranges, which follow the cells).

    Tags are counted with the root element's namespace prefix, which is what every writer uses for all
    elements; a part that binds another prefix to the same namespace is undercounted here and stopped by
    the limits applied while its rows are read.
    """
    prefix = _root_prefix(zf, part)
    alternatives = b"|".join(re.escape(t) for t in sorted(tags, key=len, reverse=True))
    pattern = re.compile(b"<" + re.escape(prefix) + b"(" + alternatives + rb")[\s/>]")
    start_tag = b"<" + prefix + section if section else b""
    keep = max(len(prefix) + max(map(len, tags)) + 1, len(start_tag))  # longest match, less one byte
    counts = dict.fromkeys(tags, 0)
    tail = bytearray()
    carry = b""
    with zf.open(part) as f:
        while True:
            chunk = f.read(SCAN_CHUNK)
            buf = carry + chunk
            found = pattern.findall(buf)
            seen = pattern.findall(carry)  # matches wholly inside the carried bytes were counted last time
            for t in tags:
                counts[t] += found.count(t) - seen.count(t)
            if start_tag:
                if tail:
                    tail += chunk
                elif (j := buf.find(start_tag)) >= 0:
                    tail += buf[j:]
            if not chunk:
                return counts, bytes(tail)
            carry = buf[-keep:]


def _formula_cells(zf: zipfile.ZipFile, part: str) -> tuple[int, list[tuple[int, int, str]], int]:
    """Stream the worksheet XML: (formula cells with a saved result, the first formula cells without one
    as (row, column, formula), how many are without one). Rows and cells without a reference count on
    from the previous one, as openpyxl does."""
    cached = missing = 0
    listed: list[tuple[int, int, str]] = []
    shared: dict[str, str] = {}
    row = col = 0
    sheet_data: ET.Element | None = None
    with zf.open(part) as f:
        for event, el in ET.iterparse(f, events=("start", "end")):
            tag = _local(el.tag)
            if event == "start":
                if tag == "row":
                    r = el.get("r")
                    row = int(r) if r and r.isdigit() else row + 1
                    col = 0
                elif tag == "c":
                    m = _CELL_REF.fullmatch(el.get("r") or "")
                    if m:
                        col, row = _column_number(m.group(1)), int(m.group(2))
                    else:
                        col += 1
                elif tag == "sheetData":
                    sheet_data = el
                continue
            if tag == "c":
                formula = value = None
                for child in el:
                    kind = _local(child.tag)
                    if kind == "f":
                        formula = child
                    elif kind == "v":
                        value = child
                if formula is not None:
                    text = formula.text or ""
                    if formula.get("t") == "shared" and formula.get("si") is not None:
                        if text:
                            shared.setdefault(formula.get("si", ""), text)
                        else:
                            text = shared.get(formula.get("si", ""), "")
                    # an empty <v> is a saved result only for a text formula (Excel writes ="" so)
                    if value is not None and (value.text or el.get("t") == "str"):
                        cached += 1
                    else:
                        missing += 1
                        if len(listed) < MAX_LISTED_FORMULAS:
                            listed.append((row, col, "=" + text))
                el.clear()
            elif tag == "row" and sheet_data is not None:
                sheet_data.clear()  # rows already seen: keep memory flat
    return cached, listed, missing


def _check_sheet_part(name: str, zf: zipfile.ZipFile, part: str, title: str, max_cells: int) -> _SheetScan:
    """Refuse a sheet with too many cells or merged ranges, or with formulas but no saved results,
    from a scan of its XML; what it found for the notes."""
    try:
        counts, merge_xml = _scan_part(zf, part, (b"c", b"f", b"mergeCell"), section=b"mergeCells")
    except _DAMAGED as exc:
        raise _refuse(name, f"Excel 文件已损坏，无法读取（{type(exc).__name__}: {exc}）",
                      "用 Excel/WPS 打开后另存为 .xlsx 再上传", sheet=title) from None
    scan = _SheetScan(cells=counts[b"c"], formulas=counts[b"f"])
    if scan.cells > max_cells:
        raise _too_many_cells(name, title, max_cells, cells=scan.cells)
    if counts[b"mergeCell"] > MAX_MERGED_RANGES:
        raise _refuse(name, Message("工作表有 %(n)s 个合并单元格区域，超过 %(limit)s 个的上限",
                                    n=counts[b"mergeCell"], limit=MAX_MERGED_RANGES),
                      N_("取消合并单元格（全选后点“合并后居中”取消合并），把值填到每一行后再导入"), sheet=title)
    for m in _MERGE_REF.finditer(merge_xml):
        c1, r1, c2, r2 = _column_number(m.group(1).decode()), int(m.group(2)), _column_number(m.group(3).decode()), \
            int(m.group(4))
        if (r1, c1) != (r2, c2):
            scan.merges.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    if scan.formulas:
        try:
            scan.cached_formulas, listed, missing = _formula_cells(zf, part)
        except _DAMAGED as exc:
            raise _refuse(name, f"读取工作表时出错（{type(exc).__name__}: {exc}）",
                          "用 Excel/WPS 打开后另存为 .xlsx 再上传", sheet=title) from None
        if missing:
            fix = N_("在 Excel 或 WPS 中打开文件，确认公式已计算后保存；或把这些单元格复制后“选择性粘贴为数值”")
            problems = [Problem(message=N_("单元格是公式，但文件里没有保存计算结果"), fix=fix, file=name, sheet=title,
                                row=r, column=_column_letter(c) if c else None, value=formula)
                        for r, c, formula in listed]
            if missing > len(listed):
                problems.append(Problem(message=Message("另有 %(n)s 个公式单元格同样没有保存计算结果",
                                                        n=missing - len(listed)), fix=fix, file=name, sheet=title))
            raise ValidationFailed(problems, summary=REFUSED)
    return scan


def _fill_merged(rows: list[Row], merges: list[tuple[int, int, int, int]], max_cells: int,
                 name: str, title: str) -> int:
    """Give every cell of each merged range the value of its top-left cell, within the rows that have
    data (a row blank but for a merged range stays out) and the columns that do (a title merged over a
    whole row does not become 16,384 cells). Returns how many ranges filled at least one cell."""
    by_number = {n: cells for n, cells in rows}
    numbers = [n for n, _ in rows]
    width = max((len(cells) for _, cells in rows), default=0)
    filled = budget = 0
    for r1, c1, r2, c2 in merges:
        top = by_number.get(r1)
        value = top[c1 - 1] if top is not None and len(top) >= c1 else None
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        last = min(c2, width)
        changed = False
        for n in numbers[bisect.bisect_left(numbers, r1):bisect.bisect_right(numbers, r2)]:
            cells = by_number[n]
            budget += last - c1 + 1
            if budget > max_cells:
                raise _too_many_cells(name, title, max_cells, row=n)
            if len(cells) < last:
                cells.extend([None] * (last - len(cells)))
            for c in range(c1, last + 1):
                if (n, c) != (r1, c1):
                    cells[c - 1] = value
                    changed = True
        filled += changed
    return filled


def _read_xlsx(p: Path, data: bytes, digest: str, size: int, sheet: str | None) -> Table:
    import openpyxl

    max_rows, max_cells = max_import_rows(), max_import_cells()
    notes: list[str] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse(p.name, f"Excel 文件已损坏，无法读取（{exc}）", "用 Excel/WPS 打开后另存为 .xlsx 再上传") from None
    with zf:
        # Before openpyxl parses anything (it reads every shared string when it opens the file):
        # which sheet, and the counts that bound the work.
        parts, string_parts = _workbook_parts(zf)
        chosen: _SheetPart | None = None
        if sheet is None:
            candidates = [s for s in parts if s.worksheet]
            visible = [s for s in candidates if s.state == "visible"]
            chosen = visible[0] if visible else (candidates[0] if candidates else None)
            if chosen is not None:
                hidden = [s.name for s in parts[:parts.index(chosen)] if s.state != "visible"]
                if not visible:
                    notes.append(Message("工作簿里没有可见的工作表，已读取第一个工作表 %(sheet)s", sheet=chosen.name))
                elif hidden:
                    notes.append(Message("已跳过隐藏的工作表：%(sheets)s", sheets="、".join(hidden)))
        else:
            chosen = next((s for s in parts if s.name == sheet and s.worksheet), None)
        strings = 0
        for part in string_parts:
            try:
                strings += _scan_part(zf, part, (b"si",))[0][b"si"]
            except _DAMAGED as exc:
                raise _refuse(p.name, f"Excel 文件已损坏，无法读取（{type(exc).__name__}: {exc}）",
                              "用 Excel/WPS 打开后另存为 .xlsx 再上传") from None
        if strings > max_cells:  # each shared string is used by a cell, or is there only to cost work
            raise _too_many_cells(p.name, None, max_cells, strings=strings)
        scan = _check_sheet_part(p.name, zf, chosen.part, chosen.name, max_cells) \
            if chosen is not None and chosen.part else None

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for damaged files
            raise _refuse(p.name, f"Excel 文件无法打开（{type(exc).__name__}: {exc}）",
                          "用 Excel/WPS 打开后另存为 .xlsx 再上传") from None
        try:
            if chosen is not None and chosen.name in wb.sheetnames:
                ws = wb[chosen.name]
            elif sheet is None:
                if not wb.worksheets:
                    raise _refuse(p.name, "工作簿里没有工作表", "请检查文件")
                ws = next((w for w in wb.worksheets if w.sheet_state == "visible"), wb.worksheets[0])
            elif sheet in wb.sheetnames:
                ws = wb[sheet]
            else:
                raise _refuse(p.name, Message("找不到工作表 %(sheet)s", sheet=repr(sheet)),
                              "可用的工作表：" + "、".join(wb.sheetnames), sheet=sheet)
            if scan is None or chosen is None or ws.title != chosen.name:
                part = str(getattr(ws, "_worksheet_path", "") or "").lstrip("/")
                scan = _check_sheet_part(p.name, zf, part, ws.title, max_cells) if part in zf.namelist() else _SheetScan()
            rows: list[Row] = []
            cells_seen = 0
            try:
                # The declared dimension may claim 16384 columns for a formatted sheet; rows are padded to
                # it. Ignore it and take each row as long as its cells.
                ws.reset_dimensions()
                for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    if n > max_rows:
                        raise _too_many_rows(p.name, ws.title, max_rows)
                    cells = list(values)
                    cells_seen += len(cells)
                    if cells_seen > max_cells:
                        raise _too_many_cells(p.name, ws.title, max_cells, row=n)
                    while cells and (cells[-1] is None or (isinstance(cells[-1], str) and not cells[-1].strip())):
                        cells.pop()
                    if cells:
                        rows.append((n, cells))
            except ValidationFailed:
                raise
            except Exception as exc:  # noqa: BLE001 - as above, while openpyxl reads the rows
                raise _refuse(p.name, f"读取工作表时出错（{type(exc).__name__}: {exc}）",
                              "用 Excel/WPS 打开后另存为 .xlsx 再上传", sheet=ws.title) from None
            if scan.cached_formulas:
                notes.append(Message("%(n)s 个单元格是公式，已按文件中保存的计算结果读取", n=scan.cached_formulas))
            if scan.merges and (filled := _fill_merged(rows, scan.merges, max_cells, p.name, ws.title)):
                notes.append(Message("已按合并单元格的值填充 %(n)s 个合并区域", n=filled))
            return Table(file=p.name, sheet=ws.title, _rows=rows, sha256=digest, size=size, notes=notes)
        finally:
            wb.close()


def _read_parquet(p: Path, size: int) -> Table:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    digest = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    try:
        pf = pq.ParquetFile(p)
        strings = [f.name for f in pf.schema_arrow if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                   or pa.types.is_binary(f.type)]
        # string columns stay dictionary-encoded until their decoded size is known to be sane
        raw = pq.read_table(p, read_dictionary=strings)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _refuse(p.name, f"读取 parquet 文件时出错（{type(exc).__name__}: {exc}）",
                      "另存为 .csv（UTF-8）或 .xlsx 再试") from None
    decoded = 0
    for col in raw.columns:
        if pa.types.is_dictionary(col.type):
            for chunk in col.chunks:
                lengths = pc.binary_length(chunk.dictionary)
                decoded += pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0
        else:
            decoded += col.nbytes
    if decoded > MAX_UNZIPPED_BYTES:
        raise _refuse(p.name, Message("文件解码后达 %(mb)s MB，超过上限 %(limit)s MB，疑似压缩炸弹",
                                      mb=format(decoded / 1048576, ".0f"), limit=MAX_UNZIPPED_BYTES // 1048576),
                      "把数据拆成几个文件；若文件来源不明，请勿打开")
    arrays = [pc.cast(c, c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in raw.columns]
    table = pa.Table.from_arrays(arrays, names=raw.column_names)
    return Table(file=p.name, sheet=p.stem, _rows=None, sha256=digest.hexdigest(), size=size, arrow=table)
